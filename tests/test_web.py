"""`polclaims serve` through Datasette's test client: the counts, search, export, claim page and
safety an analyst relies on, checked against `polclaims query` on the same store."""
from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import re
import sqlite3
import urllib.parse
from collections import Counter

import pytest
from markupsafe import escape as escape_html
from typer.testing import CliRunner

from pipeline.claims import StatementResult
from pipeline.store.query import query_claims
from pipeline.io.records import Claim, Sentence, Statement
from pipeline.store.database import CLAIM_COLUMNS, STATEMENT_COLUMNS, ClaimStore, normalize_date

datasette = pytest.importorskip("datasette", reason="datasette is not installed (pip install -e .)")

from pipeline.web import NotAStore, check_store, make_datasette  # noqa: E402
from pipeline.web.metadata import CLAIM_DOCS, STATEMENT_DOCS  # noqa: E402
from pipeline.web.plugin import highlight, plain_words  # noqa: E402

SCRIPT = "<script>window.pcInjected = 1</script>"
# (sentence, predicate, claim fields); one claim per sentence.
KK = [
    ("Біз ауылдық әкімдіктерге қосымша өкілеттіктер береміз.", "береміз",
     dict(type="commitment", predicate_lemma="беру", actor="Біз", actor_kind="speaker", tense="present",
          topic="government_operations", aligned_to="ru-1:0")),
    ("Барлығы 2533 әкім сайланатын болады.", "сайланатын болады",
     dict(type="commitment", predicate_lemma="сайлау", tense="future", topic="government_operations",
          quantities=[{"text": "2533", "value": 2533, "unit": None}], aligned_to="ru-1:1")),
    ("Әкімдерді халықтың өзі сайлауы қажет.", "сайлауы қажет",
     dict(type="obligation", predicate_lemma="сайлау", topic="government_operations")),
]
RU = [
    ("Мы наделяем сельские акиматы дополнительными полномочиями.", "наделяем",
     dict(type="commitment", predicate_lemma="наделять", actor="Мы", actor_kind="speaker",
          topic="government_operations", aligned_to="kk-1:0")),
    ("Всего будет избрано 2533 акимов.", "будет избрано",
     dict(type="commitment", predicate_lemma="избрать", tense="future", topic="government_operations",
          quantities=[{"text": "2533", "value": 2533, "unit": None}], aligned_to="kk-1:1")),
    ("Децентрализация не должна приводить к ослаблению управления.", "не должна приводить",
     dict(type="obligation", predicate_lemma="приводить", polarity="negative", topic="government_operations")),
]
RU2 = [
    ("Правительство должно обеспечить 50 городов чистой водой.", "должно обеспечить",
     dict(type="obligation", predicate_lemma="обеспечить", actor="Правительство", actor_kind="government",
          topic="environment", quantities=[{"text": "50 городов", "value": 50, "unit": "город"}])),
    (f"Правительство не допустит {SCRIPT} роста цен.", "не допустит",
     dict(type="commitment", predicate_lemma="допустить", actor="Правительство", actor_kind="government",
          polarity="negative", tense="future", topic="<b>macro</b>")),
]


def build(sid, lang, items, **meta) -> StatementResult:
    text = " ".join(s for s, _, _ in items)
    st = Statement(id=sid, text=text, **meta)
    sents, claims = [], []
    for i, (sent, pred, kw) in enumerate(items):
        start = text.index(sent)
        p = start + sent.index(pred)
        sents.append(Sentence(sid, i, start, start + len(sent), sent, lang, 0))
        claims.append(Claim(statement_id=sid, lang=lang, sentence=sent, char_start=start, char_end=start + len(sent),
                            predicate=pred, predicate_start=p, predicate_end=p + len(pred), claim_id=f"{sid}:{i}",
                            sentence_index=i, pipeline_version="t",
                            topics=[{"label": kw.get("topic"), "score": 0.7}, {"label": "health", "score": 0.1}],
                            **kw))
    return StatementResult(st, sents, claims)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "claims.db"
    with ClaimStore(path) as store:
        store.save(build("kk-1", "kk", KK, speaker="Қасым-Жомарт Тоқаев", date="2019-06-12", source="akorda.kz"))
        store.save(build("ru-1", "ru", RU, speaker="Касым-Жомарт Токаев", date="2019-06-12", source="akorda.kz"))
        store.save(build("ru-2", "ru", RU2, speaker="Аскар Мамин", date="15.01.2020", source="gov.kz",
                         title="<img src=x onerror=window.pcInjected=2>"))
    return path


