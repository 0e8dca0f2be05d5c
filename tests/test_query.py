"""Querying the store: every filter, FTS in Kazakh and Russian, aligned pairs, and the CLI."""
from __future__ import annotations

import csv
import io
import json

import pytest
import typer
from typer.testing import CliRunner

from pipeline.claims import StatementResult
from pipeline.cli.query import query
from pipeline.store.query import ALIGNED_COLUMNS, COLUMNS, query_claims
from pipeline.io.records import Claim, Sentence, Statement
from pipeline.store.database import ClaimStore

# (sentence, predicate, claim fields); every sentence holds exactly one claim here.
KK_SENTENCES = [
    ("Біз ауылдық әкімдіктерге қосымша өкілеттіктер береміз.", "береміз",
     dict(type="commitment", predicate_lemma="беру", actor="Біз", actor_kind="speaker",
          target="ауылдық әкімдіктерге", tense="present", topic="government_operations", aligned="ru-1:0")),
    ("Барлығы 2533 әкім сайланатын болады.", "сайланатын болады",
     dict(type="commitment", predicate_lemma="сайлау", actor=None, actor_kind="unspecified",
          target="2533 әкім", tense="future", topic="government_operations",
          quantities=[{"text": "2533", "value": 2533, "unit": None}], aligned="ru-1:1")),
    ("Әкімдерді халықтың өзі сайлауы қажет.", "сайлауы қажет",
     dict(type="obligation", predicate_lemma="сайлау", actor=None, actor_kind="unspecified",
          target="Әкімдерді", tense="present", topic="government_operations")),
    ("Мен Жергілікті өзін-өзі басқаруды дамыту тұжырымдамасын бекіттім.", "бекіттім",
     dict(type="decision", predicate_lemma="бекіту", actor="Мен", actor_kind="speaker",
          tense="past", topic="government_operations", aligned="ru-1:2")),
]
RU_SENTENCES = [
    ("Мы наделяем сельские акиматы дополнительными полномочиями.", "наделяем",
     dict(type="commitment", predicate_lemma="наделять", actor="Мы", actor_kind="speaker",
          target="сельские акиматы", tense="present", topic="government_operations")),
    ("Всего будет избрано 2533 акимов.", "будет избрано",
     dict(type="commitment", predicate_lemma="избрать", actor=None, actor_kind="unspecified",
          target="2533 акимов", tense="future", topic="government_operations",
          quantities=[{"text": "2533", "value": 2533, "unit": None}])),
    ("Я утвердил Концепцию развития местного самоуправления.", "утвердил",
     dict(type="decision", predicate_lemma="утвердить", actor="Я", actor_kind="speaker",
          tense="past", topic="government_operations")),
    ("Децентрализация не должна приводить к ослаблению управления.", "не должна приводить",
     dict(type="obligation", predicate_lemma="приводить", actor=None, actor_kind="unspecified",
          polarity="negative", tense="present", topic="government_operations")),
]
RU2_SENTENCES = [
    ("Правительство должно обеспечить 50 городов чистой водой.", "должно обеспечить",
     dict(type="obligation", predicate_lemma="обеспечить", actor="Правительство", actor_kind="government",
          target="50 городов", tense="present", topic="environment",
          quantities=[{"text": "50 городов", "value": 50, "unit": "город"}])),
]


def build(sid: str, lang: str, items, speaker: str, date: str | None) -> StatementResult:
    text = " ".join(s for s, _, _ in items)
    st = Statement(id=sid, text=text, speaker=speaker, date=date, source="akorda.kz")
    sents, claims = [], []
    for i, (sent, pred, kw) in enumerate(items):
        kw = dict(kw)
        start = text.index(sent)
        p = start + sent.index(pred)
        sents.append(Sentence(sid, i, start, start + len(sent), sent, lang, 0))
        claims.append(Claim(statement_id=sid, lang=lang, sentence=sent, char_start=start,
                            char_end=start + len(sent), predicate=pred, predicate_start=p,
                            predicate_end=p + len(pred), aligned_to=kw.pop("aligned", None),
                            claim_id=f"{sid}:{i}", sentence_index=i, pipeline_version="t", **kw))
        assert text[p:p + len(pred)] == pred
    return StatementResult(st, sents, claims)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "claims.db"
    with ClaimStore(path) as store:
        store.save(build("kk-1", "kk", KK_SENTENCES, "Қасым-Жомарт Тоқаев", "2019-06-12"))
        store.save(build("ru-1", "ru", RU_SENTENCES, "Касым-Жомарт Токаев", "2019-06-12"))
        store.save(build("ru-2", "ru", RU2_SENTENCES, "Аскар Мамин", "15.01.2020"))
    return path


