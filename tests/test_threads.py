"""Promise threads: dates and datelines, linking, roles and status rules, the store tables, the CLI."""
from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from typer.testing import CliRunner

from pipeline.claims import StatementResult
from pipeline.cli.app import app
from pipeline.store.query import query_claims
from pipeline.io.records import Claim, Statement
from pipeline.store.database import ClaimStore
from pipeline.threads.dates import dateline, deadline, find_dates
from pipeline.threads.cluster import link
from pipeline.threads.link import ThreadClaim
from pipeline.threads.status import Member, order_and_roles, thread_status
from pipeline.threads.track import read_threads, track

runner = CliRunner()


# -- dates --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("28 августа 2015", ["2015-08-28"]),
    ("2015 жылдың 29 тамызы", ["2015-08-29"]),
    ("Қазақстан Республикасы Президентінің 2014 жылғы 17 сәуірдегі № 802 Жарлығы", ["2014-04-17"]),
    ("от «18» сентября 2013 года № 983", ["2013-09-18"]),
    ("Размещено: 17.01.2015 00:02 Изменено: 15.02.2015 23:31", ["2015-01-17", "2015-02-15"]),
    ("с 1 по 15 июня 2015 г.", ["2015-06-01", "2015-06-15"]),
    ("1 и 2 июля 2015 года", ["2015-07-01", "2015-07-02"]),
    ("2015 ж. 1 қаңтардан бастап", ["2015-01-01"]),
    ("31 июня 2015 года", []),                       # no such day
    ("в августе 2015 года, 2015 жылы, 2015–2017 годы", []),  # no day: not a full date
])
def test_find_dates_reads_kazakh_and_russian_dates(text, expected):
    assert [d.iso for d in find_dates(text)] == expected


def test_dateline_skips_dates_of_cited_documents():
    assert dateline("28 августа 2015 г., Астана. Президент выступил на съезде.").iso == "2015-08-28"
    assert dateline("2015 жылдың 29 тамызы, Астана. Мемлекет басшысы сөз сөйледі.").iso == "2015-08-29"
    # "of 18 September 2013 No 983" and "Law of 23 January 2001" name documents, not the page's date
    assert dateline("Согласно постановлению от 18 сентября 2013 года № 983 утвержден реестр.") is None
    assert dateline("Қазақстан Республикасының 2001 жылғы 23 қаңтардағы Заңы бойынша") is None
    assert dateline("Указ № 802 от 17 апреля 2014 г. Далее 1 мая 2014 года начат прием.").iso == "2014-05-01"
    assert dateline("x" * 500 + " 28 августа 2015") is None  # beyond the dateline window


def test_deadline_is_a_named_year_not_before_the_statement():
    import datetime as dt

    assert deadline("До 2020 года будет построено 100 школ.").due == dt.date(2020, 12, 31)
    assert deadline("2025 жылға дейін 100 мектеп салынады.").year == 2025
    assert deadline("В 2014 году было построено 10 школ, к 2018 году построим ещё 20.", dt.date(2015, 3, 1)).year == 2018
    assert deadline("В 2014 году было построено 10 школ.", dt.date(2015, 3, 1)) is None
    assert deadline("Школы будут построены.") is None


# -- linking ------------------------------------------------------------------------------------
def tc(cid, sid, lang, type_, lemma, target, sentence, topic="education", **kw) -> ThreadClaim:
    return ThreadClaim(cid, sid, lang, type_, lemma, kw.pop("actor", None), target, sentence, topic, **kw)


SCHOOLS = [
    tc("a#0", "a", "ru", "commitment", "построить", "100 новых школ в Шымкенте",
       "До 2020 года в Шымкенте будет построено 100 новых школ.", quantities=[{"value": 100, "unit": "школа"}]),
    tc("b#0", "b", "ru", "commitment", "построить", "100 новых школ в Шымкенте",
       "Аким напомнил, что в Шымкенте построят 100 новых школ до 2020 года.", quantities=[{"value": 100, "unit": "школа"}]),
    tc("c#0", "c", "ru", "decision", "выделить", "строительство новых школ в Шымкенте",
       "На строительство 100 новых школ в Шымкенте выделено 40 млрд тенге.", quantities=[{"value": 100, "unit": "школа"}]),
    # the same kind of action on another object: must stay apart
    tc("d#0", "d", "ru", "commitment", "построить", "новый аэропорт в Туркестане",
       "В Туркестане будет построен новый аэропорт.", topic="transportation"),
    tc("e#0", "e", "ru", "decision", "назначить", "Биржан Нурымбетов",
       "Вице-министром здравоохранения назначен Биржан Нурымбетов.", topic="government_operations"),
    tc("f#0", "f", "ru", "decision", "назначить", "заместителем акима Павлодарской области",
       "Назначен заместителем акима Павлодарской области.", topic="government_operations"),
]