@pytest.fixture(scope="module")
def app(db):
    loop = asyncio.new_event_loop()
    ds = make_datasette(db)

    def get(url: str):
        return loop.run_until_complete(ds.client.get(url))

    yield get
    loop.close()


def q(value: str) -> str:
    return urllib.parse.quote(value)


def facet_counts(payload: dict, name: str) -> dict:
    return {r["value"]: r["count"] for r in payload["facet_results"][name]["results"]}


def test_every_column_of_the_claim_record_and_the_store_is_described(db):
    fields = {f.name for f in dataclasses.fields(Claim)}
    conn = sqlite3.connect(db)
    claim_cols = {r[1] for r in conn.execute("PRAGMA table_info(claims)")}
    statement_cols = {r[1] for r in conn.execute("PRAGMA table_info(statements)")}
    conn.close()
    assert fields <= set(CLAIM_DOCS)
    assert claim_cols == set(CLAIM_DOCS) == set(CLAIM_COLUMNS) | {"has_quantity"}
    assert statement_cols == set(STATEMENT_DOCS) == set(STATEMENT_COLUMNS)


@pytest.mark.parametrize("filters", [{}, {"type": "commitment"}, {"lang": "ru", "polarity": "negative"}])
def test_facet_counts_equal_query_counts(app, db, filters):
    r = app("/polclaims/claims.json?" + urllib.parse.urlencode(filters))
    assert r.status_code == 200
    payload = r.json()
    rows = query_claims(db, **filters)
    assert payload["filtered_table_rows_count"] == len(rows)
    for col in ("type", "lang", "actor_kind", "topic", "polarity", "tense"):
        assert facet_counts(payload, col) == dict(Counter(row[col] for row in rows if row[col] is not None)), col
    assert facet_counts(payload, "speaker") == dict(Counter(row["speaker"] for row in rows))
    years = Counter(normalize_date(row["date"])[:4] for row in rows if normalize_date(row["date"]))
    assert facet_counts(payload, "year") == dict(years)
    assert facet_counts(payload, "source") == dict(Counter(row["source"] for row in rows))


def test_statement_facet_filters_like_query(app, db):
    url = "/polclaims/claims.json?_speaker=" + q("Аскар Мамин") + "&_year=2020&_shape=objects"
    payload = app(url).json()
    assert sorted(r["claim_id"] for r in payload["rows"]) == \
        sorted(r["claim_id"] for r in query_claims(db, speaker="Аскар Мамин", date_from="2020", date_to="2020"))
    assert payload["filtered_table_rows_count"] == 2
    # the facet's own link selects and deselects the value
    page = app("/polclaims/claims.json?_source=akorda.kz").json()
    source = page["facet_results"]["source"]["results"]
    assert [(v["value"], v["count"], v["selected"]) for v in source] == [("akorda.kz", 6, True)]
    assert "_source" not in source[0]["toggle_url"]


@pytest.mark.parametrize("search", ["әкім*", "ӘКІМ*", "әкім", '"2533 әкім"', "сайла* OR наделяем", "Правительств*"])
def test_search_matches_query_search(app, db, search):
    payload = app(f"/polclaims/claims.json?_shape=objects&_size=max&_search={q(search)}").json()
    expected = [r["claim_id"] for r in query_claims(db, search=search)]
    assert expected, search
    assert sorted(r["claim_id"] for r in payload["rows"]) == sorted(expected)


