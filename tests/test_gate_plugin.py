"""The pytest plugin in a fresh project: no conftest, two benchmarks; record, compare, then a planted
5 % regression fails the run with the gate's table in the output."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

TEST_FILE = textwrap.dedent('''
    import pytest


    def parse(text):
        return [int(x) for x in text.split(",")]


    def total(n):
        s = 0
        for i in range(n):
            s += i % 3
        return s


    def test_parse(measure_bench):
        assert measure_bench(parse, ",".join(map(str, range(1000)))) == list(range(1000))


    @pytest.mark.parametrize("n", [20000])
    def test_total(measure_bench, n):
        assert measure_bench(total, n) == sum(i % 3 for i in range(n))
''')


def pytest_run(project, *args):
    env = dict(os.environ)
    for name in ("PYTEST_ADDOPTS", "GITHUB_SHA", "GITHUB_HEAD_REF", "GITHUB_REF_NAME"):  # git's, in the tests
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
                          cwd=project, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def project(tmp_path_factory, counting_backend):
    path = tmp_path_factory.mktemp("fresh_project")
    path.chmod(0o755)  # a checkout's mode: as root, the worker reads it as the unprivileged user nobody
    (path / "test_benchmarks.py").write_text(TEST_FILE)
    return path, counting_backend


def test_record_compare_and_a_planted_5_percent_regression(project):
    path, backend = project
    first = pytest_run(path, "--measure-backend", backend, "--measure-save", "base.json")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "results saved to base.json" in first.stdout
    for name in ("test_benchmarks.py::test_parse", "test_benchmarks.py::test_total[20000]"):
        assert name in first.stdout  # a parametrised test's benchmark is named by its parameters

    second = pytest_run(path, "--measure-backend", backend, "--measure-compare", "base.json")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "gate passed: 2 benchmarks (2 ok)" in second.stdout

    source = (path / "test_benchmarks.py").read_text()
    (path / "test_benchmarks.py").write_text(
        source.replace("for i in range(n):", "for i in range(n + n // 20):")
              .replace("for i in range(n))", "for i in range(n + n // 20))"))
    third = pytest_run(path, "--measure-backend", backend, "--measure-compare", "base.json",
                       "--measure-junit", "gate.xml")
    assert third.returncode == 1, third.stdout + third.stderr
    row = next(line for line in third.stdout.splitlines() if line.startswith("test_benchmarks.py::test_total"))
    assert "SLOWER" in row and "+5.0" in row
    assert "gate FAILED: 2 benchmarks (1 ok, 1 SLOWER)" in third.stdout
    assert (path / "gate.xml").exists()


def test_a_session_without_benchmarks_shows_no_trace_of_the_plugin(tmp_path):
    (tmp_path / "test_plain.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    out = pytest_run(tmp_path)
    assert out.returncode == 0 and "measure" not in out.stdout


def test_a_benchmark_of_a_lambda_fails_its_test_with_the_remedy(tmp_path):
    (tmp_path / "test_lambda.py").write_text("def test_l(measure_bench):\n    measure_bench(lambda: 1)\n")
    out = pytest_run(tmp_path)
    assert out.returncode == 1 and "Define it at the top level of a module" in out.stdout


def test_a_corrupted_baseline_is_a_usage_error(tmp_path):
    (tmp_path / "test_plain.py").write_text("def test_one():\n    pass\n")
    (tmp_path / "base.json").write_text("{broken")
    out = pytest_run(tmp_path, "--measure-compare", "base.json")
    assert out.returncode == 4 and "not valid JSON" in out.stderr


def test_a_tolerance_without_its_unit_is_a_usage_error_that_shows_how_to_write_it(tmp_path):
    (tmp_path / "test_plain.py").write_text("def test_one():\n    pass\n")
    (tmp_path / "base.json").write_text("{broken")
    out = pytest_run(tmp_path, "--measure-compare", "base.json", "--measure-tolerance", "5")
    assert out.returncode == 4 and "INTERNALERROR" not in out.stdout + out.stderr
    assert "write a percentage with '%' (e.g. 2%)" in out.stderr


def test_under_xdist_every_workers_benchmarks_are_saved_and_gated(project, tmp_path):
    pytest.importorskip("xdist")
    path, backend = project
    run = tmp_path / "xdist_project"
    run.mkdir()
    run.chmod(0o755)
    source = TEST_FILE
    (run / "test_a.py").write_text(source)
    (run / "test_b.py").write_text(source.replace("def test_parse", "def test_parse_again"))
    first = pytest_run(run, "-n", "2", "--measure-backend", backend, "--measure-save", "base.json")
    assert first.returncode == 0, first.stdout + first.stderr
    import json
    saved = json.loads((run / "base.json").read_text())["benchmarks"]
    assert sorted(saved) == ["test_a.py::test_parse", "test_a.py::test_total[20000]",
                             "test_b.py::test_parse_again", "test_b.py::test_total[20000]"]
    (run / "test_b.py").write_text((run / "test_b.py").read_text()
                                   .replace("for i in range(n):", "for i in range(n + n // 20):")
                                   .replace("for i in range(n))", "for i in range(n + n // 20))"))
    second = pytest_run(run, "-n", "2", "--measure-backend", backend, "--measure-compare", "base.json")
    assert second.returncode == 1, second.stdout + second.stderr  # the regression in one worker fails the run
    assert "gate FAILED: 4 benchmarks (3 ok, 1 SLOWER)" in second.stdout


def test_keyword_arguments_reach_the_benchmarked_function(tmp_path, counting_backend):
    tmp_path.chmod(0o755)
    (tmp_path / "test_kw.py").write_text(
        "def scaled(x, *, by=1):\n    return x * by\n\n"
        "def test_kw(measure_bench):\n    assert measure_bench(scaled, 7, by=6) == 42\n")
    out = pytest_run(tmp_path, "--measure-backend", counting_backend)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "test_kw.py::test_kw" in out.stdout


SMALL = ("def double(x):\n    return 2 * x\n\n"
         "def test_bench(measure_bench):\n    assert measure_bench(double, 21) == 42\n\n"
         "def test_plain():\n    assert double(1) == 2\n")


def test_measure_only_runs_the_benchmarks_and_measure_skip_everything_else(tmp_path, counting_backend):
    tmp_path.chmod(0o755)
    (tmp_path / "test_mix.py").write_text(SMALL)
    only = pytest_run(tmp_path, "--measure-backend", counting_backend, "--measure-only")
    assert only.returncode == 0 and "1 passed, 1 deselected" in only.stdout, only.stdout + only.stderr
    skip = pytest_run(tmp_path, "--measure-skip")
    assert skip.returncode == 0 and "1 passed, 1 deselected" in skip.stdout, skip.stdout + skip.stderr
    assert "measure" not in skip.stdout.split("passed")[0]  # nothing was measured
    both = pytest_run(tmp_path, "--measure-only", "--measure-skip")
    assert both.returncode == 4 and "exclude each other" in both.stderr


def test_autosaved_runs_are_numbered_carry_the_commit_and_compare_defaults_to_the_latest(tmp_path, counting_backend):
    tmp_path.chmod(0o755)
    (tmp_path / "test_mix.py").write_text(SMALL)
    none_yet = pytest_run(tmp_path, "--measure-compare")
    assert none_yet.returncode == 4 and "--measure-autosave" in none_yet.stderr
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    subprocess.run(git + ["init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(git + ["add", "test_mix.py"], cwd=tmp_path, check=True)
    subprocess.run(git + ["commit", "-qm", "one"], cwd=tmp_path, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    for _ in range(2):
        out = pytest_run(tmp_path, "--measure-backend", counting_backend, "--measure-autosave", "--measure-only")
        assert out.returncode == 0, out.stdout + out.stderr
    runs = sorted(os.listdir(tmp_path / ".measure"))
    assert runs == [f"0001_{commit[:12]}.json", f"0002_{commit[:12]}.json"]
    import json
    meta = json.loads((tmp_path / ".measure" / runs[1]).read_text())["meta"]
    assert (meta["commit"], meta["branch"]) == (commit, "main")
    gated = pytest_run(tmp_path, "--measure-backend", counting_backend, "--measure-only", "--measure-compare")
    assert gated.returncode == 0 and "gate passed" in gated.stdout.lower(), gated.stdout + gated.stderr
