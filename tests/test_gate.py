"""The gate's rule, its files and its command line, on synthetic result sets (no measuring here)."""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

from measure.cli import main
from measure.errors import ConfigError, InputFileError
from measure.gate import expectations as ex
from measure.errors import PlatformMismatch
from measure.gate.compare import GatePolicy, check_platforms, compare_sets
from measure.gate.report import render_junit, render_markdown, render_text, write_markdown
from measure.gate.resultset import BenchResult, ResultSet, load_results, save_results
from measure.model import PlatformKey

VG = PlatformKey("valgrind", "x86_64", "Test CPU", "cpython", "3.11.7", "0123456789abcdef", "6.1.0", "0.1.0")
TIME = replace(VG, backend="time")


def counts(**benches) -> ResultSet:
    """A valgrind result set: name -> list of counts (one process)."""
    return ResultSet(VG, {n: BenchResult(n, "instructions", (tuple(v),)) for n, v in benches.items()})


def timings(platform=TIME, **benches) -> ResultSet:
    """A time result set: name -> list of processes, each a list of ns."""
    return ResultSet(platform, {n: BenchResult(n, "task_clock_ns", tuple(tuple(p) for p in v))
                                for n, v in benches.items()})


def verdict(base, cand, policy=GatePolicy(), name="b"):
    return next(c for c in compare_sets(base, cand, policy).comparisons if c.name == name)


# --- deterministic rule ---------------------------------------------------------------------------

def test_a_change_exactly_at_the_tolerance_fails():
    c = verdict(counts(b=[100_000] * 3), counts(b=[101_000] * 3))
    assert (c.verdict, c.fails, c.change) == ("slower", True, pytest.approx(0.01))


def test_a_change_just_under_the_tolerance_passes():
    c = verdict(counts(b=[100_000] * 3), counts(b=[100_999] * 3))
    assert (c.verdict, c.fails) == ("pass", False)


def test_equal_counts_pass_with_a_zero_change_and_interval():
    c = verdict(counts(b=[7_555_701] * 3), counts(b=[7_555_701] * 3))
    assert (c.verdict, c.change, c.low, c.high) == ("pass", 0.0, 0.0, 0.0)


def test_an_improvement_passes_unless_improvements_must_fail():
    base, cand = counts(b=[100_000]), counts(b=[95_000])
    assert (verdict(base, cand).verdict, verdict(base, cand).fails) == ("faster", False)
    strict = verdict(base, cand, GatePolicy(fail_on_improvement=True))
    assert (strict.verdict, strict.fails) == ("faster", True)


def test_the_tolerance_is_learned_from_the_observed_spread():
    # counts that move by 0.5 % between calls get a 1.5 % gate (3 x spread), so a 1.2 % change passes
    base = counts(b=[100_000, 100_250, 100_500])
    cand = counts(b=[101_450, 101_500, 101_200])
    c = verdict(base, cand)
    assert c.threshold == pytest.approx(3 * 500 / 100_250)
    assert (c.verdict, c.fails) == ("pass", False)
    assert "learned" in c.note


def test_a_per_benchmark_tolerance_overrides_the_default():
    base, cand = counts(b=[100_000], other=[100_000]), counts(b=[101_500], other=[101_500])
    report = compare_sets(base, cand, GatePolicy(tolerances={"b": 0.02}))
    assert {c.name: c.verdict for c in report.comparisons} == {"b": "pass", "other": "slower"}


def test_a_tolerance_carried_by_the_candidates_results_applies():
    cand = counts(b=[101_500])
    cand.benchmarks["b"] = replace(cand.benchmarks["b"], tolerance=0.05)
    assert verdict(counts(b=[100_000]), cand).verdict == "pass"


def test_overlapping_ranges_are_not_a_hard_failure():
    c = verdict(counts(b=[100_000, 103_000, 100_100]), counts(b=[102_900, 103_100, 104_000]), GatePolicy(learn_factor=0))
    assert c.change >= 0.01 and (c.verdict, c.fails) == ("pass", False) and "overlap" in c.note