def test_search_finds_kazakh_inflected_forms(app):
    payload = app(f"/polclaims/claims.json?_shape=objects&_search={q('әкім*')}").json()
    sentences = " ".join(r["sentence"] for r in payload["rows"])
    # әкімдіктерге (dative plural of the office), әкім (bare), Әкімдерді (accusative plural, capital)
    for form in ("әкімдіктерге", "2533 әкім", "Әкімдерді"):
        assert form in sentences
    assert all(r["lang"] == "kk" for r in payload["rows"])  # акимов (Russian) is a different word
    bare = app(f"/polclaims/claims.json?_shape=objects&_search={q('әкім')}").json()
    assert [r["claim_id"] for r in bare["rows"]] == ["kk-1:1"]  # without * only the word itself


def test_search_with_a_facet_narrows(app, db):
    payload = app(f"/polclaims/claims.json?_shape=objects&type=obligation&_search={q('әкім*')}").json()
    assert [r["claim_id"] for r in payload["rows"]] == \
        [r["claim_id"] for r in query_claims(db, search="әкім*", type="obligation")] == ["kk-1:2"]


def test_search_that_is_not_fts_syntax_searches_the_words(app):
    assert plain_words('"әкім') == '"әкім"'
    assert plain_words("өзін-өзі әкім*") == '"өзін-өзі" "әкім"*'
    r = app(f"/polclaims/claims.json?_shape=objects&_search={q('Қасым-Жомарт')}")
    assert r.status_code == 200
    r = app(f"/polclaims/claims.json?_shape=objects&_search={q(chr(34) + 'наделяем')}")
    assert r.status_code == 200 and [x["claim_id"] for x in r.json()["rows"]] == ["ru-1:0"]


def test_csv_export_is_valid_and_complete(app, db):
    r = app("/polclaims/claims.csv?_size=max&type=commitment")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    expected = query_claims(db, type="commitment")
    assert sorted(x["claim_id"] for x in rows) == sorted(x["claim_id"] for x in expected)
    by_id = {x["claim_id"]: x for x in rows}
    assert by_id["kk-1:0"]["sentence"] == KK[0][0]
    assert json.loads(by_id["kk-1:1"]["quantities"])[0]["value"] == 2533
    assert by_id["ru-2:1"]["sentence"].count(SCRIPT) == 1  # CSV keeps the text as written
    # the whole table, streamed
    streamed = list(csv.DictReader(io.StringIO(app("/polclaims/claims.csv?_stream=on").text)))
    assert len(streamed) == len(query_claims(db))


def test_json_api_shapes(app):
    arr = app("/polclaims/claims.json?_shape=array&lang=kk").json()
    assert [r["claim_id"] for r in arr] == ["kk-1:0", "kk-1:1", "kk-1:2"]
    one = app("/polclaims/claims/kk-1~3A0.json?_shape=objects").json()
    assert one["rows"][0]["predicate"] == "береміз"


def test_claim_page_highlights_and_shows_the_twin(app):
    r = app("/polclaims/claims/kk-1~3A0")
    assert r.status_code == 200
    html = r.text
    assert '<mark class="pc-predicate">береміз</mark>' in html  # in the sentence and the statement
    assert '<mark class="pc-predicate">наделяем</mark>' in html  # the aligned Russian twin
    assert "/polclaims/claims/ru-1~3A0" in html
    assert "government_operations 0.70" in html
    # the statement with the sentence marked, the predicate inside it
    assert '<mark class="pc-sentence">Біз ауылдық әкімдіктерге қосымша өкілеттіктер </mark>' in html
    no_twin = app("/polclaims/claims/kk-1~3A2").text
    assert "No claim in the other language is aligned" in no_twin
    assert app("/polclaims/claims/no-such-claim").status_code == 404


