"""Topic classification: training on a user's labels, bad label columns, prediction output,
topics on processed claims and statements, and the shipped model on data it was not trained on."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import PROJECT_ROOT, shared_data_dir

runner = CliRunner()
EXAMPLE = PROJECT_ROOT / "data" / "examples" / "my_labels.csv"
SHIPPED = PROJECT_ROOT / "models" / "topics"
DATA = shared_data_dir()
needs_shared = pytest.mark.skipif(not (DATA / "parallel_kk_ru").is_dir(),
                                  reason=f"{DATA} is absent (../shared/data is not beside this clone)")


@pytest.fixture(scope="module")
def custom_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "my_topics"
    res = runner.invoke(app, ["train", "topics", str(EXAMPLE), "--label-col", "category", "--lang-col", "lang",
                              "--folds", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_train_on_small_file_writes_model_card_and_confusion_matrix(custom_model):
    for name in ("model.joblib", "card.json", "README.md", "confusion.png"):
        assert (custom_model / name).is_file(), name
    card = json.loads((custom_model / "card.json").read_text())
    cv = card["cv"]
    assert cv["folds"] == 3 and cv["n"] == len(EXAMPLE.read_text(encoding="utf-8").strip().splitlines()) - 1
    assert set(cv["per_class"]) == {"economy", "social", "governance"}
    assert 0.0 <= cv["macro_f1"] <= 1.0
    assert set(cv["by_lang"]) == {"kk", "ru"}
    assert "macro-F1" in (custom_model / "README.md").read_text()


def test_cv_scores_per_value_of_any_column(tmp_path):
    """--by-col: a user sees whether, e.g., a later annotation round is harder than the first."""
    import csv

    rows = list(csv.DictReader(EXAMPLE.open(encoding="utf-8")))
    src = tmp_path / "with_round.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[*rows[0], "round"])
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow({**r, "round": "1" if i % 2 else "2"})
    res = runner.invoke(app, ["train", "topics", str(src), "--label-col", "category", "--by-col", "round",
                              "--folds", "3", "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    by = json.loads((tmp_path / "m" / "card.json").read_text())["cv"]["by_round"]
    assert set(by) == {"1", "2"} and by["1"]["n"] + by["2"]["n"] == len(rows)
    assert "round=1: n=" in res.output
    bad = runner.invoke(app, ["train", "topics", str(src), "--label-col", "category", "--by-col", "batch",
                              "--out", str(tmp_path / "m2")])
    assert bad.exit_code == 2 and "no column 'batch' (--by-col)" in bad.output


def test_custom_label_set_is_what_the_model_predicts(custom_model):
    from pipeline.topics.model import load_model

    m = load_model(custom_model)
    assert sorted(m.labels) == ["economy", "governance", "social"]
    (label, tops), = m.predict(["Пенсии многодетным семьям повысят с января."])
    assert label in m.labels and len(tops) == 3


def test_predict_output_format(custom_model, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "a", "text": "Бюджет области увеличат на десять процентов."},
        {"id": "b", "text": ""},  # unusable: reported, the rest goes on
        {"id": "c", "text": "Әкімдерді тұрғындар сайлайды."},
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "topics.jsonl"
    res = runner.invoke(app, ["topics", "predict", str(src), "--out", str(out), "--model", str(custom_model)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "c"]
    for r in rows:
        assert set(r) == {"id", "topic", "topics"}
        assert len(r["topics"]) == 3
        scores = [t["score"] for t in r["topics"]]
        assert scores == sorted(scores, reverse=True)
        assert r["topic"] == r["topics"][0]["label"]
        assert set(r["topics"][0]) == {"label", "score"}
    assert "FAILED b" in res.output


def test_predict_csv(custom_model, tmp_path):
    src = tmp_path / "s.txt"
    src.write_text("Учителям повысят зарплату.", encoding="utf-8")
    out = tmp_path / "t.csv"
    res = runner.invoke(app, ["topics", "predict", str(src), "--out", str(out), "--model", str(custom_model),
                              "--top-k", "2"])
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,topic,topics" and len(lines) == 2
    assert lines[1].startswith("s,")


def _write_csv(path: Path, rows: list[tuple]) -> Path:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label"])
        w.writerows(rows)
    return path


def test_bad_label_values_give_a_clear_error(tmp_path):
    rows = [(f"r{i}", f"текст номер {i} про бюджет", "economy" if i % 2 else "social") for i in range(12)]
    rows[3] = ("r3", "текст без метки", "")
    src = tmp_path / "bad.csv"
    _write_csv(src, rows)
    res = runner.invoke(app, ["train", "topics", str(src), "--out", str(tmp_path / "m")])
    assert res.exit_code == 2
    assert "r3" in res.output and "label is empty" in res.output and "--skip-invalid" in res.output
    assert not (tmp_path / "m" / "model.joblib").exists()
    res = runner.invoke(app, ["train", "topics", str(src), "--out", str(tmp_path / "m"), "--skip-invalid",
                              "--folds", "2"])
    assert res.exit_code == 0, res.output
    assert "SKIPPED r3" in res.output
    assert json.loads((tmp_path / "m" / "card.json").read_text())["data"]["skipped"] == 1


def test_label_column_with_lists_and_singletons(tmp_path):
    src = tmp_path / "bad.jsonl"
    recs = [{"id": f"r{i}", "text": f"пример {i}", "label": "a" if i % 2 else "b"} for i in range(10)]
    recs.append({"id": "list", "text": "пример", "label": ["a", "b"]})
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["train", "topics", str(src), "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "cannot be used" in res.output
    src2 = tmp_path / "single.csv"
    _write_csv(src2, [(f"r{i}", f"пример {i}", "a" if i % 2 else "b") for i in range(10)] + [("lone", "x", "c")])
    res = runner.invoke(app, ["train", "topics", str(src2), "--out", str(tmp_path / "m2")])
    assert res.exit_code == 2 and "'c' has only 1 example" in res.output


def test_missing_column_names_the_columns(tmp_path):
    res = runner.invoke(app, ["train", "topics", str(EXAMPLE), "--label-col", "topic", "--out", str(tmp_path / "m")])
    assert res.exit_code == 2
    assert "no column 'topic'" in res.output and "category" in res.output


def test_numeric_labels_are_categories(tmp_path):
    src = tmp_path / "num.csv"
    _write_csv(src, [(f"r{i}", ("бюджет налоги " if i % 2 else "школы учителя ") + str(i), 1 if i % 2 else 6)
                     for i in range(16)])
    res = runner.invoke(app, ["train", "topics", str(src), "--out", str(tmp_path / "m"), "--folds", "2"])
    assert res.exit_code == 0, res.output
    from pipeline.topics.model import load_model

    assert sorted(load_model(tmp_path / "m").labels) == ["1", "6"]


def test_missing_model_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["topics", "predict", str(EXAMPLE), "--model", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "no topic model" in res.output


def test_process_puts_topics_on_claims_and_statements(custom_model, tmp_path):
    from pipeline.store import ClaimStore

    sample = PROJECT_ROOT / "data" / "samples" / "decentralization-statement.txt"
    out, db = tmp_path / "claims.jsonl", tmp_path / "s.db"
    res = runner.invoke(app, ["process", str(sample), "--out", str(out), "--db", str(db), "--workers", "1",
                              "--model", str(custom_model), "--no-progress"])
    assert res.exit_code == 0, res.output
    claims = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert claims and all(c["topic"] in {"economy", "social", "governance"} for c in claims)
    assert all(len(c["topics"]) == 3 and c["topics"][0]["label"] == c["topic"] for c in claims)
    # a decentralisation statement is about governance, whatever the tiny example model's noise
    with ClaimStore(db) as store:
        topic, topics = store.stored_topic("decentralization-statement")
    assert topic == "governance" and len(topics) == 3


@needs_shared
def test_labels_join_the_corpus_and_keep_gold_texts_out():
    from pipeline.topics import corpus

    labels = corpus.load_labels(PROJECT_ROOT / "data" / "topics" / "labels.jsonl")
    examples, problems = corpus.join_labels(labels)
    assert problems == []
    both = sum(1 for r in labels if corpus.sides(r) == ("kk", "ru") and r["kk"] != "none" and r["ru"] != "none")
    assert both >= 1500
    gold = corpus.gold_texts()
    texts = {e["text"].lower() for e in examples}
    assert not any(g in texts for g in gold)


@needs_shared
@pytest.mark.skipif(not (SHIPPED / "model.joblib").is_file(), reason="no shipped topic model")
def test_shipped_model_on_dev_gold_topics():
    """Smoke check of the shipped model on texts it was not trained on (dev gold)."""
    from pipeline.topics.evaluate import evaluate_topics
    from pipeline.topics.model import load_model

    res = evaluate_topics(load_model(SHIPPED), DATA / "gold" / "dev.gold.jsonl")
    assert res["items"] > 100
    assert res["overall"]["accuracy"] >= 0.6
    assert res["overall"]["top3_accuracy"] >= 0.8


@pytest.mark.skipif(not (SHIPPED / "model.joblib").is_file(), reason="no shipped topic model")
def test_shipped_model_on_the_reference_statement(tmp_path):
    """The bundled decentralisation statement is about government operations (topics.md:
    decentralisation, local self-government, elections of officials), and so are its claims
    when the page is processed as a whole (a claim's topic takes its statement into account)."""
    from pipeline.readers import read_statements
    from pipeline.claims.process import process_statements

    sample = PROJECT_ROOT / "data" / "samples" / "decentralization-statement.txt"
    res, = list(process_statements(read_statements([sample])))
    assert res.topic == "government_operations"
    assert res.claims
    share = sum(c.topic == "government_operations" for c in res.claims) / len(res.claims)
    assert share >= 0.9


def test_majority_of_three_annotators_replaces_the_owner_label_and_agreement_keeps_the_original():
    """Adjudication: a side changes only when a strict majority of at least three annotations
    disagrees with its owner; agreement figures still compare what the annotators wrote."""
    from pipeline.topics import corpus

    owner = [{"pair_id": "a:1", "kk": "energy", "ru": "energy", "annotator": "llm-batch_r6_0"},
             {"pair_id": "a:2", "kk": "defense", "ru": "defense", "annotator": "llm-batch_r6_0"},
             {"pair_id": "a:3", "kk": "health", "ru": "health", "annotator": "llm-batch_r6_0"}]
    others = [{"pair_id": "a:1", "kk": "environment", "ru": "energy"},   # second opinion
              {"pair_id": "a:1", "kk": "environment", "ru": "housing"},  # third: kk 2 of 3
              {"pair_id": "a:2", "kk": "labor", "ru": "defense"},
              {"pair_id": "a:2", "kk": "culture", "ru": "defense"},      # three different: owner kept
              {"pair_id": "a:3", "kk": "labor", "ru": "labor"}]          # only two annotations
    adj = corpus.majority_adjudications(owner, others, why="test")
    assert [(a["pair_id"], a["side"], a["label"]) for a in adj] == [("a:1", "kk", "environment")]
    owner[0]["kk_annotated"], owner[0]["kk"] = "energy", "environment"
    agr = corpus.agreement(owner, others[:1])
    assert agr["sides"] == 2 and agr["agreement"] == 0.5  # energy/environment, energy/energy


def test_single_language_sentences_carry_one_labelled_side(tmp_path, monkeypatch):
    """A KazNERD-style sentence source (configs/topics.toml [default_corpus.sentences]) gives
    units with one side: its label joins the text once, its empty side never counts as a
    label, in agreement or in adjudication."""
    from pipeline import config
    from pipeline.topics import corpus

    (tmp_path / "ner").mkdir()
    (tmp_path / "ner" / "s.txt").write_text("Әскер O\nжаттығуы O\nбасталды O\n\nБіз O\nэкспорт O\n", encoding="utf-8")
    monkeypatch.setattr(config, "shared_data_dir", lambda: tmp_path)
    sources = {"ner-s": {"file": "ner/s.txt", "format": "iob", "lang": "kk"}}
    units = list(corpus.read_sentences(sources))
    assert [(u.pair_id, u.kk, u.ru) for u in units] == [("ner-s:1", "Әскер жаттығуы басталды", ""),
                                                         ("ner-s:2", "Біз экспорт", "")]
    assert corpus.sides(units[0]) == ("kk",)
    assert not corpus.overlaps_gold(units[0], ["some gold text that shares nothing"])
    monkeypatch.setattr(corpus, "read_units", lambda directory=None: iter(units))
    kk_hash, ru_hash = units[0].hashes
    owner = [{"pair_id": "ner-s:1", "kk": "defense", "ru": None, "kk_sha1": kk_hash, "ru_sha1": ru_hash,
              "annotator": "llm-batch_r8_0"}]
    examples, problems = corpus.join_labels(owner)
    assert problems == [] and [(e["lang"], e["label"], e["corpus"]) for e in examples] == [
        ("kk", "defense", "single-language")]
    others = [{"pair_id": "ner-s:1", "kk": "culture", "ru": None}, {"pair_id": "ner-s:1", "kk": "culture", "ru": None}]
    assert corpus.agreement(owner, others[:1])["sides"] == 1
    adj = corpus.majority_adjudications(owner, others, why="test")
    assert [(a["side"], a["label"]) for a in adj] == [("kk", "culture")]
    with pytest.raises(ValueError, match="not supported"):
        list(corpus.read_sentences({"x": {"file": "ner/s.txt", "format": "csv", "lang": "kk"}}))
