"""`polclaims track`: read a store's claims, link them into threads, write ``threads`` and
``thread_members`` back (one transaction: a store holds the threads of one run, never a mix).

Dates: a statement's ``date_iso`` (its ``date`` field), else the first full date near the start of
its text (a dateline), marked inferred. "Overdue" is judged against the latest statement date in
the store, not today's date: a store of 2015 statements does not make every 2016 promise overdue.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pipeline.store.database import ClaimStore, StoreError
from pipeline.threads.dates import _patterns, dateline
from pipeline.threads.cluster import link
from pipeline.threads.link import ThreadClaim, _units
from pipeline.threads.status import Member, order_and_roles, thread_status


@dataclass
class TrackResult:
    threads: int
    members: int
    claims: int
    links: int
    by_status: dict[str, int]
    latest_date: str | None
    inferred_dates: int
    seconds: float


def statement_dates(store: ClaimStore) -> tuple[dict[str, tuple[str | None, bool]], str | None]:
    """Every statement's date (ISO, inferred?) and the latest date in the store. The pages of one
    parallel group (`parallel_id`: a kk page and its ru version) share one date: a given one if
    any page has it, else the earliest dateline of the group."""
    window = _patterns()["window"]
    dates: dict[str, tuple[str | None, bool]] = {}
    groups: dict[str, list[str]] = {}
    for sid, iso, head, group in store.conn.execute(
            "SELECT id, date_iso, substr(text, 1, ?), parallel_id FROM statements", (window,)):
        if iso:
            dates[sid] = (iso, False)
        else:
            found = dateline(head)
            dates[sid] = (found.iso, True) if found else (None, False)
        if group:
            groups.setdefault(group, []).append(sid)
    for sids in groups.values():
        if len(sids) < 2:
            continue
        known = sorted((inf, d) for d, inf in (dates[s] for s in sids) if d)
        if known:
            inferred, d = known[0]
            for s in sids:
                dates[s] = (d, inferred)
    latest = max((d for d, _ in dates.values() if d), default=None)
    return dates, latest


def load_claims(store: ClaimStore) -> list[ThreadClaim]:
    rows = store.conn.execute(
        "SELECT c.claim_id, c.statement_id, c.lang, c.type, c.predicate_lemma, c.actor, c.target, c.sentence, "
        "c.topic, c.polarity, c.quantities, c.aligned_to, s.parallel_id, s.source "
        "FROM claims c JOIN statements s ON s.id = c.statement_id ORDER BY c.claim_id")
    out = []
    for r in rows:
        try:
            q = json.loads(r[10]) if r[10] else []
        except ValueError:
            q = []
        out.append(ThreadClaim(r[0], r[1], r[2] or "", r[3] or "", r[4], r[5], r[6], r[7] or "", r[8], r[9] or "affirmative",
                               q, r[11], r[12], r[13]))
    return out


def thread_id(claim_ids: list[str]) -> str:
    """Stable while the membership is: a re-run over the same claims gives the same ids."""
    return "T" + hashlib.sha1("\n".join(sorted(claim_ids)).encode("utf-8")).hexdigest()[:10]


def build(claims: list[ThreadClaim], dates: dict[str, tuple[str | None, bool]], latest: str | None,
          progress: Callable[[], None] | None = None, model: Any = "default") -> tuple[list[dict], list[dict], int]:
    """Threads and member rows for the store (and for tests without one); `model` as for `cluster.link`."""
    groups, links = link(claims, progress, model=model)
    by_id = {c.claim_id: c for c in claims}
    best: dict[str, float] = {}
    for lk in links:
        for cid in (lk.a, lk.b):
            best[cid] = max(best.get(cid, 0.0), lk.score)
    units = _units(claims)  # twins share a unit id
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    threads, members = [], []
    for ids in groups:
        ms = []
        for cid in ids:
            c = by_id[cid]
            d, inferred = dates.get(c.statement_id, (None, False))
            ms.append(Member(cid, c.statement_id, c.type, c.sentence, d, inferred, units.get(cid, 0), c.lang))
        ms = order_and_roles(ms)
        st = thread_status(ms, latest)
        tid = thread_id(ids)
        head = ms[0]
        hc = by_id[head.claim_id]
        topics = Counter(by_id[m.claim_id].topic for m in ms if by_id[m.claim_id].topic)
        dated = [m.date for m in ms if m.date]
        threads.append({
            "thread_id": tid, "status": st.status, "status_label": st.label, "reaffirmed": st.reaffirmed,
            "topic": topics.most_common(1)[0][0] if topics else None,
            "langs": ",".join(sorted({m.lang for m in ms if m.lang})),
            "label": " ".join(x for x in (hc.predicate_lemma, hc.target) if x)[:200],
            "first_date": min(dated) if dated else None, "last_date": max(dated) if dated else None,
            "deadline": st.deadline, "n_claims": len(ms),
            "n_statements": len({by_id[m.claim_id].group or m.statement_id for m in ms}),
            "evidence": st.evidence, "built_at": now})
        for m in ms:
            members.append({"thread_id": tid, "claim_id": m.claim_id, "statement_id": m.statement_id,
                            "position": m.position, "role": m.role, "date": m.date,
                            "date_inferred": m.date_inferred, "score": best.get(m.claim_id)})
    return threads, members, len(links)


THREAD_COLUMNS = ("thread_id", "status", "status_label", "reaffirmed", "topic", "langs", "label", "first_date",
                  "last_date", "deadline", "n_claims", "n_statements", "evidence", "built_at")
MEMBER_COLUMNS = ("thread_id", "claim_id", "statement_id", "position", "role", "date", "date_inferred", "score")


def write(store: ClaimStore, threads: list[dict], members: list[dict]) -> None:
    """Replace the store's threads with these, in one transaction."""
    store.ensure_thread_tables()
    with store.transaction() as conn:
        conn.execute("DELETE FROM thread_members")
        conn.execute("DELETE FROM threads")
        conn.executemany(f"INSERT INTO threads ({', '.join(THREAD_COLUMNS)}) VALUES ({', '.join('?' * len(THREAD_COLUMNS))})",
                         [tuple(json.dumps(t[c], ensure_ascii=False) if c == "evidence" else t[c] for c in THREAD_COLUMNS)
                          for t in threads])
        conn.executemany(f"INSERT INTO thread_members ({', '.join(MEMBER_COLUMNS)}) VALUES ({', '.join('?' * len(MEMBER_COLUMNS))})",
                         [tuple(int(m[c]) if c == "date_inferred" else m[c] for c in MEMBER_COLUMNS) for m in members])