def test_benchmarks_on_one_side_only_are_reported_and_fail_only_when_required():
    base, cand = counts(a=[10], gone=[10]), counts(a=[10], added=[10])
    report = compare_sets(base, cand)
    assert {c.name: (c.verdict, c.fails) for c in report.comparisons} == {
        "a": ("pass", False), "added": ("new", False), "gone": ("missing", False)}
    assert report.exit_code == 0
    assert compare_sets(base, cand, GatePolicy(require_all=True)).exit_code == 1


def test_a_benchmark_that_failed_in_the_candidate_fails_the_gate():
    cand = ResultSet(VG, {"b": BenchResult("b", "instructions", (), "error", "Traceback ...\nZeroDivisionError")})
    c = verdict(counts(b=[100]), cand)
    assert (c.verdict, c.fails) == ("failed", True) and "ZeroDivisionError" in c.note


# --- time rule ------------------------------------------------------------------------------------

def _procs(rng, n_proc, center, proc_sd=0.04, call_sd=0.08, calls=10):
    """Processes whose level varies (proc_sd) and whose calls vary around it (call_sd), as measured here."""
    return [list(center * rng.normal(1, proc_sd) * rng.lognormal(0, call_sd, calls)) for _ in range(n_proc)]


def test_time_gate_passes_identical_distributions_and_catches_a_20_percent_slowdown():
    rng = np.random.default_rng(1)
    base = timings(b=_procs(rng, 10, 3e6))
    same = timings(b=_procs(rng, 10, 3e6))
    slow = timings(b=_procs(rng, 10, 3.6e6))
    assert verdict(base, same).verdict == "pass"
    c = verdict(base, slow)
    assert (c.verdict, c.fails, c.method) == ("slower", True, "welch")
    assert c.low < c.change < c.high and c.pvalue < 0.01


def test_time_gate_false_positive_rate_on_synthetic_aa_is_consistent_with_alpha_over_two():
    from scipy.stats import binomtest
    rng = np.random.default_rng(7)
    n = 200
    fails = sum(verdict(timings(b=_procs(rng, 10, 3e6)), timings(b=_procs(rng, 10, 3e6)),
                        GatePolicy(min_effect=0)).fails for _ in range(n))
    # stated rate alpha / 2 = 0.5 %: a rule that pooled the calls would fail ~30 % of these draws
    assert binomtest(fails, n, 0.005, alternative="greater").pvalue > 0.001, fails


def test_time_gate_ignores_a_significant_change_below_the_minimum_effect():
    rng = np.random.default_rng(3)
    base = timings(b=_procs(rng, 20, 3e6, proc_sd=0.002, call_sd=0.002))
    cand = timings(b=_procs(rng, 20, 3.06e6, proc_sd=0.002, call_sd=0.002))
    c = verdict(base, cand, GatePolicy(min_effect=0.05))
    assert c.pvalue < 0.01 and (c.verdict, c.fails) == ("pass", False) and "minimum effect" in c.note


def test_time_gate_needs_two_processes_per_side():
    with pytest.raises(ConfigError, match="at least 2 processes"):
        compare_sets(timings(b=[[1e6, 1e6, 1e6]]), timings(b=[[1e6], [1e6]]))


def test_the_report_states_the_time_rule_with_its_false_positive_rate():
    report = compare_sets(timings(b=[[1e6], [1.1e6]]), timings(b=[[1e6], [1.1e6]]))
    assert "alpha = 0.01" in report.method and "at most 0.5 %" in report.method


# --- platforms ------------------------------------------------------------------------------------

def test_different_platforms_are_refused_naming_the_field_and_the_remedy():
    other = ResultSet(replace(VG, python_build="ffffffffffffffff"), counts(b=[1]).benchmarks)
    with pytest.raises(PlatformMismatch, match=r"python_build.*--calibration"):
        check_platforms(counts(b=[1]), other)


