"""Builds measure's native parts: the cffi extension ``measure._native`` (perf_event groups, the
sandboxed launcher); ``measure._workerlib``, a Python-free shared object (valgrind client
requests, the qemu markers, the known-count loop, the fork server) that the worker loads with
ctypes from any CPython; and ``measure._qemu_icount``, the qemu backend's TCG plugin (a shared
object QEMU loads, not a Python module; x86_64 and aarch64 hosts)."""
import platform

from setuptools import Extension, setup

extensions = [Extension("measure._workerlib", sources=["native/workerlib.c"], extra_compile_args=["-O2"])]
if platform.system() == "Linux" and platform.machine() in ("x86_64", "aarch64"):
    extensions.append(Extension("measure._qemu_icount", sources=["native/qemu_icount.c"],
                                extra_compile_args=["-O2", "-fvisibility=hidden"]))

setup(
    cffi_modules=["measure/_build_native.py:ffibuilder"],
    ext_modules=extensions,
)
