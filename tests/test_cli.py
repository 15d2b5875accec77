"""The measure command line: the run table, --json, doctor, exit codes and bad input files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
PRIMES = os.path.abspath(os.path.join(EXAMPLES, "primes.py"))
INPUTS = os.path.abspath(os.path.join(EXAMPLES, "primes_inputs.json"))
EXPECTED = os.path.abspath(os.path.join(EXAMPLES, "primes_expected.json"))
MEASURE = shutil.which("measure", path=os.path.dirname(sys.executable)) or shutil.which("measure")


def cli(*args, cwd=None):
    """The installed ``measure`` command, run from a directory outside the repository: the
    installed package must work from anywhere."""
    cwd = cwd or tempfile.mkdtemp()
    return subprocess.run([MEASURE, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_five_separate_invocations_print_the_same_count_to_the_instruction(counting_backend, tmp_path):
    if counting_backend != "valgrind":
        pytest.skip("exact equality across processes is a property of valgrind")
    counts = []
    for _ in range(5):
        out = cli("run", PRIMES, "--entry", "count_primes_sieve", "--inputs", INPUTS, "--backend", "valgrind",
                  "--repeat", "1", "--json", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        counts.append([r["instructions"]["median"] for r in json.loads(out.stdout)["inputs"]])
    assert counts == [counts[0]] * 5


def test_run_prints_an_aligned_table_with_status_median_and_spread(counting_backend):
    out = cli("run", PRIMES, "--entry", "count_primes_trial", "--inputs", INPUTS, "--expected", EXPECTED,
              "--backend", counting_backend, "--repeat", "3")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"primes.count_primes_trial  backend {counting_backend}")
    header = next(l for l in lines if l.startswith("input"))
    assert "median (instructions)" in header and "spread" in header
    rows = [l for l in lines if l[:1].isdigit()]
    assert len(rows) == 3 and all(" ok " in r for r in rows)


def test_json_output_is_the_versioned_measurement_with_statuses(counting_backend):
    out = cli("run", PRIMES, "--entry", "count_primes_sieve", "--inputs", INPUTS, "--expected", EXPECTED,
              "--backend", counting_backend, "--repeat", "2", "--json")
    doc = json.loads(out.stdout)
    assert doc["version"] == 1
    assert [r["status"] for r in doc["inputs"]] == ["ok", "ok", "ok"]
    assert all(r["instructions"]["min"] <= r["instructions"]["median"] <= r["instructions"]["max"] for r in doc["inputs"])


def test_a_wrong_answer_exits_1(tmp_path):
    (tmp_path / "exp.json").write_text("[25, 168, 0]")
    out = cli("run", PRIMES, "--entry", "count_primes_sieve", "--inputs", INPUTS, "--expected",
              str(tmp_path / "exp.json"), "--backend", "time", "--repeat", "1")
    assert out.returncode == 1
    assert "wrong_answer" in out.stdout and "expected 0, got 669" in out.stdout


@pytest.mark.parametrize("content, words", [
    ("{", "is not valid JSON"),
    ('{"a": 1}', "must be a JSON list of argument lists"),
    ("[1, 2]", "must be a JSON list of argument lists"),
])
def test_malformed_inputs_file_exits_2_with_the_cause(tmp_path, content, words):
    bad = tmp_path / "inputs.json"
    bad.write_text(content)
    out = cli("run", PRIMES, "--entry", "count_primes_sieve", "--inputs", str(bad), "--backend", "time")
    assert out.returncode == 2
    assert words in out.stderr


def test_missing_source_file_exits_2():
    out = cli("run", "/nonexistent.py", "--entry", "f", "--inputs", INPUTS)
    assert out.returncode == 2 and "cannot read the program" in out.stderr


def test_expected_file_of_the_wrong_length_exits_2(tmp_path):
    (tmp_path / "exp.json").write_text("[1]")
    out = cli("run", PRIMES, "--entry", "count_primes_sieve", "--inputs", INPUTS, "--expected",
              str(tmp_path / "exp.json"), "--backend", "time")
    assert out.returncode == 2 and "one expected output per input (3 inputs)" in out.stderr


def test_memory_sizes_are_parsed_with_units():
    from measure.cli import parse_size
    assert [parse_size(s) for s in ("512M", "2G", "1.5GiB", "4096")] == [512 * 2**20, 2 * 2**30, 3 * 2**29, 4096]


def test_doctor_json_reports_each_backend_with_cause_and_auto_choice(has_pmu, valgrind):
    out = cli("doctor", "--json")
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    assert rep["perf"]["software"]["available"] in (True, False)
    assert rep["valgrind"]["available"] is True
    assert rep["valgrind"]["self_test"]["measured"] == rep["valgrind"]["self_test"]["expected"]
    if has_pmu:
        assert rep["perf"]["hardware"]["available"] is True
    else:
        assert rep["perf"]["hardware"]["available"] is False
        assert rep["perf"]["hardware"]["errno"] == "ENOENT"
        assert "no hardware PMU" in rep["perf"]["hardware"]["cause"]
        # auto: the first deterministic backend that works here, qemu before valgrind
        assert rep["auto"]["backend"] == ("qemu" if rep["qemu"]["available"] else "valgrind")
    if rep["qemu"]["available"]:
        assert rep["qemu"]["self_test"]["measured"] == rep["qemu"]["self_test"]["expected"] == 2_000_000
        assert "Haswell" in rep["qemu"]["dispatch"]


def test_doctor_prints_a_line_per_backend():
    out = cli("doctor")
    assert out.returncode == 0
    for word in ("perf", "qemu", "valgrind", "time", "sandbox", "auto"):
        assert any(l.startswith(word) for l in out.stdout.splitlines())
