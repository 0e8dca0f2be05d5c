"""The claim store: re-saving replaces rows, failures are kept, FTS stays in step, skip logic."""
from __future__ import annotations

import sqlite3
from dataclasses import fields, replace

import pytest

from pipeline.claims import StatementResult
from pipeline.io.records import Claim, Failure, Sentence, Statement
from pipeline.store.database import CLAIM_COLUMNS, ClaimStore, StoreError, content_hash, normalize_date

KK = ("Біз ауылдық әкімдіктерге қосымша өкілеттіктер береміз. "
      "Барлығы 2533 әкім сайланатын болады.")


def make_result(text: str = KK, sid: str = "kk-1") -> StatementResult:
    st = Statement(id=sid, text=text, speaker="Қасым-Жомарт Тоқаев", date="2019-06-12", origin="a.jsonl:1")
    sents, claims = [], []
    start = 0
    for i, part in enumerate(p for p in text.split(". ") if p):
        part = part if part.endswith(".") else part + "."
        s = text.index(part, start)
        sents.append(Sentence(sid, i, s, s + len(part), part, "kk", 0))
        start = s + len(part)
    for sent in sents:
        pred = sent.text.split()[-1].rstrip(".")
        p = sent.start + sent.text.rindex(pred)
        claims.append(Claim(statement_id=sid, lang="kk", sentence=sent.text, char_start=sent.start,
                            char_end=sent.end, type="commitment", predicate=pred, predicate_start=p,
                            predicate_end=p + len(pred), quantities=[{"text": "2533", "value": 2533}]
                            if "2533" in sent.text else [], claim_id=f"{sid}:c{sent.index}",
                            sentence_index=sent.index, pipeline_version="test-1",
                            model_versions={"kk": "m1"}))
    return StatementResult(st, sents, claims)


def rows(store: ClaimStore, table: str) -> int:
    return store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def fts(store: ClaimStore, q: str) -> list[str]:
    return [r[0] for r in store.conn.execute(
        "SELECT s.text FROM sentences_fts f JOIN sentences s ON s.id = f.rowid WHERE sentences_fts MATCH ?", (q,))]


def test_claim_columns_cover_every_claim_field():
    assert set(CLAIM_COLUMNS) == {f.name for f in fields(Claim)}


def test_schema_pragmas_and_roundtrip(tmp_path):
    with ClaimStore(tmp_path / "s.db") as store:
        store.save(make_result())
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        row = dict(store.conn.execute("SELECT * FROM claims WHERE claim_id = 'kk-1:c1'").fetchone())
        assert row["quantities"] == '[{"text": "2533", "value": 2533}]'
        assert row["has_quantity"] == 1 and row["model_versions"] == '{"kk": "m1"}'
        st = dict(store.conn.execute("SELECT * FROM statements").fetchone())
        assert st["content_hash"] == content_hash(make_result().statement)
        assert st["pipeline_version"] == "test-1" and st["date_iso"] == "2019-06-12"
        assert store.counts() == {"statements": 1, "sentences": 2, "claims": 2, "failures": 0,
                                  "aligned_claims": 0, "claims_by_type": {"commitment": 2},
                                  "claims_by_lang": {"kk": 2}}


def test_resave_is_idempotent_and_replaces(tmp_path):
    with ClaimStore(tmp_path / "s.db") as store:
        store.save(make_result())
        store.save(make_result())
        assert (rows(store, "statements"), rows(store, "sentences"), rows(store, "claims")) == (1, 2, 2)
        assert len(fts(store, "әкім*")) == 2
        # Re-processing with changed text and fewer claims: the old rows and FTS entries go.
        changed = make_result("Үкімет жаңа мектептер салады.")
        store.save(changed)
        assert rows(store, "sentences") == 1 and rows(store, "claims") == 1
        assert [r[0] for r in store.conn.execute("SELECT claim_id FROM claims")] == ["kk-1:c0"]
        assert fts(store, "әкім*") == [] and fts(store, "мектеп*") == ["Үкімет жаңа мектептер салады."]
        store.conn.execute("INSERT INTO sentences_fts(sentences_fts) VALUES ('integrity-check')")
        # Other statements are untouched by a re-save.
        store.save(make_result(sid="kk-2"))
        store.save(changed)
        assert rows(store, "claims") == 3 and rows(store, "statements") == 2


