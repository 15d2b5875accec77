#!/usr/bin/env python3
"""The hardware-counter lane: measure's perf path against a real (emulated) PMU.

    python tests/pmu/run_guest.py            # as root on Debian 12 (x86_64 or any host with apt)

Assembles an arm64 guest from Debian packages (downloads cached under ~/.cache/measure-pmu, or
$MEASURE_PMU_CACHE), cross-compiles measure's C extension for arm64, boots
``qemu-system-aarch64 -M virt -cpu max -icount shift=0`` with no network, runs ``measure doctor`` and
the hardware-path tests (tests/test_pmu_guest.py, tests/test_native_perf.py) in the guest, collects
the results from the serial console, and compares the guest's perf count of a Python candidate with
valgrind's count of the same candidate on the host. Exit status: 0 when everything passed, 1 when a
check failed, 2 when the lane could not be assembled or the guest did not report.

Why this works: QEMU's Arm PMU counts INST_RETIRED only in precise icount mode (``-icount shift=N``),
and then exactly, so the tests can assert exact counts (tests/pmu/README.md).
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import debian  # noqa: E402
import initramfs  # noqa: E402

# Guest userland: Debian's arm64 CPython 3.11 and the few libraries the imported modules need, cffi's
# backend for measure._native, and pytest (pure Python, architecture "all").
GUEST_ARM64 = ["python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib", "python3-cffi-backend",
               "libc6", "libgcc-s1", "zlib1g", "libexpat1", "libffi8", "libssl3", "libbz2-1.0", "liblzma5",
               "libuuid1", "libcrypt1"]
GUEST_ALL = ["python3-pytest", "python3-pluggy", "python3-iniconfig", "python3-packaging", "python3-py",
             "python3-attr", "python3-more-itertools"]
KERNEL_META = "linux-image-cloud-arm64:arm64"
QEMU = ["qemu-system-arm", "qemu-system-data"]
QEMU_SKIP = ["qemu-system-common"]  # helpers (bridge, virtiofsd) the lane does not use
CROSS = ["gcc-12-aarch64-linux-gnu", "libc6-dev-arm64-cross"]
CROSS_SKIP = ["libasan8-arm64-cross", "liblsan0-arm64-cross", "libtsan2-arm64-cross", "libubsan1-arm64-cross",
              "libhwasan0-arm64-cross", "libgomp1-arm64-cross", "libitm1-arm64-cross", "libstdc++6-arm64-cross"]
PY_HEADERS = ["libpython3.11-dev:arm64"]
# Not needed in a Python-only initramfs (keeps it small: the kernel unpacks it under emulation).
EXCLUDE = ["doc", "man", "lintian", "gconv", "pydoc_data", "idlelib", "tkinter", "lib2to3", "ensurepip",
           "turtledemo", "test", "__pycache__", ".unpacked"]
BASE_FORMAT = 3  # bump when what goes into the cached base archive changes
GUEST_TESTS = ["tests/test_pmu_guest.py", "tests/test_native_perf.py"]
SPIN = r"^\s*[0-9a-f]+:\s+[0-9a-f]{8}\s+(.*)$"

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f} s] {msg}", flush=True)


class LaneError(RuntimeError):
    """The lane could not be assembled or the guest did not report (exit status 2)."""


class Phases:
    """Wall time and CPU time (this process and its children: QEMU, dpkg, gcc) of each phase."""

    def __init__(self):
        self.times: Dict[str, float] = {}
        self.cpu: Dict[str, float] = {}

    def run(self, name: str, fn, *a, **kw):
        t, c = time.monotonic(), os.times()
        try:
            return fn(*a, **kw)
        finally:
            c2 = os.times()
            self.times[name] = time.monotonic() - t
            self.cpu[name] = sum(c2[:4]) - sum(c[:4])


# --- host tools -------------------------------------------------------------------------------------

def qemu(cache: debian.Cache) -> Dict[str, str]:
    pkgs = cache.resolve("qemu", lambda: debian.host_closure(QEMU, skip=QEMU_SKIP))
    root = cache.unpack(pkgs, os.path.join(cache.root, "qemu"))
    binary = os.path.join(root, "usr", "bin", "qemu-system-aarch64")
    if not os.path.exists(binary):
        raise LaneError(f"qemu-system-aarch64 is missing from the unpacked package {QEMU[0]!r}")
    libs = [d for d in (os.path.join(root, "usr/lib/x86_64-linux-gnu"), os.path.join(root, "lib/x86_64-linux-gnu"))]
    libs += sorted({os.path.dirname(p) for p in glob.glob(os.path.join(root, "usr/lib/*/*.so*"))})
    return {"binary": binary, "data": os.path.join(root, "usr", "share", "qemu"), "libs": ":".join(dict.fromkeys(libs))}


def kernel(cache: debian.Cache) -> str:
    pkgs = cache.resolve("kernel", lambda: [g[0] for g in debian.depends(KERNEL_META)
                                            if g and g[0].startswith("linux-image-")])
    if not pkgs:
        raise LaneError(f"{KERNEL_META} names no kernel image package")
    deb = cache.download(pkgs)[pkgs[0]]
    dest = os.path.join(cache.root, "kernel")
    version = pkgs[0].split(":")[0][len("linux-image-"):]
    path = os.path.join(dest, "boot", f"vmlinuz-{version}")
    if not os.path.exists(path):
        os.makedirs(dest, exist_ok=True)
        r = subprocess.run(f"dpkg-deb --fsys-tarfile '{deb}' | tar -x -C '{dest}' --wildcards './boot/*'",
                           shell=True, capture_output=True, text=True)
        if r.returncode or not os.path.exists(path):
            raise LaneError(f"cannot extract the kernel from {deb}: {r.stderr.strip()[-300:]}")
    config = os.path.join(dest, "boot", f"config-{version}")
    text = open(config).read() if os.path.exists(config) else ""
    for option in ("CONFIG_ARM_PMU=y", "CONFIG_HW_PERF_EVENTS=y", "CONFIG_SERIAL_AMBA_PL011_CONSOLE=y"):
        if text and option not in text:
            raise LaneError(f"the kernel {pkgs[0]} lacks {option}: the lane needs an arm64 kernel with it")
    return path


class Cross:
    """An aarch64 C compiler: one on PATH, else Debian's cross gcc unpacked into the cache."""

    def __init__(self, cache: debian.Cache):
        self.env = dict(os.environ)
        self.sysroot: Optional[str] = None
        found = shutil.which("aarch64-linux-gnu-gcc")
        root = os.path.join(cache.root, "cross")
        if found:
            self.gcc, self.objdump = found, shutil.which("aarch64-linux-gnu-objdump") or "objdump"
        else:
            cache.unpack(cache.resolve("cross", lambda: debian.host_closure(CROSS, skip=CROSS_SKIP)), root)
            self.gcc = sorted(glob.glob(os.path.join(root, "usr/bin/aarch64-linux-gnu-gcc-*[0-9]")))[0]
            self.objdump = os.path.join(root, "usr/bin/aarch64-linux-gnu-objdump")
            self.sysroot = root  # libc.so's linker script names absolute paths: resolve them in the cache
            self.env["LD_LIBRARY_PATH"] = os.path.join(root, "usr/lib/x86_64-linux-gnu")
        headers = cache.unpack(PY_HEADERS, os.path.join(cache.root, "pyheaders"))
        self.includes = [os.path.join(headers, "usr/include/python3.11"), os.path.join(headers, "usr/include")]

    def compile(self, sources: List[str], out: str, includes: List[str] = (),
                flags: List[str] = ("-fPIC", "-shared")) -> None:
        cmd = [self.gcc, *(["--sysroot=" + self.sysroot] if self.sysroot else []), "-O2", "-Wall", *flags, *[f"-I{i}" for i in includes], "-o", out, *sources]
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env, cwd=REPO)
        if r.returncode:
            raise LaneError(f"cross-compiling {out} failed:\n$ {' '.join(cmd)}\n{r.stderr[-2000:]}")

    def disassemble(self, lib: str, symbol: str) -> List[str]:
        r = subprocess.run([self.objdump, "-d", f"--disassemble={symbol}", lib], capture_output=True,
                           text=True, env=self.env)
        return [m.group(1).strip() for m in (re.match(SPIN, line) for line in r.stdout.splitlines()) if m]


