"""The CI recipe (examples/ci/gate.sh, run by examples/ci/github-actions.yml): its proof on a sample
project, examples/ci/prove_recipe.sh (a planted regression fails the gate, an unrelated change
passes; about 4 minutes: four fresh virtual environments and valgrind), and a quick check that the
workflow still runs gate.sh the way the proof reads it."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

CI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "ci")


def test_workflow_runs_gate_sh_with_the_arguments_the_proof_reads():
    wf = open(os.path.join(CI, "github-actions.yml"), encoding="utf-8").read()
    assert re.search(r"^ *run: bash head/ci/measure-gate\.sh --base base --head head --out measure-out$", wf, re.M)
    assert re.search(r"^ *run: bash head/ci/measure-gate\.sh --head head --out measure-out$", wf, re.M)
    assert "MEASURE_SPEC:" in wf and "pip install -e" not in wf
    for script in ("gate.sh", "prove_recipe.sh"):
        subprocess.run(["bash", "-n", os.path.join(CI, script)], check=True)


@pytest.mark.slow
def test_prove_recipe_catches_the_planted_regression_and_passes_the_unrelated_change():
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed: the recipe's backend on a PMU-less machine")
    env = dict(os.environ, PYTHON=sys.executable)
    for k in ("GITHUB_STEP_SUMMARY", "GITHUB_SHA", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "MEASURE_SPEC"):
        env.pop(k, None)
    proc = subprocess.run(["bash", os.path.join(CI, "prove_recipe.sh")], env=env, capture_output=True, text=True,
                          timeout=1800)
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail
    assert "prove_recipe: PASSED" in proc.stdout, tail
