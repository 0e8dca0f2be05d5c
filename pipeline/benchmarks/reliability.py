"""`make reliability`: what `process` promises under bad input, kills, concurrency, damaged
files, a full disk and hostile queries, measured and written to bench/reliability.json.

Each check returns a dict of figures with `ok` (nothing lost, nothing crashed). The tests
(tests/test_reliability.py) run the same checks small; `python -m pipeline.benchmarks.reliability` runs
them at full size (10,000 fuzzed records, 20 kills). Hypothesis (the [dev] extra) generates
the fuzzed input.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pipeline.benchmarks.fuzzing import SENTENCES
from pipeline.config import PROJECT_ROOT



def write_corpus(path: Path, n: int, start: int = 0) -> Path:
    """`n` JSONL statements s{start}..: two sentences each, so every statement has claims."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            text = SENTENCES[i % len(SENTENCES)] + " " + SENTENCES[(i * 7 + 3) % len(SENTENCES)]
            fh.write(json.dumps({"id": f"s{i:05d}", "text": text, "date": "2019-06-12"}, ensure_ascii=False) + "\n")
    return path


def process_cmd(src: list[Path], out: Path, db: Path, workers: int = 1, chunk_size: int = 4) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli.app", "process", *map(str, src), "--out", str(out), "--db", str(db),
            "--workers", str(workers), "--chunk-size", str(chunk_size), "--no-progress"]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                PYTHONWARNINGS="ignore")


def snapshot(db: Path, out: Path | None = None) -> dict[str, Any]:
    """What a run leaves: statement ids, claim ids (sorted, duplicates kept), failures, the
    output's claim ids in order, and SQLite's own integrity check."""
    con = sqlite3.connect(db)
    try:
        snap = {
            "integrity": con.execute("PRAGMA integrity_check").fetchone()[0],
            "statements": sorted(r[0] for r in con.execute("SELECT id FROM statements")),
            "claims": sorted(r[0] for r in con.execute("SELECT claim_id FROM claims")),
            "failures": con.execute("SELECT count(*) FROM failures").fetchone()[0],
            # a statement with text but no sentences (and no failure) would be half-written
            "half_written": con.execute(
                "SELECT count(*) FROM statements s WHERE s.text != '' AND NOT EXISTS "
                "(SELECT 1 FROM sentences t WHERE t.statement_id = s.id) AND NOT EXISTS "
                "(SELECT 1 FROM failures f WHERE f.record_id = s.id)").fetchone()[0],
        }
        con.execute("INSERT INTO sentences_fts(sentences_fts) VALUES ('integrity-check')")
    finally:
        con.close()
    if out is not None:
        snap["output"] = [json.loads(line)["claim_id"] for line in out.read_text(encoding="utf-8").splitlines()]
    return snap


def reference(src: list[Path], work: Path, chunk_size: int = 4) -> dict[str, Any]:
    """An uninterrupted run in this process (the output does not depend on the worker count)."""
    from pipeline.batch.runner import run_process

    db, out = work / "reference.db", work / "reference.jsonl"
    for p in (db, out):
        p.unlink(missing_ok=True)
    run_process([str(s) for s in src], str(out), db, chunk_size=chunk_size, progress=False, workers=1)
    return snapshot(db, out)


def _workers(pid: int) -> list[int]:
    """The worker processes of `pid` (multiprocessing's resource tracker left out)."""
    out = []
    for kid in _children(pid):
        try:
            if b"resource_tracker" not in Path(f"/proc/{kid}/cmdline").read_bytes():
                out.append(kid)
        except OSError:
            pass
    return out