def ids(rows) -> list[str]:
    return [r["claim_id"] for r in rows]


def test_all_claims_in_order_with_metadata(db):
    rows = query_claims(db)
    assert ids(rows) == ["kk-1:0", "kk-1:1", "kk-1:2", "kk-1:3", "ru-1:0", "ru-1:1", "ru-1:2", "ru-1:3", "ru-2:0"]
    r = rows[1]
    assert list(r) == list(COLUMNS)
    assert r["speaker"] == "Қасым-Жомарт Тоқаев" and r["date"] == "2019-06-12"
    assert r["quantities"] == [{"text": "2533", "value": 2533, "unit": None}] and r["has_quantity"] is True
    assert r["model_versions"] == {} and r["entities"] == []


@pytest.mark.parametrize("kw, expected", [
    (dict(type="decision"), ["kk-1:3", "ru-1:2"]),
    (dict(type=["commitment", "decision"], lang="ru"), ["ru-1:0", "ru-1:1", "ru-1:2"]),
    (dict(type="OBLIGATION", lang="kk"), ["kk-1:2"]),
    (dict(actor_kind="government"), ["ru-2:0"]),
    (dict(actor_kind=["speaker"], lang="kk"), ["kk-1:0", "kk-1:3"]),
    (dict(actor="правительств"), ["ru-2:0"]),  # substring, case-insensitive in Cyrillic
    (dict(actor=["БІЗ", "мен"]), ["kk-1:0", "kk-1:3"]),  # Kazakh capitals fold too
    (dict(predicate_lemma="сайлау"), ["kk-1:1", "kk-1:2"]),
    (dict(predicate_lemma=["избрать", "Утвердить"]), ["ru-1:1", "ru-1:2"]),
    (dict(topic="environment"), ["ru-2:0"]),
    (dict(lang="kk", topic="environment"), []),
    (dict(speaker="токаев"), ["ru-1:0", "ru-1:1", "ru-1:2", "ru-1:3"]),
    (dict(speaker=["Тоқаев", "мамин"]), ["kk-1:0", "kk-1:1", "kk-1:2", "kk-1:3", "ru-2:0"]),
    (dict(date_from="2020-01-01"), ["ru-2:0"]),  # "15.01.2020" is understood as a date
    (dict(date_to="2019-12-31", lang="ru"), ["ru-1:0", "ru-1:1", "ru-1:2", "ru-1:3"]),
    (dict(date_from="2019-06-12", date_to="2019-06-12", type="decision"), ["kk-1:3", "ru-1:2"]),
    (dict(date_from="2020", date_to="2020"), ["ru-2:0"]),
    (dict(date_from="2019-06-13", date_to="2020-01-14"), []),
    (dict(polarity="negative"), ["ru-1:3"]),
    (dict(polarity="affirmative", lang="ru", type="obligation"), ["ru-2:0"]),
    (dict(tense="future"), ["kk-1:1", "ru-1:1"]),
    (dict(has_quantity=True), ["kk-1:1", "ru-1:1", "ru-2:0"]),
    (dict(has_quantity=False, lang="ru", type="obligation"), ["ru-1:3"]),
    (dict(statement_id="ru-2"), ["ru-2:0"]),
    (dict(statement_id=["kk-1", "ru-2"], type="decision"), ["kk-1:3"]),
    (dict(lang="kk", limit=2), ["kk-1:0", "kk-1:1"]),
    (dict(actor="'; DROP TABLE claims; --"), []),  # values are parameters, never SQL
])
def test_filters(db, kw, expected):
    assert ids(query_claims(db, **kw)) == expected