def test_failed_save_rolls_back_everything(tmp_path):
    with ClaimStore(tmp_path / "s.db") as store:
        store.save(make_result())
        bad = make_result()
        bad.claims[1] = replace(bad.claims[1], claim_id=bad.claims[0].claim_id)  # PK clash mid-save
        with pytest.raises(sqlite3.IntegrityError):
            store.save(bad)
        assert rows(store, "claims") == 2 and rows(store, "sentences") == 2  # old rows still there


def test_claim_of_another_statement_is_refused(tmp_path):
    res = make_result()
    res.claims[0] = replace(res.claims[0], statement_id="other")
    with ClaimStore(tmp_path / "s.db") as store, pytest.raises(ValueError, match="statement_id"):
        store.save(res)


def test_missing_claim_ids_get_stable_fallbacks(tmp_path):
    res = make_result()
    res.claims = [replace(c, claim_id="") for c in res.claims] + [replace(res.claims[0], claim_id="")]
    with ClaimStore(tmp_path / "s.db") as store:
        store.save(res)
        ids = sorted(r[0] for r in store.conn.execute("SELECT claim_id FROM claims"))
    assert len(set(ids)) == 3 and ids[0].startswith("kk-1:")


def test_claims_without_sentences_are_still_searchable(tmp_path):
    res = make_result()
    res.sentences = []
    with ClaimStore(tmp_path / "s.db") as store:
        store.save(res)
        assert rows(store, "sentences") == 2
        assert len(fts(store, "сайланатын")) == 1


def test_failures(tmp_path):
    with ClaimStore(tmp_path / "s.db") as store:
        store.save(make_result())
        res = make_result()
        failed = StatementResult(res.statement, res.sentences, res.claims,
                                 failure=Failure("kk-1", "parser crashed", "a.jsonl:1", "claims"))
        store.save(failed)
        # The statement row stays (it is known), its stale claims go, the failure is recorded.
        assert (rows(store, "statements"), rows(store, "claims"), rows(store, "sentences")) == (1, 0, 0)
        assert [(f["record_id"], f["stage"], f["reason"]) for f in store.failures()] == \
            [("kk-1", "claims", "parser crashed")]
        h = content_hash(res.statement)
        assert not store.has_current("kk-1", h, "test-1")  # failures are retried
        store.save(failed)
        assert rows(store, "failures") == 1
        store.save(res)  # a later success clears the failure
        assert rows(store, "failures") == 0 and rows(store, "claims") == 2

        # Read failures have no statement; a re-run on the same input does not duplicate them.
        store.save_failure(Failure("b.jsonl:7", "invalid JSON", "b.jsonl:7"))
        store.save_failure(Failure("b.jsonl:7", "invalid JSON", "b.jsonl:7"))
        store.save_failure(Failure("b.jsonl:8", "no text", None))
        store.save(StatementResult(None, failure=Failure("b.jsonl:9", "no id", "b.jsonl:9")))
        assert store.counts()["failures"] == 3
        assert rows(store, "statements") == 1


def test_has_current(tmp_path):
    res = make_result()
    h = content_hash(res.statement)
    with ClaimStore(tmp_path / "s.db") as store:
        assert not store.has_current("kk-1", h, "test-1")
        store.save(res)
        assert store.has_current("kk-1", h, "test-1")
        assert not store.has_current("kk-1", h, "test-2")
        assert not store.has_current("kk-1", "0" * 64, "test-1")
        store.save(res, pipeline_version="test-2")
        assert store.has_current("kk-1", h, "test-2")


def test_content_hash_sees_metadata_not_origin():
    st = make_result().statement
    assert content_hash(st) == content_hash(replace(st, origin="moved.jsonl:9"))
    assert content_hash(st) != content_hash(replace(st, date="2019-06-13"))
    assert content_hash(st) != content_hash(replace(st, text=st.text + " "))
    assert len(content_hash(st)) == 64


def test_normalize_date():
    assert normalize_date("2019-06-12") == "2019-06-12"
    assert normalize_date("2019-06-12T10:30:00+06:00") == "2019-06-12"
    assert normalize_date("12.06.2019") == "2019-06-12"
    assert normalize_date("12 июня 2019") is None and normalize_date(None) is None
    assert normalize_date("2019-02-30") is None


def test_store_persists_and_refuses_foreign_files(tmp_path):
    path = tmp_path / "s.db"
    with ClaimStore(path) as store:
        store.save(make_result())
    with ClaimStore(path, create=False) as store:
        assert store.counts()["claims"] == 2
    with pytest.raises(FileNotFoundError):
        ClaimStore(tmp_path / "nope.db", create=False)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a polclaims store"):
        ClaimStore(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        ClaimStore(junk, create=False)