def test_link_groups_one_commitment_and_keeps_others_apart():
    threads, links = link(SCHOOLS)
    assert threads == [["a#0", "b#0", "c#0"]]
    assert {frozenset((lk.a, lk.b)) for lk in links} >= {frozenset(("a#0", "b#0"))}
    assert all(lk.score >= 0.6 for lk in links)


def test_link_needs_same_topic_polarity_and_two_statements():
    other_topic = [SCHOOLS[0], tc("b#0", "b", "ru", "commitment", "построить", "100 новых школ в Шымкенте",
                                  SCHOOLS[1].sentence, topic="housing")]
    assert link(other_topic)[0] == []
    negative = [SCHOOLS[0], tc("b#0", "b", "ru", "commitment", "построить", "100 новых школ в Шымкенте",
                               SCHOOLS[1].sentence, polarity="negative")]
    assert link(negative)[0] == []
    one_statement = [SCHOOLS[0], tc("a#1", "a", "ru", "commitment", "построить", "100 новых школ в Шымкенте",
                                    SCHOOLS[1].sentence)]
    assert link(one_statement)[0] == []


def test_kk_ru_twins_count_once():
    kk = tc("p:kk#0", "p:kk", "kk", "commitment", "салу", "Шымкентте 100 жаңа мектеп",
            "2020 жылға дейін Шымкентте 100 жаңа мектеп салынады.", aligned_to="p:ru#0", group="p")
    ru = tc("p:ru#0", "p:ru", "ru", "commitment", "построить", "100 новых школ в Шымкенте",
            SCHOOLS[0].sentence, aligned_to="p:kk#0", group="p")
    # the twins alone are one statement said twice: no thread
    assert link([kk, ru])[0] == []
    # with a later Russian statement, the thread holds both twins and the later claim
    threads, _ = link([kk, ru, SCHOOLS[1]])
    assert threads == [["b#0", "p:kk#0", "p:ru#0"]]


# -- status rules -------------------------------------------------------------------------------
def members(*rows):
    return order_and_roles([Member(f"c{i}", f"s{i}", t, s, d, False, i) for i, (t, d, s) in enumerate(rows)])


def test_roles_follow_date_order_and_type():
    ms = members(("commitment", "2016-01-01", "Построим школы."), ("commitment", "2015-01-01", "Построим школы."),
                 ("decision", "2016-06-01", "Выделено."), ("obligation", None, "Акимат должен построить."))
    assert [(m.claim_id, m.role) for m in ms] == [("c1", "announced"), ("c0", "reaffirmed"), ("c2", "decided"),
                                                  ("c3", "obligated")]


def test_status_acted_on_when_a_decision_follows():
    ms = members(("commitment", "2015-01-01", "До 2016 года построим 100 школ."), ("decision", "2015-06-01", "Выделено."))
    st = thread_status(ms, "2018-01-01")
    assert st.status == "acted on"
    assert [e["claim_id"] for e in st.evidence] == ["c0", "c1"]


def test_status_overdue_when_the_named_year_has_passed_without_a_decision():
    ms = members(("commitment", "2015-01-01", "До 2016 года построим 100 школ."),
                 ("commitment", "2015-05-01", "Школы построим."))
    st = thread_status(ms, "2017-03-01")
    assert st.status == "overdue" and st.deadline == "2016-12-31"
    assert st.evidence[0]["due"] == "2016-12-31" and st.evidence[0]["store_latest"] == "2017-03-01"
    # the store's latest statement is still within the year: not overdue, but repeated once
    st = thread_status(ms, "2016-05-01")
    assert (st.status, st.label, st.deadline) == ("reaffirmed", "reaffirmed 1 time", "2016-12-31")
    assert st.evidence[-1]["rule"] == "deadline not yet passed"
    # a decision dated before the commitment does not act on it
    ms = members(("decision", "2014-01-01", "Выделено."), ("commitment", "2015-01-01", "До 2016 года построим."))
    assert thread_status(ms, "2018-01-01").status == "overdue"


