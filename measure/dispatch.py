"""The CPU that the measured process sees, which decides the machine code it runs.

glibc picks its memcpy/strlen variants and copy thresholds, and numpy its SIMD kernels, from CPUID:
the vendor, the feature bits and the cache sizes. So the count of a call depends on the CPU the
process *sees*, not on the CPU's marketing name. Under valgrind that is valgrind's CPU, not the
host's: VEX answers CPUID from one of a few fixed tables, chosen by the host's feature level (an
AMD EPYC and an Intel Xeon with AVX-512 both show the process an Intel Core i7-4910MQ with AVX2 and
the same caches), so two hosts of one level give one count. On the ``perf`` and ``time`` backends
the process sees the host's CPU.

:func:`describe` names that CPU as ``LEVEL VENDOR BRAND #HASH``: the x86-64 micro-architecture
level (v1-v4), and a hash of every CPUID word glibc's and numpy's dispatch read, so two CPUs with
one description dispatch alike. Elsewhere (arm64) it is the kernel's feature list and CPU part.

This file is also a script, run by the interpreter under valgrind with no package on its path:
``python -S -I dispatch.py WORKERLIB`` prints the description the process sees there. So it
imports the standard library alone.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import sys
from typing import Callable, Dict, List, Optional, Tuple

Words = Tuple[int, int, int, int]

# (leaf, bit) of the features that define the x86-64 psABI levels
_ECX1, _EBX7, _ECX_EXT = (1, 2), (7, 1), (0x80000001, 2)
_LEVELS = (
    ("x86-64-v2", [(_ECX1, b) for b in (0, 9, 13, 19, 20, 23)] + [(_ECX_EXT, 0)]),
    ("x86-64-v3", [(_ECX1, b) for b in (12, 22, 27, 28, 29)] + [(_EBX7, b) for b in (3, 5, 8)] + [(_ECX_EXT, 5)]),
    ("x86-64-v4", [(_EBX7, b) for b in (16, 17, 28, 30, 31)]),
)
# the leaves glibc (init_cpu_features, cacheinfo) and numpy read; the APIC id and the like in leaf 1's
# ebx and the thread counts in leaf 4 differ between cores of one CPU, so only what decides is kept
_HASHED = ((1, 0, (0, 2, 3)), (7, 0, (1, 2, 3)), (7, 1, (0,)), (0xD, 0, (1, 2)), (0xD, 1, (0,)),
           (0x80000001, 0, (2, 3)), (0x80000006, 0, (2,)), (0x80000008, 0, (1,)))


def describe(cpuid: Callable[[int, int], Words]) -> str:
    """``LEVEL VENDOR BRAND #HASH`` of the CPU whose CPUID instruction is ``cpuid(leaf, subleaf)``."""
    top, b, c, d = cpuid(0, 0)
    vendor = b"".join(x.to_bytes(4, "little") for x in (b, d, c)).decode("ascii", "replace")
    ext_top = cpuid(0x80000000, 0)[0]
    brand = ""
    if ext_top >= 0x80000004:
        raw = b"".join(w.to_bytes(4, "little") for leaf in range(0x80000002, 0x80000005) for w in cpuid(leaf, 0))
        brand = " ".join(raw.split(b"\0", 1)[0].decode("ascii", "replace").split())

    def word(leaf: int, reg: int) -> int:
        if leaf > (ext_top if leaf >= 0x80000000 else top):
            return 0
        return cpuid(leaf, 0)[reg]

    level = "x86-64-v1"
    for name, bits in _LEVELS:
        if not all(word(leaf, reg) >> bit & 1 for (leaf, reg), bit in bits):
            break
        level = name
    h = hashlib.sha256(vendor.encode())
    for leaf, sub, regs in _HASHED:
        if leaf <= (ext_top if leaf >= 0x80000000 else top):
            words = cpuid(leaf, sub)
            h.update(b"".join(words[r].to_bytes(4, "little") for r in regs))
    for sub in range(8):  # deterministic cache parameters: type, level, ways, partitions, line, sets
        if top < 4:
            break
        a, b4, c4, _ = cpuid(4, sub)
        if not a & 31:
            break
        h.update(b"".join(x.to_bytes(4, "little") for x in (a & 0x3FF, b4, c4)))
    return f"{level} {vendor} {brand} #{h.hexdigest()[:12]}"


def _proc_cpuinfo() -> str:
    """Non-x86: the kernel's feature list and the CPU's identity (implementer, part, variant)."""
    keep: Dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                k, _, v = line.partition(":")
                k = k.strip()
                if k in ("Features", "CPU implementer", "CPU architecture", "CPU variant", "CPU part", "isa",
                         "model name") and k not in keep:
                    keep[k] = " ".join(v.split())
    except OSError:
        return "unknown"
    h = hashlib.sha256(repr(sorted(keep.items())).encode()).hexdigest()[:12]
    name = keep.get("model name") or f"part {keep.get('CPU part', '?')}"
    return f"{os.uname().machine} {name} #{h}"


def seen_here(workerlib: str) -> str:
    """The description of the CPU this process sees, through ``mp_cpuid`` of the worker library."""
    lib = ctypes.CDLL(workerlib)
    lib.mp_cpuid.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_uint)]
    out = (ctypes.c_uint * 4)()

    def cpuid(leaf: int, sub: int) -> Words:
        if lib.mp_cpuid(leaf, sub, out) != 0:
            raise OSError("no CPUID on this machine")
        return (out[0], out[1], out[2], out[3])

    try:
        return describe(cpuid)
    except OSError:
        return _proc_cpuinfo()


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print(seen_here(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
