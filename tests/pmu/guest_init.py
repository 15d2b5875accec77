#!/usr/bin/python3.11
"""/init of the arm64 PMU guest (PID 1 in an initramfs; Debian's arm64 CPython 3.11).

Mounts /proc, /sys, /dev, /tmp and the cgroup2 hierarchy, prints what the kernel offers, runs
``measure doctor`` and then pytest on the hardware-path tests, and powers the machine off. The host
(tests/pmu/run_guest.py) reads everything from the serial console:

    PMU-INFO <json>              kernel facts
    PMU-DOCTOR-BEGIN ... PMU-DOCTOR-END   what `measure doctor` printed
    PMU-FACT <name> <json>       figures the tests measured
    PMU-EXIT <code>              0 when the doctor and every test passed
"""
import ctypes
import json
import os
import subprocess
import sys
import time

SRC = "/src"
PY = "/usr/bin/python3.11"
libc = ctypes.CDLL(None, use_errno=True)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def mount(source: str, target: str, fstype: str, options: str = "") -> None:
    os.makedirs(target, exist_ok=True)
    if libc.mount(source.encode(), target.encode(), fstype.encode(), 0, options.encode() or None) != 0:
        say(f"PMU-WARN mount {fstype} on {target}: {os.strerror(ctypes.get_errno())}")


def read(path: str):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def uptime() -> float:
    return float(read("/proc/uptime").split()[0])


def run(argv, **kw) -> int:
    sys.stdout.flush()
    r = subprocess.run(argv, cwd=SRC, **kw)
    if r.returncode and isinstance(r.stderr, str):
        say("PMU-WARN " + r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "PMU-WARN (no stderr)")
    return r.returncode


def main() -> int:
    mount("proc", "/proc", "proc")
    mount("sysfs", "/sys", "sysfs")
    mount("devtmpfs", "/dev", "devtmpfs")
    mount("tmpfs", "/tmp", "tmpfs", "mode=1777")
    mount("cgroup2", "/sys/fs/cgroup", "cgroup2")
    os.environ.update(PATH="/usr/bin:/bin", HOME="/root", LANG="C.UTF-8", PYTHONPATH=SRC,
                      MEASURE_PMU_GUEST="1", PYTHONDONTWRITEBYTECODE="1")
    devices = sorted(os.listdir("/sys/bus/event_source/devices"))
    say("PMU-INFO " + json.dumps({
        "kernel": " ".join(os.uname()[2:4]), "machine": os.uname().machine, "python": sys.version.split()[0],
        "cmdline": read("/proc/cmdline"), "perf_event_paranoid": read("/proc/sys/kernel/perf_event_paranoid"),
        "randomize_va_space": read("/proc/sys/kernel/randomize_va_space"), "event_sources": devices,
        "unprivileged_userns_clone": read("/proc/sys/kernel/unprivileged_userns_clone"),
        "cgroup_controllers": read("/sys/fs/cgroup/cgroup.controllers"), "uptime_s": uptime()}))

    with open(os.path.join(SRC, "tests", "pmu", "guest_args.json")) as f:
        args = json.load(f)
    t0 = uptime()
    cli = run([PY, "-c", "import sys; from measure.cli import main; sys.exit(main(['doctor']))"],
              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if cli:
        say(f"PMU-WARN `measure doctor` (measure.cli.main) exited {cli}; printing measure.doctor.render(diagnose()), "
            "the text it prints, instead")
    say("PMU-DOCTOR-BEGIN")
    doctor = run([PY, "-c", "from measure.doctor import diagnose, render; print(render(diagnose()))"])
    say("PMU-DOCTOR-END")
    say(f"PMU-INFO {json.dumps({'doctor_exit': doctor, 'doctor_guest_s': round(uptime() - t0, 2)})}")
    t0 = uptime()
    tests = run([PY, "-m", "pytest", "-p", "no:cacheprovider", "-s", "-v", "--color=no", "-rfEs",
                 "--durations=12", "-o", "addopts=", *args.get("pytest", [])])
    say(f"PMU-INFO {json.dumps({'pytest_exit': tests, 'pytest_guest_s': round(uptime() - t0, 2)})}")
    return 0 if doctor == 0 and tests == 0 else 1


if __name__ == "__main__":
    code = 3
    try:
        code = main()
    except BaseException as exc:  # PID 1 must not die before saying why
        import traceback
        traceback.print_exc()
        say(f"PMU-WARN init failed: {exc!r}")
    say(f"PMU-EXIT {code}")
    libc.sync()
    libc.reboot(0x4321FEDC)  # LINUX_REBOOT_CMD_POWER_OFF
    time.sleep(5)