@pytest.mark.parametrize("search, expected", [
    # Kazakh: a prefix query reaches the inflected forms of the stem, whatever the case.
    ("әкім*", ["kk-1:0", "kk-1:1", "kk-1:2"]),  # әкімдіктерге, әкім, Әкімдерді
    ("ӘКІМ*", ["kk-1:0", "kk-1:1", "kk-1:2"]),
    ("әкімдерді", ["kk-1:2"]),  # the capitalised sentence-initial "Әкімдерді"
    ("әкімдерді OR бекіттім", ["kk-1:2", "kk-1:3"]),
    ('"өзін өзі басқаруды"', ["kk-1:3"]),  # phrase across the hyphen of "өзін-өзі"
    # Kazakh letters are not folded into Russian ones: аким* is Russian only, әкім* Kazakh only.
    ("аким*", ["ru-1:0", "ru-1:1"]),  # акиматы, акимов
    # Russian: case-insensitive for Cyrillic, prefixes for inflection.
    ("АКИМАТЫ", ["ru-1:0"]),
    ("Самоуправлени*", ["ru-1:2"]),
    ('"местного самоуправления"', ["ru-1:2"]),
    ("город*", ["ru-2:0"]),
    ("мы наделяем", ["ru-1:0"]),
    ("акимов NOT избрано", []),
])
def test_full_text_search(db, search, expected):
    assert ids(query_claims(db, search=search)) == expected


def test_search_combines_with_filters(db):
    assert ids(query_claims(db, search="әкім*", type="commitment", lang="kk")) == ["kk-1:0", "kk-1:1"]
    assert ids(query_claims(db, search="әкім*", lang="ru")) == []


def test_aligned_pairs(db):
    rows = query_claims(db, aligned=True)
    assert [(r["kk_claim_id"], r["ru_claim_id"]) for r in rows] == \
        [("kk-1:0", "ru-1:0"), ("kk-1:1", "ru-1:1"), ("kk-1:3", "ru-1:2")]
    r = rows[1]
    assert list(r) == list(ALIGNED_COLUMNS)
    assert (r["kk_predicate"], r["ru_predicate"]) == ("сайланатын болады", "будет избрано")
    assert r["kk_sentence"] == "Барлығы 2533 әкім сайланатын болады."
    assert r["ru_sentence"] == "Всего будет избрано 2533 акимов."
    assert r["kk_quantities"][0]["value"] == r["ru_quantities"][0]["value"] == 2533
    assert r["ru_has_quantity"] is True and r["speaker"] == "Қасым-Жомарт Тоқаев"
    # Filters apply to the Kazakh claim; the search may match either side.
    assert [r["kk_claim_id"] for r in query_claims(db, aligned=True, type="decision")] == ["kk-1:3"]
    assert [r["kk_claim_id"] for r in query_claims(db, aligned=True, search="акиматы")] == ["kk-1:0"]
    assert [r["kk_claim_id"] for r in query_claims(db, aligned=True, search="бекіттім")] == ["kk-1:3"]


def test_query_on_an_open_store(db):
    with ClaimStore(db, create=False) as store:
        assert ids(query_claims(store, type="decision", lang="ru")) == ["ru-1:2"]


@pytest.mark.parametrize("kw, message", [
    (dict(type="comitment"), "--type: 'comitment' is not allowed; use one of commitment, obligation, decision"),
    (dict(type=["decision", "promise"]), "'promise'"),
    (dict(actor_kind="president"), "use one of speaker, government, society, other, unspecified"),
    (dict(polarity="positive"), "--polarity: 'positive' is not allowed; use one of affirmative, negative"),
    (dict(lang="en"), "--lang: 'en' is not allowed; use one of kk, ru"),
    (dict(tense="perfect"), "--tense"),
    (dict(date_from="12.06.2019"), "--from: '12.06.2019' is not an ISO date"),
    (dict(date_to="2019-13-01"), "--to: '2019-13-01' is not an ISO date"),
    (dict(date_from="2020-01-01", date_to="2019-01-01"), "is after --to"),
    (dict(search="Қасым-Жомарт"), "--search: 'Қасым-Жомарт' is not a valid full-text query"),
    (dict(search='"unclosed'), "--search"),
    (dict(search="AND OR"), "--search"),
    (dict(limit=0), "--limit"),
    (dict(aligned=True, lang="ru"), "--lang"),
])
def test_bad_values_raise_value_error(db, kw, message):
    with pytest.raises(ValueError) as e:
        query_claims(db, **kw)
    assert message in str(e.value)