def build_native(cache: debian.Cache, cross: Cross) -> str:
    """measure._native (cffi API mode, C emitted on the host) and measure._workerlib for arm64,
    in a directory keyed on the sources' digest."""
    h = hashlib.sha256()
    for path in (sorted(glob.glob(os.path.join(REPO, "native", "*"))) + sorted(glob.glob(os.path.join(HERE, "*.c")))
                 + [os.path.join(REPO, "measure", "_build_native.py")]):
        h.update(open(path, "rb").read())
    out = os.path.join(cache.root, "build", h.hexdigest()[:16])
    native, workerlib = (os.path.join(out, "_native.cpython-311-aarch64-linux-gnu.so"),
                         os.path.join(out, "_workerlib.cpython-311-aarch64-linux-gnu.so"))
    edges, child = os.path.join(out, "pmu_edges.so"), os.path.join(out, "pmu_child")
    if all(os.path.exists(p) for p in (native, workerlib, edges, child)):
        return out
    os.makedirs(out, exist_ok=True)
    code = ("import sys; sys.path.insert(0, 'measure'); import _build_native as b; "
            f"b.ffibuilder.emit_c_code({os.path.join(out, '_native.c')!r})")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    if r.returncode:
        raise LaneError(f"cffi could not emit measure._native's C source (is cffi installed for "
                        f"{sys.executable}?): {r.stderr.strip()[-500:]}")
    cross.compile([os.path.join(out, "_native.c"), "native/perf.c", "native/launch.c"], native + ".tmp",
                  includes=["native", *cross.includes])
    cross.compile(["native/workerlib.c"], workerlib + ".tmp")
    cross.compile([os.path.join(HERE, "pmu_edges.c")], edges + ".tmp")
    cross.compile([os.path.join(HERE, "pmu_child.c")], child + ".tmp", flags=["-static"])
    for path in (native, workerlib, edges, child):
        os.replace(path + ".tmp", path)
    return out


