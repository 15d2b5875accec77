"""The planted-regression corpus (tests/gate_corpus) under valgrind: the gate passes every pair under
the 1 % tolerance and fails every pair at or above it, and the changes are the planted ones."""
from __future__ import annotations

import os

import pytest

from measure.cli import main
from measure.gate.bench import run_benchmarks
from measure.gate.compare import GatePolicy, compare_sets
from measure.gate.resultset import save_results
from measure.gate.suite import load_suite

CORPUS = os.path.join(os.path.dirname(__file__), "gate_corpus")
# planted change in % -> (benchmark, verdict at the default 1 % tolerance)
PLANTED = {"corpus.same": (0.0, "pass"), "corpus.rewrite": (0.0, "pass"), "corpus.pct_0_5": (0.5, "pass"),
           "corpus.pct_1": (1.0, "slower"), "corpus.pct_2": (2.0, "slower"), "corpus.pct_5": (5.0, "slower"),
           "corpus.pct_20": (20.0, "slower")}


def measure_side(side):
    specs, opts, _ = load_suite(os.path.join(CORPUS, f"{side}.toml"))
    return run_benchmarks(specs, opts)


@pytest.fixture(scope="module")
def corpus(valgrind):
    return measure_side("base"), measure_side("head")


def test_every_pair_differs_by_its_planted_amount(corpus):
    report = compare_sets(*corpus)
    changes = {c.name: c.change * 100 for c in report.comparisons}
    for name, (planted, _) in PLANTED.items():
        if planted == 0:
            assert changes[name] == 0.0, name  # bit-exact: the equal-count rewrite included
        else:  # the extra loop iterations are planted / 100 of n; the call's fixed cost adds under 1 %
            assert planted <= changes[name] < planted * 1.01 + 0.01, (name, changes[name])


def test_the_gate_passes_every_pair_under_the_tolerance_and_fails_every_pair_at_or_above(corpus):
    report = compare_sets(*corpus, GatePolicy(tolerance=0.01))
    assert {c.name: c.verdict for c in report.comparisons} == {n: v for n, (_, v) in PLANTED.items()}
    assert report.exit_code == 1


def test_counts_repeat_exactly_within_a_run(corpus):
    for side in corpus:
        for b in side.benchmarks.values():
            assert len(set(b.values)) == 1 and len(b.values) == 3


def test_the_cli_gates_the_saved_corpus_with_exit_code_1_and_a_table(corpus, tmp_path, capsys):
    save_results(corpus[0], tmp_path / "base.json")
    save_results(corpus[1], tmp_path / "head.json")
    assert main(["gate", "--baseline", str(tmp_path / "base.json"), "--candidate", str(tmp_path / "head.json")]) == 1
    out = capsys.readouterr().out
    assert "gate FAILED: 7 benchmarks (3 ok, 4 SLOWER)" in out
    # a 21 % tolerance lets every pair pass
    assert main(["gate", "--baseline", str(tmp_path / "base.json"), "--candidate", str(tmp_path / "head.json"),
                 "--tolerance", "21%"]) == 0


@pytest.mark.slow
def test_ten_reruns_give_the_same_counts_and_verdicts(valgrind):
    """No flakiness: 10 reruns of both sides (about 15 s each here)."""
    seen = set()
    for _ in range(10):
        base, head = measure_side("base"), measure_side("head")
        report = compare_sets(base, head)
        seen.add(tuple((c.name, c.baseline, c.candidate, c.verdict) for c in report.comparisons))
    assert len(seen) == 1
    assert {name: verdict for name, _, _, verdict in next(iter(seen))} == {n: v for n, (_, v) in PLANTED.items()}
