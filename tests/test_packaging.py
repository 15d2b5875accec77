"""The distribution: what `python -m build` makes of a clean copy of the repository, as twine and an
installer see it. Built once per run from the tracked files only (never this checkout's build/
or egg-info, which other runs may share), without build isolation: the packages it needs are in
the [test] extra, so the check needs no network."""
import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        target = src / name
        if not (ROOT / name).is_file():
            continue  # deleted in the working tree, not yet committed
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out


def test_the_sdist_and_the_wheel_pass_twine_check(dist):
    files = sorted(str(p) for p in dist.iterdir())
    assert [Path(f).suffix for f in files] == [".gz", ".whl"]
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASSED") == 2


def test_the_distribution_is_named_measure_engine_and_imports_as_measure(dist):
    wheel = next(dist.glob("*.whl"))
    assert wheel.name.startswith("measure_engine-")
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        headers = email.message_from_bytes(z.read(meta))
        top = z.read(meta.replace("METADATA", "top_level.txt")).decode().split()
    assert headers["Name"] == "measure-engine"
    assert top == ["measure"]


def test_the_wheel_carries_the_native_parts_schemas_and_calibration_data(dist):
    with zipfile.ZipFile(next(dist.glob("*.whl"))) as z:
        names = set(z.namelist())
    native = {n.split("/")[-1].split(".")[0] for n in names if n.endswith(".so")}
    assert native == {"_native", "_workerlib", "_qemu_icount"}
    for needed in ("measure/py.typed", "measure/schema/measurement-1.json",
                   "measure/calibration/reference-profile.json", "measure/sandbox/worker.py"):
        assert needed in names, f"{needed} is missing from the wheel"
    assert any(n.startswith("measure/calibration/suite/") and n.endswith(".py") for n in names)
    assert len([n for n in names if n.startswith("measure/calibration/heldout/") and n.endswith(".py")]) == 16
    assert not any(n.startswith(("tests/", "benchmarks/", "examples/")) for n in names)
