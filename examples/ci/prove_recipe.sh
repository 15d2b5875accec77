#!/usr/bin/env bash
# Proof of the CI recipe (examples/ci/gate.sh, which examples/ci/github-actions.yml runs): on a
# src-layout sample project, a planted ~25 % regression fails the gate and names the benchmark in
# the job summary, and an unrelated change passes.
#
#   examples/ci/prove_recipe.sh            # about 2-3 minutes on a 2-core VM (valgrind)
#
# It builds, in a private temporary directory (mktemp -d; removed at the end unless KEEP=1):
#   origin/   a git repository of the sample project `samplepkg` (src/samplepkg/, two benchmarks
#             in benchmarks/test_bench.py, committed tolerances in benchmarks/expected.csv whose
#             `# platform:` line is another runner's), branch main and two changes of it:
#             `regression` (score() does a quarter of its loop again: ~25 % more instructions)
#             and `unrelated` (an edit of code no benchmark runs);
#   <case>/   for each change, the layout of the GitHub workflow's job: `base` (a clone of main),
#             `head` (a clone of the change), and then the workflow's gate step with the
#             workflow's own arguments (read from github-actions.yml):
#             `bash gate.sh --base base --head head --out measure-out`, with
#             $GITHUB_STEP_SUMMARY pointing at <case>/job-summary.md.
# and asserts: regression -> exit status 1, test_score SLOWER by >= 20 % and named on a failing
# row of the job summary, test_parse passed, base and head counts of test_score differ (each side
# ran its own code); unrelated -> exit status 0, every change 0.00 %, a passing summary.
#
# Environment: MEASURE_SPEC (what gate.sh installs measure from; default: a wheel built once
# from the repository containing this script), PYTHON (default python3), MEASURE_BACKEND (gate.sh's
# default, auto), KEEP=1 (keep the temporary directory). Exit status 0: both cases behaved.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
GATE="$HERE/gate.sh"
PYTHON=${PYTHON:-python3}
export PYTHON
WORK=$(mktemp -d "${TMPDIR:-/tmp}/measure-ci-proof.XXXXXX") || exit 2
if [ "${KEEP:-}" = 1 ]; then echo "prove_recipe: keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
T0=$(date +%s)
fail() { echo "prove_recipe: FAILED: $*" >&2; exit 1; }

# measure, installed by gate.sh from MEASURE_SPEC into every side's fresh venv: by default a wheel
# of this repository, built once (what a release on an index would be)
if [ -z "${MEASURE_SPEC:-}" ]; then
    echo "prove_recipe: building a wheel of measure from $REPO"
    "$PYTHON" -m venv "$WORK/build" && "$WORK/build/bin/python" -m pip wheel --quiet --no-deps \
        -w "$WORK/dist" "$REPO" || { echo "prove_recipe: cannot build measure from $REPO" >&2; exit 2; }
    MEASURE_SPEC=$(ls "$WORK"/dist/measure_engine-*.whl)
fi
export MEASURE_SPEC
echo "prove_recipe: MEASURE_SPEC=$MEASURE_SPEC ($(( $(date +%s) - T0 )) s)"

# --- the sample project --------------------------------------------------------------------------
S="$WORK/origin"
mkdir -p "$S/src/samplepkg" "$S/benchmarks"
cat > "$S/pyproject.toml" <<'EOF'
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "samplepkg"
version = "1.0"
requires-python = ">=3.9"

[tool.setuptools.packages.find]
where = ["src"]
EOF
echo "# samplepkg: the sample project of measure's CI recipe proof" > "$S/README.md"
echo '"""Sample project of the CI recipe proof."""' > "$S/src/samplepkg/__init__.py"
cat > "$S/src/samplepkg/scoring.py" <<'EOF'
def score(values):
    """Sum of the squares modulo 7."""
    total = 0
    for v in values:
        total += v * v % 7
    return total
EOF
cat > "$S/src/samplepkg/parsing.py" <<'EOF'
def parse_csv(text):
    return [int(x) for x in text.split(",")]
EOF
cat > "$S/src/samplepkg/report.py" <<'EOF'
def describe(total):
    return f"total {total}"
EOF
cat > "$S/benchmarks/test_bench.py" <<'EOF'
from samplepkg.parsing import parse_csv
from samplepkg.scoring import score

VALUES = list(range(2000))
TEXT = ",".join(str(i) for i in range(500))


def test_score(measure_bench):
    assert measure_bench(score, VALUES) == sum(v * v % 7 for v in VALUES)


def test_parse(measure_bench):
    assert measure_bench(parse_csv, TEXT) == list(range(500))
