"""The gate's report: a plain-text table for logs, Markdown for pull requests, JUnit XML for CI.

Every row: benchmark, baseline, candidate, change in %, its interval, the threshold that applied
and the verdict; the rule applied is stated under the table.
"""
from __future__ import annotations

import datetime as _dt
import os
import socket
from typing import List, Optional
from xml.sax.saxutils import escape, quoteattr

from ..fmt import percent as fmt_pct, table, value as fmt_value
from .compare import BenchComparison, GateReport

MARK = {"pass": "ok", "slower": "SLOWER", "faster": "faster", "failed": "FAILED", "new": "new",
        "missing": "missing", "no-baseline": "no baseline"}
EMOJI = {"pass": "✅", "slower": "❌", "failed": "❌", "faster": "🚀", "new": "🆕", "missing": "➖",
         "no-baseline": "➖"}


def _interval(c: BenchComparison) -> str:
    if c.low is None or c.high is None:
        return ""
    return f"[{c.low * 100:+.2f}, {c.high * 100:+.2f}] %"


def _verdict(c: BenchComparison) -> str:
    word = MARK.get(c.verdict, c.verdict)
    if c.verdict == "faster" and c.fails:
        word = "FASTER (update expectations)"
    if c.pvalue is not None:
        word += f" (p={c.pvalue:.2g})"
    return word


def rows(report: GateReport) -> List[List[str]]:
    unit_col = "instr" if report.backend != "time" else "time"
    head = ["benchmark", f"baseline ({unit_col})", "candidate", "change", "interval", "threshold", "verdict"]
    out = [head]
    for c in report.comparisons:
        out.append([c.name, fmt_value(c.baseline, c.unit), fmt_value(c.candidate, c.unit), fmt_pct(c.change),
                    _interval(c), fmt_pct(c.threshold, sign=False) if c.threshold is not None else "",
                    _verdict(c)])
    return out


def summary_line(report: GateReport) -> str:
    counts = {}
    for c in report.comparisons:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    parts = [f"{n} {MARK.get(v, v)}" for v, n in sorted(counts.items())]
    state = "FAILED" if report.exit_code else "passed"
    return f"gate {state}: {len(report.comparisons)} benchmarks ({', '.join(parts) or 'none'})"


def render_text(report: GateReport) -> str:
    """The short aligned table for logs."""
    lines = [f"measure gate  backend {report.backend}  {report.platform}", ""] + table(rows(report), right={1, 2, 3, 5})
    lines.append("")
    lines.append(f"rule: {report.method}")
    for c in report.comparisons:
        if c.note:
            lines.append(f"{c.name}: {c.note}")
    lines += report.notes
    lines.append(summary_line(report))
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: GateReport) -> str:
    """A pull-request summary: a headline, the failing benchmarks first, then the full table."""
    table = rows(report)
    failing = report.failures
    head = "### ❌ measure gate: regression" if failing else "### ✅ measure gate: no regression"
    lines = [head, "", f"{summary_line(report)}. Backend `{report.backend}`, platform `{report.platform}`.", ""]
    order = sorted(range(1, len(table)), key=lambda i: (not report.comparisons[i - 1].fails, i))
    lines.append("| " + " | ".join(table[0]) + " |")
    lines.append("|" + "|".join(["---", "---:", "---:", "---:", "---", "---:", "---"]) + "|")
    for i in order:
        c = report.comparisons[i - 1]
        cells = [_md_cell(x) for x in table[i]]
        cells[0] = f"`{cells[0]}`"
        cells[-1] = f"{EMOJI.get(c.verdict, '')} {cells[-1]}".strip()
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Rule: {report.method}."]
    notes = [f"- `{c.name}`: {_md_cell(c.note)}" for c in report.comparisons if c.note] + \
            [f"- {_md_cell(n)}" for n in report.notes]
    if notes:
        lines += [""] + notes
    return "\n".join(lines) + "\n"


def render_junit(report: GateReport, suite: str = "measure-gate", timestamp: Optional[str] = None,
                 hostname: Optional[str] = None) -> str:
    """JUnit XML as CI servers read it (Jenkins' junit-10 and Ant's JUnit schema; checked against
    ``tests/data/junit.xsd``): one testcase per benchmark; a failing verdict is a <failure> with the
    row as its message; a benchmark on one side only (new, missing, no baseline) is <skipped>, never
    shown as passed; the rule and the notes go to the suite's system-out. ``timestamp`` (UTC,
    ``YYYY-MM-DDTHH:MM:SS``) and ``hostname`` default to now and this machine."""
    cases, skipped = [], 0
    for c in report.comparisons:
        body = ""
        text = (f"{c.name}: baseline {fmt_value(c.baseline, c.unit)}, candidate {fmt_value(c.candidate, c.unit)}, "
                f"change {fmt_pct(c.change)} {_interval(c)}, threshold {fmt_pct(c.threshold, sign=False)}: "
                f"{_verdict(c)}{'; ' + c.note if c.note else ''}")
        if c.fails:
            body = f"<failure message={quoteattr(text)} type={quoteattr(c.verdict)}>{escape(text)}</failure>"
        elif c.verdict in ("new", "missing", "no-baseline"):
            body = f"<skipped message={quoteattr(text)}/>"
            skipped += 1
        cases.append(f'  <testcase classname={quoteattr(suite)} name={quoteattr(c.name)} time="0">{body}</testcase>')
    stamp = timestamp or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    out = "\n".join([f"rule: {report.method}"] + [f"{c.name}: {c.note}" for c in report.comparisons if c.note]
                    + list(report.notes))
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<testsuite name={quoteattr(suite)} timestamp="{stamp}" hostname={quoteattr(hostname or socket.gethostname())} '
            f'tests="{len(report.comparisons)}" failures="{len(report.failures)}" errors="0" skipped="{skipped}" time="0">\n'
            f"  <properties><property name=\"rule\" value={quoteattr(report.method)}/></properties>\n"
            + "".join(case + "\n" for case in cases)
            + f"  <system-out>{escape(out)}</system-out>\n  <system-err></system-err>\n</testsuite>\n")


def write_markdown(report: GateReport, path: Optional[str] = None) -> Optional[str]:
    """Append the Markdown summary to ``path``, else to $GITHUB_STEP_SUMMARY when set; returns where."""
    target = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as f:
        f.write(render_markdown(report))
    return target


def write_text(path: str, text: str) -> None:
    from ..jsonfile import write_json_atomic
    write_json_atomic(path, text)  # a str is written as-is, atomically

