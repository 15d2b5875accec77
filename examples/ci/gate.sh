#!/usr/bin/env bash
# The CI recipe of measure's regression gate, as one script that any CI can run (GitHub Actions:
# examples/ci/github-actions.yml; the proof that it catches a planted regression and passes an
# unrelated change: examples/ci/prove_recipe.sh). Copy it into your repository, e.g. as
# ci/measure-gate.sh.
#
#   gate.sh [--base BASE_CHECKOUT] --head HEAD_CHECKOUT --out DIR
#
# For each side (the target branch's checkout, BASE; the change's checkout, HEAD):
#   1. a virtual environment of its own, DIR/.venv-base or DIR/.venv-head;
#   2. measure installed into it explicitly, from $MEASURE_SPEC (the same spec on both sides, so
#      both sides count under the same engine version);
#   3. the side's own project installed into it from its own checkout, NOT editable
#      (`pip install ./base`, `pip install ./head`): each side imports its own code, never the
#      other's;
#   4. its benchmarks (pytest tests that use measure_bench) run by the pytest plugin, from its own
#      checkout, results saved to DIR/base.json and DIR/head.json.
# Then `measure gate` compares head with base, benchmark by benchmark. Both sides are measured in
# this one job on this one machine, so they share a PlatformKey on any runner; a committed
# expectations file (default HEAD/benchmarks/expected.csv, used when present) gives each
# benchmark's tolerance, and its `# platform:` line need not match this runner. Reports:
# DIR/summary.md (Markdown, also appended to $GITHUB_STEP_SUMMARY when that is set),
# DIR/measure-gate.xml (JUnit), DIR/gate.json, and the gate's table in the log.
# Without --base (a push to the main branch) only the head is measured and saved.
#
# Environment:
#   MEASURE_SPEC     what `pip install` installs measure from (required): a pinned release
#                    (measure-engine==0.1.0), a git URL (git+https://...@TAG), a wheel or a path
#   PYTHON           interpreter the virtual environments are made from (default python3)
#   BENCHMARKS       the benchmarks' path inside each checkout (default benchmarks)
#   EXPECTATIONS     committed expectations file, relative to the head checkout
#                    (default $BENCHMARKS/expected.csv; ignored when absent)
#   MEASURE_BACKEND  auto (default; valgrind on PMU-less CI runners), valgrind, perf or time
#   PROJECT_EXTRAS   extras of the project to install with it, e.g. "test" -> ./head[test]
#   GATE_ARGS        more options of `measure gate`, e.g. "--tolerance 2% --require-all"
#
# Exit status: 0 no regression; 1 a regression, a failed benchmark or a failing benchmark test;
# 2 usage, installation or infrastructure error (the gate's own 2 included).
set -uo pipefail

die() { echo "gate.sh: error: $*" >&2; exit 2; }
# GitHub Actions folds each step's log into a group; elsewhere a plain heading
step() { if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::group::$*"; else printf '\n== %s\n' "$*"; fi; }
endstep() { if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::endgroup::"; fi; }

BASE= HEAD= OUT=
while [ $# -gt 0 ]; do
    case "$1" in
        --base) BASE=${2:?--base needs a directory}; shift 2 ;;
        --head) HEAD=${2:?--head needs a directory}; shift 2 ;;
        --out) OUT=${2:?--out needs a directory}; shift 2 ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (usage: gate.sh [--base DIR] --head DIR --out DIR)" ;;
    esac
done
[ -n "$HEAD" ] && [ -n "$OUT" ] || die "usage: gate.sh [--base DIR] --head DIR --out DIR"
[ -n "${MEASURE_SPEC:-}" ] || die "set MEASURE_SPEC to what pip installs measure from (e.g. measure-engine==0.1.0)"
PYTHON=${PYTHON:-python3}
BENCHMARKS=${BENCHMARKS:-benchmarks}
EXPECTATIONS=${EXPECTATIONS:-$BENCHMARKS/expected.csv}
MEASURE_BACKEND=${MEASURE_BACKEND:-auto}
EXTRAS=${PROJECT_EXTRAS:+[$PROJECT_EXTRAS]}

