"""The claim scorer: locating gold predicates, span matching, P/R/F1 arithmetic, alignment, CLI.

A hand-made gold file and a trivial cue-word stand-in extractor make every number checkable by
hand; the real extractor is never imported here."""
from __future__ import annotations

import json
import re
import sys
import types

import pytest

from pipeline import config
from pipeline.claims.matching import locate_predicate, match_spans, norm_string
from pipeline.evaluation.claims import (
    GoldClaim,
    GoldItem,
    compare_fields,
    evaluate,
    evaluate_claims_command,
    format_report,
    gold_to_statements,
    load_gold,
    quantity_key,
    score,
    target_lenient,
)
from pipeline.io.records import Claim, Statement

# ---------------------------------------------------------------- hand-made gold


def _claim(type_, predicate, lemma=None, actor=None, actor_kind="unspecified", target=None,
           quantities=(), align=None):
    return {"type": type_, "predicate": predicate, "predicate_lemma": lemma, "actor": actor,
            "actor_kind": actor_kind, "target": target, "polarity": "affirmative", "tense": "present",
            "quantities": list(quantities), "topic": None, "align": align}


Q5_RU = {"text": "5 школ", "value": 5, "unit": "школа"}
Q5_KK = {"text": "5 мектеп", "value": 5, "unit": "мектеп"}
GOLD = [
    {"item_id": "p1:ru", "pair_id": "p1", "lang": "ru", "topic": None,
     "text": "Мы должны построить 5 школ и должны выделить 3 млрд рублей.",
     "claims": [_claim("obligation", "должны построить", "построить", "Мы", "speaker", quantities=[Q5_RU], align=1),
                _claim("obligation", "должны выделить", "выделить", "Мы", "speaker",
                       quantities=[{"text": "3 млрд рублей", "value": 3000000000, "unit": "рубль"}], align=2)]},
    {"item_id": "p1:kk", "pair_id": "p1", "lang": "kk", "topic": None,
     "text": "Біз 5 мектеп салуымыз қажет. Бұл үшін қажет құжаттар дайын. Сондай-ақ 3 млрд теңге бөлуіміз қажет.",
     "claims": [_claim("obligation", "салуымыз қажет", "салу", "Біз", "speaker", quantities=[Q5_KK], align=1),
                _claim("obligation", "бөлуіміз қажет", "бөлу",
                       quantities=[{"text": "3 млрд теңге", "value": 3, "unit": "млрд теңге"}], align=2)]},
    {"item_id": "p2:ru", "pair_id": "p2", "lang": "ru", "topic": None,
     "text": "Я утвердил концепцию. Необходимо срочно принять меры.",
     "claims": [_claim("decision", "утвердил", "утвердить", "Я", "speaker", "концепцию", align=1),
                _claim("obligation", "Необходимо принять", "принять", target="меры", align=2)]},
    {"item_id": "p2:kk", "pair_id": "p2", "lang": "kk", "topic": None,
     "text": "Мен тұжырымдаманы бекіттім. Шұғыл шаралар қабылдау қажет.",
     "claims": [_claim("decision", "бекіттім", "бекіту", "Мен", "speaker", "тұжырымдаманы", align=1),
                _claim("obligation", "қабылдау қажет", "қабылдау", target="шаралар", align=2)]},
    {"item_id": "x:ru", "pair_id": None, "lang": "ru", "topic": None, "text": "Главная страница", "claims": []},
]
CUES = ("должны", "необходимо", "қажет")


def write_gold(path, items=GOLD):
    path.write_text("\n".join(json.dumps(it, ensure_ascii=False) for it in items) + "\n", encoding="utf-8")
    return path


def standin_extractor(statements: list[Statement]) -> dict[str, list[Claim]]:
    """An obligation on every cue word; quantities = the integers of the cue's clause; the i-th
    claim of a pair's ru item is aligned to the i-th claim of its kk item (both directions)."""
    out: dict[str, list[Claim]] = {}
    for st in statements:
        claims = []
        clauses = [(m.start(), m.end()) for m in re.finditer(r"[^.;\s][^.;]*?(?=\s+и\s|\s+және\s|[.;]|$)", st.text)]
        for m in re.finditer(r"\w+", st.text):
            if m.group().casefold() not in CUES:
                continue
            cs, ce = next((s, e) for s, e in clauses if s <= m.start() < e)
            nums = [int(n) for n in re.findall(r"\d+", st.text[cs:ce])]
            claims.append(Claim(
                statement_id=st.id, lang=st.id.rsplit(":", 1)[1], sentence=st.text[cs:ce], char_start=cs,
                char_end=ce, type="obligation", predicate=m.group(), predicate_start=m.start(),
                predicate_end=m.end(), quantities=[{"text": str(n), "value": n, "unit": None} for n in nums],
                claim_id=f"{st.id}#{len(claims)}"))
        out[st.id] = claims
    by_pair: dict[str, dict[str, list[Claim]]] = {}
    for st in statements:
        if st.parallel_id:
            by_pair.setdefault(st.parallel_id, {})[st.id.rsplit(":", 1)[1]] = out[st.id]
    for sides in by_pair.values():
        for a, b in zip(sides.get("ru", []), sides.get("kk", [])):
            a.aligned_to, b.aligned_to = b.claim_id, a.claim_id
    return out


