"""The claims corpus (data/claims): reading its texts, validating annotations, majority merge,
agreement, and the label loader naming bad rows."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.corpora import claims as corpus
from pipeline.config import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
DATA = shared_data_dir()
needs_shared = pytest.mark.skipif(not (DATA / "parallel_kk_ru").exists(),
                                  reason="needs ../shared/data (the corpus texts); CI has it")


def claim(pred, typ="decision", **kw):
    base = {"type": typ, "predicate": pred, "predicate_lemma": None, "actor": None, "actor_kind": "unspecified",
            "target": None, "polarity": "affirmative", "tense": "past", "quantities": [], "topic": None, "align": None}
    base.update(kw)
    return base


def test_detokenize_treebank_tokens():
    assert corpus.detokenize(["Мы", ",", "граждане", "(", "все", ")", "«", "за", "»", "."]) == "Мы, граждане (все) «за»."


def test_conllu_reader_uses_text_lines_and_multiword_surface_forms(tmp_path):
    f = tmp_path / "x.conllu"
    f.write_text("# text = Есть текст.\n1\tЕсть\t_\t_\n2\tтекст\t_\t_\n3\t.\t_\t_\n\n"
                 "1-2\tвдобавок\t_\t_\n1\tв\t_\t_\n2\tдобавок\t_\t_\n3\tон\t_\t_\n4\t.\t_\t_\n\n", encoding="utf-8")
    units = list(corpus.read_sentences({"t": {"file": "x.conllu", "format": "conllu", "lang": "ru", "source": "s"}},
                                       data_dir=tmp_path))
    assert [u.texts["ru"] for u in units] == ["Есть текст.", "вдобавок он."]
    assert [u.unit_id for u in units] == ["t:1", "t:2"] and units[0].source == "s"


def test_unknown_source_format_is_named(tmp_path):
    (tmp_path / "x.txt").write_text("a", encoding="utf-8")
    with pytest.raises(ValueError, match="sentences.t: format 'xml'"):
        list(corpus.read_sentences({"t": {"file": "x.txt", "format": "xml", "lang": "ru", "source": "s"}},
                                   data_dir=tmp_path))


def test_validate_annotation_names_each_problem(tmp_path):
    batch = tmp_path / "b.jsonl"
    batch.write_text(json.dumps({"pair_id": "s:1", "source": "s", "kk": "Үкімет бекітті.", "ru": "Правительство утвердило."},
                                ensure_ascii=False) + "\n" +
                     json.dumps({"item_id": "t:1", "lang": "ru", "text": "Дождь."}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    out = tmp_path / "b.labels.jsonl"
    rows = [{"item_id": "s:1:kk", "pair_id": "s:1", "lang": "kk", "text": "Үкімет бекітті.", "topic": None,
             "claims": [claim("бекітті", align=1)]},
            {"item_id": "s:1:ru", "pair_id": "s:1", "lang": "ru", "text": "Правительство утвердило.", "topic": "nonsense",
             "claims": [claim("утвердил", typ="promise")]},
            {"item_id": "t:1", "pair_id": None, "lang": "ru", "text": "Дождь.", "topic": None, "claims": []}]
    out.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    probs = corpus.validate_annotation(batch, out)
    assert any("line 2 (s:1:ru): topic 'nonsense'" in p for p in probs)
    assert any("line 2 (s:1:ru) claim 1: type 'promise'" in p for p in probs)
    assert any("align 1 on the kk side has no partner" in p for p in probs)
    rows[1]["topic"] = None
    rows[1]["claims"] = [claim("утвердило", align=1)]
    out.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    assert corpus.validate_annotation(batch, out) == []


def test_majority_keeps_claims_two_of_three_hold():
    text = "Аким утвердил план и поручил построить мост."
    a = [claim("утвердил"), claim("поручил построить")]
    b = [claim("утвердил")]
    c = [claim("поручил построить"), claim("построить мост", typ="commitment")]
    kept = corpus.majority_claims(text, [a, b, c])
    assert [k["predicate"] for k in kept] == ["утвердил", "поручил построить"]
    assert corpus.annotations_agree(text, a, [claim("утвердил"), claim("поручил построить")])
    assert not corpus.annotations_agree(text, a, b)


def test_majority_type_wins():
    text = "Будет построено 50 школ."
    kept = corpus.majority_claims(text, [[claim("Будет построено", typ="commitment")],
                                         [claim("построено", typ="decision")],
                                         [claim("Будет построено", typ="commitment")]])
    assert [(k["predicate"], k["type"]) for k in kept] == [("Будет построено", "commitment")]


def test_agreement_claim_f1_and_kappa():
    text = "Аким утвердил план и поручил построить мост."
    rep = corpus.agreement([(text, [claim("утвердил"), claim("поручил")], [claim("утвердил")])])
    assert rep["claim_f1"] == pytest.approx(2 * 1 / 3, abs=1e-4)
    assert rep["texts_identical"] == 0.0


def test_merge_links_pairs_and_waits_for_a_third(tmp_path):
    sel = tmp_path / "selection_r1.jsonl"
    sel.write_text("\n".join(json.dumps(x) for x in [
        {"unit_id": "s:1", "source": "s", "stratum": "random", "items": {}},
        {"unit_id": "t:1", "source": "t", "stratum": "cue", "items": {}}]) + "\n", encoding="utf-8")
    kk, ru = "Үкімет жоспарды бекітті.", "Правительство утвердило план."

    def write(name, kk_claims, ru_claims, t_claims):
        rows = [{"item_id": "s:1:kk", "pair_id": "s:1", "lang": "kk", "text": kk, "topic": "macroeconomics", "claims": kk_claims},
                {"item_id": "s:1:ru", "pair_id": "s:1", "lang": "ru", "text": ru, "topic": "macroeconomics", "claims": ru_claims},
                {"item_id": "t:1", "pair_id": None, "lang": "ru", "text": "Дождь идёт.", "topic": None, "claims": t_claims}]
        (tmp_path / f"{name}.labels.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                                                       encoding="utf-8")
    write("c1_00", [claim("бекітті", align=1)], [claim("утвердило", align=1)], [])
    write("c1_00b", [claim("бекітті", align=1)], [claim("утвердило", align=1)], [claim("идёт", typ="commitment")])
    res = corpus.merge(tmp_path, [sel])
    by_id = {r["item_id"]: r for r in res["labels"]}
    assert set(by_id) == {"s:1:kk", "s:1:ru"} and res["pending"] == ["t:1"]
    assert by_id["s:1:kk"]["claims"][0]["align"] == by_id["s:1:ru"]["claims"][0]["align"] == 1
    assert by_id["s:1:kk"]["sha1"] == corpus.text_hash(kk) and by_id["s:1:ru"]["stratum"] == "random"
    write("adj_00", [], [], [])
    res = corpus.merge(tmp_path, [sel])
    t = next(r for r in res["labels"] if r["item_id"] == "t:1")
    assert t["claims"] == [] and t["adjudicated"] and t["annotators"] == ["c1_00", "c1_00b", "adj_00"]


def test_a_new_round_is_added_without_touching_earlier_labels(tmp_path):
    """`merge --add`: a later round's labels join the corpus; re-merging the round (after its third
    opinions) replaces only its own rows; an item an earlier round labelled is refused by name."""
    corpus_dir, round_dir = tmp_path / "corpus", tmp_path / "r3"
    corpus_dir.mkdir(), round_dir.mkdir()
    old = {"item_id": "old:1", "unit_id": "old:1", "pair_id": None, "source": "old", "lang": "ru", "sha1": "x",
           "stratum": "random", "topic": None, "claims": [], "annotators": ["c1_00", "c1_00b"], "adjudicated": False}
    corpus.write_jsonl(corpus_dir / "labels.jsonl", [old])
    corpus.write_jsonl(corpus_dir / "annotations.jsonl",
                       [{"item_id": "old:1", "annotator": a, "lang": "ru", "claims": []} for a in ("c1_00", "c1_00b")])
    (round_dir / "selection_r3.jsonl").write_text(json.dumps(
        {"unit_id": "new:1", "source": "new", "stratum": "first-plural", "items": {"new:1": "y"}}) + "\n", encoding="utf-8")
    text = "Мы наделяем сельские акиматы полномочиями."

    def annotate(name, claims):
        row = {"item_id": "new:1", "pair_id": None, "lang": "ru", "text": text, "topic": None, "claims": claims}
        (round_dir / f"{name}.labels.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")

    annotate("c3_00", [claim("наделяем", typ="commitment", tense="present")])
    annotate("c3_00b", [])

    def add():
        corpus.main(["merge", str(round_dir), "--out", str(corpus_dir), "--add"])
        return (corpus.read_jsonl(corpus_dir / "labels.jsonl"), corpus.read_jsonl(corpus_dir / "annotations.jsonl"))

    labels, anns = add()             # the two disagree: the new text waits for a third annotator
    assert labels == [old] and {a["annotator"] for a in anns if a["item_id"] == "new:1"} == {"c3_00", "c3_00b"}
    annotate("adj3_00", [claim("наделяем", typ="commitment", tense="present")])
    labels, anns = add()
    assert [r["item_id"] for r in labels] == ["new:1", "old:1"] and labels[1] == old
    assert [c["predicate"] for c in labels[0]["claims"]] == ["наделяем"]
    assert labels[0]["annotators"] == ["c3_00", "c3_00b", "adj3_00"] and len(anns) == 5
    assert add() == (labels, anns)    # adding the same round again changes nothing
    (round_dir / "selection_r3.jsonl").write_text(json.dumps(
        {"unit_id": "old:1", "source": "old", "stratum": "x", "items": {"old:1": "x"}}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="old:1"):
        add()
    assert corpus.read_jsonl(corpus_dir / "labels.jsonl") == labels


def test_label_loader_names_bad_rows(tmp_path):
    f = tmp_path / "labels.jsonl"
    f.write_text('{"item_id": "a", "source": "s", "lang": "kk", "sha1": "x", "claims": []}\n'
                 'not json\n'
                 '{"item_id": "b", "source": "s", "lang": "de", "sha1": "x", "claims": []}\n'
                 '{"item_id": "a", "source": "s", "lang": "kk", "sha1": "x", "claims": [{"type": "wish"}]}\n'
                 '{"item_id": "c", "lang": "kk"}\n', encoding="utf-8")
    with pytest.raises(corpus.LabelError) as exc:
        corpus.load_labels(f)
    msg = str(exc.value)
    assert f"{f}:2: not JSON" in msg
    assert f"{f}:3 (b): lang 'de'" in msg
    assert f"{f}:4 (a): duplicate item_id" in msg and f"{f}:4 (a) claim 1: needs a type" in msg
    assert f"{f}:5 (c): missing source, sha1, claims" in msg


def test_shipped_labels_are_valid_and_never_hold_gold_texts():
    path = ROOT / "data" / "claims" / "labels.jsonl"
    rows = corpus.load_labels(path)
    assert len(rows) > 1000
    assert all(r["lang"] in ("kk", "ru") for r in rows)


@needs_shared
def test_corpus_texts_join_and_exclude_dev_and_seed_gold():
    from pipeline.corpora.topics import gold_texts, _norm

    items, problems = corpus.items()
    assert problems == [] and len(items) > 1000
    gold = set(gold_texts())
    assert not any(_norm(it["text"]) in gold for it in items)
    assert len({it["source"] for it in items}) >= 12


def test_changed_text_is_reported_not_reattached(tmp_path):
    rows = [{"item_id": "nosuch:1", "source": "s", "lang": "kk", "sha1": "0", "claims": []}]
    items, problems = corpus.items(rows)
    assert items == [] and problems[0]["item_id"] == "nosuch:1"