# --- the guest's file system ------------------------------------------------------------------------

def host_python311() -> Optional[str]:
    """A host CPython 3.11 to precompile .pyc files (same bytecode as the guest's 3.11)."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    return shutil.which("python3.11")


def precompile(tree: str, guest_prefix: str) -> None:
    py = host_python311()
    if py is None:
        log("no CPython 3.11 on the host: the guest compiles its modules at import (slower)")
        return
    code = ("import compileall, sys, py_compile; compileall.compile_dir(sys.argv[1], quiet=2, workers=1, "
            "stripdir=sys.argv[1], prependdir=sys.argv[2], "
            "invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)")
    subprocess.run([py, "-c", code, tree, guest_prefix], capture_output=True)


def base_archive(cache: debian.Cache) -> str:
    """The interpreter and its libraries (cached; rebuilt when the packages change)."""
    pkgs = [p + ":arm64" for p in GUEST_ARM64] + GUEST_ALL
    debs = cache.download(pkgs)
    key = hashlib.sha256(("\n".join(sorted(os.path.basename(d) for d in debs.values())) +
                          f"\n{BASE_FORMAT}\n{EXCLUDE}").encode()).hexdigest()[:16]
    path = os.path.join(cache.root, f"base-{key}.cpio.gz")
    if os.path.exists(path):
        return path
    root = os.path.join(cache.root, f"rootfs-{key}")
    shutil.rmtree(root, ignore_errors=True)
    cache.unpack(pkgs, root)
    for sub in ("usr/lib/python3.11", "usr/lib/python3/dist-packages"):
        for name in EXCLUDE:  # drop before compiling, so that no .pyc is made for them
            for p in glob.glob(os.path.join(root, sub, name)):
                shutil.rmtree(p, ignore_errors=True)
        precompile(os.path.join(root, sub), "/" + sub)
    nodes = [initramfs.directory(d) for d in ("dev", "proc", "sys", "tmp", "root", "src")]
    nodes += [initramfs.char_device("dev/console", 5, 1), initramfs.char_device("dev/null", 1, 3, 0o666)]
    initramfs.write_archive(path, [(root, "")], nodes, compress=True, exclude=EXCLUDE)
    for old in glob.glob(os.path.join(cache.root, "base-*.cpio.gz")):
        if old != path:
            os.remove(old)
    for old in glob.glob(os.path.join(cache.root, "rootfs-*")):
        shutil.rmtree(old, ignore_errors=True)
    return path


def run_archive(build: str, workdir: str, pytest_args: List[str]) -> str:
    """/init and /src: measure (with its arm64 binaries), the guest tests, the candidate."""
    src = os.path.join(workdir, "src")
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyc")
    shutil.copytree(os.path.join(REPO, "measure"), os.path.join(src, "measure"), ignore=ignore)
    for so in glob.glob(os.path.join(build, "_*.so")):
        shutil.copy(so, os.path.join(src, "measure"))
    os.makedirs(os.path.join(src, "tests", "pmu"))
    for rel in ["pyproject.toml", "tests/conftest.py", *GUEST_TESTS]:
        shutil.copy(os.path.join(REPO, rel), os.path.join(src, rel))
    for rel in glob.glob(os.path.join(HERE, "*.py")) + glob.glob(os.path.join(HERE, "*.json")):
        shutil.copy(rel, os.path.join(src, "tests", "pmu"))
    os.makedirs(os.path.join(src, "tests", "pmu", "bin"))
    for name in ("pmu_edges.so", "pmu_child"):
        shutil.copy(os.path.join(build, name), os.path.join(src, "tests", "pmu", "bin", name))
    with open(os.path.join(src, "tests", "pmu", "guest_args.json"), "w") as f:
        json.dump({"pytest": pytest_args}, f)
    precompile(src, "/src")
    init = open(os.path.join(HERE, "guest_init.py"), "rb").read()
    return initramfs.write_archive(os.path.join(workdir, "run.cpio"), [(src, "src")],
                                   [initramfs.file_node("init", init, 0o755)], compress=False)


# --- boot and collect --------------------------------------------------------------------------------

def boot(q: Dict[str, str], vmlinuz: str, initrd: str, timeout_s: float, echo: bool) -> List[str]:
    cmd = [q["binary"], "-L", q["data"], "-M", "virt", "-cpu", "max", "-m", "1024", "-smp", "1",
           "-nographic", "-no-reboot", "-nic", "none", "-icount", "shift=0",
           "-kernel", vmlinuz, "-initrd", initrd, "-append", "console=ttyAMA0 quiet panic=-1"]
    env = dict(os.environ, LD_LIBRARY_PATH=q["libs"])
    log("$ " + " ".join(cmd))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, text=True, errors="replace", bufsize=1)
    lines: List[str] = []
    deadline = time.monotonic() + timeout_s
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            if time.monotonic() > deadline:
                raise LaneError(f"the guest did not finish within {timeout_s:.0f} s (raise --timeout on a busy "
                                "machine: the emulated CPU runs at about 100 M instructions per host-CPU second)")
            if not sel.select(timeout=1.0):
                if proc.poll() is not None:
                    break
                continue
            line = proc.stdout.readline()
            if not line:
                break
            line = line.rstrip("\r\n")
            lines.append(line)
            if echo and not line.startswith("PMU-FACT"):
                print("guest| " + line, flush=True)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return lines


def parse(lines: List[str]) -> Dict:
    out: Dict = {"facts": {}, "info": {}, "doctor": [], "exit": None, "warnings": []}
    in_doctor = False
    for line in lines:
        # the kernel may print on the same console; the markers start the line
        if line.startswith("PMU-DOCTOR-BEGIN"):
            in_doctor = True
        elif line.startswith("PMU-DOCTOR-END"):
            in_doctor = False
        elif in_doctor:
            out["doctor"].append(line)
        elif line.startswith("PMU-FACT "):
            _, name, value = line.split(" ", 2)
            out["facts"][name] = json.loads(value)
        elif line.startswith("PMU-INFO "):
            out["info"].update(json.loads(line[len("PMU-INFO "):]))
        elif line.startswith("PMU-WARN "):
            out["warnings"].append(line[len("PMU-WARN "):])
        elif line.startswith("PMU-EXIT "):
            out["exit"] = int(line.split()[1])
    return out


def host_valgrind(python: Optional[str]) -> Optional[Dict]:
    """The candidate counted by callgrind on the host (same CPython version where available)."""
    try:
        sys.path.insert(0, REPO)
        from measure import Config, Program, measure
    except ImportError as exc:
        log(f"host comparison skipped: measure is not importable here ({exc}); run with the project's venv")
        return None
    if shutil.which("valgrind") is None:
        log("host comparison skipped: valgrind is not installed")
        return None
    program = Program.from_file(os.path.join(HERE, "candidate.py"), entry="tally")
    inputs = json.load(open(os.path.join(HERE, "candidate_inputs.json")))
    try:
        m = measure(program, inputs, Config(backend="valgrind", repeat=1, timeout=300, python=python))
    except Exception as exc:  # a report, not a check: say why and go on
        log(f"host comparison failed: {type(exc).__name__}: {exc}")
        return None
    return {"platform": dict(m.platform.__dict__), "setup": m.setup.instructions,
            "inputs": [int(r.instructions.median) if r.instructions else None for r in m.inputs]}


# --- report ------------------------------------------------------------------------------------------

def report(res: Dict, spin_asm: List[str], host: Optional[Dict], phases: Phases, cache_root: str) -> None:
    f, info = res["facts"], res["info"]
    print()
    print("== arm64 guest (qemu-system-aarch64 -cpu max -icount shift=0) ==")
    print(f"kernel {info.get('kernel')}  python {info.get('python')}  perf_event_paranoid "
          f"{info.get('perf_event_paranoid')}  event sources: {', '.join(info.get('event_sources', []))}")
    print(f"mp_spin on arm64: {' ; '.join(spin_asm)}")
    if "loop" in f:
        lp = f["loop"]
        for n in lp["n"]:
            cs = lp["counts"][str(n)]
            print(f"{'known loop' if n == lp['n'][0] else '':<18}mp_spin({n:,}) between C edges -> "
                  f"{', '.join(f'{c:,}' for c in cs)} instructions = 2n + {cs[0] - 2 * n}")
        print(f"{'':<18}constant over every n and repeat: {lp['constant']} (exact if one value)")
    if "python_edges" in f:
        over = f["python_edges"]["overhead"]
        print(f"python edges      2n + {min(over):,} .. {max(over):,} (measure's self-test path: Python between "
              "enable and disable)")
    if "doctor" in f and f["doctor"].get("self_test"):
        st = f["doctor"]["self_test"]
        print(f"self-test         {st['measured']:,} / {st['expected']:,} instructions; auto -> {f['doctor']['auto']}")
    if "exec_child" in f:
        e = f["exec_child"]
        i, ni = e["inherit"], e["no_inherit"]
        keys = sorted(i, key=int)
        print("exec'd child      inherit: " + "; ".join(f"n={int(k):,}: {', '.join(f'{v:,}' for v in i[k])}" for k in keys)
              + f"; difference {i[keys[1]][0] - i[keys[0]][0]:,}")
        print("                  no inherit: " + "; ".join(f"n={int(k):,}: {ni[k]:,}" for k in keys)
              + " (the grandchild is not counted)")
    if "pinned_groups_that_fit" in f:
        print(f"pinned groups     {f['pinned_groups_that_fit']} groups of {{instructions, cycles}} fit; "
              "the next one reads as PerfMultiplexed")
    for name in sorted(k for k in f if k.startswith("forged_")):
        fg = f[name]
        print(f"{'forged ' + name[7:]:<18}status {fg['status']}, counts {fg['count']}; honest {fg['honest']:,.0f}, "
              f"an empty call {fg['empty_call']:,} (the bound of what a self-reporting call skips)")
    if "multiplexing" in f:
        mx = f["multiplexing"]
        ratios = mx["running_over_enabled"]
        print(f"multiplexing      {mx['groups']} unpinned groups, {mx['scaled']} scaled; running/enabled "
              f"{min(ratios):.3f}-{max(ratios):.3f}; estimates {min(mx['estimates']):,}-{max(mx['estimates']):,} "
              f"vs truth {mx['truth']:,}; max error {mx['max_abs_error_pct']} %")
    if "region" in f:
        rg = f["region"]
        print(f"region protocol   backend {rg['backend']}; setup {rg['setup'][0]:,} / {rg['setup'][1]:,}")
        for row in rg["inputs"]:
            print(f"                  input {row['args']}: worker 1 {', '.join(f'{v:,}' for v in row['first'])}; "
                  f"worker 2 {', '.join(f'{v:,}' for v in row['second'])}")
        for w in rg["warnings"]:
            print(f"                  warning: {w}")
    if "hardware_events" in f:
        print("hardware events   " + ", ".join(f"{k}: {v}" for k, v in f["hardware_events"].items()))
    if "strict_isolation" in f:
        print(f"strict isolation  {json.dumps(f['strict_isolation'])}")
    if host and "region" in f:
        print()
        print(f"== the candidate: perf in the arm64 guest vs valgrind on the host ({host['platform'].get('isa')}, "
              f"CPython {host['platform']['python_version']}) ==")
        print(f"{'input':<8}{'guest perf (arm64)':>20}{'host valgrind':>16}{'ratio':>8}")
        g_setup = f["region"]["setup"][0]
        rows = [("setup", g_setup, host["setup"])]
        rows += [(str(r["args"]), r["first"][0], h) for r, h in zip(f["region"]["inputs"], host["inputs"])]
        for name, g, h in rows:
            ratio = f"{g / h:.3f}" if g and h else "-"
            print(f"{name:<8}{g if g is None else format(g, ','):>20}{h if h is None else format(h, ','):>16}{ratio:>8}")
    for w in res["warnings"]:
        print(f"guest warning     {w}")
    if res["doctor"]:
        path = os.path.join(cache_root, "doctor-guest.txt")
        with open(path, "w") as fh:
            fh.write("\n".join(res["doctor"]) + "\n")
        print()
        print(f"== measure doctor in the guest (saved to {path}) ==")
        print("\n".join(res["doctor"]))
    print()
    print("== lane time ==")
    print(f"{'phase':<28}{'wall':>8}  {'CPU (all processes)':>20}")
    for name, t in phases.times.items():
        print(f"{name:<28}{t:8.1f} s{phases.cpu[name]:12.1f} s")
    if "doctor_guest_s" in info:
        print(f"{'  guest clock: doctor':<28}{info['doctor_guest_s']:8.1f} s (virtual: 1 instruction = 1 ns)")
        print(f"{'  guest clock: pytest':<28}{info.get('pytest_guest_s', float('nan')):8.1f} s")
    c = os.times()
    print(f"{'total':<28}{time.monotonic() - T0:8.1f} s{sum(c[:4]):12.1f} s   (load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: the guest runs on one host CPU)")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=os.environ.get("MEASURE_PMU_CACHE",
                                                      os.path.join(os.path.expanduser("~"), ".cache", "measure-pmu")),
                    help="download and build cache (default ~/.cache/measure-pmu or $MEASURE_PMU_CACHE)")
    ap.add_argument("--timeout", type=float, default=1200, help="wall seconds allowed for the guest (default 1200)")
    ap.add_argument("-k", dest="keyword", help="run only the guest tests matching this pytest -k expression")
    ap.add_argument("--quick", action="store_true", help="the reduced lane: the loop, exec-child, multiplexing, "
                    "pinned and forged-frame tests only (no doctor-only extras, no region protocol, no host valgrind)")
    ap.add_argument("--no-host", action="store_true", help="skip the valgrind comparison on the host")
    ap.add_argument("--quiet", action="store_true", help="do not echo the guest console")
    ap.add_argument("--tests", nargs="+", help="pytest arguments in the guest instead of the lane's tests")
    args = ap.parse_args(argv)
    phases = Phases()
    pytest_args = list(GUEST_TESTS)
    if args.quick:
        pytest_args = ["tests/test_pmu_guest.py", "-k", "loop or exec_child or multiplexing or pinned or forged"]
    if args.tests:
        pytest_args = list(args.tests)
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    try:
        cache = debian.Cache(args.cache, log)
        phases.run("apt: arm64 architecture", debian.ensure_arm64_architecture, log)
        q = phases.run("qemu (host packages)", qemu, cache)
        vmlinuz = phases.run("arm64 kernel", kernel, cache)
        cross = phases.run("cross compiler + headers", Cross, cache)
        build = phases.run("build measure for arm64", build_native, cache, cross)
        spin_asm = cross.disassemble(glob.glob(os.path.join(build, "_workerlib*.so"))[0], "mp_spin")
        base = phases.run("guest userland (base cpio)", base_archive, cache)
        with tempfile.TemporaryDirectory(prefix="measure-pmu-") as work:
            run_cpio = phases.run("run cpio (measure + tests)", run_archive, build, work, pytest_args)
            initrd = os.path.join(work, "initrd")
            with open(initrd, "wb") as out:  # the kernel unpacks concatenated archives in order
                for part in (base, run_cpio):
                    with open(part, "rb") as f:
                        shutil.copyfileobj(f, out)
                    out.write(b"\0" * (-out.tell() % 4))  # each archive starts at a 4-byte boundary
            lines = phases.run("boot + guest tests", boot, q, vmlinuz, initrd, args.timeout, not args.quiet)
    except (debian.PackageError, LaneError) as exc:
        log(f"error: {exc}")
        return 2
    res = parse(lines)
    host = None
    if not (args.no_host or args.quick) and "region" in res["facts"]:
        same = "/usr/bin/python3.11" if os.path.exists("/usr/bin/python3.11") else host_python311()
        host = phases.run("host valgrind comparison", host_valgrind, same)
    report(res, spin_asm, host, phases, args.cache)
    if res["exit"] is None:
        log("error: the guest ended without reporting (no PMU-EXIT line); see its console above")
        return 2
    log("PASS" if res["exit"] == 0 else f"FAIL (guest exit {res['exit']})")
    return 0 if res["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