@pytest.fixture
def result(tmp_path):
    return evaluate(write_gold(tmp_path / "gold.jsonl"), standin_extractor)


# ---------------------------------------------------------------- locating gold predicates


def test_locate_exact_casefold_whitespace():
    assert locate_predicate("Мы должны работать.", "должны работать") == (3, 18, "exact")
    assert locate_predicate("Необходимо принять меры.", "необходимо принять") == (0, 18, "casefold")
    text = "Мы должны\u00a0 работать и стро\u00adить."
    s, e, how = locate_predicate(text, "должны работать")
    assert (text[s:e], how) == ("должны\u00a0 работать", "whitespace")
    s, e, how = locate_predicate(text, "строить")
    assert (text[s:e], how) == ("стро\u00adить", "whitespace")
    assert locate_predicate("Ничего нет.", "должны") is None


def test_locate_non_contiguous_predicate_spans_first_to_last_word():
    text = "Біз нақты шаралар қабылдауымыз өте қажет. Необходимо срочно и решительно принять меры."
    s, e, how = locate_predicate(text, "қабылдауымыз қажет")
    assert (text[s:e], how) == ("қабылдауымыз өте қажет", "words")
    s, e, how = locate_predicate(text, "необходимо принять")
    assert (text[s:e], how) == ("Необходимо срочно и решительно принять", "words")
    # whole words only: "қажет" must not be found inside "қажеттілік"
    assert locate_predicate("Бұл қажеттілік туралы айту", "айту қажет") is None


def test_locate_avoids_occurrences_taken_by_earlier_claims():
    text = "Жол салу қажет, мектеп салу қажет."
    first = locate_predicate(text, "салу қажет")
    second = locate_predicate(text, "салу қажет", taken=[first[:2]])
    assert first[0] == 4 and second[0] == text.rindex("салу қажет")


def test_load_gold_locates_and_converts(tmp_path):
    items = load_gold(write_gold(tmp_path / "g.jsonl"))
    assert [it.item_id for it in items] == ["p1:ru", "p1:kk", "p2:ru", "p2:kk", "x:ru"]
    g = items[2].claims[1]
    assert (items[2].text[g.start:g.end], g.located_by) == ("Необходимо срочно принять", "words")
    assert all(c.start is not None for it in items for c in it.claims)
    sts = gold_to_statements(items)
    assert (sts[0].id, sts[0].text, sts[0].parallel_id) == ("p1:ru", GOLD[0]["text"], "p1")
    assert sts[4].parallel_id is None


def test_load_gold_rejects_bad_lines(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"item_id": "a", "lang": "ru", "text": "x", "claims": []}\n{"item_id": "a"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":2: missing"):
        load_gold(p)
    write_gold(p, [GOLD[4], GOLD[4]])
    with pytest.raises(ValueError, match="duplicate"):
        load_gold(p)


# ---------------------------------------------------------------- matching and fields


def test_match_spans_overlap_and_one_to_one():
    # the prediction overlaps both gold spans: it goes to the larger overlap
    assert match_spans([(0, 10), (12, 20)], [(5, 15)]) == [(0, 0)]
    # two predictions on one gold span: only one matches (tie in overlap -> earlier prediction)
    assert match_spans([(0, 10)], [(3, 8), (0, 5)]) == [(0, 1)]
    # touching is not overlapping; unlocatable spans never match
    assert match_spans([(0, 5), None], [(5, 9), (0, 3)]) == [(0, 1)]
    # greedy on overlap size keeps both pairs where possible
    assert match_spans([(0, 10), (10, 20)], [(2, 9), (8, 18)]) == [(0, 0), (1, 1)]


