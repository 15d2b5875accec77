"""Scale-out on Ray: a real two-node cluster on this machine (a head and a second node, each its own
raylet), ENAMEL problems scored as Ray tasks give exactly the local results, also when the second
node is killed mid-run. Needs the ray extra (`pip install '.[ray]'`); `pytest -m ray`."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import SHARED

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

ENAMEL = os.path.join(SHARED, "data", "enamel")
PROBLEMS = [0, 2, 3, 4, 5, 6]
RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster():
    """A head (1 CPU) and a second node (1 CPU) in a private temporary directory (short: Ray's
    socket paths are length-limited); the second node's process group is handed to the test."""
    if not os.path.isdir(ENAMEL):
        pytest.skip(f"ENAMEL's data is not at {ENAMEL}")
    pytest.importorskip("enam")
    temp = tempfile.mkdtemp(prefix="mray")
    port = _free_port()
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    # both nodes in the foreground (--block), each in its own process group: the teardown kills
    # exactly this cluster (`ray stop` would stop every Ray cluster of this user on the machine)
    head = subprocess.Popen([RAY, "start", "--head", f"--port={port}", "--num-cpus=1", f"--temp-dir={temp}",
                             "--include-dashboard=false", "--disable-usage-stats", "--block"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    address = f"127.0.0.1:{port}"
    node = None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
                break
            except (ConnectionError, RuntimeError):
                assert head.poll() is None and time.monotonic() < deadline, "the head did not start"
                time.sleep(1)
        node = subprocess.Popen([RAY, "start", f"--address={address}", "--num-cpus=1", "--block"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            assert time.monotonic() < deadline, "the second node did not join"
            time.sleep(0.5)
        yield address, node
    finally:
        ray.shutdown()
        for proc in (node, head):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(temp, ignore_errors=True)


def score(tmp_path, name, **kw):
    from measure.harness.enamel import evaluate
    results = tmp_path / f"{name}.jsonl"
    report = evaluate(os.path.join(ENAMEL, "enamel.csv"), os.path.join(ENAMEL, "humaneval-canonical.json"),
                      str(results), PROBLEMS, backend="auto", cache_dir=str(tmp_path / f"cache-{name}"),
                      progress=False, **kw)
    import json
    recs = {}
    for line in results.read_text().splitlines()[1:]:
        r = json.loads(line)
        recs[r["key"]] = {k: r[k] for k in ("passed", "score", "levels", "tests", "platform")}
    return report, recs


def test_problems_scored_on_a_two_node_cluster_match_the_local_run_even_when_a_node_dies(cluster, tmp_path):
    address, node = cluster
    local, local_recs = score(tmp_path, "local", jobs=2)
    on_ray, ray_recs = score(tmp_path, "ray", ray=address)
    assert ray_recs == local_recs and on_ray["overall"] == local["overall"]

    # the batch evaluator's jobs as Ray tasks: the same measurements as in local threads
    from measure import Config, Evaluator, Input, Program
    jobs = [(Program(f"def f(n):\n    return sum(i * {k} for i in range(n))\n", "f"), [Input((2000,))])
            for k in range(6)]
    with Evaluator(Config(repeat=2), workers=2) as local_ev, Evaluator(Config(repeat=2), ray=address) as ray_ev:
        assert [_counts(r) for r in ray_ev.measure_all(jobs)] == [_counts(r) for r in local_ev.measure_all(jobs)]

    # every adapter runs on the one loop, so on Ray too: PIE's whole programs, node by node
    from measure.harness.adapter import evaluate as evaluate_with
    from measure.harness.pairs import PieAdapter
    pairs = Path(__file__).resolve().parent.parent / "examples" / "pairs"
    docs = [evaluate_with(PieAdapter(), str(pairs / "pie.jsonl"), str(pairs / "pie_generations.jsonl"),
                          str(tmp_path / f"pie-{where}.jsonl"), backend="auto", progress=False, ray=ray_address,
                          cache_dir=str(tmp_path / f"pie-cache-{where}"))
            for where, ray_address in (("local", None), ("ray", address))]
    assert docs[0]["overall"] == docs[1]["overall"] and docs[0]["per_problem"] == docs[1]["per_problem"]

    # again, killing the second node (its raylet and its workers) as soon as the first problem is
    # recorded: the tasks are then running on both nodes
    killer = threading.Thread(target=_kill_when_recording, args=(node, tmp_path / "kill.jsonl"), daemon=True)
    killer.start()
    after_kill, kill_recs = score(tmp_path, "kill", ray=address)
    killer.join(timeout=1)
    assert node.poll() is not None, "the second node was not killed during the run"
    assert kill_recs == local_recs and after_kill["overall"] == local["overall"]


def _counts(result):
    m = result.measurement
    return m.platform, [(r.status, [s.instructions for s in r.samples]) for r in m.inputs]


def _kill_when_recording(node: subprocess.Popen, results: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if results.exists() and len(results.read_text().splitlines()) >= 2:
            break
        time.sleep(0.1)
    os.killpg(node.pid, signal.SIGKILL)
