"""The README's example threads, from real statements: written by a command, never typed in.

``python -m pipeline.cli.readme_threads --db build/gold_claims.db --readme README.md`` (``make
readme-threads``) writes the claims corpus's gold claims into a store
(``pipeline.evaluation.threads.gold_store``), runs ``polclaims track`` on it, picks the threads
that hold both languages (promises first: a thread that starts with a commitment, dated, with a
status saying more than "open", most statements) and replaces the README's text between the
``threads-example`` markers with the commands and what they print.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

START = "<!-- threads-example: start (python -m pipeline.cli.readme_threads writes this part) -->"
END = "<!-- threads-example: end -->"
STATUS_ORDER = {"acted on": 0, "overdue": 1, "reaffirmed": 2, "open": 3}
COLUMNS = "thread_position,thread_role,thread_date,thread_date_inferred,statement_id,lang,predicate,target"


def _cli(args: list[str]) -> str:
    from typer.testing import CliRunner

    from pipeline.cli.app import app

    r = CliRunner().invoke(app, args)
    if r.exit_code != 0:
        raise RuntimeError(f"polclaims {' '.join(args)} failed: {r.output}")
    return r.stdout


def _cut(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def example(db: Path, shown: int = 3) -> str:
    """The README part: the store's making, then `shown` bilingual threads."""
    from pipeline.evaluation.threads import gold_store
    from pipeline.threads.track import read_threads, track

    made = gold_store(db)
    result = track(db)
    threads = [t for t in read_threads(db) if t["langs"] == "kk,ru"]
    # promises first: a thread that starts with a commitment, dated, with a status that says more than "open"
    promise = {r[0] for r in sqlite3.connect(db).execute(
        "SELECT DISTINCT thread_id FROM thread_members WHERE role = 'announced'")}
    threads.sort(key=lambda t: (t["thread_id"] not in promise, t["first_date"] is None,
                                STATUS_ORDER.get(t["status"], 9), -t["n_statements"], t["thread_id"]))
    picked = threads[:shown]
    out = [START, "",
           f"Threads from real statements: the claims corpus's {made['claims']:,} gold claims of {made['statements']:,} "
           "texts put in a store and linked by `track` with the default linker (configs/threads/link.toml) "
           f"({result.threads} threads, {sum(1 for t in read_threads(db) if t['langs'] == 'kk,ru')} of them in both "
           "languages). Shown: the first bilingual threads, those that start with a commitment first; status and "
           "evidence as the status rules read them (the corpus's texts are fragments, so most dates are datelines, "
           "marked inferred). Written by `make readme-threads`:", "",
           "```",
           f"$ python -m pipeline.evaluation.threads store {db}",
           f"$ polclaims track --db {db}"]
    for k, t in enumerate(picked):
        rows = _cli(["query", "--db", str(db), "--thread", t["thread_id"], "--format", "csv", "--columns", COLUMNS])
        out.append(f"$ polclaims query --db {db} --thread {t['thread_id']} --format csv \\")
        out.append(f"    --columns {COLUMNS}")
        out += rows.rstrip("\n").splitlines()
        if k == 0:
            line = next(x for x in _cli(["threads", "--db", str(db), "--format", "jsonl"]).splitlines()
                        if json.loads(x)["thread_id"] == t["thread_id"])
            d = json.loads(line)
            keep = {k2: d[k2] for k2 in ("thread_id", "status", "status_label", "topic", "langs", "first_date",
                                          "last_date", "deadline", "n_statements")}
            ev = [{k2: (_cut(v) if k2 == "sentence" else v) for k2, v in e.items()
                   if k2 in ("rule", "statement_id", "role", "when", "date", "date_inferred", "deadline", "due",
                             "store_latest", "sentence")} for e in d["evidence"]]
            out.append(f"$ polclaims threads --db {db} --format json   # this thread; evidence sentences cut at 160 characters")
            out.append(json.dumps(keep, ensure_ascii=False)[:-1] + ', "evidence": [')
            more = len(ev) - 4
            ev = ev[:4]
            out += [" " + json.dumps(e, ensure_ascii=False) + ("," if i < len(ev) - 1 or more > 0 else "")
                    for i, e in enumerate(ev)]
            if more > 0:
                out.append(f" ... {more} more")
            out.append("]}")
        else:
            out.append(f"# {t['thread_id']}: {t['status_label']}, topic {t['topic']}, {t['n_statements']} statements")
    out += ["```", "", END]
    return "\n".join(out)


def replace(readme: Path, text: str) -> None:
    body = readme.read_text(encoding="utf-8")
    if START not in body or END not in body:
        raise SystemExit(f"{readme}: no threads-example markers ({START} ... {END})")
    head, rest = body.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + text + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m pipeline.cli.readme_threads", description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=Path("build/gold_claims.db"), help="the store to write (replaced)")
    ap.add_argument("--readme", type=Path, default=None, help="README to update between the markers (else: print)")
    ap.add_argument("--shown", type=int, default=3)
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    text = example(args.db, args.shown)
    if args.readme:
        replace(args.readme, text)
    else:
        print(text)


if __name__ == "__main__":
    main()