def test_field_normalisation():
    assert norm_string(" «Мы», ") == norm_string("мы") and norm_string("  ") is None
    assert norm_string("Ещё") == norm_string("еще")
    assert target_lenient("2533 акимов", "всего 2533 акимов сельских")  # 2/4
    assert not target_lenient("2533 акимов", "сельских округов")
    assert target_lenient(None, "") and not target_lenient(None, "меры")
    assert quantity_key({"value": 21.6, "unit": "млн. тенге"}) == quantity_key({"value": 21600000, "unit": "тенге"})
    assert quantity_key({"value": "91,7", "unit": "%"}) == (91.7, None)  # "%" has no letters
    g = GoldClaim(index=0, type="obligation", predicate="должны", predicate_lemma="Провести", actor="Мы",
                  actor_kind="speaker", target="сельские акиматы", polarity="affirmative", tense="present",
                  quantities=[{"value": 2, "unit": "млрд тенге"}, {"value": 50, "unit": "город"}])
    p = Claim(statement_id="s", lang="ru", sentence="", char_start=0, char_end=0, type="obligation",
              predicate="должны", predicate_start=0, predicate_end=6, predicate_lemma="провести", actor="мы,",
              actor_kind="speaker", target="акиматы", tense="future",
              quantities=[{"value": 50, "unit": "городов"}, {"value": 2e9, "unit": "тенге"}])
    cmp = compare_fields(g, p)
    assert cmp["type"] and cmp["actor"] and cmp["actor_kind"] and cmp["predicate_lemma"] and cmp["quantities"]
    assert not cmp["tense"] and not cmp["target"] and cmp["target_lenient"] is True  # 1/2 words
    assert not cmp["quantities+units"]  # "городов" vs "город": units must match exactly


# ---------------------------------------------------------------- scoring the hand-made gold


def test_detection_counts(result):
    d = result["detection"]["all"]
    # gold 8; predicted 7 (2 + 3 + 1 + 1); matched 6: 2 false negatives (the decisions),
    # 1 false positive ("қажет құжаттар")
    assert (d["gold"], d["pred"], d["matched"]) == (8, 7, 6)
    assert d["precision"] == pytest.approx(6 / 7) and d["recall"] == pytest.approx(6 / 8)
    assert d["f1"] == pytest.approx(2 * 6 / (8 + 7))
    ru, kk = result["detection"]["by_lang"]["ru"], result["detection"]["by_lang"]["kk"]
    assert (ru["gold"], ru["pred"], ru["matched"]) == (4, 3, 3)
    assert (kk["gold"], kk["pred"], kk["matched"]) == (4, 4, 3)
    assert result["detection_typed"]["all"]["matched"] == 6
    t = result["by_type"]
    assert (t["obligation"]["gold"], t["obligation"]["matched_gold"], t["obligation"]["recall"]) == (6, 6, 1.0)
    assert (t["obligation"]["pred"], t["obligation"]["matched_pred"]) == (7, 6)
    assert (t["decision"]["gold"], t["decision"]["recall"], t["decision"]["precision"]) == (2, 0.0, None)
    assert t["decision"]["f1"] == 0.0 and t["commitment"]["f1"] is None


def test_field_accuracies(result):
    f = result["fields"]
    assert f["matched"] == 6
    assert f["all"]["type"]["accuracy"] == 1.0
    # quantities right for the "5" claims and the claims without numbers, wrong for the "3 млрд" ones
    assert (f["all"]["quantities"]["correct"], f["all"]["quantities"]["total"]) == (4, 6)
    assert (f["quantities_nonempty"]["correct"], f["quantities_nonempty"]["total"]) == (2, 4)
    assert f["all"]["actor"]["correct"] == 3  # the stand-in never names an actor: right on the 3 null actors
    assert f["by_lang"]["kk"]["quantities"]["total"] == 3


def test_alignment(result):
    a = result["alignment"]
    # gold links: p1 x2, p2 x2. predicted: p1 #0<->#0 (right), p1 ru#1<->kk#1 (kk#1 is the false
    # positive: wrong), p2 #0<->#0 (right; both are the obligations)
    assert (a["gold_links"], a["pred_links"], a["correct"], a["found"]) == (4, 3, 2, 2)
    assert a["precision"] == pytest.approx(2 / 3) and a["recall"] == pytest.approx(0.5)


