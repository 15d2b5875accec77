"""``measure doctor``: which backends work on this machine, and for each that does not, why and how to fix it."""
from __future__ import annotations

import errno as _errno
from dataclasses import asdict
from typing import Any, Dict, Optional

from .backends import get_backend, select_backend, self_test
from .backends.base import host_dispatch
from .errors import MeasureError, PerfError
from .native import HARDWARE_EVENTS, SOFTWARE_EVENTS, PerfGroup
from .platform import resolve_interpreter


def _read_int(path: str) -> Optional[int]:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _perf_probe(events) -> Dict[str, Any]:
    try:
        PerfGroup.open(list(events), inherit=True).close()
        return {"available": True, "events": list(events)}
    except PerfError as exc:
        return {"available": False, "events": list(events), "errno": _errno.errorcode.get(exc.errno, str(exc.errno)),
                "error": exc.what, "cause": exc.cause, "remedy": exc.remedy}


def diagnose(python: Optional[str] = None) -> Dict[str, Any]:
    """A JSON-ready report. Runs the backends' self-tests (a few seconds under valgrind)."""
    interp = resolve_interpreter(python)
    report: Dict[str, Any] = {"interpreter": asdict(interp)}
    hw = _perf_probe(["instructions"])
    if hw["available"]:  # report the whole hardware group where the CPU has it
        group = _perf_probe(HARDWARE_EVENTS)
        hw = group if group["available"] else hw
    sw = _perf_probe(SOFTWARE_EVENTS)
    perf: Dict[str, Any] = {"available": hw["available"], "hardware": hw, "software": sw,
                            "perf_event_paranoid": _read_int("/proc/sys/kernel/perf_event_paranoid")}
    if hw["available"]:
        t = self_test("perf", interp.executable)
        perf["self_test"] = asdict(t)
        perf["available"] = t.passed
    report["perf"] = perf

    for name in ("qemu", "valgrind"):  # the emulators: what runs, its self-test, the CPU it shows
        entry: Dict[str, Any] = {}
        backend = get_backend(name)
        try:
            backend.check()
            entry["path"] = backend.path
            t = self_test(name, interp.executable)
            entry.update(available=t.passed, self_test=asdict(t), dispatch=backend.dispatch())
        except MeasureError as exc:
            entry.update(available=False, error=str(exc))
        report[name] = entry
    report["time"] = {"available": True, "task_clock": "perf software event" if sw["available"] else "thread CPU clock"}
    report["cpu"] = {"host": host_dispatch()}

    from .sandbox.policy import facts, plan_isolation
    iso = plan_isolation(strict=False)
    chosen, warnings = select_backend("auto", interp.executable)
    from .model import Config
    report["sandbox"] = {"namespaces": list(iso.granted), "missing": list(iso.missing), "warnings": iso.warnings(),
                         "read_only_mounts": [p for p, _ in iso.ro_mounts],
                         "candidate": facts(iso, chosen.mode, Config().disk)}
    report["auto"] = {"backend": chosen.name, "warnings": warnings}
    return report


def render(report: Dict[str, Any]) -> str:
    """The human version: one line per backend, the cause and the remedy under each that fails."""
    lines = [f"interpreter  {report['interpreter']['executable']} (CPython {report['interpreter']['version']})"]
    p = report["perf"]
    if p["available"]:
        st = p.get("self_test") or {}
        lines.append(f"perf         ok        hardware events {', '.join(p['hardware']['events'])}; "
                     f"self-test {st.get('measured'):,} / {st.get('expected'):,} instructions")
    else:
        hw = p["hardware"]
        lines.append(f"perf         no        hardware events: {hw.get('errno', 'self-test failed')}")
        if "cause" in hw:
            lines += [f"             cause:  {hw['cause']}", f"             remedy: {hw['remedy']}"]
    sw = p["software"]
    lines.append(f"             software events ({', '.join(sw['events'])}): "
                 + ("available" if sw["available"] else f"unavailable ({sw.get('errno')}): {sw.get('remedy')}"))
    lines.append(f"             perf_event_paranoid = {p['perf_event_paranoid']}")
    for name in ("qemu", "valgrind"):
        v = report[name]
        if v["available"]:
            st = v["self_test"]
            lines.append(f"{name:<12} ok        {v['path']}; self-test {st['measured']:,} / {st['expected']:,} "
                         "instructions (exact)")
            lines.append(f"             the process sees {v['dispatch']}")
        else:
            lines.append(f"{name:<12} no        {v.get('error') or (v.get('self_test') or {}).get('detail')}")
    lines.append(f"time         ok        task-clock from the {report['time']['task_clock']}")
    lines.append(f"cpu          {report['cpu']['host']} (what perf and time measure on)")
    s = report["sandbox"]
    lines.append(f"sandbox      namespaces: {', '.join(s['namespaces']) or 'none'}"
                 + (f"; missing: {', '.join(s['missing'])}" if s["missing"] else ""))
    lines += [f"             warning: {w}" for w in s["warnings"]]
    lines += [f"             {k:<10} {v}" for k, v in s["candidate"].items()]
    lines.append(f"auto         -> {report['auto']['backend']}")
    lines += [f"             warning: {w}" for w in report["auto"]["warnings"]]
    return "\n".join(lines)