def test_every_text_is_escaped(app):
    pages = [app("/polclaims/claims/ru-2~3A1").text, app("/polclaims/claims?lang=ru").text,
             app(f"/polclaims/claims?_search={q('допустит')}").text, app("/polclaims/statements/ru-2").text,
             app("/polclaims/claims_per_topic_month").text, app("/polclaims/negative_obligations").text,
             app("/polclaims/claims?_facet=topic").text]
    for html in pages:
        assert "<script>window.pcInjected" not in html
        assert "<img src=x" not in html and "<b>macro</b>" not in html
    assert "&lt;script&gt;window.pcInjected = 1&lt;/script&gt;" in pages[0]
    assert "&lt;b&gt;macro&lt;/b&gt;" in pages[4]  # the chart's legend
    assert "&lt;img src=x onerror=window.pcInjected=2&gt;" in pages[0]  # statement title


def test_highlight_escapes_and_ignores_bad_offsets():
    assert highlight("a <b> c", (0, 7), (2, 5)) == \
        '<mark class="pc-sentence">a </mark><mark class="pc-sentence"><mark class="pc-predicate">&lt;b&gt;</mark></mark>' \
        '<mark class="pc-sentence"> c</mark>'
    assert highlight("abc", None, (2, 9)) == "abc"  # beyond the text: no mark, no error
    assert highlight("abc", (0, 1), (1, 2)) == '<mark class="pc-sentence">a</mark>bc'  # outside the sentence


def test_arbitrary_sql_is_off_by_default(app, db):
    assert app("/polclaims.json?sql=" + q("select count(*) from claims")).status_code == 403
    assert app("/polclaims/claims.json?_where=" + q("1=1")).status_code == 403
    loop = asyncio.new_event_loop()
    open_ds = make_datasette(db, allow_sql=True)
    r = loop.run_until_complete(open_ds.client.get("/polclaims.json?_shape=array&sql=" + q("select count(*) as n from claims")))
    loop.close()
    assert r.status_code == 200 and r.json() == [{"n": len(query_claims(db))}]


def test_canned_queries(app, db):
    pairs = app("/polclaims/aligned_pairs.json?_shape=array").json()
    aligned = query_claims(db, aligned=True)
    assert [(p["kk_claim_id"], p["ru_claim_id"]) for p in pairs] == [(a["kk_claim_id"], a["ru_claim_id"]) for a in aligned]
    assert '<a href="/polclaims/claims/kk-1~3A0">kk-1:0</a>' in app("/polclaims/aligned_pairs").text
    gov = app("/polclaims/actor_commitments.json?_shape=array&actor=" + q("ПРАВИТЕЛЬСТВ")).json()
    assert [r["claim_id"] for r in gov] == [r["claim_id"] for r in query_claims(db, actor="правительств", type="commitment")]
    quant = app("/polclaims/claims_with_quantities.json?_shape=array").json()
    assert sorted(r["claim_id"] for r in quant) == sorted(r["claim_id"] for r in query_claims(db, has_quantity=True))
    neg = app("/polclaims/negative_obligations.json?_shape=array").json()
    assert [r["claim_id"] for r in neg] == ["ru-1:2"]
    per_month = app("/polclaims/claims_per_topic_month.json?_shape=array").json()
    assert sum(r["claims"] for r in per_month) == len(query_claims(db))
    assert {(r["month"], r["topic"]) for r in per_month} >= {("2019-06", "government_operations"), ("2020-01", "environment")}
    chart = app("/polclaims/claims_per_topic_month").text
    assert chart.count('class="pc-bar"') == len(per_month)  # one bar segment per (month, topic)