EOF
# Committed tolerances. The platform line is another runner's (another CPU, kernel and Python
# build): with --baseline the file gives tolerances only, so it serves on any runner.
cat > "$S/benchmarks/expected.csv" <<'EOF'
# measure expectations v1: regenerate with `measure gate --candidate RUN.json --expectations FILE --update`
# platform: {"backend": "valgrind", "cpu_model": "AMD EPYC 7763 64-Core Processor", "dispatch": "another-runner", "engine_version": "0.1.0", "implementation": "cpython", "isa": "x86_64", "kernel": "6.8.0-1021-azure", "python_build": "0000000000000000", "python_version": "3.11.9"}
benchmark,metric,expected,tolerance
benchmarks/test_bench.py::test_parse,instructions,400000,0.02
benchmarks/test_bench.py::test_score,instructions,900000,0.05
EOF
git_() { git -C "$S" -c user.name=proof -c user.email=proof@example.invalid -c commit.gpgsign=false "$@" >/dev/null; }
git -C "$S" init -q || exit 2
git_ checkout -q -b main && git_ add -A && git_ commit -q -m "samplepkg 1.0" || exit 2
git_ checkout -q -b regression main
cat > "$S/src/samplepkg/scoring.py" <<'EOF'
def score(values):
    """Sum of the squares modulo 7."""
    total = 0
    for v in values:
        total += v * v % 7
    check = 0
    for v in values[: len(values) // 4]:  # planted regression: a quarter of the work again, unused
        check += v * v % 7
    return total
EOF
git_ commit -q -am "score: re-check the first quarter (planted regression)"
git_ checkout -q -b unrelated main
cat > "$S/src/samplepkg/report.py" <<'EOF'
def describe(total, unit="points"):
    """What the report prints (no benchmark runs this)."""
    return f"total {total} {unit}"
EOF
echo "Reports now name their unit." >> "$S/README.md"
git_ commit -q -am "report: name the unit"
git_ checkout -q main

# --- the recipe, once per change ------------------------------------------------------------------
# gate.sh's arguments are read from the workflow's pull-request step, so the two cannot drift
ARGS=$(sed -n 's|^ *run: bash head/ci/measure-gate.sh \(--base .*\)$|\1|p' "$HERE/github-actions.yml")
[ -n "$ARGS" ] || { echo "prove_recipe: no 'run: bash head/ci/measure-gate.sh --base ...' in github-actions.yml" >&2; exit 2; }
declare -A RC SECS
for case in regression unrelated; do
    C="$WORK/$case"
    mkdir -p "$C"
    git clone -q --branch main "$S" "$C/base" && git clone -q --branch "$case" "$S" "$C/head" || exit 2
    echo
    echo "################ case $case: base = main, head = $case ################"
    t=$(date +%s)
    # the workflow's gate step (github-actions.yml: "Measure base and head, and gate")
    echo "+ bash gate.sh $ARGS"
    # shellcheck disable=SC2086  # ARGS: the workflow's arguments, split as the workflow's shell does
    (cd "$C" && GITHUB_STEP_SUMMARY="$C/job-summary.md" bash "$GATE" $ARGS)
    RC[$case]=$?
    SECS[$case]=$(( $(date +%s) - t ))
    echo "---- case $case: gate.sh exited ${RC[$case]} after ${SECS[$case]} s; job summary:"
    cat "$C/job-summary.md" 2>/dev/null || echo "(none)"
done

# --- assertions -----------------------------------------------------------------------------------
check() {  # case, then Python over gate.json (g), base.json (b), head.json (h), the job summary (md)
    local case=$1 code=$2 C="$WORK/$1/measure-out"
    "$PYTHON" - "$C/gate.json" "$C/base.json" "$C/head.json" "$WORK/$1/job-summary.md" <<EOF
import json, statistics, sys
g, b, h = (json.load(open(p)) for p in sys.argv[1:4])
md = open(sys.argv[4], encoding="utf-8").read()
v = {c["name"]: c for c in g["comparisons"]}
counts = lambda doc, n: statistics.median(x for proc in doc["benchmarks"][n]["processes"] for x in proc)
S, P = "benchmarks/test_bench.py::test_score", "benchmarks/test_bench.py::test_parse"
for n in (S, P):
    c = v[n]
    print(f"  {n:34s} base {counts(b, n):>11,.0f}  head {counts(h, n):>11,.0f}  change {c['change']*100:+7.2f} %"
          f"  threshold {c['threshold']*100:.2f} %  {c['verdict']}")
$code
EOF
}
echo
echo "################ result ################"
ok=1
echo "regression: gate.sh exit status ${RC[regression]} (expected 1), ${SECS[regression]} s"
check regression '
assert v[S]["verdict"] == "slower" and v[S]["change"] >= 0.20, v[S]
assert abs(v[S]["threshold"] - 0.05) < 1e-9, "the committed tolerance (5 %) applies"
assert v[P]["verdict"] == "pass", v[P]
assert counts(b, S) != counts(h, S), "base and head counted the same code"
bad = [l for l in md.splitlines() if S in l and "❌" in l]
assert "measure gate: regression" in md and bad, "the job summary does not name test_score as failing"
print("  job summary row:", bad[0])
' || ok=0
[ "${RC[regression]}" = 1 ] || ok=0
echo "unrelated:  gate.sh exit status ${RC[unrelated]} (expected 0), ${SECS[unrelated]} s"
check unrelated '
assert all(c["verdict"] == "pass" and c["change"] == 0 for c in v.values()), v
assert "measure gate: no regression" in md
' || ok=0
[ "${RC[unrelated]}" = 0 ] || ok=0
echo "prove_recipe: whole proof $(( $(date +%s) - T0 )) s"
[ $ok = 1 ] || fail "see above"
echo "prove_recipe: PASSED (planted regression fails the gate, unrelated change passes)"