def test_a_baseline_from_another_host_of_one_dispatch_level_is_accepted_under_valgrind():
    # an AMD EPYC and an Intel Xeon, other kernels: under valgrind both show the process one CPU
    seen = "x86-64-v3 GenuineIntel Intel(R) Core(TM) i7-4910MQ CPU @ 2.90GHz #e80628e2a941"
    base = ResultSet(replace(VG, cpu_model="AMD EPYC", kernel="6.1.0", dispatch=seen), counts(b=[1]).benchmarks)
    cand = ResultSet(replace(VG, cpu_model="Intel Xeon", kernel="6.8.0", dispatch=seen), counts(b=[1]).benchmarks)
    check_platforms(base, cand)


def test_a_baseline_seen_through_another_cpu_is_refused_naming_every_field_that_differs():
    base = ResultSet(replace(VG, dispatch="x86-64-v3 GenuineIntel A #1"), counts(b=[1]).benchmarks)
    cand = ResultSet(replace(VG, dispatch="x86-64-v2 GenuineIntel B #2", python_build="f" * 16),
                     counts(b=[1]).benchmarks)
    with pytest.raises(PlatformMismatch, match=r"python_build: .*; dispatch: 'x86-64-v3 GenuineIntel A #1' vs "):
        check_platforms(base, cand)


def test_a_key_recorded_before_dispatch_is_compared_on_the_cpu_name():
    old = ResultSet(VG, counts(b=[1]).benchmarks)  # no dispatch field
    check_platforms(old, ResultSet(replace(VG, dispatch="x86-64-v3 X #1"), counts(b=[1]).benchmarks))
    with pytest.raises(PlatformMismatch, match="cpu_model: 'Test CPU' vs 'Other CPU'"):
        check_platforms(old, ResultSet(replace(VG, cpu_model="Other CPU", dispatch="x86-64-v3 X #1"),
                                       counts(b=[1]).benchmarks))


def test_results_of_another_backend_are_refused():
    with pytest.raises(PlatformMismatch, match="different backends"):
        check_platforms(counts(b=[1]), timings(b=[[1], [1]]))


# --- files ----------------------------------------------------------------------------------------

def test_a_saved_result_set_loads_back_equal(tmp_path):
    rs = counts(a=[1, 2, 3], b=[4])
    save_results(rs, tmp_path / "r.json")
    assert load_results(tmp_path / "r.json").benchmarks == rs.benchmarks


def test_several_files_for_one_side_merge_their_processes(tmp_path):
    save_results(timings(b=[[1.0, 2.0]]), tmp_path / "1.json")
    save_results(timings(b=[[3.0]]), tmp_path / "2.json")
    assert load_results([tmp_path / "1.json", tmp_path / "2.json"]).benchmarks["b"].processes == ((1.0, 2.0), (3.0,))


def test_a_measurement_document_is_one_benchmark_per_input(tmp_path):
    doc = {"schema": "measure/measurement", "version": 1, "program": "primes", "entry": "count", "started": "",
           "elapsed_s": 1.0, "warnings": [], "config": {}, "platform": VG.__dict__,
           "setup": {"status": "ok", "instructions": 10},
           "inputs": [{"index": i, "name": None, "status": "ok", "message": "", "output": 1,
                       "instructions": None, "samples": [{"status": "ok", "instructions": 100 + i}] * 2}
                      for i in range(2)]}
    (tmp_path / "m.json").write_text(json.dumps(doc))
    rs = load_results(tmp_path / "m.json")
    assert {n: b.processes for n, b in rs.benchmarks.items()} == {"primes.count[0]": ((100, 100),),
                                                                    "primes.count[1]": ((101, 101),)}


@pytest.mark.parametrize("content, message", [
    (None, "cannot read"),
    ("{not json", "not valid JSON"),
    ('{"schema": "measure/results", "version": 99}', "version 99"),
    ('{"schema": "pyperf"}', "not a file measure can gate"),
    ('{"schema": "measure/results", "version": 1, "platform": {}, "benchmarks": {}}', "platform"),
])
def test_bad_result_files_raise_a_typed_error_naming_the_cause(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputFileError, match=message):
        load_results(path)