def test_store_is_opened_read_only_and_other_files_refused(db, tmp_path, app):
    before = (db.stat().st_mtime_ns, db.read_bytes())
    app("/polclaims/claims?_search=" + q("әкім*"))
    assert (db.stat().st_mtime_ns, db.read_bytes()) == before
    text = tmp_path / "notes.txt"
    text.write_text("not a database", encoding="utf-8")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for path, message in ((tmp_path / "missing.db", "no polclaims database"), (text, "not a polclaims database"),
                          (other, "not a polclaims store")):
        with pytest.raises(NotAStore, match=message):
            check_store(path)
    assert not (tmp_path / "missing.db").exists()


def test_cli_serve_refuses_a_missing_store(tmp_path):
    from pipeline.cli.app import app as cli

    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "nope.db")])
    assert result.exit_code == 2
    assert "no polclaims database" in result.output
    assert "--allow-sql" in CliRunner().invoke(cli, ["serve", "--help"]).output


def test_the_reference_statement_after_make_run(tmp_path):
    """What a new user gets from `make run` then `make serve`: every stored claim and kk<->ru
    pair of the bundled statement findable, readable (claim page) and exportable."""
    from pathlib import Path

    from pipeline.cli.app import app as cli

    sample = Path(__file__).resolve().parents[1] / "data" / "samples" / "decentralization-statement.txt"
    store = tmp_path / "sample.db"
    res = CliRunner().invoke(cli, ["process", str(sample), "--out", str(tmp_path / "c.jsonl"), "--db", str(store)])
    assert res.exit_code == 0, res.output
    claims, pairs = query_claims(store), query_claims(store, aligned=True)
    assert len(claims) >= 20 and len(pairs) >= 8  # the extractor's current recall: README, *Claims*
    loop = asyncio.new_event_loop()
    ds = make_datasette(store)

    def get(url):
        return loop.run_until_complete(ds.client.get(url))

    page = get("/polclaims/claims.json?_size=max&_shape=objects").json()
    assert page["filtered_table_rows_count"] == len(claims)
    assert sorted(r["claim_id"] for r in page["rows"]) == sorted(c["claim_id"] for c in claims)
    shown_pairs = get("/polclaims/aligned_pairs.json?_shape=array&_size=max").json()
    assert [(p["kk_claim_id"], p["ru_claim_id"]) for p in shown_pairs] == \
        [(p["kk_claim_id"], p["ru_claim_id"]) for p in pairs]
    exported = list(csv.DictReader(io.StringIO(get("/polclaims/claims.csv?_stream=on").text)))
    assert len(exported) == len(claims)
    for c in claims:
        html = get(f"/polclaims/claims/{c['claim_id']}").text
        assert f'<mark class="pc-predicate">{escape_html(c["predicate"])}</mark>' in html, c["claim_id"]
    for p in pairs:
        html = get(f"/polclaims/claims/{p['kk_claim_id']}").text
        assert f'<mark class="pc-predicate">{escape_html(p["ru_predicate"])}</mark>' in html  # the twin beside it
    loop.close()


def test_bench_store_generator_writes_a_valid_store(tmp_path):
    """The `make bench` store: the store's own schema, claims whose offsets hold, symmetric
    kk<->ru twins, searchable (a small one here; the bench makes a million)."""
    from pipeline.benchmarks.serve import generate_store

    path = tmp_path / "gen.db"
    info = generate_store(path, 250, claims_per_statement=10)
    assert info["claims"] == 250 and info["statements"] == 25
    with ClaimStore(path, create=False) as store:
        assert store.counts()["claims"] == 250
        texts = dict(store.conn.execute("SELECT id, text FROM statements"))
        rows = store.conn.execute("SELECT claim_id, statement_id, sentence, char_start, char_end, predicate, "
                                  "predicate_start, predicate_end, aligned_to, lang FROM claims").fetchall()
    by_id = {r[0]: r for r in rows}
    for cid, sid, sent, a, b, pred, ps, pe, twin, lang in rows:
        assert texts[sid][a:b] == sent and texts[sid][ps:pe] == pred
        if twin:
            assert by_id[twin][8] == cid and by_id[twin][9] != lang
    word = "әкім*"
    expected = query_claims(path, search=word)
    loop = asyncio.new_event_loop()
    payload = loop.run_until_complete(make_datasette(path).client.get(
        f"/polclaims/claims.json?_size=max&_shape=objects&_search={q(word)}")).json()
    loop.close()
    assert expected and sorted(r["claim_id"] for r in payload["rows"]) == sorted(r["claim_id"] for r in expected)