def test_missing_store_is_not_created(tmp_path):
    with pytest.raises(FileNotFoundError):
        query_claims(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


# -- the CLI ---------------------------------------------------------------------------------
def make_app() -> typer.Typer:
    app = typer.Typer(add_completion=False)
    app.command("query")(query)

    @app.callback()
    def main() -> None:  # a group, as in pipeline.cli.app, so the command is called by name
        pass

    return app


runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(make_app(), ["query", *args])


def test_cli_jsonl_is_the_default_off_a_terminal(db):
    res = invoke("--db", str(db), "--type", "commitment", "--lang", "kk", "--search", "әкім*")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["claim_id"] for r in rows] == ["kk-1:0", "kk-1:1"]
    assert list(rows[0]) == list(COLUMNS)


def test_cli_json_with_columns_and_repeated_values(db):
    res = invoke("--db", str(db), "--type", "decision,obligation", "--type", "commitment",
                 "--lang", "ru", "--has-quantity", "-f", "json", "--columns", "claim_id,predicate,quantities")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [
        {"claim_id": "ru-1:1", "predicate": "будет избрано",
         "quantities": [{"text": "2533", "value": 2533, "unit": None}]},
        {"claim_id": "ru-2:0", "predicate": "должно обеспечить",
         "quantities": [{"text": "50 городов", "value": 50, "unit": "город"}]}]


def test_cli_csv(db):
    res = invoke("--db", str(db), "--no-quantity", "--polarity", "negative", "--format", "csv",
                 "--columns", "claim_id,actor,polarity,sentence")
    assert res.exit_code == 0, res.output
    table = list(csv.reader(io.StringIO(res.stdout)))
    assert table == [["claim_id", "actor", "polarity", "sentence"],
                     ["ru-1:3", "", "negative", "Децентрализация не должна приводить к ослаблению управления."]]


def test_cli_table_and_aligned(db):
    res = invoke("--db", str(db), "--actor", "ПРАВИТЕЛЬСТВ", "--from", "2020", "--format", "table")
    assert res.exit_code == 0, res.output
    assert "1 claim" in res.stdout and "ru-2" in res.stdout and "2020" in res.stdout
    res = invoke("--db", str(db), "--statement", "ru-2", "-f", "table", "--columns", "claim_id,predicate,quantities")
    assert res.exit_code == 0, res.output
    assert "должно обеспечить" in res.stdout and "50 городов" in res.stdout  # quantities as text
    res = invoke("--db", str(db), "--aligned", "--format", "jsonl", "--columns", "kk_predicate,ru_predicate")
    assert res.exit_code == 0, res.output
    assert [json.loads(x) for x in res.stdout.splitlines()] == [
        {"kk_predicate": "береміз", "ru_predicate": "наделяем"},
        {"kk_predicate": "сайланатын болады", "ru_predicate": "будет избрано"},
        {"kk_predicate": "бекіттім", "ru_predicate": "утвердил"}]
    res = invoke("--db", str(db), "--aligned", "--format", "table")
    assert res.exit_code == 0 and "ru_predicate" in res.stdout and "наделяем" in res.stdout
    res = invoke("--db", str(db), "--type", "decision", "--lemma", "нет", "--format", "table")
    assert res.exit_code == 0 and "No claims match (0 found)" in res.stderr


def test_cli_default_table_shows_topic_and_tense(db):
    res = invoke("--db", str(db), "--statement", "ru-2", "--format", "table")
    assert res.exit_code == 0, res.output
    header = res.stdout.splitlines()[2]  # title, top rule, header
    for col in ("statement_id", "type", "tense", "polarity", "predicate", "topic"):
        assert col in header, header
    assert "environment" in res.stdout