def test_errors_list(result):
    kinds = [(e["kind"], e["item_id"], e.get("predicate")) for e in result["errors"]]
    assert ("fn", "p2:ru", "утвердил") in kinds and ("fn", "p2:kk", "бекіттім") in kinds
    assert ("fp", "p1:kk", "қажет") in kinds
    assert sum(k == "fn" for k, _, _ in kinds) == 2 and sum(k == "fp" for k, _, _ in kinds) == 1
    fp = next(e for e in result["errors"] if e["kind"] == "fp")
    assert fp["sentence"] == "Бұл үшін қажет құжаттар дайын" and fp["lang"] == "kk"
    fn = next(e for e in result["errors"] if e["kind"] == "fn" and e["item_id"] == "p2:ru")
    assert fn["sentence"] == "Я утвердил концепцию."
    assert sum(k == "align_fp" for k, _, _ in kinds) == 1 and sum(k == "align_fn" for k, _, _ in kinds) == 2
    assert any(e["kind"] == "mismatch" and "quantities" in e["fields"] for e in result["errors"])


def test_report_and_json(result):
    json.dumps(result)  # serialisable as is
    text = format_report(result)
    assert "Detection" in text and "lang=kk" in text and "Alignment" in text and "quantities" in text
    assert "[fp]" not in text and "[fp] p1:kk" in format_report(result, errors=True)


def test_predictions_with_bad_offsets_and_unknown_items(tmp_path):
    items = load_gold(write_gold(tmp_path / "g.jsonl"))
    bad = Claim(statement_id="p2:ru", lang="ru", sentence="", char_start=0, char_end=0, type="decision",
                predicate="утвердил", predicate_start=-1, predicate_end=-1, aligned_to="nowhere")
    r = score(items, {"p2:ru": [bad], "zzz": []}, text_langs=None)
    assert r["detection"]["all"]["matched"] == 1 and r["predictions"]["offsets"] == {"relocated": 1}
    assert r["predictions"]["unknown_items"] == ["zzz"]
    assert r["alignment"]["dangling"] == 1 and r["alignment"]["precision"] == 0.0
    assert r["language_check"]["checked"] is False and r["detection"]["by_text_lang"] == {}


def test_evaluate_passes_statements_and_checks_return(tmp_path):
    seen = []

    def extractor(statements):
        seen.extend(statements)
        return {}

    r = evaluate(write_gold(tmp_path / "g.jsonl"), extractor)
    assert [s.id for s in seen] == [g["item_id"] for g in GOLD]
    assert r["detection"]["all"]["precision"] is None and r["detection"]["all"]["f1"] == 0.0
    with pytest.raises(TypeError):
        evaluate(tmp_path / "g.jsonl", lambda sts: [])


# ---------------------------------------------------------------- command


def _cli():
    import typer

    app = typer.Typer()
    app.command()(evaluate_claims_command)
    return app


def test_command_uses_the_extractor_lazily(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    gold = write_gold(tmp_path / "g.jsonl")
    fake = types.ModuleType("pipeline.batch.analyse")
    fake.extract_for_evaluation = standin_extractor
    monkeypatch.setitem(sys.modules, "pipeline.batch.analyse", fake)
    runner = CliRunner()
    res = runner.invoke(_cli(), [str(gold), "--errors", "--out", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    assert "Detection" in res.output and "[fn] p2:ru" in res.output
    saved = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert saved["detection"]["all"]["matched"] == 6 and saved["errors"]
    res = runner.invoke(_cli(), [str(gold), "--format", "json"])
    assert res.exit_code == 0 and "errors" not in json.loads(res.output)
    monkeypatch.setitem(sys.modules, "pipeline.batch.analyse", None)  # import now fails
    res = runner.invoke(_cli(), [str(gold)])
    assert res.exit_code == 2


# ---------------------------------------------------------------- the real dev gold


def test_real_dev_gold_loads_and_every_predicate_is_located():
    path = config.shared_data_dir() / "gold" / "dev.gold.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} absent (../shared/data is not checked out here)")
    items = load_gold(path)
    assert len(items) == 143
    assert all(isinstance(it, GoldItem) and it.lang in ("kk", "ru") for it in items)
    claims = [c for it in items for c in it.claims]
    assert claims and all(c.type in ("commitment", "obligation", "decision") for c in claims)
    unlocatable = [(it.item_id, c.predicate) for it in items for c in it.claims if c.start is None]
    assert not unlocatable, f"gold predicates not found in their text: {unlocatable}"
    r = score(items, {})
    json.dumps(r)
    assert r["gold"]["claims"] == len(claims) and r["detection"]["all"]["recall"] == 0.0