def test_status_reaffirmed_n_times_and_open():
    ms = members(*[("commitment", f"201{i}-01-01", "Построим школы.") for i in range(4)])
    assert thread_status(ms, "2019-01-01").label == "reaffirmed 3 times"
    ms = members(("commitment", "2015-01-01", "Построим школы."), ("obligation", "2015-02-01", "Акимат должен."))
    assert thread_status(ms, "2019-01-01").status == "open"


# -- the store and the CLI ----------------------------------------------------------------------
STATEMENTS = [  # (id, date, lang, sentence, type, predicate, lemma, target, parallel)
    ("kk-2015", None, "kk", "2015 жылдың 29 тамызы, Астана. 2016 жылға дейін Шымкентте 100 жаңа мектеп салынады.",
     "commitment", "салынады", "салу", "Шымкентте 100 жаңа мектеп", "p1"),
    ("ru-2015", "2015-08-29", "ru", "До 2016 года в Шымкенте будет построено 100 новых школ.",
     "commitment", "будет построено", "построить", "100 новых школ в Шымкенте", "p1"),
    ("ru-2016", "2016-03-01", "ru", "Аким напомнил, что в Шымкенте построят 100 новых школ до 2016 года.",
     "commitment", "построят", "построить", "100 новых школ в Шымкенте", None),
    ("ru-2017", "2017-09-01", "ru", "В Туркестане будет построен новый аэропорт до 2020 года.",
     "commitment", "будет построен", "построить", "новый аэропорт в Туркестане", None),
]


@pytest.fixture()
def store_path(tmp_path):
    path = tmp_path / "t.db"
    with ClaimStore(path) as store:
        for sid, date, lang, text, type_, pred, lemma, target, par in STATEMENTS:
            p = text.index(pred)
            claim = Claim(sid, lang, text, 0, len(text), type_, pred, p, p + len(pred), lemma, target=target,
                          tense="future", topic="education", claim_id=f"{sid}#0")
            store.save(StatementResult(Statement(sid, text, date=date, source="test", parallel_id=par), [], [claim]))
        with store.transaction() as conn:
            conn.execute("UPDATE claims SET aligned_to = 'ru-2015#0' WHERE claim_id = 'kk-2015#0'")
            conn.execute("UPDATE claims SET aligned_to = 'kk-2015#0' WHERE claim_id = 'ru-2015#0'")
    return path


def test_track_stores_threads_with_status_and_inferred_dates(store_path):
    result = track(store_path)
    assert (result.threads, result.members, result.latest_date) == (1, 3, "2017-09-01")
    (t,) = read_threads(store_path)
    assert (t["status"], t["deadline"], t["langs"], t["n_statements"]) == ("overdue", "2016-12-31", "kk,ru", 2)
    rows = query_claims(store_path, thread=t["thread_id"])
    assert [(r["statement_id"], r["thread_role"], r["thread_date"]) for r in rows] == [
        ("kk-2015", "announced", "2015-08-29"), ("ru-2015", "announced", "2015-08-29"),
        ("ru-2016", "reaffirmed", "2016-03-01")]
    # a re-run replaces the threads: same ids, nothing doubled
    track(store_path)
    assert [x["thread_id"] for x in read_threads(store_path)] == [t["thread_id"]]


def test_old_store_gains_thread_tables_when_opened_for_writing(store_path):
    conn = sqlite3.connect(store_path)
    conn.executescript("DROP TABLE thread_members; DROP TABLE threads;")
    conn.close()
    with ClaimStore(store_path, create=False) as store:  # a read leaves the file alone
        assert not store.has_thread_tables()
        with pytest.raises(Exception, match="polclaims track"):
            read_threads(store)
    with ClaimStore(store_path) as store:
        assert store.has_thread_tables()
        assert store.counts()["claims"] == 4  # nothing lost


