"""`make bench`: speed and memory of the pipelines on this machine, written to a file.

Each measurement runs in a fresh child process so that cold start and peak memory are those
a user sees (`resource.getrusage(...).ru_maxrss` of that child).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from pipeline.config import PROJECT_ROOT, shared_data_dir


JEMALLOC = next((p for p in ("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2")
                 if os.path.exists(p)), None)


def _child(code: str, allocator: str | None = None) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON object as its last line.
    `allocator`: None = as this process runs, "default" = glibc malloc, "jemalloc" = preloaded."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    if allocator == "default":
        env.pop("LD_PRELOAD", None)
    elif allocator == "jemalloc" and JEMALLOC:
        env["LD_PRELOAD"] = JEMALLOC
        env["MALLOC_CONF"] = "dirty_decay_ms:-1,muzzy_decay_ms:-1,retain:true"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=PROJECT_ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


COLD_START = r"""
import json, time, resource
t0 = time.perf_counter()
from pipeline.nlp import get_pipeline
kk = get_pipeline("kk"); t1 = time.perf_counter()
ru = get_pipeline("ru"); t2 = time.perf_counter()
kk("Біз селолық әкімдіктерге қосымша өкілеттіктер береміз."); ru("Мы наделяем акиматы полномочиями.")
t3 = time.perf_counter()
print(json.dumps({"load_kk_s": round(t1 - t0, 2), "load_ru_s": round(t2 - t1, 2),
                  "cold_start_s": round(t3 - t0, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""

THROUGHPUT = r"""
import json, time, resource, sys
from pipeline.nlp.annotate import annotate
text = open(sys.argv[1] if len(sys.argv) > 1 else {path!r}, encoding="utf-8").read()
lang = {lang!r}
annotate("warm up.", lang)
t0 = time.perf_counter()
chunks = annotate(text, lang)
dt = time.perf_counter() - t0
n = sum(1 for c in chunks for t in c.doc if not t.is_space)
s = sum(1 for c in chunks for _ in c.doc.sents)
print(json.dumps({{"lang": lang, "tokens": n, "sentences": s, "seconds": round(dt, 2),
                  "tokens_per_s": round(n / dt, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}}))
"""


# One language side of the parallel lines, in a fresh interpreter: model loading (imports
# included) and annotation timed apart, wall and CPU seconds.
PARALLEL = r"""
import json, time, resource, sys
w0, c0 = time.perf_counter(), time.process_time()
from pipeline.nlp.annotate import annotate
from pipeline.nlp import get_pipeline
lang = {lang!r}
get_pipeline(lang)
w1, c1 = time.perf_counter(), time.process_time()
text = open({path!r}, encoding="utf-8").read()
chunks = annotate(text, lang)
w2, c2 = time.perf_counter(), time.process_time()
n = sum(1 for c in chunks for t in c.doc if not t.is_space)
print(json.dumps({{"lang": lang, "lines": text.count("\n\n") + 1, "tokens": n, "load_s": round(w1 - w0, 2),
                  "annotate_s": round(w2 - w1, 2), "annotate_cpu_s": round(c2 - c1, 2),
                  "tokens_per_s": round(n / (w2 - w1), 1), "tokens_per_s_with_loading": round(n / (w2 - w0), 1),
                  "tokens_per_cpu_s": round(n / (c2 - c1), 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}}))
"""


def parallel_lines(data: Path, work: Path, n: int = 400, min_words: int = 12) -> dict[str, Path]:
    """The kk and the ru side of `n` aligned line pairs of the parallel corpus (both sides of at
    least `min_words` words: the long sentences of government text), evenly spread over the
    corpus, one pair per paragraph, same order on both sides."""
    from pipeline.corpora.topics import read_pairs

    pairs = [p for p in read_pairs(data / "parallel_kk_ru")
             if len(p.kk.split()) >= min_words and len(p.ru.split()) >= min_words]
    step = max(1, len(pairs) // n)
    chosen = pairs[::step][:n]
    work.mkdir(parents=True, exist_ok=True)
    out = {}
    for lang in ("kk", "ru"):
        out[lang] = work / f"parallel_{lang}_{len(chosen)}.txt"
        out[lang].write_text("\n\n".join(getattr(p, lang) for p in chosen), encoding="utf-8")
    return out


def bench_parallel(data: Path, work: Path, n: int = 400, rounds: int = 3) -> dict:
    """Kazakh vs Russian tokens/s on the two sides of the same parallel lines: each side in a
    fresh process, kk and ru alternating for `rounds` rounds (the VM's speed drifts); medians
    per language, ratios kk/ru with and without model loading and per CPU-second."""
    from statistics import median

    texts = parallel_lines(data, work, n)
    runs: dict[str, list[dict]] = {"kk": [], "ru": []}
    for _ in range(rounds):
        for lang in ("kk", "ru"):
            runs[lang].append(_child(PARALLEL.format(path=str(texts[lang]), lang=lang)))
    out: dict = {"rounds": rounds}
    keys = ("load_s", "annotate_s", "annotate_cpu_s", "tokens_per_s", "tokens_per_s_with_loading",
            "tokens_per_cpu_s", "peak_rss_mb")
    for lang, rs in runs.items():
        out[lang] = {"lines": rs[0]["lines"], "tokens": rs[0]["tokens"],
                     **{k: round(median(r[k] for r in rs), 2) for k in keys}}
    for k in ("tokens_per_s", "tokens_per_s_with_loading", "tokens_per_cpu_s"):
        out[f"ratio_{k}"] = round(out["kk"][k] / out["ru"][k], 3)
    return out


def _print_parallel(r: dict) -> None:
    kk, ru = r["kk"], r["ru"]
    print(f"parallel lines ({kk['lines']}; kk {kk['tokens']} tokens, ru {ru['tokens']} tokens; median of {r['rounds']}): "
          f"kk {kk['tokens_per_s']} vs ru {ru['tokens_per_s']} tokens/s (x{r['ratio_tokens_per_s']}); "
          f"with model loading {kk['tokens_per_s_with_loading']} vs {ru['tokens_per_s_with_loading']} "
          f"(x{r['ratio_tokens_per_s_with_loading']}); per CPU-second x{r['ratio_tokens_per_cpu_s']}")


PROCESS = r"""
import json, time, resource, sys
from pipeline.io.readers import read_statements
from pipeline.batch.analyse import process_statements
from pipeline.nlp import get_pipeline
from pipeline.text.segment import segment
path, mode = {path!r}, {mode!r}
items = [s for s in read_statements([path])]
get_pipeline("kk"); get_pipeline("ru")
list(process_statements(items[:2]))  # warm up
t0 = time.perf_counter()
if mode == "nlp":
    # what annotate does: segment + both pipelines, no extraction, no storage
    jobs = {{"kk": [], "ru": []}}
    for st in items:
        for p in segment(st.id, st.text):
            for s in p.sentences:
                if not s.boilerplate and s.lang in jobs:
                    jobs[s.lang].append(s.text)
    n = 0
    for lang, texts in jobs.items():
        for d in get_pipeline(lang).pipe(texts):
            n += len(d)
    claims = None
else:
    res = list(process_statements(items))
    claims = sum(len(r.claims) for r in res)
dt = time.perf_counter() - t0
print(json.dumps({{"mode": mode, "statements": len(items), "seconds": round(dt, 2), "claims": claims,
                  "statements_per_s": round(len(items) / dt, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}}))
"""


TOPICS = r"""
import json, time, resource
from pipeline.topics.model import load_model
sents = [l.strip() for l in open({path!r}, encoding="utf-8") if l.strip()]
t0 = time.perf_counter()
m = load_model(); m.predict(["прогрев", "жылыту"])
load_s = time.perf_counter() - t0
t0 = time.perf_counter()
for i in range(0, len(sents), 256):
    m.predict(sents[i:i + 256])
batch_s = time.perf_counter() - t0
t0 = time.perf_counter()
for s in sents[:200]:
    m.predict([s])
single_s = time.perf_counter() - t0
print(json.dumps({{"model": m.name, "sentences": len(sents), "load_s": round(load_s, 2),
                  "ms_per_sentence_batched": round(1000 * batch_s / len(sents), 3),
                  "ms_per_sentence_one_by_one": round(1000 * single_s / min(200, len(sents)), 3),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}}))
"""


def topic_sentences(stmts: Path, work: Path) -> Path:
    """The sentences (not boilerplate) of the benchmark statements, one per line."""
    from pipeline.io.readers import read_statements
    from pipeline.text.segment import segment

    out = work / "bench_topic_sentences.txt"
    with open(out, "w", encoding="utf-8") as fh:
        for st in read_statements([stmts]):
            for p in segment(st.id, st.text):
                for s in p.sentences:
                    if not s.boilerplate and s.lang in ("kk", "ru"):
                        fh.write(s.text.replace("\n", " ") + "\n")
    return out


def sentence_corpus(data: Path, work: Path, n: int, seed: int = 7) -> Path:
    """`n` one-sentence statements sampled (with replacement) from the sentences of 5+ words of
    the parallel corpus: the flat-memory corpus of issue #5 (built here, never committed)."""
    import json as _json
    import random

    from pipeline.text.segment import sentences

    out = work / f"memory_{n}.jsonl"
    if out.exists():
        return out
    pool: list[str] = []
    for f in sorted((data / "parallel_kk_ru").iterdir()):
        if not f.is_file() or f.name == "COPYING":
            continue
        for i, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines()):
            for s in sentences(f"{f.name}:{i}", line):
                if not s.boilerplate and len(s.text.split()) >= 5 and s.lang in ("kk", "ru"):
                    pool.append(s.text)
    rng = random.Random(seed)
    work.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(_json.dumps({"id": f"s{i}", "text": rng.choice(pool)}, ensure_ascii=False) + "\n")
    return out


def _tree_rss(root: int) -> dict[int, int]:
    """RSS (kB) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        pid, ppid = int(d), int(fields.get("PPid", "0").strip())
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        out[pid] = rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return out


def memory_run(stmts: Path, workers: int, tmp: Path) -> dict:
    """`process` on `stmts` while /proc is sampled every second: peak RSS of the main process,
    of the largest worker, of the whole process tree, and RSS over time."""
    db = tmp / f"mem_{stmts.stem}.db"
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli.app", "process", str(stmts), "--out",
                             str(tmp / f"mem_{stmts.stem}.jsonl"), "--db", str(db), "--workers", str(workers),
                             "--no-progress"], cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_main = peak_worker = peak_tree = 0
    timeline = []
    while proc.poll() is None:
        tree = _tree_rss(proc.pid)
        main = tree.pop(proc.pid, 0)
        worker = max(tree.values(), default=0)
        total = main + sum(tree.values())
        peak_main, peak_worker, peak_tree = max(peak_main, main), max(peak_worker, worker), max(peak_tree, total)
        timeline.append((round(time.perf_counter() - t0), round(total / 1024)))
        time.sleep(1.0)
    if proc.returncode != 0:
        raise RuntimeError(f"process on {stmts} failed")
    secs = time.perf_counter() - t0
    n = sum(1 for _ in stmts.open(encoding="utf-8"))
    step = max(1, len(timeline) // 20)
    return {"statements": n, "workers": workers, "seconds": round(secs, 1),
            "statements_per_s": round(n / secs, 1), "peak_main_mb": round(peak_main / 1024),
            "peak_worker_mb": round(peak_worker / 1024), "peak_tree_mb": round(peak_tree / 1024),
            "tree_mb_over_time": timeline[::step]}


def bench_memory(data: Path, sizes: tuple[int, ...] = (10_000, 100_000), workers: int = 2,
                 previous: dict | None = None, save=None) -> dict:
    """Peak memory of `process` at each size. Sizes can be measured in separate sessions (the
    100,000 run takes about 1.5 hours): a size measured before, with the same code version, is
    kept from `previous`, and `save(out)` is called after each size so an interrupted run keeps
    what it measured. Each size carries its date and commit: the figures of a pair should come from
    the same code (figures from before this format, with no date, are dropped)."""
    tmp = PROJECT_ROOT / "build" / "bench"
    out = {k: v for k, v in (previous or {}).items() if k.isdigit() and isinstance(v, dict) and v.get("measured_at")}
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    for n in sizes:
        out[str(n)] = {**memory_run(sentence_corpus(data, tmp, n), workers, tmp), "commit": commit,
                       "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        if save is not None:
            save(out)
    lo, hi = min(out, key=int), max(out, key=int)
    if lo != hi:
        a, b = out[lo], out[hi]
        out["peak_tree_change"] = round(b["peak_tree_mb"] / a["peak_tree_mb"] - 1, 3)
        out["peak_worker_change"] = round(b["peak_worker_mb"] / a["peak_worker_mb"] - 1, 3)
    return out


def bench_statements(data: Path, work: Path, n: int) -> Path:
    """`n` statements of 3 consecutive lines each from the parallel corpus (both languages)."""
    import json as _json

    pdir = data / "parallel_kk_ru"
    files = sorted(p for p in pdir.iterdir() if p.is_file() and p.name != "COPYING")
    work.mkdir(parents=True, exist_ok=True)
    out = work / f"bench_statements_{n}.jsonl"
    rows = []
    for f in files:
        lines = [l.strip() for l in f.read_text(encoding="utf-8", errors="replace").splitlines() if len(l.split()) >= 5]
        for i in range(0, len(lines) - 2, 3):
            rows.append({"id": f"{f.name}:{i}", "text": " ".join(lines[i:i + 3])})
    step = max(1, len(rows) // n)
    with out.open("w", encoding="utf-8") as fh:
        for r in rows[::step][:n]:
            fh.write(_json.dumps(r, ensure_ascii=False) + "\n")
    return out


def _timed_cli(args: list[str]) -> dict:
    """Wall time and peak memory of one `polclaims` run (GNU time not needed: wait4's rusage)."""

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli.app", *args], cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"polclaims {' '.join(args)} failed")
    return {"seconds": round(time.perf_counter() - t0, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def bench_workers(stmts: Path) -> dict:
    """`process` with 1 and 2 workers (same output), and a re-run over the processed store."""
    tmp = PROJECT_ROOT / "build" / "bench"
    n = sum(1 for _ in stmts.open(encoding="utf-8"))
    out: dict = {"statements": n}
    for w in (1, 2):
        db = tmp / f"w{w}.db"
        db.unlink(missing_ok=True)
        r = _timed_cli(["process", str(stmts), "--out", str(tmp / f"w{w}.jsonl"), "--db", str(db),
                        "--workers", str(w), "--no-progress"])
        r["statements_per_s"] = round(n / r["seconds"], 2)
        out[f"workers_{w}"] = r
    out["same_output"] = (tmp / "w1.jsonl").read_bytes() == (tmp / "w2.jsonl").read_bytes()
    out["speedup_2_workers"] = round(out["workers_1"]["seconds"] / out["workers_2"]["seconds"], 2)
    try:  # the Ray engine on a local instance with 2 actors (start-up of Ray included)
        import ray  # noqa: F401 - only whether the `ray` extra is installed

        r = _timed_cli(["process", str(stmts), "--out", str(tmp / "ray.jsonl"), "--no-db", "--engine", "ray",
                        "--workers", "2", "--no-progress"])
        r["statements_per_s"] = round(n / r["seconds"], 2)
        r["same_output_as_local"] = (tmp / "w1.jsonl").read_bytes() == (tmp / "ray.jsonl").read_bytes()
        r["peak_rss_mb_note"] = "driver process only; each actor loads the models once"
        out["ray_2_actors"] = r
    except ImportError:
        out["ray_2_actors"] = None
    rerun = _timed_cli(["process", str(stmts), "--out", str(tmp / "rerun.jsonl"), "--db", str(tmp / "w1.db"),
                        "--workers", "1", "--no-progress"])
    out["rerun_unchanged"] = rerun
    out["rerun_fraction"] = round(rerun["seconds"] / out["workers_1"]["seconds"], 3)
    return out


def bench_texts(data: Path, work: Path, n_sent: int) -> dict[str, Path]:
    """Plain text for each language from UD test files (kk: the held-out KTB fold)."""
    from pipeline.nlp.conllu import sentence_texts
    from pipeline.evaluation.nlp import raw_text_from_conllu
    from pipeline.evaluation.report_nlp import kk_test_split

    work.mkdir(parents=True, exist_ok=True)
    texts = {}
    kk_gold = kk_test_split(data, work)
    ru_gold = data / "ud" / "ru_gsd" / "ru_gsd-ud-test.conllu"
    for lang, gold in (("kk", kk_gold), ("ru", ru_gold)):
        raw = raw_text_from_conllu(gold)
        # one sentence per paragraph keeps the language pipelines' batching realistic
        sents = sentence_texts(gold)
        body = "\n\n".join(sents[:n_sent]) if sents else raw
        path = work / f"bench_{lang}.txt"
        path.write_text(body, encoding="utf-8")
        texts[lang] = path
    return texts


def bench_annotate(texts: dict[str, Path]) -> dict:
    """`annotate` throughput per language, and for Kazakh glibc malloc vs jemalloc (if installed)."""
    out = {"annotate": {lang: _child(THROUGHPUT.format(path=str(p), lang=lang)) for lang, p in texts.items()}}
    if JEMALLOC:
        out["allocator_effect_kk"] = {a: _child(THROUGHPUT.format(path=str(texts["kk"]), lang="kk"), a)
                                      for a in ("default", "jemalloc")}
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results.json")
    ap.add_argument("--data", type=Path, default=shared_data_dir())
    ap.add_argument("--sentences", type=int, default=400, help="sentences per language")
    ap.add_argument("--statements", type=int, default=300, help="statements for process vs. NLP")
    ap.add_argument("--worker-statements", type=int, default=1000,
                    help="statements for the 1 vs. 2 workers, Ray and re-run timings (enough that the "
                         "workers' model loading does not dominate)")
    ap.add_argument("--parallel-lines", type=int, default=400,
                    help="aligned kk/ru line pairs for the Kazakh vs Russian tokens/s row")
    ap.add_argument("--parallel-rounds", type=int, default=3,
                    help="kk/ru alternations for that row (medians are reported)")
    ap.add_argument("--process-rounds", type=int, default=5,
                    help="process/NLP pairs for the extraction-overhead row (median of the pairs' ratios)")
    ap.add_argument("--only", default=None,
                    help="comma-separated sections to run (cold_start,annotate,parallel,process,workers,topics,memory,serve,threads); "
                         "the others keep their values from --out")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    if only:
        return _run_only(args, only)
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "allocator": "jemalloc" if "jemalloc" in os.environ.get("LD_PRELOAD", "") else "default"},
        "date": time.strftime("%Y-%m-%d"),
    }
    results["cold_start"] = _child(COLD_START)
    texts = bench_texts(args.data, PROJECT_ROOT / "build" / "bench", args.sentences)
    results.update(bench_annotate(texts))
    results["parallel"] = bench_parallel(args.data, PROJECT_ROOT / "build" / "bench", args.parallel_lines,
                                        args.parallel_rounds)
    stmts = bench_statements(args.data, PROJECT_ROOT / "build" / "bench", args.statements)
    results["process_vs_nlp"] = pv = bench_process(stmts, args.process_rounds)
    results["workers"] = bench_workers(bench_statements(args.data, PROJECT_ROOT / "build" / "bench",
                                                        args.worker_statements))
    results["topics"] = _child(TOPICS.format(path=str(topic_sentences(stmts, PROJECT_ROOT / "build" / "bench"))))
    results["serve"] = _child(SERVE)
    _print_serve(results["serve"])
    results["threads"] = bench_threads()
    # the flat-memory section is measured by its own target (make bench-memory, ~30 min): keep it
    previous = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    if "memory" in previous:
        results["memory"] = previous["memory"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    cs = results["cold_start"]
    print(f"cold start (load kk + ru, first sentence each): {cs['cold_start_s']} s, peak {cs['peak_rss_mb']} MB")
    print("| lang | sentences | tokens | seconds | tokens/s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for lang, r in results["annotate"].items():
        print(f"| {lang} | {r['sentences']} | {r['tokens']} | {r['seconds']} | {r['tokens_per_s']} | {r['peak_rss_mb']} |")
    _print_parallel(results["parallel"])
    if "allocator_effect_kk" in results:
        ae = results["allocator_effect_kk"]
        print(f"kk annotate with glibc malloc: {ae['default']['tokens_per_s']} tokens/s; "
              f"with jemalloc: {ae['jemalloc']['tokens_per_s']} tokens/s")
    _print_process(pv)
    wk = results["workers"]
    print(f"process, {wk['statements']} statements: 1 worker {wk['workers_1']['seconds']} s, "
          f"2 workers {wk['workers_2']['seconds']} s (x{wk['speedup_2_workers']}, same output: {wk['same_output']}); "
          f"re-run over the processed store {wk['rerun_unchanged']['seconds']} s ({100 * wk['rerun_fraction']:.1f}%)")
    if wk.get("ray_2_actors"):
        rr = wk["ray_2_actors"]
        print(f"Ray engine, local instance, 2 actors: {rr['seconds']} s ({rr['statements_per_s']} statements/s, "
              f"same output as local: {rr['same_output_as_local']})")
    _print_topics(results["topics"])
    print(f"written to {args.out}")
    return results


# `polclaims serve` on a generated store of 1,000,000 claims (pipeline/benchmarks/serve.py).
SERVE = r"""
import json, os
from pipeline.config import PROJECT_ROOT
from pipeline.benchmarks.serve import bench_serve
print(json.dumps(bench_serve(PROJECT_ROOT / "build" / "bench",
                             int(os.environ.get("POLCLAIMS_BENCH_SERVE_CLAIMS", "1000000")))))
"""


def _print_serve(r: dict) -> None:
    st = r["store"]
    print(f"serve: store of {st['claims']:,} claims ({st['size_mb']} MB, generated in {st['seconds']} s"
          f"{', reused' if st.get('reused') else ''}); load average {r['load_average_1min']} on {r['cpus']} cores; "
          f"target < {r['target_ms']} ms met: wall {r['target_met_wall']}, CPU {r['target_met_cpu']}; "
          f"whole-table facets counted in {r['warm_up_whole_table_facets_s']} s")
    for name, p in r["pages"].items():
        if "error" in p:
            print(f"  {name}: {p['error']}")
            continue
        print(f"  {name}: first {p['first_ms']} ms, median {p['median_ms']} ms, max {p['max_ms']} ms "
              f"(CPU median {p['median_cpu_ms']} ms)"
              + (f", {p['rows_matched']:,} rows" if p.get("rows_matched") is not None else ""))


THREADS = r"""
import json, time, resource
from pipeline.benchmarks.synthetic_threads import make_store
from pipeline.threads.track import track
t0 = time.perf_counter()
made = make_store({path!r}, {n})
t1 = time.perf_counter()
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
r = track({path!r})
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{**made, "generate_s": round(t1 - t0, 1), "track_s": r.seconds,
                  "track_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
                  "threads": r.threads, "claims_in_threads": r.members, "links": r.links,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}}))
"""


def bench_threads(n: int = 100_000) -> dict:
    """`polclaims track` over a synthetic store of `n` claims (pipeline/benchmarks/synthetic_threads.py)."""
    work = PROJECT_ROOT / "build" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    return _child(THREADS.format(path=str(work / f"threads_{n}.db"), n=n))


def _print_threads(t: dict) -> None:
    print(f"track over {t['claims']} claims ({t['statements']} statements): {t['track_s']} s "
          f"({t['track_cpu_s']} s CPU), {t['threads']} threads, peak {t['peak_rss_mb']} MB; store generated in {t['generate_s']} s")


def bench_process(stmts: Path, rounds: int) -> dict:
    """`process` against the NLP alone on the same statements, each run in a fresh interpreter,
    `rounds` pairs with the order alternating (the VM's speed drifts between minutes). The
    overhead is the median of the pairs' ratios; "nlp" and "process" are the median runs."""
    from statistics import median

    runs = []
    for i in range(max(1, rounds)):
        order = ("nlp", "process") if i % 2 == 0 else ("process", "nlp")
        pair = {m: _child(PROCESS.format(path=str(stmts), mode=m)) for m in order}
        runs.append(pair)
    ratios = [r["process"]["seconds"] / r["nlp"]["seconds"] - 1 for r in runs]

    def median_run(mode: str) -> dict:
        ordered = sorted((r[mode] for r in runs), key=lambda x: x["seconds"])
        return ordered[(len(ordered) - 1) // 2]

    return {"nlp": median_run("nlp"), "process": median_run("process"), "rounds": len(runs),
            "overheads": [round(x, 3) for x in ratios], "extraction_overhead": round(median(ratios), 3)}


def _print_process(pv: dict) -> None:
    print(f"process vs. NLP alone on {pv['nlp']['statements']} statements (median of {pv['rounds']} pairs): "
          f"{pv['nlp']['seconds']} s NLP, {pv['process']['seconds']} s process "
          f"(extraction, alignment, topics: {100 * pv['extraction_overhead']:+.1f}%; pairs {pv['overheads']})")


def _print_topics(t: dict) -> None:
    print(f"topic model {t['model']}: {t['ms_per_sentence_batched']} ms/sentence batched, "
          f"{t['ms_per_sentence_one_by_one']} ms one by one ({t['sentences']} sentences), load {t['load_s']} s")


def _run_only(args, only: set[str]) -> dict:
    """Re-measure some sections and keep the rest of the results file (e.g. after a model change)."""
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    work = PROJECT_ROOT / "build" / "bench"
    stmts = bench_statements(args.data, work, args.statements)
    unknown = only - {"cold_start", "annotate", "parallel", "process", "workers", "topics", "memory", "serve", "threads"}
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}")
    if "cold_start" in only:
        results["cold_start"] = _child(COLD_START)
    if "annotate" in only:
        results.update(bench_annotate(bench_texts(args.data, work, args.sentences)))
    if "parallel" in only:
        results["parallel"] = bench_parallel(args.data, work, args.parallel_lines, args.parallel_rounds)
        _print_parallel(results["parallel"])
    if "process" in only:
        results["process_vs_nlp"] = pv = bench_process(stmts, args.process_rounds)
        _print_process(pv)
    if "workers" in only:
        results["workers"] = bench_workers(bench_statements(args.data, work, args.worker_statements))
    if "memory" in only:
        sizes = tuple(int(x) for x in os.environ.get("POLCLAIMS_BENCH_MEMORY_SIZES", "10000,100000").split(","))
        def save(partial: dict) -> None:  # each size as soon as it is measured
            results["memory"] = partial
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")

        results["memory"] = m = bench_memory(args.data, sizes, previous=results.get("memory"), save=save)
        for n in sorted((k for k in m if k.isdigit()), key=int):
            r = m[n]
            print(f"{n} statements, {r['workers']} workers: {r['seconds']} s, peak RSS main {r['peak_main_mb']} MB, "
                  f"largest worker {r['peak_worker_mb']} MB, all processes {r['peak_tree_mb']} MB")
        if "peak_tree_change" in m:
            print(f"peak memory change: all processes {100 * m['peak_tree_change']:+.1f}%, "
                  f"worker {100 * m['peak_worker_change']:+.1f}%")
    if "serve" in only:
        results["serve"] = _child(SERVE)
        _print_serve(results["serve"])
    if "topics" in only:
        results["topics"] = _child(TOPICS.format(path=str(topic_sentences(stmts, work))))
        _print_topics(results["topics"])
    if "threads" in only:
        results["threads"] = bench_threads()
        _print_threads(results["threads"])
    results.setdefault("partial_updates", []).append({"date": time.strftime("%Y-%m-%d"), "sections": sorted(only)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return results


if __name__ == "__main__":
    main()
