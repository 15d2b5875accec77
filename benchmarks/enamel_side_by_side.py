"""ENAMEL side by side: ENAMEL's own harness and ``measure score enamel`` on the same machine,
the same generated tests and the same sample files.

    python benchmarks/enamel_side_by_side.py enamel  --samples F [F ...] [--runs 3] [--enamel-src DIR]
    python benchmarks/enamel_side_by_side.py measure --samples F [F ...]
    python benchmarks/enamel_side_by_side.py determinism --samples F --problems 0,1,... [--times 2]
    python benchmarks/enamel_side_by_side.py inputs
    python benchmarks/enamel_side_by_side.py report  --samples F [F ...]

``enamel`` runs ENAMEL's evaluator (``enam.Evaluator``: make_tests once, saved and reloaded as its
demo.py ``--tests`` does, then ``Evaluator.evaluate`` once per run), imported from ``--enamel-src``
(a checkout of q-rz/enamel) or else the installed ``enam`` package, in a fresh interpreter per run
with ``PYTHONHASHSEED=0`` (the seed measure generates tests under). Its code is run, never copied:
the script only observes ``evaluate1`` and ``compute_refs`` (a wrapper records each call's
result and splits ENAMEL's verbose log per sample) and scores per problem with ENAMEL's own
``calc_eff_at_k`` / ``calc_pass_at_k``. ``measure`` runs ``measure score enamel --json`` once per
file and times it. ``determinism`` runs measure twice with fresh caches on a subset and compares
the per-problem results and the per-sample records. ``inputs`` checks that both sides' generated
test inputs are identical (equality and a SHA-256 per problem). ``report`` prints one Markdown
table per sample file and the problems whose pass@1 differs, with ENAMEL's verdict for each.

Everything raw goes under ``--out`` (default /tmp/side_by_side) as JSON.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

DATASET = "/work/shared/data/enamel/enamel.csv"
SEED = 998244353
N_TESTS = [8, 4, 4, 4]
N_REPS = 6
HARDNESS = [0.0, 3.0, 3.0, 4.0]
MEMORY_GIGA = 4.0
ALPHA = 2.0
TOLERANCE_S = 0.01
VERBOSE_LINE = re.compile(r"\[problem=(\d+), level=(\d+), case=(\d+)\] (.*)")
MARK = "\x00SAMPLE-START\x00"


def stem(path: str) -> str:
    return Path(path).stem


def load_avg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


# --------------------------------------------------------------------------- ENAMEL's harness


def import_enam(src: Optional[str]):
    if src:
        sys.path.insert(0, os.path.abspath(src))
    import enam
    if src and not os.path.abspath(enam.__file__).startswith(os.path.abspath(src)):
        raise SystemExit(f"--enamel-src {src!r} given but enam was imported from {enam.__file__}")
    return enam


def classify(lines: List[str], passed: bool) -> str:
    """ENAMEL's verdict for one sample from its own verbose lines (evaluate1 prints one line per
    failure or level break, in evaluation order)."""
    events = []
    for ln in lines:
        m = VERBOSE_LINE.match(ln)
        if m:
            events.append((int(m.group(2)), m.group(4)))
    if not events:
        return "ok" if passed else "fail (no message)"
    level, msg = events[-1]
    if msg.startswith("Time Limit Exceeded"):
        kind = "timeout"
    elif msg.startswith("Out of Memory"):
        kind = "memory"
    elif msg.startswith("Overflow Error"):
        kind = "overflow"
    elif msg.startswith("Wrong output"):
        kind = "wrong_output"
    else:
        kind = "error: " + msg[:160]
    return f"{kind} at level {level}" + ("" if passed else " (fails)")


def enamel_run(args) -> int:
    """One run of ENAMEL's harness on one sample file, in this (fresh) interpreter."""
    enam = import_enam(args.enamel_src)
    out = Path(args.out)
    subset = args.problems or list(enam.PROBLEMSET)
    ev = enam.Evaluator(problems=args.dataset, subset=subset, n_tests=N_TESTS, n_reps=N_REPS, hardness=HARDNESS,
                        memory_giga=MEMORY_GIGA, timeout_factor=ALPHA, tolerence_sec=TOLERANCE_S, seed=SEED)
    tests_prefix = out / "enamel" / "tests"
    tests_file = str(tests_prefix) + "~tests.pkl"
    make_s = None
    if not ev.load_tests(tests_file):
        t0 = time.perf_counter()
        ev.make_tests(save_name=str(tests_prefix))
        make_s = time.perf_counter() - t0
        write_json(out / "enamel" / "make_tests.json", {"wall_s": make_s, "load_before": args.load_before,
                                                        "subset": subset})
    with open(args.samples) as f:
        codes = json.load(f)
    if isinstance(codes, dict):
        codes = {int(k): v for k, v in codes.items()}

    records: Dict[int, List[Dict[str, Any]]] = {}
    refs_seen: Dict[int, Dict[str, Any]] = {}
    log = io.StringIO()
    orig_eval1, orig_refs = ev.evaluate1, ev.compute_refs

    def compute_refs(i):
        refs = orig_refs(i)
        refs_seen[i] = {"ref_max_s": refs.ref_max, "T_s": ALPHA * refs.ref_max, "level_refs_s": list(refs.refs)}
        return refs

    def evaluate1(i, code, refs, verbose):
        print(MARK, flush=True)
        passed, effs, elapsed = orig_eval1(i=i, code=code, refs=refs, verbose=verbose)
        records.setdefault(i, []).append({"passed": bool(passed), "effs": [float(e) for e in effs],
                                          "elapsed_s": elapsed})
        return passed, effs, elapsed

    ev.compute_refs, ev.evaluate1 = compute_refs, evaluate1
    run_name = f"{stem(args.samples)}.run{args.run}"
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(log):
        metrics = ev.evaluate(codes, k=[1, 10, 100], save_name=str(out / "enamel" / run_name), verbose=True)
    wall = time.perf_counter() - t0

    chunks = log.getvalue().split(MARK + "\n")[1:]  # one chunk per evaluate1 call, in call order
    order = [(i, s) for i in sorted(set(subset)) for s in range(len(codes[i]))]
    assert len(chunks) == len(order), (len(chunks), len(order))
    per = []
    for (i, s), chunk in zip(order, chunks):
        rec = records[i][s]
        rec["log"] = [ln for ln in chunk.splitlines() if ln.strip()]
        rec["score"] = float(sum(h * e for h, e in zip(HARDNESS, rec["effs"])) / sum(HARDNESS))
        rec["verdict"] = classify(rec["log"], rec["passed"])
    for i in sorted(set(subset)):
        rs = records[i]
        c = sum(r["passed"] for r in rs)
        per.append({"problem": i, "n": len(rs), "passed": c,
                    "pass@1": float(enam.calc_pass_at_k(n=len(rs), c=c, k=1)),
                    "eff@1": float(enam.calc_eff_at_k(e=[r["score"] for r in rs], k=1)),
                    **refs_seen[i], "samples": rs})
    write_json(out / "enamel" / f"{run_name}.json", {
        "tool": "enamel", "enam_file": enam.__file__, "samples": args.samples, "run": args.run,
        "metrics": {k: float(v) for k, v in metrics.items()}, "wall_s": wall, "make_tests_wall_s": make_s,
        "load_before": args.load_before, "uptime_before": args.uptime_before,
        "python": sys.version.split()[0], "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "per_problem": per})
    print(f"{run_name}: pass@1 {metrics['pass@1']:.4f}  eff@1 {metrics['eff@1']:.4f}  wall {wall:.1f} s",
          file=sys.stderr)
    return 0


def cmd_enamel(args) -> int:
    out = Path(args.out)
    (out / "enamel").mkdir(parents=True, exist_ok=True)
    for r in range(1, args.runs + 1):
        for f in args.samples:
            target = out / "enamel" / f"{stem(f)}.run{r}.json"
            if target.exists():
                print(f"skip {target} (exists)", file=sys.stderr)
                continue
            up = uptime()
            print(f"[{time.strftime('%H:%M:%S')}] ENAMEL run {r} on {stem(f)}; {up}", file=sys.stderr, flush=True)
            cmd = [args.python, os.path.abspath(__file__), "_enamel-run", "--samples", f, "--run", str(r),
                   "--out", str(out), "--dataset", args.dataset, "--load-before", load_avg(), "--uptime-before", up]
            if args.enamel_src:
                cmd += ["--enamel-src", args.enamel_src]
            if args.problems:
                cmd += ["--problems", ",".join(map(str, args.problems))]
            with open(out / "enamel" / f"{stem(f)}.run{r}.stderr", "w") as err:
                rc = subprocess.run(cmd, env=dict(os.environ, PYTHONHASHSEED="0"), stderr=err).returncode
            if rc != 0:
                print(f"ENAMEL run failed (rc {rc}); see {err.name}", file=sys.stderr)
                return 2
    return 0


# --------------------------------------------------------------------------- measure


def measure_cmd(args, samples: str, results: Path, cache: Path, problems=None) -> List[str]:
    cmd = [args.measure, "score", "enamel", "--dataset", args.dataset, "--samples", samples, "--json",
           "--results", str(results), "--cache", str(cache)]
    if problems:
        cmd += ["--problems", ",".join(map(str, problems))]
    return cmd


def run_measure(cmd: List[str], json_out: Path) -> Dict[str, Any]:
    up = uptime()
    print(f"[{time.strftime('%H:%M:%S')}] {' '.join(cmd)} > {json_out}; {up}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with open(json_out, "w") as f:
        rc = subprocess.run(cmd, stdout=f).returncode
    wall = time.perf_counter() - t0
    info = {"command": cmd, "stdout": str(json_out), "rc": rc, "wall_s": wall, "uptime_before": up,
            "uptime_after": uptime()}
    write_json(json_out.with_suffix(".run.json"), info)
    if rc != 0:
        raise SystemExit(f"measure failed (rc {rc}): {' '.join(cmd)}")
    return info


def cmd_measure(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for f in args.samples:
        js = out / f"{stem(f)}.measure.json"
        if js.exists() and js.with_suffix(".run.json").exists():
            print(f"skip {js} (exists)", file=sys.stderr)
            continue
        run_measure(measure_cmd(args, f, out / f"{stem(f)}.measure.jsonl", out / "cache", args.problems), js)
    return 0


def _records(path: Path) -> Dict[str, Any]:
    recs = {}
    for ln in Path(path).read_text().splitlines():
        r = json.loads(ln)
        if "key" in r:
            recs[r["key"]] = r
    return recs


def cmd_determinism(args) -> int:
    out = Path(args.out) / "determinism"
    out.mkdir(parents=True, exist_ok=True)
    f = args.samples[0]
    runs = []
    for t in range(1, args.times + 1):
        d = out / f"try{t}"
        d.mkdir(exist_ok=True)
        js = d / f"{stem(f)}.measure.json"
        if not (js.exists() and js.with_suffix(".run.json").exists()):
            run_measure(measure_cmd(args, f, d / f"{stem(f)}.measure.jsonl", d / "cache", args.problems), js)
        runs.append((read_json(js), _records(d / f"{stem(f)}.measure.jsonl"), read_json(js.with_suffix(".run.json"))))
    first = runs[0]
    same_per = all(r[0]["per_problem"] == first[0]["per_problem"] for r in runs)
    same_rec = all(r[1] == first[1] for r in runs)
    fresh = [r[0]["jobs"] for r in runs]
    verdict = {"samples": f, "problems": args.problems, "times": args.times, "per_problem_identical": same_per,
               "records_identical": same_rec, "jobs": fresh, "wall_s": [r[2]["wall_s"] for r in runs],
               "overall": [r[0]["overall"] for r in runs]}
    write_json(out / "verdict.json", verdict)
    print(json.dumps(verdict, indent=1))
    return 0 if same_per and same_rec else 1


# --------------------------------------------------------------------------- inputs


def canonical_hash(value: Any) -> str:
    from measure import wire
    return hashlib.sha256(json.dumps(wire.encode_value(value, allow_pickle=True), sort_keys=True).encode()).hexdigest()


def cmd_inputs(args) -> int:
    """ENAMEL's pickled tests (made by its make_tests under PYTHONHASHSEED=0) against measure's
    generate_tests (its cached file when measure already ran with --cache OUT/cache)."""
    import pickle
    if args.enamel_src:
        sys.path.insert(0, os.path.abspath(args.enamel_src))
    from measure.harness.enamel import PROBLEMSET, generate_tests, load_problems
    from measure import wire
    out = Path(args.out)
    with open(out / "enamel" / "tests~tests.pkl", "rb") as f:
        en_tests, _ = pickle.load(f)
    problems = load_problems(args.dataset)
    subset = args.problems or list(PROBLEMSET)
    cache = out / "cache" if (out / "cache").is_dir() else out / "inputs-cache"  # measure's own file if it ran
    cache.mkdir(parents=True, exist_ok=True)
    ms = generate_tests([problems[i] for i in subset], str(cache))
    rows, n_equal = [], 0
    for i in subset:
        en_inputs = [tuple(t.input) for _, level in en_tests[i] for t in level]
        ms_inputs = [tuple(wire.decode_value(e, trusted=True)) for level in ms[i] for e in level]
        equal = en_inputs == ms_inputs
        h_en = hashlib.sha256("".join(canonical_hash(x) for x in en_inputs).encode()).hexdigest()
        h_ms = hashlib.sha256("".join(canonical_hash(x) for x in ms_inputs).encode()).hexdigest()
        n_equal += equal and h_en == h_ms
        rows.append({"problem": i, "n_inputs": [len(en_inputs), len(ms_inputs)], "equal": equal,
                     "sha256_enamel": h_en, "sha256_measure": h_ms})
    verdict = {"problems": len(subset), "identical": n_equal, "rows": rows}
    write_json(out / "inputs.json", verdict)
    print(f"inputs identical (== and SHA-256) for {n_equal} of {len(subset)} problems")
    for r in rows[:: max(1, len(rows) // 6)]:
        print(f"  problem {r['problem']:3d}: {r['n_inputs'][0]} inputs  enamel {r['sha256_enamel'][:16]}  "
              f"measure {r['sha256_measure'][:16]}  {'same' if r['equal'] else 'DIFFERENT'}")
    for r in rows:
        if not r["equal"]:
            print(f"  problem {r['problem']}: DIFFERENT")
    return 0 if n_equal == len(subset) else 1


# --------------------------------------------------------------------------- report


def spread(xs: List[float], fmt: str) -> str:
    if not xs:
        return "–"
    if len(xs) == 1:
        return fmt.format(xs[0])
    return f"{fmt.format(statistics.mean(xs))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})"


def measure_verdict(rec: Dict[str, Any]) -> str:
    if rec is None:
        return "missing"
    bad = [t for t in rec["tests"] if t["status"] != "ok"]
    if not bad:
        return "ok"
    t = bad[-1]
    return f"{t['status']} at level {t['level']}" + ("" if rec["passed"] else " (fails)")


def partial_from_records(mrec: Dict[str, Any], enamel_run: Dict[str, Any]) -> Dict[str, Any]:
    """measure's per-problem pass@1 / eff@1 from its results file, for the problems whose samples
    are all recorded (while ``measure score`` is still running)."""
    from measure.scores import eff_at_k, pass_at_k
    per = []
    for row in enamel_run["per_problem"]:
        rs = [mrec.get(f"{row['problem']}/{k}") for k in range(row["n"])]
        if all(rs):
            per.append({"problem": row["problem"], "pass@1": pass_at_k(len(rs), sum(r["passed"] for r in rs), 1),
                        "eff@1": eff_at_k([r["score"] for r in rs], 1)})
    return {"per_problem": per}


def cmd_report(args) -> int:
    out = Path(args.out)
    for f in args.samples:
        s = stem(f)
        runs = [read_json(p) for p in sorted((out / "enamel").glob(f"{s}.run*.json"))
                if re.fullmatch(rf"{re.escape(s)}\.run\d+\.json", p.name)]
        mj, mrun = out / f"{s}.measure.json", out / f"{s}.measure.run.json"
        meas = read_json(mj) if mj.exists() and mj.stat().st_size else None
        minfo = read_json(mrun) if mrun.exists() else None
        mrec = _records(out / f"{s}.measure.jsonl") if (out / f"{s}.measure.jsonl").exists() else {}
        make = out / "enamel" / "make_tests.json"
        make_s = read_json(make)["wall_s"] if make.exists() else None
        print(f"\n#### {s}.json\n")
        print("| tool | eff@1 (min–max over runs) | pass@1 | wall time (s) | runs |")
        print("|---|---|---|---|---|")
        if runs:
            walls = [r["wall_s"] for r in runs]
            print(f"| ENAMEL harness (enam {'checkout' if 'enamel-src' in runs[0]['enam_file'] else 'package'}) | "
                  f"{spread([r['metrics']['eff@1'] for r in runs], '{:.4f}')} | "
                  f"{spread([r['metrics']['pass@1'] for r in runs], '{:.4f}')} | "
                  f"{spread(walls, '{:.0f}')}" + (f" + {make_s:.0f} make_tests (once)" if make_s else "")
                  + f" | {len(runs)} |")
        if meas:
            print(f"| measure (backend {meas['backend']}) | {meas['overall']['eff@1']:.4f} (deterministic) | "
                  f"{meas['overall']['pass@1']:.4f} | {minfo['wall_s']:.0f} "
                  f"({meas['jobs']['measured']} measured, {meas['jobs']['from_cache']} cached) | 1 |")
        if runs:
            print("\nloads before the ENAMEL runs (1/5/15 min): "
                  + "; ".join(f"run {r['run']}: {r['load_before']}" for r in runs))
        if minfo:
            print(f"measure: {minfo['uptime_before']}")
        if runs and not meas and mrec:
            meas = partial_from_records(mrec, runs[0])
            print(f"measure still running: compared on the {len(meas['per_problem'])} problems it has finished")
        if not (runs and meas):
            continue
        mp = {r["problem"]: r for r in meas["per_problem"]}
        diffs, effd = [], []
        for i, row in enumerate(runs[0]["per_problem"]):
            p = row["problem"]
            if p not in mp:
                continue
            en_pass = [r["per_problem"][i]["pass@1"] for r in runs]
            if any(x != mp[p]["pass@1"] for x in en_pass):
                verdicts = [", ".join(smp["verdict"] for smp in r["per_problem"][i]["samples"]) for r in runs]
                mv = ", ".join(measure_verdict(mrec.get(f"{p}/{k}")) for k in range(row["n"]))
                diffs.append((p, en_pass, mp[p]["pass@1"], verdicts, mv))
            effd.append((abs(statistics.mean(r["per_problem"][i]["eff@1"] for r in runs) - mp[p]["eff@1"]), p,
                         [r["per_problem"][i]["eff@1"] for r in runs], mp[p]["eff@1"]))
        print(f"\npass@1 differs on {len(diffs)} of {len(mp)} problems" + (":" if diffs else "."))
        for p, en_pass, m_pass, verdicts, mv in diffs:
            # due to the time limits alone when every verdict on both sides is ok or a timeout
            censor = all(v == "ok" or v.startswith("timeout") for vs in verdicts + [mv] for v in vs.split(", "))
            print(f"- problem {p}: ENAMEL pass@1 per run {en_pass} ({'; '.join(verdicts)}), measure {m_pass} ({mv})"
                  f" -> {'time-limit censoring' if censor else 'NOT a time-limit censoring'}")
        flips = []
        for i, row in enumerate(runs[0]["per_problem"]):
            vs = {tuple(smp["verdict"] for smp in r["per_problem"][i]["samples"]) for r in runs}
            if len(vs) > 1:
                flips.append(str(row["problem"]))
        if flips:
            print(f"\nENAMEL's verdict (where its timeouts censor) changes between its own runs on {len(flips)} "
                  f"problems: {', '.join(flips)}")
        effd.sort(reverse=True)
        print("\nlargest per-problem eff@1 differences (ENAMEL runs vs measure): "
              + "; ".join(f"{p}: {', '.join(f'{x:.2f}' for x in en)} vs {m:.2f}" for _, p, en, m in effd[:5]))
    return 0


# --------------------------------------------------------------------------- CLI


def _ints(text: str) -> List[int]:
    return sorted({int(x) for x in text.split(",") if x.strip()})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", default="/tmp/side_by_side")
    common.add_argument("--dataset", default=DATASET)
    common.add_argument("--problems", type=_ints, help="comma-separated problem indices (default: ENAMEL's 142)")
    common.add_argument("--enamel-src", help="checkout of q-rz/enamel (default: the installed enam package)")
    for name, fn in (("enamel", cmd_enamel), ("measure", cmd_measure), ("determinism", cmd_determinism),
                     ("inputs", cmd_inputs), ("report", cmd_report), ("_enamel-run", enamel_run)):
        p = sub.add_parser(name, parents=[common])
        p.set_defaults(func=fn)
        if name != "inputs":
            p.add_argument("--samples", nargs="+" if name != "_enamel-run" else None, required=True)
        if name == "enamel":
            p.add_argument("--runs", type=int, default=3)
            p.add_argument("--python", default=sys.executable, help="interpreter with enam's deps (numpy, pandas, tqdm)")
        if name in ("measure", "determinism"):
            p.add_argument("--measure", default=os.path.join(os.path.dirname(sys.executable), "measure"))
        if name == "determinism":
            p.add_argument("--times", type=int, default=2)
        if name == "_enamel-run":
            p.add_argument("--run", type=int, required=True)
            p.add_argument("--load-before", default="")
            p.add_argument("--uptime-before", default="")
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