# -- in a real browser -----------------------------------------------------------------------
# Headless Chromium (Debian's `chromium` + `chromium-driver`, which `make test` installs when it
# runs as root) driven by Selenium against `polclaims serve` in a child process. Screenshots go
# to build/screenshots/web/ for a person to look at.

def _browser_or_skip():
    import shutil

    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("headless Chromium is not installed: `apt-get install chromium chromium-driver` "
                    "(make test does this when run as root)")
    return webdriver, chromium, driver


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serving(db):
    """`polclaims serve` on `db` in a subprocess, as a user starts it; yields its base URL."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli.app", "serve", "--db", str(db), "--port", str(port)],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONPATH=str(root)))
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"polclaims serve did not start: {proc.stdout.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.3)
    yield base
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(db):
    yield from _serving(db)


@pytest.fixture(scope="module")
def browser():
    webdriver, chromium, driver_path = _browser_or_skip()
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=en"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_in_the_browser_facet_search_claim_page(server, browser, db):
    from pathlib import Path

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    shots = Path(__file__).resolve().parents[1] / "build" / "screenshots" / "web"
    shots.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, 30)
    total = len(query_claims(db))

    browser.get(server + "/polclaims/claims")
    heading = browser.find_element(By.CSS_SELECTOR, ".content h3").text
    assert heading.startswith(f"{total} rows"), heading
    browser.save_screenshot(str(shots / "1-claims.png"))

    # a facet: type = commitment
    browser.find_element(By.CSS_SELECTOR, '#facet-type a[href*="type=commitment"]').click()
    wait.until(EC.url_contains("type=commitment"))
    n_commit = len(query_claims(db, type="commitment"))
    assert browser.find_element(By.CSS_SELECTOR, ".content h3").text.startswith(f"{n_commit} rows")

    # full-text search, typed into the search box
    box = browser.find_element(By.ID, "_search")
    box.send_keys("әкім*", Keys.ENTER)
    wait.until(EC.url_contains("_search="))
    expected = sorted(r["claim_id"] for r in query_claims(db, type="commitment", search="әкім*"))
    shown = sorted(a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.col-claim_id a"))
    assert shown == expected == ["kk-1:0", "kk-1:1"]
    assert re.search(r"type(__exact)?=commitment", browser.current_url)  # the facet stays selected
    marks = browser.find_elements(By.CSS_SELECTOR, "td.col-sentence mark.pc-predicate")
    assert sorted(m.text for m in marks) == ["береміз", "сайланатын болады"]
    browser.save_screenshot(str(shots / "2-facet-and-search.png"))

    # open a claim: the predicate is highlighted in the statement and the twin is beside it
    browser.find_element(By.LINK_TEXT, "kk-1:0").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#pc-statement")))
    in_statement = browser.find_element(By.CSS_SELECTOR, "#pc-statement mark.pc-sentence mark.pc-predicate")
    assert in_statement.text == "береміз" and in_statement.is_displayed()
    background = in_statement.value_of_css_property("background-color")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
    twin = browser.find_element(By.CSS_SELECTOR, "section.pc-claim-ru mark.pc-predicate")
    assert twin.text == "наделяем"
    browser.save_screenshot(str(shots / "3-claim.png"))

    # a statement holding <script>: shown as text, never run
    browser.get(server + "/polclaims/claims/ru-2~3A1")
    assert browser.execute_script("return window.pcInjected === undefined")
    assert SCRIPT in browser.find_element(By.CSS_SELECTOR, ".pc-sentence-text").text
    browser.save_screenshot(str(shots / "4-script-as-text.png"))

    # the chart is a picture with a bar per (month, topic)
    browser.get(server + "/polclaims/claims_per_topic_month")
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.pc-chart rect.pc-bar")
    assert len(bars) == 3 and all(b.size["height"] > 0 for b in bars)
    browser.save_screenshot(str(shots / "5-chart.png"))


# -- promise threads: the threads list and a thread's page ----------------------------------------
# One promise on three dates: announced in Kazakh and Russian (a parallel pair, 2015), repeated
# on a page dated only by its dateline (2016), acted on by a decision (2017); and an unrelated
# promise (never in the thread).
THREAD_STATEMENTS = [
    ("kk-2015", "2015-08-29", "kk", "2018 жылға дейін Шымкентте 100 жаңа мектеп салынады.", "commitment",
     "салынады", "салу", "Шымкентте 100 жаңа мектеп", "p2015", "ru-2015#0"),
    ("ru-2015", "2015-08-29", "ru", "До 2018 года в Шымкенте будет построено 100 новых школ.", "commitment",
     "будет построено", "построить", "100 новых школ в Шымкенте", "p2015", "kk-2015#0"),
    ("ru-2016", None, "ru", "12 мая 2016 года. Аким напомнил, что в Шымкенте построят 100 новых школ до 2018 года.",
     "commitment", "построят", "построить", "100 новых школ в Шымкенте", None, None),
    ("ru-2017", "2017-02-01", "ru", "На 100 новых школ в Шымкенте до 2018 года выделено 40 млрд тенге.",
     "decision", "выделено", "выделить", "100 новых школ в Шымкенте", None, None),
    ("ru-air", "2017-03-01", "ru", "В Туркестане будет построен новый аэропорт.", "commitment",
     "будет построен", "построить", "новый аэропорт в Туркестане", None, None),
]


@pytest.fixture(scope="module")
def thread_db(tmp_path_factory):
    from pipeline.threads.track import track

    path = tmp_path_factory.mktemp("web-threads") / "threads.db"
    with ClaimStore(path) as store:
        for sid, date, lang, text, type_, pred, lemma, target, par, twin in THREAD_STATEMENTS:
            p = text.index(pred)
            s = text.index("Аким") if sid == "ru-2016" else 0  # the dateline is not the claim's sentence
            q = [{"text": "100", "value": 100, "unit": "мектеп" if lang == "kk" else "школа"}] if "100" in text else []
            claim = Claim(sid, lang, text[s:], s, len(text), type_, pred, p, p + len(pred), lemma, target=target,
                          tense="future", topic="education", quantities=q, claim_id=f"{sid}#0")
            store.save(StatementResult(Statement(sid, text, date=date, source="test.kz", parallel_id=par,
                                                 title=f"Statement {sid}"), [], [claim]))
        with store.transaction() as conn:
            conn.executemany("UPDATE claims SET aligned_to = ? WHERE claim_id = ?",
                             [(twin, f"{row[0]}#0") for row in THREAD_STATEMENTS for twin in [row[9]] if twin])
    track(path, model=None)  # the rule score: the page is under test here, not the learned linker
    return path


@pytest.fixture(scope="module")
def thread_app(thread_db):
    loop = asyncio.new_event_loop()
    ds = make_datasette(thread_db)
    yield lambda url: loop.run_until_complete(ds.client.get(url))
    loop.close()


def _the_thread(thread_db) -> dict:
    from pipeline.threads.track import read_threads

    (t,) = read_threads(thread_db)
    return t


def test_threads_list_filters_by_status_and_topic(thread_app, thread_db):
    t = _the_thread(thread_db)
    assert t["status"] == "acted on" and t["n_statements"] == 3
    rows = thread_app("/polclaims/threads.json?_shape=array&status=acted+on&topic=education").json()
    assert [r["thread_id"] for r in rows] == [t["thread_id"]]
    assert thread_app("/polclaims/threads.json?_shape=array&status=overdue").json() == []
    page = thread_app("/polclaims/threads?topic=education").text
    assert 'id="facet-status"' in page and 'id="facet-topic"' in page
    assert 'href="/polclaims/threads">Promise threads</a>' in thread_app("/").text


def test_thread_page_shows_the_timeline_status_and_evidence(thread_app, thread_db):
    t = _the_thread(thread_db)
    page = thread_app(f"/polclaims/threads/{t['thread_id']}").text
    assert 'id="pc-thread-status"' in page and "acted on" in page
    steps = re.findall(r'<li class="pc-step pc-role-(\w+)" data-position="(\d+)">\s*<span class="pc-when">([^<]*)', page)
    assert [(role, when.strip()) for role, _, when in steps] == [
        ("announced", "2015-08-29"), ("reaffirmed", "2016-05-12"), ("decided", "2017-02-01")]
    # the 2016 date came from the dateline: marked inferred, on that step only
    inferred = re.findall(r'data-position="(\d+)">\s*<span class="pc-when">[^<]*<span class="pc-inferred"', page)
    assert inferred == [steps[1][1]]
    # the kk-ru twins share the first step, side by side
    first = page.split('data-position="0"')[1].split("</li>")[0]
    assert "pc-member-kk" in first and "pc-member-ru" in first
    # evidence: the decision that followed, linked to its claim
    evidence = page.split('id="pc-evidence"')[1].split("</ul>")[0]
    assert "decision followed" in evidence and "/polclaims/claims/ru-2017~230" in evidence
    assert "аэропорт" not in page


def test_a_claim_of_a_thread_links_to_its_thread(thread_app, thread_db):
    t = _the_thread(thread_db)
    page = thread_app("/polclaims/claims/ru-2016~230").text
    assert f'href="/polclaims/threads/{t["thread_id"]}"' in page and "reaffirmed" in page
    assert "pc-thread-link" not in thread_app("/polclaims/claims/ru-air~230").text


@pytest.fixture(scope="module")
def thread_server(thread_db):
    yield from _serving(thread_db)


def test_in_the_browser_threads_list_to_thread_page(thread_server, browser, thread_db):
    from pathlib import Path

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    shots = Path(__file__).resolve().parents[1] / "build" / "screenshots" / "web"
    shots.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, 30)
    t = _the_thread(thread_db)

    browser.get(thread_server + "/polclaims/threads")
    browser.find_element(By.CSS_SELECTOR, '#facet-status a[href*="status=acted"]').click()
    wait.until(EC.url_contains("status=acted"))
    assert browser.find_element(By.CSS_SELECTOR, ".content h3").text.startswith("1 row")
    browser.save_screenshot(str(shots / "6-threads.png"))

    browser.find_element(By.CSS_SELECTOR, "td.col-thread_id a").click()
    wait.until(EC.presence_of_element_located((By.ID, "pc-timeline")))
    assert t["thread_id"] in browser.current_url
    status = browser.find_element(By.ID, "pc-thread-status")
    assert status.text == "acted on" and status.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    steps = browser.find_elements(By.CSS_SELECTOR, "#pc-timeline > li.pc-step")
    assert [s.find_element(By.CSS_SELECTOR, ".pc-role").text.lower() for s in steps] == ["announced", "reaffirmed", "decided"]
    assert "(inferred)" in steps[1].find_element(By.CSS_SELECTOR, ".pc-when").text
    assert all(s.is_displayed() for s in steps)
    browser.set_window_size(1280, 1600)
    browser.save_screenshot(str(shots / "7-thread.png"))
    browser.set_window_size(1280, 900)

    # from a member claim's page back to its thread
    steps[1].find_element(By.LINK_TEXT, "claim").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.pc-thread-link a")))
    browser.find_element(By.CSS_SELECTOR, "p.pc-thread-link a").click()
    wait.until(EC.presence_of_element_located((By.ID, "pc-timeline")))