abspath() { (cd "$1" 2>/dev/null && pwd -P) || die "no such directory: $1"; }
HEAD=$(abspath "$HEAD")
[ -z "$BASE" ] || BASE=$(abspath "$BASE")
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(abspath "$OUT")
rm -f "$OUT"/base.json "$OUT"/head.json "$OUT"/summary.md "$OUT"/measure-gate.xml "$OUT"/gate.json

# One side: its own venv, measure, its own project (non-editable), its benchmarks. Sets $rc_<side>.
measure_side() {
    local side=$1 dir=$2 venv="$OUT/.venv-$1"   # .venv-base and .venv-head: paths of equal length
    step "$side: virtual environment, measure ($MEASURE_SPEC) and $dir$EXTRAS"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv" || die "$side: cannot create a virtual environment with $PYTHON"
    "$venv/bin/python" -m pip install --quiet "$MEASURE_SPEC" pytest \
        || die "$side: cannot install measure from MEASURE_SPEC=$MEASURE_SPEC"
    "$venv/bin/python" -m pip install --quiet "$dir$EXTRAS" || die "$side: cannot install the project from $dir"
    "$venv/bin/measure" --version || die "$side: measure does not run in $venv"
    endstep
    step "$side: benchmarks ($BENCHMARKS, backend $MEASURE_BACKEND)"
    [ -e "$dir/$BENCHMARKS" ] || { endstep; return 3; }
    # The base side records its own checkout's commit, not the change's $GITHUB_SHA.
    local unset_gh=()
    [ "$side" = head ] || unset_gh=(-u GITHUB_SHA -u GITHUB_HEAD_REF -u GITHUB_REF_NAME)
    (cd "$dir" && env "${unset_gh[@]}" "$venv/bin/python" -m pytest "$BENCHMARKS" -q -p no:cacheprovider \
        --measure-only --measure-backend "$MEASURE_BACKEND" --measure-save "$OUT/$side.json")
    local rc=$?
    endstep
    [ -f "$OUT/$side.json" ] || die "$side: the benchmarks saved no results (pytest exit status $rc)"
    return $rc
}

summary() {  # Markdown to summary.md and the job summary
    cat >> "$OUT/summary.md"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$OUT/summary.md" >> "$GITHUB_STEP_SUMMARY"; fi
}

tests_failed=0
if [ -n "$BASE" ]; then
    measure_side base "$BASE"; rc=$?
    if [ $rc -eq 3 ]; then
        echo "gate.sh: the base has no $BENCHMARKS: nothing to compare with; measuring the head only"
        BASE=
    elif [ $rc -ne 0 ]; then
        echo "gate.sh: warning: the base's benchmark tests exited $rc; gating against the results it saved" >&2
    fi
fi
measure_side head "$HEAD"; rc=$?
[ $rc -eq 3 ] && die "head: no $BENCHMARKS in $HEAD"
[ $rc -eq 0 ] || { echo "gate.sh: the head's benchmark tests failed (pytest exit status $rc)" >&2; tests_failed=1; }

if [ -z "$BASE" ]; then
    printf '### measure: results saved\n\nNo baseline to gate against; head results in `head.json`.\n' | summary
    exit $tests_failed
fi

step "gate: head against base"
exp=()
if [ -f "$HEAD/$EXPECTATIONS" ]; then
    exp=(--expectations "$HEAD/$EXPECTATIONS")
    echo "tolerances from $EXPECTATIONS"
fi
# shellcheck disable=SC2086  # GATE_ARGS is a list of options
"$OUT/.venv-head/bin/measure" gate --baseline "$OUT/base.json" --candidate "$OUT/head.json" "${exp[@]}" \
    --markdown "$OUT/summary.md" --junit "$OUT/measure-gate.xml" --json "$OUT/gate.json" ${GATE_ARGS:-}
gate=$?
endstep
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$OUT/summary.md" ]; then
    cat "$OUT/summary.md" >> "$GITHUB_STEP_SUMMARY"
fi
echo "gate.sh: measure gate exited $gate (0 pass, 1 regression, 2 error)"
[ $gate -ne 0 ] && exit $gate
exit $tests_failed
