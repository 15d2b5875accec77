"""Builds measure's native parts: the cffi extension ``measure._native`` (perf_event groups, the
sandboxed launcher) and ``measure._workerlib``, a Python-free shared object (valgrind client
requests, the known-count loop, the fork server) that the worker loads with ctypes from any CPython."""
from setuptools import Extension, setup

setup(
    cffi_modules=["measure/_build_native.py:ffibuilder"],
    ext_modules=[Extension("measure._workerlib", sources=["native/workerlib.c"], extra_compile_args=["-O2"])],
)
