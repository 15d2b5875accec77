"""Builds measure's native parts: the cffi extension ``measure._native`` (perf_event groups, the
sandboxed launcher) and ``measure._vgreq``, a Python-free shared object of valgrind client
requests that the worker loads with ctypes from any CPython."""
from setuptools import Extension, setup

setup(
    cffi_modules=["measure/_build_native.py:ffibuilder"],
    ext_modules=[Extension("measure._vgreq", sources=["native/vgreq.c"], extra_compile_args=["-O2"])],
)