def test_a_negative_or_non_numeric_value_is_refused(tmp_path):
    doc = counts(b=[1]).to_dict()
    doc["benchmarks"]["b"]["processes"] = [[1, "x"]]
    (tmp_path / "r.json").write_text(json.dumps(doc))
    with pytest.raises(InputFileError, match="not a non-negative number"):
        load_results(tmp_path / "r.json")


def test_expectations_round_trip_and_keep_committed_tolerances(tmp_path):
    path = tmp_path / "expected.csv"
    first = ex.updated(counts(a=[1000, 1000], b=[2000]), None, GatePolicy())
    ex.save_expectations(first, path)
    edited = path.read_text().replace("b,instructions,2000,0.01", "b,instructions,2000,0.05")
    path.write_text(edited)
    loaded = ex.load_expectations(path)
    assert (loaded.rows["a"].expected, loaded.rows["b"].tolerance, loaded.platform) == (1000, 0.05, VG)
    again = ex.updated(counts(a=[900], b=[2100], c=[5]), loaded, GatePolicy())
    assert {n: (e.expected, e.tolerance) for n, e in again.rows.items()} == {
        "a": (900, 0.01), "b": (2100, 0.05), "c": (5, 0.01)}


@pytest.mark.parametrize("text, message", [
    ("benchmark,metric,expected,tolerance\n", "no '# platform:' line"),
    ("# platform: {}\nbenchmark,metric,expected,tolerance\n", "not a PlatformKey"),
    (f"# platform: {json.dumps(VG.__dict__)}\nname,value\n", "first data line"),
    (f"# platform: {json.dumps(VG.__dict__)}\nbenchmark,metric,expected,tolerance\na,instructions,x,0.01\n",
     "must be numbers"),
    (f"# platform: {json.dumps(VG.__dict__)}\nbenchmark,metric,expected,tolerance\na,instructions,10,5\n",
     "fraction"),
])
def test_malformed_expectations_files_name_the_line(tmp_path, text, message):
    (tmp_path / "e.csv").write_text(text)
    with pytest.raises(InputFileError, match=message):
        ex.load_expectations(tmp_path / "e.csv")


# --- reports --------------------------------------------------------------------------------------

def _report():
    return compare_sets(counts(fast=[100], slow=[100], same=[100]), counts(fast=[90], slow=[120], same=[100]))


def test_the_text_table_has_one_row_per_benchmark_and_the_rule():
    text = render_text(_report())
    assert "slow" in text and "+20.00 %" in text and "SLOWER" in text and text.splitlines()[-1].startswith(
        "gate FAILED: 3 benchmarks")
    assert "rule: valgrind backend" in text


def test_markdown_lists_failures_first():
    md = render_markdown(_report())
    rows = [ln for ln in md.splitlines() if ln.startswith("| `")]
    assert md.startswith("### ❌") and rows[0].startswith("| `slow`") and len(rows) == 3


def test_junit_has_one_failure_per_failing_benchmark():
    root = ET.fromstring(render_junit(_report()))
    assert (root.get("tests"), root.get("failures")) == ("3", "1")
    assert [tc.get("name") for tc in root.iter("testcase") if tc.find("failure") is not None] == ["slow"]


def test_junit_is_valid_against_the_junit_schema_and_shows_a_one_sided_benchmark_as_skipped():
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(os.path.join(os.path.dirname(__file__), "data", "junit.xsd"))
    report = compare_sets(counts(slow=[100], gone=[100]), counts(slow=[120], added=[100]))
    xml = render_junit(report)
    schema.validate(xml)
    root = ET.fromstring(xml)
    cases = {tc.get("name"): [child.tag for child in tc] for tc in root.iter("testcase")}
    assert cases == {"slow": ["failure"], "gone": ["skipped"], "added": ["skipped"]}
    assert (root.get("failures"), root.get("skipped")) == ("1", "2")