def test_reprocessing_a_statement_drops_its_thread_memberships(store_path):
    track(store_path)
    with ClaimStore(store_path) as store:
        store.save(StatementResult(Statement("ru-2016", "Пусто.", date="2016-03-01"), [], []))
        n = store.conn.execute("SELECT count(*) FROM thread_members WHERE statement_id = 'ru-2016'").fetchone()[0]
    assert n == 0


def test_cli_track_threads_and_query_thread(store_path):
    r = runner.invoke(app, ["track", "--db", str(store_path), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["threads"] == 1
    r = runner.invoke(app, ["threads", "--db", str(store_path), "--status", "overdue", "--topic", "education",
                            "--format", "csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert len(rows) == 1 and rows[0]["status"] == "overdue" and json.loads(rows[0]["evidence"])[0]["rule"] == "deadline passed"
    r = runner.invoke(app, ["threads", "--db", str(store_path), "--status", "acted_on", "--format", "jsonl"])
    assert r.exit_code == 0 and not [x for x in r.output.splitlines() if x.startswith("{")]
    assert "No threads match" in r.output  # on stderr, with the hint to run track
    r = runner.invoke(app, ["query", "--db", str(store_path), "--thread", rows[0]["thread_id"], "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    assert [json.loads(x)["thread_role"] for x in r.stdout.splitlines()] == ["announced", "announced", "reaffirmed"]


def test_cli_errors_name_the_problem(store_path, tmp_path):
    r = runner.invoke(app, ["threads", "--db", str(store_path), "--status", "late"])
    assert r.exit_code == 2 and "--status" in r.output and "overdue" in r.output
    r = runner.invoke(app, ["track", "--db", str(tmp_path / "missing.db")])
    assert r.exit_code == 2 and "no polclaims database" in r.output
    conn = sqlite3.connect(store_path)
    conn.executescript("DROP TABLE thread_members; DROP TABLE threads;")
    conn.close()
    r = runner.invoke(app, ["threads", "--db", str(store_path)])
    assert r.exit_code == 2 and "polclaims track" in r.output
    r = runner.invoke(app, ["query", "--db", str(store_path), "--thread", "T0"])
    assert r.exit_code == 2 and "polclaims track" in r.output


def test_evaluate_scores_gold_pairs_by_source_and_round(tmp_path):
    from pipeline.evaluation.threads import evaluate

    def rec(item, source, text, lemma, target, type_="commitment"):
        return {"item_id": item, "pair_id": None, "lang": "ru", "text": text, "topic": "education", "source": source,
                "claims": [{"type": type_, "predicate": lemma, "predicate_lemma": lemma, "target": target,
                            "topic": "education", "quantities": []}]}

    records = [rec("s1:1", "s1", SCHOOLS[0].sentence, "построить", SCHOOLS[0].target),
               rec("s2:1", "s2", SCHOOLS[1].sentence, "построить", SCHOOLS[1].target),
               rec("s2:2", "s2", SCHOOLS[3].sentence, "построить", SCHOOLS[3].target)]
    pair = lambda pid, a, b, same, rnd: {"pair_id": pid, "lang": "ru", "source": "+".join(sorted({a[:2], b[:2]})),  # noqa: E731
                                          "stratum": "likely", "a": {"item_id": a, "claim": 0},
                                          "b": {"item_id": b, "claim": 0}, "same": same, "round": rnd}
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in [
        pair("p1", "s1:1", "s2:1", True, 1),      # linked, same: tp
        pair("p2", "s1:1", "s2:2", True, 2),      # not linked, same: fn
        pair("p3", "s2:1", "s2:2", False, 2),     # not linked, not same: tn
    ]) + "\n", encoding="utf-8")
    scores = evaluate(path, None, records=records, linker="rules")
    lk = scores["linking"]
    assert (lk["tp"], lk["fp"], lk["fn"], lk["precision"], lk["recall"]) == (1, 0, 1, 1.0, 0.5)
    assert lk["by_source"]["s1"]["pairs"] == 2 and lk["by_source"]["s2"]["pairs"] == 3
    assert scores["by_round"]["round_2"]["recall"] == 0.0 and scores["by_round"]["round_1"]["f1"] == 1.0
    path.write_text('{"pair_id": "broken"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="pairs.jsonl:1"):
        evaluate(path, None, records=records, linker="rules")
    # the shipped linker as it is, on one round alone (the unread test of a new round)
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in [
        pair("p1", "s1:1", "s2:1", True, 1), pair("p2", "s1:1", "s2:2", True, 2),
        pair("p3", "s2:1", "s2:2", False, 2)]) + "\n", encoding="utf-8")
    shipped = evaluate(path, None, records=records, linker="shipped", rounds=[2])
    assert shipped["rounds"] == [2] and shipped["linking"]["pairs"] == 2 and shipped["rules"]["pairs"] == 2
    assert (shipped["rules"]["tp"], shipped["rules"]["fn"]) == (0, 1)     # as the rules above, on round 2 alone
    assert shipped["model"].endswith("linker.pkl") and 0 < shipped["model_threshold"] < 1
    with pytest.raises(ValueError, match="no gold pairs of round 5"):
        evaluate(path, None, records=records, linker="shipped", rounds=[5])
    with pytest.raises(ValueError, match="--round: only with --linker shipped"):
        evaluate(path, None, records=records, linker="rules", rounds=[2])


# -- the learned linker -------------------------------------------------------------------------
def test_source_folds_never_train_on_a_scored_source():
    from pipeline.threads.model import grouped_splits

    groups = [frozenset(g.split("+")) for g in ["a", "a", "b", "a+b", "c", "c+d", "d", "e", "e+a", "f"]]
    seen_test = set()
    for train, test in grouped_splits(groups, 3):
        test_sources = set().union(*(groups[i] for i in test))
        assert not any(groups[i] & test_sources for i in train)   # no training pair touches a scored source
        seen_test |= set(test.tolist())
    assert seen_test  # and something is scored


def test_threshold_is_the_best_f1_cut_and_precision_breaks_ties():
    import numpy as np

    from pipeline.threads.model import choose_threshold

    probs = np.array([0.1, 0.2, 0.4, 0.6, 0.8, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    assert choose_threshold(probs, y) == 0.6
    y2 = np.array([0, 0, 1, 0, 1, 1])  # cut 0.4 (P 0.75 R 1) beats 0.8 (P 1 R 0.67)
    assert choose_threshold(probs, y2) == 0.4
    assert choose_threshold(probs, y2, slack=0.1) == 0.8  # within 0.1 of the best: the higher cut


def _pair_data(n_sources=6, seed=0):
    import numpy as np

    from pipeline.threads.model import FEATURES

    rng = np.random.default_rng(seed)
    X, y, groups = [], [], []
    for s in range(n_sources):
        for k in range(40):
            same = k % 5 == 0
            x = rng.random(len(FEATURES)) * 0.3
            x[FEATURES.index("sentence")] = rng.uniform(0.5, 1.0) if same else rng.uniform(0.0, 0.6)
            x[FEATURES.index("target")] = rng.uniform(0.6, 1.0) if same else rng.uniform(0.0, 0.7)
            X.append(x)
            y.append(int(same))
            groups.append(frozenset({f"s{s}"}))
    return np.array(X), np.array(y), groups


def test_link_model_is_a_picklable_estimator_with_a_threshold_from_its_training_folds():
    import pickle

    import numpy as np

    from pipeline.threads.model import LinkModel

    X, y, groups = _pair_data()
    m = LinkModel().fit(X, y, groups)
    assert 0 < m.threshold < 1 and m.inner_pairs_ > 0 and m.merge_mean == pytest.approx(0.7 * m.threshold)
    p = m.predict_proba(X)
    assert p.shape == (len(y), 2) and np.allclose(p.sum(axis=1), 1)
    assert ((m.predict(X) == y).mean()) > 0.9
    again = pickle.loads(pickle.dumps(m))
    assert np.array_equal(again.predict(X), m.predict(X)) and again.threshold == m.threshold
    assert m.weights()["sentence"] > 0


def test_shipped_linker_links_one_commitment_and_keeps_others_apart():
    from pipeline import config
    from pipeline.threads.model import _load

    path = config.resolve_path("models/threads/linker.pkl")
    if not path.is_file():
        pytest.skip("no models/threads/linker.pkl: build it with `make train-threads`")
    m = _load(str(path), path.stat().st_mtime)
    threads, links = link(SCHOOLS, model=m)
    # the repeated promise is one thread; the airport and the two appointments stay out of it
    assert threads and threads[0][:2] == ["a#0", "b#0"]
    assert not any({"d#0", "e#0", "f#0"} & set(t) for t in threads)
    assert links and all(lk.score >= m.threshold for lk in links)


def test_heldout_protocol_fits_without_the_scored_sources(monkeypatch):
    from pipeline.evaluation import threads as ev
    from pipeline.threads import model as M

    def rec(item, source, text, lemma, target):
        return {"item_id": item, "pair_id": None, "lang": "ru", "text": text, "topic": "education", "source": source,
                "claims": [{"type": "commitment", "predicate": lemma, "predicate_lemma": lemma, "target": target,
                            "topic": "education", "quantities": []}]}

    records = [rec(f"{src}:{k}", src, s.sentence, s.predicate_lemma, s.target)
               for src in ("s1", "s2", "s3", "s4") for k, s in enumerate(SCHOOLS[:4])]
    pairs = []
    for src in ("s1", "s2", "s3", "s4"):
        for a, b, same in ((0, 1, True), (0, 3, False), (1, 3, False), (2, 3, False)):
            pairs.append({"pair_id": f"{src}-{a}{b}", "source": src, "a": {"item_id": f"{src}:{a}", "claim": 0},
                          "b": {"item_id": f"{src}:{b}", "claim": 0}, "same": same})
    pairs.append({"pair_id": "x", "source": "s1+s2", "a": {"item_id": "s1:0", "claim": 0},
                  "b": {"item_id": "s2:1", "claim": 0}, "same": True})
    fitted_on = []
    real = M.fit_gold

    def spy(gold, rows=None):
        fitted_on.append({s for r in rows for s in gold["groups"][r]})
        return real(gold, rows)

    monkeypatch.setattr(M, "fit_gold", spy)
    held = ev.heldout_learned(ev.gold_claims(records), pairs)
    assert held["folds"] == 5 and len(fitted_on) == 5
    # the fold scoring s1+s2 trained on s3 and s4 only; each single-source fold never saw its source
    assert {"s3", "s4"} in fitted_on
    assert all(len(f) == 3 for f in fitted_on if f != {"s3", "s4"})
    assert len(held["threads_ab"]) == len(pairs)


# -- the README's example threads: generated, and up to date ------------------------------------
def test_readme_example_is_replaced_between_its_markers(tmp_path):
    from pipeline.cli.readme_threads import END, START, replace

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold\n{END}\nrest\n", encoding="utf-8")
    replace(readme, f"{START}\nnew\n{END}")
    assert readme.read_text(encoding="utf-8") == f"intro\n{START}\nnew\n{END}\nrest\n"
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="markers"):
        replace(readme, "x")


def test_readme_example_threads_are_what_the_command_writes(tmp_path):
    from pathlib import Path

    from pipeline.config import shared_data_dir
    from pipeline.cli.readme_threads import END, START, example

    if not (shared_data_dir() / "parallel_kk_ru").exists():
        pytest.skip("../shared/data is absent: the example threads come from the claims corpus's texts")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    shown = readme.split(START, 1)[1].split(END, 1)[0]
    db = Path("build/gold_claims.db")  # the name the README prints
    made = example(tmp_path / db.name).replace(str(tmp_path / db.name), str(db))
    assert START + shown + END == made, "README threads example is stale: run `make readme-threads`"
    assert ",kk," in shown and ",ru," in shown and '"status"' in shown and '"evidence"' in shown


def test_settings_are_chosen_on_the_training_pairs_inner_folds():
    from pipeline.threads.model import candidates, new_model, select_and_fit

    X, y, groups = _pair_data()
    settings = candidates()
    assert len(settings) >= 2
    chosen = select_and_fit(X, y, groups)
    scores = [new_model(f, c).fit(X, y, groups).inner_score_ for f, c in settings]
    assert chosen.inner_score_ == max(scores)
    assert (tuple(chosen.features), chosen.C) == settings[scores.index(max(scores))]
