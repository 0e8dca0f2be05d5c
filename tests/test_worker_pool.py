"""The multi-worker `process` path (pipeline/batch/runner.analyse) never waits forever on a
worker that was killed at a bad moment, and loses nothing.

The workers here are real spawned processes of `analyse`'s pool, with a light initializer and
task (no models) that die at the moment under test, so the hang is deterministic: on Python
3.11, `ProcessPoolExecutor` alone waits forever in both cases. Each run is a subprocess with a
time limit, so a hang fails the test instead of blocking the suite."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from pipeline.config import PROJECT_ROOT

SCRIPT = textwrap.dedent('''
    import json, logging, multiprocessing, os, signal, struct, sys, time
    from pathlib import Path

    from pipeline.batch import runner
    from pipeline.claims import StatementResult
    from pipeline.io.records import Statement

    MODE, FLAG = sys.argv[1], Path(sys.argv[2])


    def init(parent=None):
        runner._die_with_parent(parent)  # a worker outliving this script would be a leftover
        # the worker's result queue (a local of concurrent.futures' worker loop, which calls this)
        queue = sys._getframe(1).f_locals["result_queue"]
        put = queue.put

        def put_or_die(obj):
            if MODE == "exit-report" and isinstance(obj, int):
                # a worker reports its exit (its pid) at shutdown; killed then, it holds the
                # queue's write lock for good and the other worker cannot report its own exit
                queue._wlock.acquire()
                os.kill(os.getpid(), signal.SIGKILL)
            if MODE == "half-result" and isinstance(getattr(obj, "result", None), list) and not FLAG.exists():
                # killed halfway through sending a chunk's results (once): the pool's reader waits
                # for the rest of the message forever and the chunk's future never resolves
                FLAG.touch()
                data = runner.mp.reduction.ForkingPickler.dumps(obj)
                queue._wlock.acquire()
                os.write(queue._writer.fileno(), struct.pack("!i", len(data)) + bytes(data[: len(data) // 2]))
                os.kill(os.getpid(), signal.SIGKILL)
            put(obj)

        queue.put = put_or_die


    def run(chunk):
        return [StatementResult(s) for s in chunk]


    if __name__ == "__main__":
        logging.basicConfig(level=logging.WARNING)
        runner._worker_init, runner._worker_run = init, run
        runner.stuck_after = lambda: 3.0
        state = {}
        t0 = time.monotonic()
        ids = [r.statement.id for r in runner.analyse((Statement(f"s{i:02d}", "x") for i in range(12)),
                                                      workers=2, chunk_size=2, state=state)]
        print(json.dumps({"ids": ids, "seconds": time.monotonic() - t0, "restarts": state["worker_restarts"],
                          "left": len(multiprocessing.active_children())}))
''')


def _run(tmp_path, mode: str) -> tuple[dict, str]:
    script = tmp_path / "pool_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    try:
        proc = subprocess.run([sys.executable, str(script), mode, str(tmp_path / "died")], capture_output=True,
                              text=True, timeout=90, cwd=PROJECT_ROOT,
                              env={**__import__("os").environ, "PYTHONPATH": str(PROJECT_ROOT)})
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"the run did not finish within {e.timeout} s (it waits on a killed worker)")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_a_worker_killed_while_the_pool_shuts_down_does_not_hang_the_run(tmp_path):
    got, err = _run(tmp_path, "exit-report")
    assert got["ids"] == [f"s{i:02d}" for i in range(12)]  # every result, in input order
    assert got["left"] == 0  # no worker left behind
    assert "did not exit within 3 s" in err and "killing them" in err


def test_a_worker_killed_halfway_through_sending_a_result_is_replaced(tmp_path):
    got, err = _run(tmp_path, "half-result")
    assert (tmp_path / "died").exists()  # the worker did die mid-message
    assert got["ids"] == [f"s{i:02d}" for i in range(12)]  # its chunk was sent again: nothing lost
    assert got["restarts"] == 1 and got["left"] == 0