def test_markdown_goes_to_the_github_step_summary_when_set(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    assert write_markdown(_report()) == str(tmp_path / "summary.md")
    assert "measure gate" in (tmp_path / "summary.md").read_text()


# --- command line ---------------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path):
    save_results(counts(a=[1000], b=[1000]), tmp_path / "base.json")
    save_results(counts(a=[1000], b=[1000]), tmp_path / "same.json")
    save_results(counts(a=[1000], b=[1050]), tmp_path / "slow.json")
    save_results(counts(a=[900], b=[1000]), tmp_path / "fast.json")
    return tmp_path


def test_gate_exits_0_when_nothing_changed(files, capsys):
    assert main(["gate", "--baseline", str(files / "base.json"), "--candidate", str(files / "same.json")]) == 0
    assert "gate passed: 2 benchmarks" in capsys.readouterr().out


def test_gate_exits_1_on_a_regression_and_writes_junit_and_markdown(files, capsys):
    code = main(["gate", "--baseline", str(files / "base.json"), "--candidate", str(files / "slow.json"),
                 "--junit", str(files / "j.xml"), "--markdown", str(files / "s.md")])
    assert code == 1
    assert "+5.00 %" in capsys.readouterr().out
    assert ET.parse(files / "j.xml").getroot().get("failures") == "1"
    assert "❌" in (files / "s.md").read_text()


def test_gate_exits_2_on_a_missing_baseline(files, capsys):
    assert main(["gate", "--baseline", str(files / "nope.json"), "--candidate", str(files / "same.json")]) == 2
    assert "cannot read the baseline file" in capsys.readouterr().err


def test_gate_exits_2_on_different_platforms(files, capsys):
    save_results(ResultSet(replace(VG, cpu_model="Other CPU"), counts(a=[1000]).benchmarks), files / "other.json")
    assert main(["gate", "--baseline", str(files / "base.json"), "--candidate", str(files / "other.json")]) == 2
    assert "cpu_model" in capsys.readouterr().err


def test_gate_per_benchmark_tolerance_from_the_command_line(files):
    assert main(["gate", "--baseline", str(files / "base.json"), "--candidate", str(files / "slow.json"),
                 "--tolerance-for", "b=6%"]) == 0


def test_update_writes_expectations_that_then_gate_the_next_run(files):
    exp = str(files / "expected.csv")
    assert main(["gate", "--candidate", str(files / "base.json"), "--expectations", exp, "--update"]) == 0
    assert main(["gate", "--candidate", str(files / "same.json"), "--expectations", exp]) == 0
    assert main(["gate", "--candidate", str(files / "slow.json"), "--expectations", exp]) == 1


def test_an_improvement_fails_under_fail_on_improvement_and_prints_the_new_expectations(files, capsys):
    exp = str(files / "expected.csv")
    main(["gate", "--candidate", str(files / "base.json"), "--expectations", exp, "--update"])
    capsys.readouterr()
    assert main(["gate", "--candidate", str(files / "fast.json"), "--expectations", exp,
                 "--fail-on-improvement"]) == 1
    out = capsys.readouterr().out
    assert "FASTER (update expectations)" in out
    assert "a,instructions,900,0.01" in out.split(f"--- {exp} ---")[1]


def test_gate_without_anything_to_compare_is_a_usage_error(files, capsys):
    assert main(["gate", "--candidate", str(files / "same.json")]) == 2
    assert "nothing to compare against" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["2", "abc", "150%"])
def test_a_tolerance_that_is_not_a_percentage_is_a_usage_error(files, value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["gate", "--baseline", str(files / "base.json"), "--candidate", str(files / "same.json"),
              "--tolerance", value])
    assert exc.value.code == 2


# --- across platforms, through calibration profiles ------------------------------------------------

@pytest.fixture
def other_platform_profile(tmp_path):
    """The shipped reference profile, re-labelled as another CPU's (the process sees another CPU) with
    a factor of 2 (that CPU counts twice the reference's instructions)."""
    from importlib import resources
    doc = json.loads(resources.files("measure.calibration").joinpath("reference-profile.json").read_text("utf-8"))
    reference = PlatformKey(**doc["platform"])
    other = replace(reference, cpu_model="Other CPU", dispatch="x86-64-v2 GenuineIntel Other CPU #000000000000")
    doc["platform"] = other.__dict__
    doc["reference"] = {"platform": reference.__dict__, "metric": "instructions", "counts": {"p": 1.0}}
    doc["fit"] = dict(doc["fit"], factor=2.0, log_se=0.001, interaction_sd=0.002)
    (tmp_path / "other.json").write_text(json.dumps(doc))
    return reference, other, str(tmp_path / "other.json")


