"""Cross-machine calibration: the suite, the model, profiles, normalisation, validation, the CLI.

Fast tests use synthetic counts (the model is pure mathematics) and a 2-program sub-suite under
valgrind (reproducibility); full calibrations of the five interpreters are in
test_calibration_slow.py (``-m slow``) and benchmarks/calibration_report.py.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from importlib import resources

import numpy as np
import pytest

from measure import __version__
from measure.calibration import programs as P
from measure.calibration.calibrate import check_against_reference, make_profile
from measure.calibration.collect import Collection, ProgramCounts, collect
from measure.errors import CalibrationError, MissingProfile, ProfileError
from measure.calibration.model import (FunctionModel, IPBModel, bootstrap_factor, fit_functions, fit_ipb, fit_mixedlm,
                                       fit_ols, fit_platform, fit_rlm, lopo)
from measure.calibration.normalize import normalize, normalize_all, reference_ratio
from measure.calibration.profile import (PROFILES_DIR, REFERENCE_FILE, ProfileFit, from_dict, identity_fit, load,
                                         reference_profile, save)
from measure.calibration.validate import THRESHOLDS, validate
from measure.errors import InputFileError
from measure.model import InputResult, Measurement, PlatformKey, Sample, Status

HERE = os.path.dirname(__file__)
from measure.calibration.programs import HELDOUT_DIR as HELDOUT
MEASURE = shutil.which("measure", path=os.path.dirname(sys.executable)) or shutil.which("measure")
KEY_A = PlatformKey("valgrind", "x86_64", "Test CPU", "cpython", "3.11.7", "aaaaaaaaaaaaaaaa", "6.1.0", __version__)
KEY_B = replace(KEY_A, python_version="3.11.2", python_build="bbbbbbbbbbbbbbbb")


def counts(d, kind="arith"):
    return {n: ProgramCounts(n, kind, "d" + n, "ok", [[int(v)]], "out", bytecodes=int(v // 50)) for n, v in d.items()}


def collection(key, d):
    return Collection(key, "instructions", counts(d), {"backend": key.backend})


def measurement(key, values, program="cand"):
    inputs = tuple(InputResult(i, None, Status.OK, (Sample(Status.OK, instructions=v),)) for i, v in enumerate(values))
    return Measurement(program, "f", key, {"repeat": 1}, Sample(Status.OK, instructions=10), inputs)


REF_COUNTS = {f"p{i}": 1_000_000 * (i + 1) for i in range(8)}


def ref_profile(key=KEY_A):
    return make_profile(collection(key, REF_COUNTS), None)


# --- the suite -------------------------------------------------------------------------------

def test_the_shipped_suite_has_at_least_24_programs_with_kind_entry_and_fixed_args():
    suite = P.suite()
    assert len(suite) >= 24
    assert all(p.entry and isinstance(p.args, tuple) and p.kind and p.doc for p in suite)
    assert len({p.digest for p in suite}) == len(suite)


def test_the_suite_spans_the_kinds_of_work_the_issue_names():
    kinds = {p.kind for p in P.suite()}
    assert {"arith", "calls", "objects", "strings", "bytes", "containers", "iteration", "regex", "bigint", "json",
            "exceptions", "numpy"} <= kinds


def test_there_are_at_least_12_held_out_programs_none_of_them_in_the_suite():
    held = P.load_directory(HELDOUT)
    assert len(held) >= 12
    assert not {p.name for p in held} & {p.name for p in P.suite()}
    assert not {p.digest for p in held} & {p.digest for p in P.suite()}
    refs = {p.reference for p in held if p.reference}
    assert len(refs) >= 6 and refs <= {p.name for p in held}


def test_a_program_without_args_is_an_input_file_error():
    with pytest.raises(InputFileError, match="ARGS"):
        P.parse_program("x", "KIND = 'arith'\nENTRY = 'run'\ndef run(): pass\n")


def test_selecting_an_unknown_program_names_the_choices():
    with pytest.raises(InputFileError, match="unknown calibration program.*int_arith"):
        P.select(P.suite(), ["nope"])


# --- the model (exact on synthetic counts) -----------------------------------------------------

def test_a_platform_that_scales_every_program_alike_gets_that_factor_and_zero_lopo_error():
    ref = {k: [v] for k, v in REF_COUNTS.items()}
    tgt = {k: [v * 0.9] for k, v in REF_COUNTS.items()}
    fit = fit_platform(tgt, ref, {k: "arith" for k in ref})
    assert fit.factor.value == pytest.approx(0.9, rel=1e-12)
    assert fit.factor.low == pytest.approx(0.9, rel=1e-9) and fit.factor.high == pytest.approx(0.9, rel=1e-9)
    assert fit.lopo.worst == pytest.approx(0.0, abs=1e-12)
    assert fit.interaction_sd == pytest.approx(0.0, abs=1e-12)


def test_ols_rlm_mixedlm_and_the_mean_log_ratio_agree_on_balanced_data():
    rng = np.random.default_rng(1)
    ref = {f"p{i}": float(rng.uniform(1e6, 5e7)) for i in range(20)}
    tgt = {k: v * 1.2 * math.exp(rng.normal(0, 0.03)) for k, v in ref.items()}
    mean = math.exp(np.mean([math.log(tgt[k] / ref[k]) for k in ref]))
    both = {"t": tgt, "r": ref}
    assert fit_ols(both, "r")["t"] == pytest.approx(mean, rel=1e-9)
    assert fit_rlm(both, "r")["t"] == pytest.approx(mean, rel=0.01)
    assert fit_mixedlm(both, "r")[0]["t"] == pytest.approx(mean, rel=1e-4)


def test_mixedlm_and_ols_fit_a_platform_that_misses_programs():
    ref = {f"p{i}": 1e6 * (i + 1) for i in range(10)}
    a = {k: v * 1.5 for k, v in ref.items()}
    b = {k: v * 0.8 for k, v in list(ref.items())[:6]}         # four programs missing
    data = {"ref": ref, "a": a, "b": b}
    assert fit_ols(data, "ref")["b"] == pytest.approx(0.8, rel=1e-9)
    assert fit_mixedlm(data, "ref")[0]["b"] == pytest.approx(0.8, rel=1e-6)


def test_the_bootstrap_interval_covers_the_factor_and_widens_with_the_spread():
    names = list(REF_COUNTS)
    rng = np.random.default_rng(2)
    ref = {k: [v] for k, v in REF_COUNTS.items()}
    tight = {k: [v * 1.1 * math.exp(rng.normal(0, 0.01))] for k, v in REF_COUNTS.items()}
    loose = {k: [v * 1.1 * math.exp(rng.normal(0, 0.1))] for k, v in REF_COUNTS.items()}
    ft, fl = bootstrap_factor(tight, ref, names), bootstrap_factor(loose, ref, names)
    assert ft.low <= ft.value <= ft.high and fl.low <= fl.value <= fl.high
    assert (fl.high / fl.low) > (ft.high / ft.low)


def test_timed_platforms_carry_the_per_process_spread_into_the_interval():
    names = list(REF_COUNTS)
    ref = {k: [v] for k, v in REF_COUNTS.items()}
    one = {k: [v * 2.0] for k, v in REF_COUNTS.items()}
    noisy = {k: [v * 2.0 * f for f in (0.8, 0.9, 1.0, 1.1, 1.25)] for k, v in REF_COUNTS.items()}
    assert bootstrap_factor(one, ref, names).high == pytest.approx(2.0)
    f = bootstrap_factor(noisy, ref, names)
    assert f.high / f.low > 1.05


def test_lopo_predicts_each_left_out_program_from_the_others():
    ref = {"a": 100.0, "b": 100.0, "c": 100.0}
    tgt = {"a": 110.0, "b": 110.0, "c": 121.0}
    cv = lopo(tgt, ref, ["a", "b", "c"])
    assert cv.errors["c"] == pytest.approx(121 / 110 - 1)
    assert cv.errors["a"] == pytest.approx(110 / math.sqrt(110 * 121) - 1)


def test_the_ipb_model_recovers_a_factor_that_depends_on_instructions_per_bytecode():
    rng = np.random.default_rng(3)
    ref, tgt, ops = {}, {}, {}
    for i in range(24):
        ipb = math.exp(rng.uniform(3, 8))
        ops[f"p{i}"] = 100_000
        tgt[f"p{i}"] = ipb * 100_000
        ref[f"p{i}"] = tgt[f"p{i}"] / math.exp(-0.1 - 0.05 * (math.log(ipb) - 5.5))
    model, cv = fit_ipb(tgt, ref, ops, sorted(ref), n_boot=200)
    assert model.beta == pytest.approx(-0.05, abs=1e-9)
    assert cv.median == pytest.approx(0.0, abs=1e-9)      # only the two extremes are clipped when left out
    lf, se = model.log_factor(math.exp(5.5) * 10, 10)
    assert lf == pytest.approx(-0.1, abs=1e-9)


def test_ipb_model_clips_a_candidate_outside_the_suite_range():
    m = IPBModel(0.0, -0.1, 5.0, 4.0, 6.0, ((0.0, 0.0), (0.0, 0.0)), 0.0)
    assert m.log_factor(math.exp(20), 1)[0] == pytest.approx(-0.1)


# Per-function factors of a build: interpreter loop 0.95x, list scan 0.63x, json 0.86x the reference.
GAIN = {"eval": 0.95, "list_contains": 0.63, "json": 0.86}


def mixed_program(shares, total=10_000_000):
    """(reference count, target count, target instructions per function) of a program spending
    ``shares`` of its reference instructions in each function."""
    ref = {f: total * w for f, w in shares.items()}
    tgt = {f: round(v * GAIN[f]) for f, v in ref.items()}
    return float(total), float(sum(tgt.values())), tgt


def function_suite(n=20, seed=5):
    rng = np.random.default_rng(seed)
    ref, tgt, fns = {}, {}, {}
    for i in range(n):
        w = rng.dirichlet([4, 1, 1])
        ref[f"p{i}"], tgt[f"p{i}"], fns[f"p{i}"] = mixed_program(dict(zip(GAIN, w)))
    return ref, tgt, fns


def function_profile():
    """A profile of KEY_B, whose suite (with instructions per function) follows GAIN."""
    ref, tgt, fns = function_suite()
    c = Collection(KEY_B, "instructions", {n: ProgramCounts(n, "x", "d" + n, "ok", [[int(tgt[n])]], "out",
                                                            functions=fns[n]) for n in ref}, {"backend": "valgrind"})
    reference = make_profile(Collection(KEY_A, "instructions", counts(ref), {"backend": "valgrind"}), None)
    return make_profile(c, reference, n_boot=50)


def measurement_with_functions(count, functions):
    sample = Sample(Status.OK, instructions=int(count), functions=functions)
    return Measurement("cand", "f", KEY_B, {"repeat": 1}, Sample(Status.OK, instructions=10),
                       (InputResult(0, None, Status.OK, (sample,)),))


def test_the_function_model_predicts_a_program_spent_in_one_c_function_where_one_factor_cannot():
    ref, tgt, fns = function_suite()
    model, cv = fit_functions(tgt, ref, fns, sorted(ref))
    r, t, f = mixed_program({"eval": 0.1, "list_contains": 0.9})
    predicted = t / math.exp(model.log_factor(f))
    one_factor = t * model.h0
    assert abs(predicted / r - 1) < 0.03
    assert abs(one_factor / r - 1) > 0.15


def test_the_function_models_cross_validation_is_nested_and_beats_the_factor_on_mixed_programs():
    ref, tgt, fns = function_suite()
    fit = fit_platform({k: [v] for k, v in tgt.items()}, {k: [v] for k, v in ref.items()}, {k: "x" for k in ref},
                       functions=fns, n_boot=50)
    assert set(fit.functions_lopo.errors) == set(ref)
    assert fit.functions_lopo.worst < fit.lopo.worst / 3
    assert fit.model == "functions"


def test_a_function_that_is_only_a_sliver_of_cheap_programs_does_not_come_out_cheap():
    """Slicing costs 1.33x here but appears only as 10 % of three set-building programs (0.74x): a
    candidate spent in slicing must not be predicted cheaper than the platform factor says."""
    gain = {"eval": 0.9, "slice": 1.33, "set": 0.74}

    def prog(shares, total=10_000_000):
        tgt = {f: round(total * w * gain[f]) for f, w in shares.items()}
        return float(total), float(sum(tgt.values())), tgt

    ref, tgt, fns = {}, {}, {}
    suite = [{"eval": 1.0}] * 6 + [{"set": 0.6, "eval": 0.3, "slice": 0.1}] * 3
    for i, shares in enumerate(suite):
        ref[f"p{i}"], tgt[f"p{i}"], fns[f"p{i}"] = prog(shares)
    model, _ = fit_functions(tgt, ref, fns, sorted(ref))
    r, t, f = prog({"slice": 0.8, "eval": 0.2})
    by_function = abs(t * model.reference_per_unit(f) / r - 1)
    by_factor = abs(t * model.h0 / r - 1)
    assert by_function <= by_factor


def test_a_call_in_functions_the_suite_never_ran_gets_the_platform_factor():
    m = FunctionModel(h0=1.1, lam=0.01, coef={"list_contains [x]": 0.4}, residual_sd=0.02)
    assert m.reference_per_unit({"unseen [y]": 1000}) == pytest.approx(1.1)
    assert m.coverage({"unseen [y]": 750, "list_contains [x]": 250}) == pytest.approx(0.25)
    assert m.reference_per_unit({"unseen [y]": 750, "list_contains [x]": 250}) == pytest.approx(1.1 + 0.4 * 0.25)
    assert m.log_factor({"unseen [y]": 1}) == pytest.approx(-math.log(1.1))


def test_the_function_model_needs_four_profiled_programs():
    ref, tgt, fns = function_suite(n=3)
    with pytest.raises(CalibrationError, match="at least 4"):
        fit_functions(tgt, ref, fns, sorted(ref))


def test_fewer_than_three_common_programs_is_an_error():
    with pytest.raises(CalibrationError, match="at least 3"):
        fit_platform({"a": [1.0], "b": [2.0]}, {"a": [1.0], "b": [2.0]}, {"a": "x", "b": "x"})


# --- profiles -----------------------------------------------------------------------------

def test_a_profile_round_trips_through_its_versioned_json(tmp_path):
    ref = ref_profile()
    p = make_profile(collection(KEY_B, {k: v * 0.9 for k, v in REF_COUNTS.items()}), ref)
    save(p, tmp_path / "p.json")
    q = load(tmp_path / "p.json")
    assert q.to_dict() == json.loads(json.dumps(p.to_dict()))
    assert q.factor == pytest.approx(0.9) and q.reference["platform"]["python_build"] == KEY_A.python_build


def test_every_shipped_profile_reads_back_to_its_json_exactly():
    folder = resources.files("measure.calibration")
    files = [folder.joinpath(REFERENCE_FILE)] + sorted(
        (r for r in folder.joinpath(PROFILES_DIR).iterdir() if r.name.endswith(".json")), key=lambda r: r.name)
    assert len(files) >= 2
    for res in files:
        doc = json.loads(res.read_text("utf-8"))
        p = from_dict(doc, res.name)
        assert isinstance(p.fit, ProfileFit) and p.to_dict() == doc, res.name


def test_a_fitted_profile_round_trips_to_an_equal_typed_fit():
    ref = ref_profile()
    assert ref.fit == identity_fit(len(REF_COUNTS)) and ref.fit.used_lopo is None
    for p in (ref, make_profile(collection(KEY_B, {k: v * 0.9 for k, v in REF_COUNTS.items()}), ref), function_profile()):
        doc = json.loads(json.dumps(p.to_dict()))
        q = from_dict(doc)
        assert q.fit == p.fit and q.to_dict() == doc
    assert p.fit.used_lopo == p.fit.functions_lopo and p.fit.functions_lopo is not None


def test_a_profile_from_another_engine_version_is_refused_with_the_remedy(tmp_path):
    doc = ref_profile().to_dict()
    doc["engine_version"] = "0.0.1"
    (tmp_path / "old.json").write_text(json.dumps(doc))
    with pytest.raises(ProfileError, match="made by measure 0.0.1.*recalibrate"):
        load(tmp_path / "old.json")


def test_a_malformed_profile_names_the_field(tmp_path):
    doc = ref_profile().to_dict()
    doc["fit"]["factor"] = -1
    with pytest.raises(ProfileError, match="fit/factor"):
        from_dict(doc, "x")


def test_a_platform_missing_programs_is_fitted_on_the_common_ones_and_lists_the_skipped():
    ref = ref_profile()
    c = collection(KEY_B, {k: v * 0.9 for k, v in REF_COUNTS.items()})
    c.programs["p7"] = ProgramCounts("p7", "numpy", "dp7", "skipped", reason="module 'numpy' is not importable")
    p = make_profile(c, ref)
    assert p.fit.skipped == ("p7",) and p.fit.n_programs == 7


def test_a_program_that_computes_another_result_than_on_the_reference_is_refused():
    ref = ref_profile()
    c = collection(KEY_B, REF_COUNTS)
    c.programs["p0"] = replace(c.programs["p0"], output="different")
    with pytest.raises(CalibrationError, match="p0 computed a different result"):
        check_against_reference(c, ref)


def test_a_reference_measuring_other_program_versions_is_refused():
    ref = ref_profile()
    c = collection(KEY_B, REF_COUNTS)
    c.programs["p1"] = replace(c.programs["p1"], digest="changed")
    with pytest.raises(ProfileError, match="other versions of p1"):
        check_against_reference(c, ref)


def test_the_shipped_reference_profile_is_documented_compatible_and_has_factor_one():
    ref = reference_profile()
    assert ref.is_reference and ref.factor == 1.0
    assert ref.platform.backend == "valgrind" and ref.platform.python_version == "3.11.7"
    assert set(ref.programs) == {p.name for p in P.suite()}
    assert {p.digest for p in ref.programs.values()} == {p.digest for p in P.suite()}
    held = ref.validation["heldout_counts"]
    assert {n: h["digest"] for n, h in held.items()} == {p.name: p.digest for p in P.load_directory(HELDOUT)}


# --- normalisation -------------------------------------------------------------------------

def test_normalize_divides_by_the_factor_and_carries_its_interval():
    p = make_profile(collection(KEY_B, {k: v * 0.9 for k, v in REF_COUNTS.items()}), ref_profile())
    n = normalize(measurement(KEY_B, [900_000]), p)
    i = n.inputs[0]
    assert i.value == pytest.approx(1_000_000)
    assert i.ci[0] <= i.value <= i.ci[1] and i.prediction[0] <= i.ci[0]


def test_normalize_uses_the_function_model_with_the_functions_recorded_in_the_results():
    p = function_profile()
    assert p.fit.model == "functions"
    r, t, f = mixed_program({"eval": 0.1, "list_contains": 0.9})
    n = normalize(measurement_with_functions(t, f), p)
    assert n.model == "function model"
    assert n.inputs[0].value == pytest.approx(r, rel=0.03)
    assert n.inputs[0].coverage == pytest.approx(1.0)
    plain = normalize(measurement(KEY_B, [int(t)]), p)     # no functions recorded: the platform factor
    assert plain.model == "platform factor" and abs(plain.inputs[0].value / r - 1) > 0.15
    assert plain.inputs[0].coverage is None


def test_normalize_with_the_profile_of_another_platform_names_the_missing_profile():
    p = make_profile(collection(KEY_B, REF_COUNTS), ref_profile())
    with pytest.raises(MissingProfile, match=r"no calibration profile for platform valgrind/x86_64/cpython-3.11.7"
                                             r".*measure calibrate --python"):
        normalize(measurement(KEY_A, [1]), p)


def test_comparing_two_platforms_without_profiles_is_refused_and_names_the_command():
    with pytest.raises(MissingProfile, match="no calibration profile for platform .*measure calibrate"):
        normalize_all([measurement(KEY_A, [1]), measurement(KEY_B, [1])], [])


def test_a_rejected_profile_is_not_used_unless_allowed():
    p = make_profile(collection(KEY_B, REF_COUNTS), ref_profile())
    p = replace(p, validation={"verdict": "rejected", "reasons": ["held-out worst error 0.3 not <= 0.15"]})
    with pytest.raises(CalibrationError, match="failed validation.*allow-rejected"):
        normalize(measurement(KEY_B, [1]), p)
    assert normalize(measurement(KEY_B, [1]), p, allow_rejected=True).inputs[0].value == pytest.approx(1)


def test_reference_ratio_is_candidate_over_reference_on_one_platform_and_none_for_a_censored_input():
    cand = measurement(KEY_A, [300, 100])
    cand = replace(cand, inputs=(cand.inputs[0], InputResult(1, None, Status.TIMEOUT, (Sample(Status.TIMEOUT),))))
    assert reference_ratio(cand, measurement(KEY_A, [100, 50])) == [3.0, None]
    with pytest.raises(MissingProfile, match="one platform"):
        reference_ratio(measurement(KEY_A, [1]), measurement(KEY_B, [1]))


# --- validation ----------------------------------------------------------------------------

def test_validation_accepts_within_the_thresholds_and_flags_outside_them():
    ref = {f"h{i}": 1e6 * (i + 1) for i in range(12)}
    good = validate({k: v * 1.01 for k, v in ref.items()}, ref)
    assert good.verdict == "accepted" and good.median_error == pytest.approx(0.01)
    bad = dict(ref, h0=ref["h0"] * 1.3)
    v = validate(bad, ref)
    assert v.verdict == "rejected" and any("worst" in r for r in v.reasons)
    assert THRESHOLDS["heldout_median"] == 0.05 and THRESHOLDS["spearman"] == 0.97


def test_validation_needs_four_common_programs():
    with pytest.raises(CalibrationError, match="at least 4"):
        validate({"a": 1.0}, {"a": 1.0})


def test_the_plot_is_a_png(tmp_path):
    from measure.calibration.plot import plot_normalized
    out = plot_normalized({"a": 1e6, "b": 2e6}, {"a": 1.1e6, "b": 1.9e6}, tmp_path / "p.png", title="t",
                          heldout={"c": 3e6}, heldout_reference={"c": 3.2e6})
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- measuring (valgrind: a small sub-suite) -------------------------------------------------

def test_a_sub_suite_under_valgrind_counts_identically_twice(valgrind):
    progs = P.select(P.suite(), ["bigint", "itertools_mix"])
    a = collect(progs, backend="valgrind", count_bytecodes=False)
    b = collect(progs, backend="valgrind", count_bytecodes=False)
    assert {n: c.values for n, c in a.programs.items()} == {n: c.values for n, c in b.programs.items()}
    assert all(c.count > 5_000_000 for c in a.programs.values())


def test_a_suite_program_that_fails_stops_the_calibration_with_its_name(tmp_path):
    (tmp_path / "good.py").write_text("KIND = 'arith'\nENTRY = 'run'\nARGS = (10,)\ndef run(n):\n    return n\n")
    (tmp_path / "bad.py").write_text("KIND = 'arith'\nENTRY = 'run'\nARGS = (10,)\ndef run(n):\n    raise KeyError(n)\n")
    with pytest.raises(CalibrationError, match="bad: error .*KeyError"):
        collect(P.load_directory(tmp_path), backend="time", repeat=1, processes=1, count_bytecodes=False)


def test_a_program_whose_required_module_is_missing_is_skipped_with_the_reason(tmp_path):
    (tmp_path / "a.py").write_text("KIND = 'arith'\nENTRY = 'run'\nARGS = (10,)\ndef run(n):\n    return n\n")
    (tmp_path / "b.py").write_text("KIND = 'numpy'\nENTRY = 'run'\nARGS = (1,)\nREQUIRES = ('no_such_module_xyz',)\n"
                                   "import no_such_module_xyz\ndef run(n):\n    return n\n")
    c = collect(P.load_directory(tmp_path), backend="time", repeat=1, processes=1)
    assert c.programs["b"].status == "skipped" and "no_such_module_xyz" in c.programs["b"].reason
    assert c.programs["a"].status == "ok" and c.programs["a"].bytecodes >= 2     # LOAD_FAST, RETURN_VALUE (+RESUME)


# --- the CLI -------------------------------------------------------------------------------

def cli(*args, cwd=None):
    return subprocess.run([MEASURE, *args], capture_output=True, text=True, cwd=cwd or tempfile.mkdtemp(), timeout=600)


def test_cli_normalize_across_platforms_without_a_profile_exits_2_naming_it(tmp_path):
    measurement(KEY_A, [100]).save(tmp_path / "a.json")
    measurement(KEY_B, [90]).save(tmp_path / "b.json")
    out = cli("normalize", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert out.returncode == 2
    assert "no calibration profile for platform" in out.stderr and "measure calibrate" in out.stderr


def test_cli_normalize_prints_reference_units_with_a_profile(tmp_path):
    p = make_profile(collection(KEY_B, {k: v * 0.9 for k, v in REF_COUNTS.items()}), ref_profile())
    save(p, tmp_path / "p.json")
    measurement(KEY_B, [900_000]).save(tmp_path / "b.json")
    out = cli("normalize", str(tmp_path / "b.json"), "--profile", str(tmp_path / "p.json"), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["results"][0]["inputs"][0]["value"] == pytest.approx(1_000_000)


def test_cli_normalize_uses_the_function_model_for_results_recorded_with_functions(tmp_path):
    save(function_profile(), tmp_path / "p.json")
    r, t, f = mixed_program({"eval": 0.1, "list_contains": 0.9})
    measurement_with_functions(t, f).save(tmp_path / "b.json")
    out = cli("normalize", str(tmp_path / "b.json"), "--profile", str(tmp_path / "p.json"), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)["results"][0]
    assert doc["model"] == "function model"
    assert doc["inputs"][0]["value"] == pytest.approx(r, rel=0.03)


def test_cli_calibrate_with_a_bad_reference_profile_exits_2(tmp_path):
    (tmp_path / "r.json").write_text("{}")
    out = cli("calibrate", "--reference", str(tmp_path / "r.json"), "--programs", "bigint")
    assert out.returncode == 2 and "not a measure calibration profile" in out.stderr


INTERPRETERS = [p for p in ("/root/.pyenv/versions/3.10.13/bin/python", "/root/.pyenv/versions/3.11.7/bin/python",
                            "/root/.pyenv/versions/3.12.1/bin/python", "/root/.pyenv/versions/3.13.0/bin/python",
                            "/usr/bin/python3.11") if os.path.exists(p)]


@pytest.mark.parametrize("python", INTERPRETERS or [sys.executable])
def test_bytecodes_are_counted_on_every_installed_interpreter(python):
    from measure.calibration.bytecodes import count_suite
    ops = count_suite(P.select(P.suite(), ["int_arith", "list_scan"]), python)
    # int_arith runs 15,000 iterations of a loop body of more than 20 bytecodes; list_scan few, in C
    assert ops["int_arith"] > 15_000 * 20 and 0 < ops["list_scan"] < ops["int_arith"] / 10