def test_cli_tense_filter(db):
    res = invoke("--db", str(db), "--tense", "future", "--columns", "claim_id,tense")
    assert res.exit_code == 0, res.output
    assert [json.loads(x) for x in res.stdout.splitlines()] == [
        {"claim_id": "kk-1:1", "tense": "future"}, {"claim_id": "ru-1:1", "tense": "future"}]
    res = invoke("--db", str(db), "--tense", "past,future", "--lang", "ru", "--columns", "claim_id")
    assert [json.loads(x)["claim_id"] for x in res.stdout.splitlines()] == ["ru-1:1", "ru-1:2"]
    res = invoke("--db", str(db), "--tense", "futur")
    assert res.exit_code == 2 and "past, present, future" in res.stderr


def test_cli_every_list_option_splits_on_commas(db):
    def claim_ids(*args):
        res = invoke("--db", str(db), *args, "--columns", "claim_id")
        assert res.exit_code == 0, res.output
        return [json.loads(x)["claim_id"] for x in res.stdout.splitlines()]

    assert claim_ids("--statement", "kk-1,ru-2", "--type", "decision,obligation") == ["kk-1:2", "kk-1:3", "ru-2:0"]
    assert claim_ids("--statement", "ru-1", "--statement", "ru-2", "--actor", "мы, правительств") == ["ru-1:0", "ru-2:0"]
    assert claim_ids("--speaker", "мамин,тоқаев", "--type", "obligation") == ["kk-1:2", "ru-2:0"]


def test_cli_unknown_topic_lists_the_labels(db):
    res = invoke("--db", str(db), "--topic", "economy")
    assert res.exit_code == 2 and res.stdout == ""
    assert "'economy' is not a topic" in res.stderr
    assert "macroeconomics" in res.stderr and "government_operations" in res.stderr  # model and store labels
    res = invoke("--db", str(db), "--topic", "environment,macroeconomics", "--columns", "claim_id")
    assert res.exit_code == 0 and [json.loads(x)["claim_id"] for x in res.stdout.splitlines()] == ["ru-2:0"]


def test_cli_empty_result_piped_prints_nothing_but_the_count(db):
    res = invoke("--db", str(db), "--type", "decision", "--lang", "ru", "--polarity", "negative")
    assert res.exit_code == 0
    assert res.stdout == ""
    assert "No claims match (0 found)" in res.stderr


def test_cli_limit_says_how_many_match_in_all(db):
    res = invoke("--db", str(db), "--limit", "2", "--columns", "claim_id")
    assert res.exit_code == 0, res.output
    assert len(res.stdout.splitlines()) == 2
    assert "9 claims match, 2 shown (--limit 2)" in res.stderr
    res = invoke("--db", str(db), "--limit", "20", "--lang", "kk", "--columns", "claim_id")
    assert len(res.stdout.splitlines()) == 4 and "4 claims match" in res.stderr and "shown" not in res.stderr
    assert query_claims(db, lang="kk", count=True) == 4


@pytest.mark.parametrize("args, message", [
    (["--type", "promise"], "--type: 'promise' is not allowed; use one of commitment, obligation, decision"),
    (["--lang", "en"], "--lang"),
    (["--from", "yesterday"], "--from"),
    (["--search", "Қасым-Жомарт"], "--search"),
    (["--format", "xml"], "--format"),
    (["--columns", "claim_id,nope"], "unknown column(s) nope"),
])
def test_cli_bad_values_exit_2(db, args, message):
    res = invoke("--db", str(db), *args)
    assert res.exit_code == 2
    assert message in res.stderr
    assert res.stdout == ""


def test_cli_missing_db(tmp_path):
    res = invoke("--db", str(tmp_path / "none.db"))
    assert res.exit_code == 2 and "no polclaims database" in res.stderr
    assert not (tmp_path / "none.db").exists()


def test_cli_help_has_examples():
    res = invoke("--help")
    assert res.exit_code == 0
    assert "polclaims query --type commitment --lang kk --search 'әкім*'" in res.stdout
    for opt in ("--has-quantity", "--no-quantity", "--aligned", "--columns", "--from", "--to", "--db"):
        assert opt in res.stdout