def test_a_calibration_profile_lets_two_platforms_be_compared_in_reference_units(other_platform_profile, tmp_path,
                                                                                 capsys):
    reference, other, profile = other_platform_profile
    save_results(ResultSet(reference, counts(a=[1000], b=[1000]).benchmarks), tmp_path / "base.json")
    save_results(ResultSet(other, counts(a=[2000], b=[2200]).benchmarks), tmp_path / "cand.json")
    args = ["gate", "--baseline", str(tmp_path / "base.json"), "--candidate", str(tmp_path / "cand.json")]
    assert main(args) == 2
    assert "dispatch:" in capsys.readouterr().err
    assert main(args + ["--calibration", profile]) == 1
    out = capsys.readouterr().out
    assert "calibrated:" in out and "gate FAILED: 2 benchmarks (1 ok, 1 SLOWER)" in out


def test_gate_records_the_candidate_in_the_history_when_asked(files, capsys):
    from measure.gate.history import History
    db = str(files / "h.sqlite")
    assert main(["gate", "--candidate", str(files / "slow.json"), "--history", db, "--commit", "abc123",
                 "--branch", "pr-7"]) == 0
    with History(db) as h:
        assert [(p.commit, p.branch, p.value) for p in h.series("b")] == [("abc123", "pr-7", 1050)]


def test_time_results_gate_against_a_committed_expected_time():
    rng = np.random.default_rng(5)
    exp = ex.Expectations(TIME, {"b": ex.Expectation("b", "task_clock_ns", 3e6, 0.05)}).as_resultset()
    same = compare_sets(exp, timings(b=_procs(rng, 20, 3e6)), expected=True).comparisons[0]
    slow = compare_sets(exp, timings(b=_procs(rng, 20, 3.6e6)), expected=True).comparisons[0]
    assert (same.method, same.verdict) == ("t-1sample", "pass")
    assert (slow.verdict, slow.fails) == ("slower", True)


# --- suite files ----------------------------------------------------------------------------------

def test_a_suite_file_lists_benchmarks_with_sources_relative_to_it(tmp_path):
    from measure.gate.suite import load_suite
    (tmp_path / "work.py").write_text("def f(n):\n    return n\n")
    (tmp_path / "s.toml").write_text('[defaults]\nbackend = "time"\nprocesses = 4\n\n'
                                     '[[benchmark]]\nname = "f.small"\nsource = "work.py"\nentry = "f"\n'
                                     'args = [3]\ntolerance = 0.02\n')
    specs, opts, _ = load_suite(tmp_path / "s.toml")
    assert [(s.name, s.program.entry, s.args, s.tolerance) for s in specs] == [("f.small", "f", (3,), 0.02)]
    assert (opts.backend, opts.processes) == ("time", 4)


@pytest.mark.parametrize("body, message", [
    ('[[benchmark]]\nname = "x"\nsource = "work.py"\n', r"missing keys \['entry'\]"),
    ('[[benchmark]]\nname = "x"\nsource = "work.py"\nentry = "f"\nrepeat = 3\n', r"unknown keys \['repeat'\]"),
    ('[[benchmark]]\nname = "x"\nsource = "nope.py"\nentry = "f"\n', "cannot read the source"),
    ('[defaults]\nbackend = "auto"\n', "defines no benchmarks"),
    ('[[benchmark\n', "not valid TOML"),
])
def test_a_bad_suite_file_names_the_entry_and_the_remedy(tmp_path, body, message):
    from measure.gate.suite import load_suite
    (tmp_path / "work.py").write_text("def f():\n    pass\n")
    (tmp_path / "s.toml").write_text(body)
    with pytest.raises(InputFileError, match=message):
        load_suite(tmp_path / "s.toml")