def track(db: str | Path | ClaimStore, progress: Callable[[], None] | None = None, model: Any = "default") -> TrackResult:
    """Link the claims of a store into threads and store them. Raises FileNotFoundError for a
    missing store and StoreError for a file that is not one. `model`: "default" (the shipped pair
    classifier, else the rule score), None (the rule score) or a LinkModel."""
    import time

    t0 = time.perf_counter()
    own = not isinstance(db, ClaimStore)
    store = ClaimStore(db, create=False) if own else db
    try:
        dates, latest = statement_dates(store)
        claims = load_claims(store)
        threads, members, n_links = build(claims, dates, latest, progress, model)
        write(store, threads, members)
    finally:
        if own:
            store.close()
    inferred = sum(1 for d, inf in dates.values() if inf)
    return TrackResult(len(threads), len(members), len(claims), n_links,
                       dict(Counter(t["status"] for t in threads)), latest, inferred, round(time.perf_counter() - t0, 2))


def read_threads(db: str | Path | ClaimStore, *, status=None, topic=None, lang=None, min_statements: int | None = None,
                 thread_ids=None, limit: int | None = None) -> list[dict[str, Any]]:
    """Threads of a store, filtered; `status` accepts "acted on"/"acted_on", "overdue", "reaffirmed", "open"."""
    from pipeline.threads.status import STATUSES

    def vals(v):
        if v is None:
            return []
        return [x.strip() for item in ([v] if isinstance(v, str) else v) for x in str(item).split(",") if x.strip()]

    statuses = [s.replace("_", " ").replace("-", " ").lower() for s in vals(status)]
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise ValueError(f"--status: {', '.join(map(repr, bad))} is not allowed; use one of {', '.join(STATUSES)}")
    where, params = [], []
    for col, vs in (("status", statuses), ("topic", vals(topic)), ("thread_id", vals(thread_ids))):
        if vs:
            where.append(f"{col} IN ({', '.join('?' * len(vs))})")
            params += vs
    for lg in vals(lang):
        where.append("instr(langs, ?) > 0")
        params.append(lg)
    if min_statements:
        where.append("n_statements >= ?")
        params.append(min_statements)
    sql = f"SELECT {', '.join(THREAD_COLUMNS)} FROM threads"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY n_statements DESC, first_date, thread_id"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)

    def run(store: ClaimStore):
        if not store.has_thread_tables():
            raise StoreError(f"{store.path} holds no threads yet: run `polclaims track --db {store.path}` first")
        out = []
        for r in store.conn.execute(sql, params):
            d = dict(zip(THREAD_COLUMNS, r))
            d["evidence"] = json.loads(d["evidence"]) if d["evidence"] else []
            out.append(d)
        return out

    if isinstance(db, ClaimStore):
        return run(db)
    with ClaimStore(db, create=False) as store:
        return run(store)