class _ThreadRun(threading.Thread):
    """`run_process` in a thread, with the poll/communicate/returncode of a Popen."""

    def __init__(self, inputs: list[str], out: str, db: Path) -> None:
        super().__init__(daemon=True)
        self.args = (inputs, out, db)
        self.returncode: int | None = None
        self.error = ""
        self.start()

    def run(self) -> None:
        from pipeline.batch.runner import run_process

        try:
            self.returncode = run_process(*self.args, chunk_size=4, progress=False, workers=1).exit_code
        except Exception as e:  # noqa: BLE001 - reported like a failed command
            self.error, self.returncode = f"{type(e).__name__}: {e}", 99

    def poll(self) -> int | None:
        return None if self.is_alive() else self.returncode

    def communicate(self, timeout: float | None = None) -> tuple[bytes, bytes]:
        self.join(timeout)
        return b"", self.error.encode()

    def kill(self) -> None:
        pass


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (from /proc: no psutil needed)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _stored(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM statements").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


# ---------------------------------------------------------------- kills
def _kill_at(proc: subprocess.Popen, db: Path, victim: str, target: int, workers: int,
             rng: random.Random, timeout: float) -> tuple[bool, int]:
    """Wait until `target` statements are stored (and, for a worker, the workers run), then
    SIGKILL the victim. Returns (killed, workers that outlived a killed main process)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if _stored(db) >= target and (victim == "main" or len(_workers(proc.pid)) >= workers):
            time.sleep(rng.random() * 0.5)
            if proc.poll() is not None:
                return False, 0
            if victim == "worker":
                kids = _workers(proc.pid)
                if not kids:
                    return False, 0
                os.kill(rng.choice(kids), signal.SIGKILL)
                return True, 0
            kids = _children(proc.pid)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            for _ in range(50):  # the kernel kills the workers at once (PR_SET_PDEATHSIG); 5 s grace
                if not any(_alive(k) for k in kids):
                    break
                time.sleep(0.1)
            left = [k for k in kids if _alive(k)]
            for k in left:
                os.kill(k, signal.SIGKILL)
            return True, len(left)
        time.sleep(0.05)
    return False, 0


def kills(n_kills: int = 20, n_statements: int = 40, seed: int = 0, work: Path | None = None,
          workers: int = 2, timeout: float = 600) -> dict[str, Any]:
    """SIGKILL a `workers`-process `process` at random moments (after a random number of
    statements is stored, plus a random fraction of a second; a worker or the main process),
    re-run until a run completes, and compare store and output with an uninterrupted run. Each
    round starts a fresh store and kills a worker and the main process, in random order: a
    killed worker must be replaced by the run itself, a killed main process must leave no
    worker behind, and the re-run must finish the rest."""
    rng = random.Random(seed)
    work = Path(work or tempfile.mkdtemp(prefix="polclaims-kills-"))
    src = write_corpus(work / "in.jsonl", n_statements)
    ref = reference([src], work)
    done, rounds, problems, orphans = 0, 0, [], 0
    kinds = {"main": 0, "worker": 0}
    t0 = time.perf_counter()
    while done < n_kills and rounds < 3 * n_kills:
        rounds += 1
        db, out = work / f"r{rounds}.db", work / f"r{rounds}.jsonl"
        cmd = process_cmd([src], out, db, workers=workers)
        victims = rng.sample(["main", "worker"], 2)[: n_kills - done]
        runs = 0
        while True:
            runs += 1
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(), cwd=work)
            main_killed = False
            while victims and proc.poll() is None:
                base = _stored(db)
                target = base + rng.randrange(0, max(1, n_statements - base))
                killed, left = _kill_at(proc, db, victims[0], target, workers, rng, timeout)
                orphans += left
                if not killed:
                    break
                kinds[victims[0]] += 1
                done += 1
                main_killed = victims.pop(0) == "main"
                if main_killed:
                    break
            if main_killed:
                continue  # the run is dead: run the same command again
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                problems.append(f"round {rounds}: a run did not finish within {timeout} s")
                break
            if proc.returncode != 0:
                problems.append(f"round {rounds}: exit status {proc.returncode}: {err.decode()[-500:]}")
            if proc.returncode == 0 or runs > 6:
                break
        got = snapshot(db, out)
        for key in ("statements", "claims", "output"):
            if got[key] != ref[key]:
                problems.append(f"round {rounds}: {key} differ from the uninterrupted run")
        if got["integrity"] != "ok" or got["half_written"]:
            problems.append(f"round {rounds}: integrity {got['integrity']}, {got['half_written']} half-written")
    if orphans:
        problems.append(f"{orphans} worker(s) outlived their killed main process")
    return {"kills": done, "main_process_kills": kinds["main"], "worker_kills": kinds["worker"],
            "rounds": rounds, "statements": n_statements, "workers": workers,
            "orphan_workers": orphans, "problems": problems, "ok": not problems and done == n_kills,
            "seconds": round(time.perf_counter() - t0, 1)}


# ---------------------------------------------------------------- concurrency
def concurrency(n_statements: int = 24, work: Path | None = None, timeout: float = 900,
                thread: bool = False) -> dict[str, Any]:
    """Two `process` runs write one store at once (overlapping inputs) while a reader queries
    it in a loop: both complete, nothing lost or duplicated, and the reader never sees a
    statement without its sentences or claims without their statement. `thread`: the second
    run is `run_process` in a thread of this process (whose models are loaded already), not a
    second `polclaims process`: the same store code, one model load less (for the tests)."""
    work = Path(work or tempfile.mkdtemp(prefix="polclaims-concurrency-"))
    # a: the first three quarters, b: the last three quarters; the middle half is in both
    a = write_corpus(work / "a.jsonl", n_statements - n_statements // 4)
    b = write_corpus(work / "b.jsonl", n_statements - n_statements // 4, start=n_statements // 4)
    ids_a = {json.loads(line)["id"] for line in a.read_text(encoding="utf-8").splitlines()}
    ids_b = {json.loads(line)["id"] for line in b.read_text(encoding="utf-8").splitlines()}
    everything = write_corpus(work / "all.jsonl", n_statements)
    ref = reference([everything], work)
    db = work / "shared.db"
    t0 = time.perf_counter()
    runs: list = [subprocess.Popen(process_cmd([src], work / f"{src.stem}.out.jsonl", db, workers=1),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(), cwd=work)
                  for src in ((a,) if thread else (a, b))]
    if thread:
        runs.append(_ThreadRun([str(b)], str(work / "b.out.jsonl"), db))
    reads, bad_reads, read_errors = 0, 0, []
    while any(r.poll() is None for r in runs) and time.perf_counter() - t0 < timeout:
        if db.exists():
            try:
                from pipeline.store.query import query_claims

                rows = query_claims(db)
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
                con.execute("BEGIN")
                half_written = con.execute(
                    "SELECT count(*) FROM statements s WHERE s.text != '' AND NOT EXISTS "
                    "(SELECT 1 FROM sentences t WHERE t.statement_id = s.id) AND NOT EXISTS "
                    "(SELECT 1 FROM failures f WHERE f.record_id = s.id)").fetchone()[0]
                orphan_claims = con.execute("SELECT count(*) FROM claims c WHERE NOT EXISTS "
                                            "(SELECT 1 FROM statements s WHERE s.id = c.statement_id)").fetchone()[0]
                con.execute("COMMIT")
                con.close()
                reads += 1
                bad_reads += bool(half_written or orphan_claims or any(not r["statement_id"] for r in rows))
            except Exception as e:  # noqa: BLE001 - counted and reported, the check goes on
                msg = f"{type(e).__name__}: {e}"
                if "no polclaims database" not in msg and "empty file" not in msg:
                    read_errors.append(msg)
        time.sleep(0.2)
    codes, errors = [], []
    for r in runs:
        try:
            _, err = r.communicate(timeout=max(1.0, timeout - (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            r.kill()
            _, err = r.communicate()
        codes.append(r.returncode)
        errors.append(err.decode(errors="replace")[-300:])
    got = snapshot(db)
    problems = []
    if codes != [0, 0]:
        problems.append(f"exit statuses {codes}: {errors}")
    if got["statements"] != ref["statements"] or got["claims"] != ref["claims"]:
        problems.append("the shared store differs from one uninterrupted run over all statements")
    if bad_reads:
        problems.append(f"{bad_reads} read(s) saw a half-written statement")
    if read_errors:
        problems.append(f"{len(read_errors)} read(s) failed: {read_errors[0]}")
    if got["integrity"] != "ok":
        problems.append(f"integrity check: {got['integrity']}")
    return {"concurrent_runs": 2, "statements": len(ids_a | ids_b), "overlap": len(ids_a & ids_b),
            "reads_during_runs": reads, "half_written_reads": bad_reads, "read_errors": len(read_errors),
            "claims": len(got["claims"]), "duplicates": len(got["claims"]) - len(set(got["claims"])),
            "problems": problems, "ok": not problems, "seconds": round(time.perf_counter() - t0, 1)}


# ---------------------------------------------------------------- disk full
def disk_full(n_statements: int = 30, limit_bytes: int = 320_000, work: Path | None = None) -> dict[str, Any]:
    """A run whose files may not grow past `limit_bytes` (RLIMIT_FSIZE: the kernel refuses the
    write as on a full disk) must stop with a clear error and a non-zero status, leave a
    consistent store, and a re-run with room must complete like an uninterrupted run."""
    from pipeline.batch.runner import run_process

    work = Path(work or tempfile.mkdtemp(prefix="polclaims-diskfull-"))
    src = write_corpus(work / "in.jsonl", n_statements)
    ref = reference([src], work)
    db, out = work / "full.db", work / "full.jsonl"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    t0 = time.perf_counter()
    res = subprocess.run(process_cmd([src], out, db, workers=1), capture_output=True, text=True,
                         env=_env(), cwd=work, preexec_fn=limit, timeout=900)
    stored_before = len(snapshot(db)["statements"]) if db.exists() else 0
    mid = snapshot(db) if db.exists() else {"integrity": "no store", "half_written": 0}
    message = (res.stderr.strip().splitlines() or [""])[-1]
    run_process([str(src)], str(out), db, chunk_size=4, progress=False, workers=1)
    got = snapshot(db, out)
    problems = []
    if res.returncode == 0:
        problems.append("the run with a full disk exited 0")
    if "Traceback" in res.stderr:
        problems.append("a traceback instead of a message")
    if "full" not in message and "too large" not in message.lower():
        problems.append(f"the message does not say the disk is full: {message[:300]}")
    if mid["integrity"] != "ok" or mid["half_written"]:
        problems.append(f"store after the failure: integrity {mid['integrity']}, {mid['half_written']} half-written")
    for key in ("statements", "claims", "output"):
        if got[key] != ref[key]:
            problems.append(f"after the re-run, {key} differ from an uninterrupted run")
    return {"limit_bytes": limit_bytes, "exit_status": res.returncode, "message": message.replace(str(work), "<work>")[:400],
            "statements_stored_before_the_disk_was_full": stored_before, "statements": n_statements,
            "problems": problems, "ok": not problems, "seconds": round(time.perf_counter() - t0, 1)}


# ---------------------------------------------------------------- damaged files
def damaged(work: Path | None = None, inprocess: bool = False) -> dict[str, Any]:
    """Truncated, corrupt and foreign stores and models: each must give a non-zero status and a
    message naming the file and what to do, never a traceback, and write nothing.
    `inprocess`: run the commands with Typer's CliRunner instead of a new interpreter each."""
    import joblib

    from pipeline.claims.learned import FORMAT
    from pipeline.config import resolve_path

    work = Path(work or tempfile.mkdtemp(prefix="polclaims-damaged-"))
    src = write_corpus(work / "in.jsonl", 2)
    good = work / "good.db"
    from pipeline.batch.runner import run_process

    run_process([str(src)], str(work / "good.jsonl"), good, progress=False, workers=1)
    size = good.stat().st_size
    cases: list[dict[str, Any]] = []

    def case(name: str, args: list[str], expect: list[str], env: dict | None = None,
             untouched: Path | None = None) -> None:
        before = untouched.read_bytes() if untouched is not None and untouched.exists() else None
        if inprocess:
            from typer.testing import CliRunner

            from pipeline.cli.app import app

            r = CliRunner().invoke(app, args, env=env)
            code = r.exit_code
            msg = r.output.strip() + ("\nTraceback: " + repr(r.exception)
                                      if r.exception and not isinstance(r.exception, SystemExit) else "")
        else:
            res = subprocess.run([sys.executable, "-m", "pipeline.cli.app", *args], capture_output=True, text=True,
                                 env={**_env(), **(env or {})}, cwd=work, timeout=600)
            code, msg = res.returncode, res.stderr.strip()
        ok = (code != 0 and "Traceback" not in msg and all(e.lower() in msg.lower() for e in expect)
              and (before is None or untouched.read_bytes() == before))
        # the report is committed: the run's temporary folder is written as <work>, not as a path of this machine
        shown = msg.splitlines()[-1].replace(str(work), "<work>")[:300] if msg else ""
        cases.append({"case": name, "exit_status": code, "message": shown,
                      "ok": ok})

    truncated = work / "truncated.db"
    truncated.write_bytes(good.read_bytes()[: size // 3])
    corrupt = work / "corrupt.db"
    data = bytearray(good.read_bytes())
    data[4096:] = bytes(random.Random(1).randrange(256) for _ in range(len(data) - 4096))
    corrupt.write_bytes(bytes(data))
    notes = work / "notes.txt"
    notes.write_text("my notes, not a database\n", encoding="utf-8")
    for name, path in (("truncated store", truncated), ("corrupt store", corrupt), ("text file as store", notes)):
        case(f"query: {name}", ["query", "--db", str(path)], [path.name], untouched=path)
        case(f"process: {name}", process_cmd([src], work / "o.jsonl", path)[3:], [path.name], untouched=path)

    claims_dir = resolve_path("models/claims")
    for name, content in (("missing claim model", None), ("truncated claim model",
                                                           (claims_dir / "model.joblib").read_bytes()[:5000]),
                          ("claim model of another version", "other")):
        folder = work / name.replace(" ", "_")
        folder.mkdir(exist_ok=True)
        if content == "other":  # the real model, marked as written by another model format
            from pipeline.claims.learned import ClaimModel

            other = ClaimModel.load(claims_dir / "model.joblib")
            other.format = f"{FORMAT}-other"
            joblib.dump(other, folder / "model.joblib")
        elif content is not None:
            (folder / "model.joblib").write_bytes(content)
        out = work / f"{folder.name}.jsonl"
        case(f"process: {name}", process_cmd([src], out, work / f"{folder.name}.db")[3:],
             ["model.joblib", "make train-claims"], env={"POLCLAIMS_CLAIMS_MODEL": str(folder)})
        if (work / f"{folder.name}.db").exists() or out.exists():
            cases[-1]["ok"] = False
            cases[-1]["message"] += " (but it wrote files)"
    topics_dir = resolve_path("models/topics")
    if (topics_dir / "model.joblib").exists():
        folder = work / "truncated_topic_model"
        folder.mkdir(exist_ok=True)
        (folder / "model.joblib").write_bytes((topics_dir / "model.joblib").read_bytes()[:3000])
        case("process: truncated topic model", process_cmd([src], work / "t.jsonl", work / "t.db")[3:] +
             ["--model", str(folder)], ["model.joblib", "train-topics"])
        # a file the topic model reads when it predicts (the Kazakh -> Russian word table): cut
        # short, it must stop the run before any work, not fail or silently change topics later
        from pipeline.topics.model import load_model

        for name in (load_model().card.get("inputs") or {}):
            path = resolve_path(name)
            copy = damaged_models_copy(work / f"models_truncated_{path.stem}", path, "truncated")
            out, db = work / f"m_truncated_{path.stem}.jsonl", work / f"m_truncated_{path.stem}.db"
            case(f"process: truncated topic model input ({path.name})", process_cmd([src], out, db)[3:],
                 [path.name, "train-topics"], env={"POLCLAIMS_MODELS_DIR": str(copy)})
            if db.exists() or out.exists():
                cases[-1]["ok"] = False
                cases[-1]["message"] += " (but it wrote files)"
    # every model file of models/ the language pipelines load (Kazakh Stanza files, the Russian
    # adapter, the language identifier): cut in half in a copy of models/ (the other files linked)
    from pipeline.nlp.model_files import run_files

    for mf in run_files():
        for how in ("truncated", "missing") if mf.path.name == "kk_pos.pt" else ("truncated",):
            copy = damaged_models_copy(work / f"models_{how}_{mf.path.stem}", mf.path, how)
            out, db = work / f"m_{how}_{mf.path.stem}.jsonl", work / f"m_{how}_{mf.path.stem}.db"
            case(f"process: {how} {mf.what} ({mf.path.name})", process_cmd([src], out, db)[3:],
                 [mf.path.name, mf.rebuild] if how == "truncated" or not mf.optional else [],
                 env={"POLCLAIMS_MODELS_DIR": str(copy)})
            if db.exists() or out.exists():
                cases[-1]["ok"] = False
                cases[-1]["message"] += " (but it wrote files)"
    return {"cases": len(cases), "passed": sum(c["ok"] for c in cases), "details": cases,
            "ok": all(c["ok"] for c in cases)}


def damaged_models_copy(folder: Path, target: Path, how: str = "truncated") -> Path:
    """A copy of models/ in `folder` (symbolic links to the real files) where `target` is cut to
    half its size ("truncated") or left out ("missing"); the real models/ is never touched."""
    from pipeline.config import models_dir

    root = models_dir()
    rel = target.resolve().relative_to(root.resolve())
    for src in root.rglob("*"):
        if src.is_dir():
            continue
        dst = folder / src.relative_to(root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.relative_to(root) == rel:
            if how == "truncated":
                dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
        elif not dst.exists():
            dst.symlink_to(src.resolve())
    return folder


# ---------------------------------------------------------------- fuzzing
def fuzz(n_records: int = 10_000, seed: int = 0, work: Path | None = None, bulk: int = 0,
         max_seconds: float | None = None) -> dict[str, Any]:
    """Hypothesis writes files of arbitrary records (JSONL, CSV with embedded newlines and
    quotes, Parquet with wrong column types, .txt with invalid UTF-8, BOMs, NULs, megabyte lines)
    full of arbitrary text (mixed scripts, control characters, emoji, right-to-left text,
    10,000-character words); every file goes through the readers, the segmenter, language
    identification, the NLP pipelines, both claim extractors (learned and rules), the store and
    the claim writer. No exception may escape, and records in = processed + failed."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from pipeline.benchmarks.fuzzing import check_batch, file_batches

    work = Path(work or tempfile.mkdtemp(prefix="polclaims-fuzz-"))
    stats = {"records": 0, "processed": 0, "failed": 0, "files": 0, "unreadable_files": 0, "claims": 0,
             "rules_batches": 0, "learned_batches": 0, "examples": 0}
    t0 = time.perf_counter()
    problems: list[str] = []
    rounds = 0
    while stats["records"] < n_records:
        if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
            problems_note = f"stopped by the time limit ({max_seconds:.0f} s) at {stats['records']} records"
            stats["time_limited"] = problems_note
            break
        rounds += 1

        @hseed(seed * 1000 + rounds)
        # at least 10 per round: the first example of a round is Hypothesis's simplest (no records)
        @settings(max_examples=max(10, min(50, (n_records - stats["records"]) // (6 + bulk))),
                  deadline=None, database=None, derandomize=False, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(file_batches(bulk))
        def run(files):
            stats["examples"] += 1
            check_batch(files, work, stats)

        try:
            run()
        except Exception as e:  # noqa: BLE001 - the falsifying example is the result
            import traceback

            problems.append(f"{type(e).__name__}: {str(e)[:1500]} at "
                            + " <- ".join(f"{f.name}:{f.lineno}" for f in traceback.extract_tb(e.__traceback__)[-3:]))
            break
    return {**stats, "problems": problems, "ok": not problems and stats["records"] == stats["processed"] + stats["failed"],
            "seconds": round(time.perf_counter() - t0, 1)}


def query_safety(n_queries: int = 2000, seed: int = 0, work: Path | None = None) -> dict[str, Any]:
    """Arbitrary strings in every query option: each query returns rows or raises ValueError
    with a message naming the option; nothing else, and the store is unchanged."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from pipeline.benchmarks.fuzzing import query_kwargs
    from pipeline.store.query import query_claims

    work = Path(work or tempfile.mkdtemp(prefix="polclaims-query-"))
    db = work / "q.db"
    if not db.exists():
        from pipeline.batch.runner import run_process

        src = write_corpus(work / "q.jsonl", 10)
        run_process([str(src)], str(work / "q.out.jsonl"), db, progress=False, workers=1)
    before = db.read_bytes()
    stats = {"queries": 0, "rows": 0, "refused": 0}
    problems: list[str] = []

    @hseed(seed)
    @settings(max_examples=n_queries, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate, Phase.shrink])
    @given(query_kwargs())
    def run(kw):
        stats["queries"] += 1
        try:
            stats["rows"] += len(query_claims(db, **kw))
        except ValueError as e:
            assert str(e).startswith(("--", "has_quantity")), f"message does not name the option: {e}"
            stats["refused"] += 1

    try:
        run()
    except Exception as e:  # noqa: BLE001
        problems.append(f"{type(e).__name__}: {str(e)[:1500]}")
    if db.read_bytes() != before:
        problems.append("a query changed the store file")
    return {**stats, "problems": problems, "ok": not problems}


def memory_from_bench() -> dict[str, Any]:
    """The flat-memory figure as last measured by `make bench-memory` (30 minutes; not re-run here)."""
    path = PROJECT_ROOT / "bench" / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        mem = data["memory"]
    except (OSError, KeyError, ValueError):
        return {"measured": False, "note": "run `make bench-memory`"}
    change = mem.get("peak_tree_change")
    if change is None:  # one size measured so far (sizes can be run in separate sessions)
        return {"measured": False, "note": "run `make bench-memory` for both sizes"}
    return {"measured": True, "source": "bench/results.json (make bench-memory)",
            "peak_tree_mb_10000": mem.get("10000", {}).get("peak_tree_mb"),
            "peak_tree_mb_100000": mem.get("100000", {}).get("peak_tree_mb"),
            "peak_tree_change": change, "peak_worker_change": mem.get("peak_worker_change"),
            "target": 0.10, "ok": change is not None and abs(change) <= 0.10}


CHECKS = ("query", "damaged", "disk_full", "concurrency", "kills", "fuzz")


def table(result: dict[str, Any]) -> str:
    """The README table, from bench/reliability.json (`python -m pipeline.benchmarks.reliability --table`)."""
    rows = ["| check | what was done | result |", "|---|---|---|"]

    def ok(r: dict) -> str:
        return "nothing lost" if r.get("ok") else "**problems: " + "; ".join(r.get("problems", []))[:200] + "**"

    if "fuzz" in result:
        r = result["fuzz"]
        rows.append(f"| fuzzing (Hypothesis) | {r['records']:,} records in {r['files']:,} files (JSONL, CSV, Parquet, "
                    f".txt), {r['learned_batches']} runs with the learned and {r['rules_batches']} with the rule "
                    f"extractor | {r['processed']:,} processed + {r['failed']:,} failed with a reason = "
                    f"{r['processed'] + r['failed']:,}; unhandled exceptions: {len(r['problems'])}; {ok(r)} |")
    if "query" in result:
        r = result["query"]
        rows.append(f"| query safety | {r['queries']:,} fuzzed option sets | {r['refused']:,} refused with a "
                    f"message naming the option, the rest answered; store file unchanged; {ok(r)} |")
    if "kills" in result:
        r = result["kills"]
        rows.append(f"| SIGKILL and re-run | {r['kills']} kills ({r['worker_kills']} of a worker, "
                    f"{r['main_process_kills']} of the main process) of `process --workers {r['workers']}` on "
                    f"{r['statements']} statements, {r['rounds']} fresh stores | "
                    + ("store and output equal to an uninterrupted run each time" if r.get("ok") else
                       "store and output compared with an uninterrupted run after each kill")
                    + f"; workers left behind: {r['orphan_workers']}; {ok(r)} |")
    if "concurrency" in result:
        r = result["concurrency"]
        rows.append(f"| concurrent runs | {r['concurrent_runs']} `process` runs into one store "
                    f"({r['statements']} statements, {r['overlap']} in both), {r['reads_during_runs']} queries "
                    f"meanwhile | both completed; duplicates {r['duplicates']}; half-written statements seen "
                    f"{r['half_written_reads']}; {ok(r)} |")
    if "damaged" in result:
        r = result["damaged"]
        rows.append(f"| damaged files | {r['cases']} cases: truncated, corrupt and foreign stores (query and "
                    f"process), missing, truncated and other-version claim and topic models, the topic model's word "
                    f"table cut short, each model file of the language pipelines cut in half (Kazakh Stanza files, tag corrector, Russian adapter, "
                    f"language identifier) | {r['passed']} of {r['cases']} "
                    f"refused with the file named and the fix, non-zero status, nothing written |")
    if "disk_full" in result:
        r = result["disk_full"]
        rows.append(f"| disk full | `RLIMIT_FSIZE` {r['limit_bytes']:,} bytes: the run stopped after "
                    f"{r['statements_stored_before_the_disk_was_full']} of {r['statements']} statements, "
                    f"exit status {r['exit_status']} | "
                    + ("store consistent; the re-run completed equal to an uninterrupted run" if r.get("ok") else
                       "store and re-run checked against an uninterrupted run")
                    + f"; {ok(r)} |")
    m = result.get("memory", {})
    if m.get("measured"):
        rows.append(f"| flat memory (`make bench-memory`, not re-run by `make reliability`) | 10,000 vs "
                    f"100,000 statements, 2 workers | peak {m['peak_tree_mb_10000']:,} vs "
                    f"{m['peak_tree_mb_100000']:,} MB: {m['peak_tree_change']:+.1%} "
                    f"({'within' if m['ok'] else '**outside**'} ±10 %) |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(PROJECT_ROOT / "bench" / "reliability.json"))
    ap.add_argument("--only", default=",".join(CHECKS), help="comma-separated subset of " + ", ".join(CHECKS))
    ap.add_argument("--records", type=int, default=10_000, help="fuzzed records")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--fuzz-minutes", type=float, default=None,
                    help="stop fuzzing after this long (the records reached are reported)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--table", action="store_true", help="print the README table from --out and stop")
    args = ap.parse_args(argv)
    out = Path(args.out)
    result = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    if args.table:
        print(table(result))
        return
    import logging

    logging.basicConfig(level=logging.ERROR)
    for name in [c.strip() for c in args.only.split(",") if c.strip()]:
        t0 = time.perf_counter()
        print(f"reliability: {name} ...", file=sys.stderr, flush=True)
        if name == "fuzz":
            r = fuzz(args.records, seed=args.seed, bulk=120,
                     max_seconds=args.fuzz_minutes * 60 if args.fuzz_minutes else None)
        elif name == "query":
            r = query_safety(seed=args.seed)
        elif name == "kills":
            r = kills(args.kills, seed=args.seed)
        elif name == "concurrency":
            r = concurrency(40)
        elif name == "damaged":
            r = damaged(inprocess=True)
        elif name == "disk_full":
            r = disk_full()
        else:
            raise SystemExit(f"unknown check {name!r}; use {', '.join(CHECKS)}")
        r["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        result[name] = r
        print(f"reliability: {name}: {'ok' if r.get('ok') else 'PROBLEMS'} in {time.perf_counter() - t0:.0f} s "
              + json.dumps({k: v for k, v in r.items() if k not in ('details', 'problems')}, ensure_ascii=False),
              file=sys.stderr, flush=True)
        for p in r.get("problems", []):
            print(f"  problem: {p}", file=sys.stderr)
        out.parent.mkdir(parents=True, exist_ok=True)
        result["memory"] = memory_from_bench()
        out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
