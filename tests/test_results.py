"""A Measurement as versioned JSON (validated), a DataFrame, and a pyperf suite that pyperf reads."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from measure import Config, Input, Measurement, Program, Status, measure
from measure.errors import InputFileError
from measure.results import export_pyperf


@pytest.fixture(scope="module")
def m(counting_backend):
    src = "def f(n):\n    return {'n': n, 'sq': [i * i for i in range(n)]}"
    return measure(Program(src, "f", "squares"), [Input((3,), name="three"), [50], Input((4,), {"n": 4})],
                   Config(backend=counting_backend, repeat=3, timeout=60))


def test_json_round_trip_keeps_everything(m, tmp_path):
    m.save(tmp_path / "m.json")
    back = Measurement.load(tmp_path / "m.json")
    assert back == m
    assert Measurement.from_json(m.to_json()) == m


def test_json_document_has_per_input_status_and_instruction_summary(m):
    doc = json.loads(m.to_json())
    assert (doc["schema"], doc["version"]) == ("measure/measurement", 1)
    first = doc["inputs"][0]
    assert first["status"] == "ok" and first["name"] == "three"
    assert set(first["instructions"]) == {"median", "min", "max", "values"}
    assert len(first["instructions"]["values"]) == 3
    assert doc["inputs"][2]["status"] == "wrong_answer"
    assert doc["platform"]["backend"] == m.platform.backend


def test_a_document_that_breaks_the_schema_is_refused_naming_the_field(m):
    doc = m.to_dict()
    doc["inputs"][0]["status"] = "fine"
    with pytest.raises(InputFileError, match="at inputs/0/status"):
        Measurement.from_json(json.dumps(doc))


def test_unreadable_and_non_json_files_are_input_file_errors(tmp_path):
    with pytest.raises(InputFileError, match="cannot read"):
        Measurement.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputFileError, match="not valid JSON"):
        Measurement.load(tmp_path / "bad.json")


def test_dataframe_has_one_row_per_counted_call(m):
    df = m.to_dataframe()
    assert len(df) == 9
    assert list(df["status"].unique()) == ["ok", "wrong_answer"]
    assert df.loc[df.input == 1, "instructions"].nunique() >= 1
    assert str(df["instructions"].dtype) == "Int64"


def test_pyperf_export_is_accepted_by_pyperf_stats(m, tmp_path):
    path = tmp_path / "bench.json"
    export_pyperf(m, path)
    out = subprocess.run([sys.executable, "-m", "pyperf", "stats", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "squares.f[three]" in out.stdout
    import pyperf
    suite = pyperf.BenchmarkSuite.load(str(path))
    bench = suite.get_benchmark("squares.f[three]")
    assert list(bench.get_values()) == list(m.inputs[0].instructions.values)
    # the duration is the calls' wall time, not the counts taken for seconds
    walls = [s.wall_ns / 1e9 for s in m.inputs[0].samples]
    assert bench.get_total_duration() == pytest.approx(sum(walls))
    meta = bench.get_metadata()
    assert meta["date"] == m.started and meta["cpu_model_name"] == m.platform.cpu_model and meta["hostname"]


def test_statuses_survive_the_round_trip(m):
    assert [r.status for r in Measurement.from_json(m.to_json()).inputs] == [Status.OK, Status.OK, Status.WRONG_ANSWER]


def test_a_missing_optional_package_names_the_extra_that_installs_it(m, monkeypatch):
    from measure.errors import MissingExtra
    monkeypatch.setitem(sys.modules, "pyperf", None)  # as if it were not installed
    with pytest.raises(MissingExtra, match=r"pyperf export needs the optional package 'pyperf'.*"
                                           r"pip install 'measure-engine\[pyperf\]'"):
        m.to_pyperf()
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtra, match=r"pip install 'measure-engine\[pandas\]'"):
        m.to_dataframe()


def test_the_schema_accepts_every_backend_and_only_those():
    from measure.jsonfile import packaged_schema
    from measure.model import BACKENDS
    enum = packaged_schema("measurement-1")["properties"]["platform"]["properties"]["backend"]["enum"]
    assert enum == list(BACKENDS)


def test_an_input_without_an_expected_output_keeps_none_across_pickling():
    import pickle
    from measure import Input
    assert not pickle.loads(pickle.dumps(Input((1,)))).has_expected
    assert pickle.loads(pickle.dumps(Input((1,), None))).has_expected
