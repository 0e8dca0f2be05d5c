"""Topic classification: training on a user's labels, bad label columns, prediction output,
topics on processed claims and statements, and the shipped model on data it was not trained on."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
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
    from pipeline.store.database import ClaimStore

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
    from pipeline.corpora import topics as corpus

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
    from pipeline.evaluation.topics import evaluate_topics
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
    from pipeline.io.readers import read_statements
    from pipeline.batch.analyse import process_statements

    sample = PROJECT_ROOT / "data" / "samples" / "decentralization-statement.txt"
    res, = list(process_statements(read_statements([sample])))
    assert res.topic == "government_operations"
    assert res.claims
    share = sum(c.topic == "government_operations" for c in res.claims) / len(res.claims)
    assert share >= 0.9


def test_majority_of_three_annotators_replaces_the_owner_label_and_agreement_keeps_the_original():
    """Adjudication: a side changes only when a strict majority of at least three annotations
    disagrees with its owner; agreement figures still compare what the annotators wrote."""
    from pipeline.corpora import topics as corpus

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
    from pipeline.corpora import topics as corpus

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


# --- issue 14: source-grouped evaluation, pooled corpus, codebook boundaries ---------------

@pytest.mark.parametrize("seed", range(5))
def test_source_folds_never_put_one_source_in_two_folds(seed):
    """Leave-one-source-out: every row is held out exactly once, no source is split between
    folds, big sources are folds of their own and small ones share a fold of >= min_size rows."""
    import random

    from pipeline.training.topics import source_folds

    rng = random.Random(seed)
    sizes = {f"s{i}": rng.choice([1, 3, 20, 60, 99, 100, 150, 700]) for i in range(rng.randint(3, 25))}
    sources = [s for s, n in sizes.items() for _ in range(n)]
    rng.shuffle(sources)
    folds = source_folds(sources, min_size=100)
    held = [i for idx, _ in folds for i in idx]
    assert sorted(held) == list(range(len(sources)))
    fold_of: dict[str, int] = {}
    for k, (idx, names) in enumerate(folds):
        assert {sources[i] for i in idx} == set(names)
        for i in idx:
            assert fold_of.setdefault(sources[i], k) == k, f"{sources[i]} in folds {fold_of[sources[i]]} and {k}"
        if len(names) > 1:
            assert all(sizes[n] < 100 for n in names)
    for s, n in sizes.items():
        if n >= 100:
            assert [names for _, names in folds if s in names] == [[s]]
    small = sum(n for n in sizes.values() if n < 100)
    if small >= 100:
        assert all(len(idx) >= 100 for idx, names in folds)


def test_train_with_source_col_reports_leave_one_source_out_next_to_random_folds(tmp_path):
    import csv

    rows = list(csv.DictReader(EXAMPLE.open(encoding="utf-8")))
    src = tmp_path / "with_source.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[*rows[0], "site"])
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow({**r, "site": ["a", "b", "c", "d"][i % 4]})
    out = tmp_path / "m"
    res = runner.invoke(app, ["train", "topics", str(src), "--label-col", "category", "--lang-col", "lang",
                              "--source-col", "site", "--min-source-rows", "5", "--folds", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    card = json.loads((out / "card.json").read_text())
    loso = card["cv_by_source"]
    assert loso["scheme"] == "leave one source out" and loso["folds"] == 4
    assert set(loso["by_source"]) == {"a", "b", "c", "d"} and set(loso["by_lang"]) == {"kk", "ru"}
    assert sum(v["n"] for v in loso["by_source"].values()) == len(rows)
    assert card["cv"]["folds"] == 3 and "leave one source out" not in card["cv"]["scheme"]
    readme = (out / "README.md").read_text()
    assert "leave one source out" in readme and "random-fold accuracy" in readme
    assert "4-fold leave-one-source-out cross-validation" in res.output
    one = runner.invoke(app, ["train", "topics", str(src), "--label-col", "category", "--source-col", "lang",
                              "--min-source-rows", "1000", "--out", str(tmp_path / "m2")])
    assert one.exit_code == 2 and "leave-one-source-out needs at least 2" in one.output


def test_pooled_label_is_the_majority_of_every_annotator():
    from pipeline.corpora.topics_pooled import decide

    assert decide(["education", "education", "culture"], ["education"]) == "education"
    # topic corpus and claims corpus disagree 2:2 -> the one corpus-final label among the tied wins
    assert decide(["health", "health", "labor", "labor", "none"], ["health", "none"]) == "health"
    # 2:2 and both tied labels are a corpus's final label: split, left out
    assert decide(["health", "health", "labor", "labor"], ["health", "labor"]) is None


def test_boundary_rules_relabel_only_what_contradicts_the_codebook():
    from pipeline.corpora.topic_boundaries import relabel
    from pipeline.corpora.topics_pooled import apply_relabel

    rows = [
        {"id": "a", "lang": "ru", "label": "technology",
         "text": "В ЦОН района оборудованы рабочие места с доступом к порталу электронного правительства."},
        {"id": "b", "lang": "kk", "label": "technology",
         "text": "Мемлекеттік қызметтерді электрондық форматта және ХҚКО арқылы алу мүмкіндігі туралы."},
        {"id": "c", "lang": "ru", "label": "technology",
         "text": "Портал электронного правительства перевели на новое программное обеспечение."},
        {"id": "d", "lang": "ru", "label": "technology",
         "text": "В районе проложат широкополосный доступ в интернет."},
        {"id": "e", "lang": "ru", "label": "government_operations",
         "text": "Счетный комитет выявил нецелевое использование бюджетных средств на 2 млрд тенге."},
        {"id": "f", "lang": "kk", "label": "government_operations",
         "text": "Мемлекет басшысы Республикалық бюджеттің атқарылуын бақылау жөніндегі Есеп комитетінің "
                 "төрағасын қабылдады."},
        {"id": "g", "lang": "ru", "label": "government_operations",
         "text": "Счетный комитет подписал меморандум о сотрудничестве с ЕВРОСАИ."},
        {"id": "h", "lang": "ru", "label": "macroeconomics",
         "text": "Счетный комитет подписал меморандум о сотрудничестве с высшим органом аудита Кореи."},
        {"id": "i", "lang": "ru", "label": "education",
         "text": "Студенты получили услуги через портал электронного правительства."},
    ]
    recs = relabel(rows)
    assert {r["id"]: (r["from"], r["to"]) for r in recs} == {
        "a": ("technology", "government_operations"),
        "b": ("technology", "government_operations"),
        "e": ("government_operations", "macroeconomics"),
        "h": ("macroeconomics", "government_operations"),
    }
    assert relabel(rows) == recs                                   # deterministic
    relabelled = [{**r, "label": next((x["to"] for x in recs if x["id"] == r["id"]), r["label"])} for r in rows]
    assert relabel(relabelled) == []                               # no rule undoes another
    by_hash = {r["sha1"]: r for r in recs}
    assert apply_relabel(rows[0]["text"], "technology", by_hash) == "government_operations"
    # a text whose label has since changed (a new annotation) is left alone
    assert apply_relabel(rows[0]["text"], "education", by_hash) == "education"


def test_relabel_script_writes_a_reproducible_record_file(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("relabel_boundaries",
                                                  PROJECT_ROOT / "data" / "topics" / "relabel_boundaries.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = [{"id": "x:1:ru", "lang": "ru", "label": "technology",
             "text": "Мобильное приложение eGov.kz дает доступ к государственным услугам портала."},
            {"id": "x:2:ru", "lang": "ru", "label": "health", "text": "Больницу построят в 2026 году."}]
    seen = {}

    def fake_pooled(relabels=None, **kw):
        seen["relabels"] = relabels
        return rows, {}

    monkeypatch.setattr(mod.pooled, "pooled_examples", fake_pooled)
    out = tmp_path / "relabels.jsonl"
    assert mod.main(["--out", str(out)]) == 0
    first = out.read_text(encoding="utf-8")
    assert seen["relabels"] == {}          # rules see the annotators' labels, not earlier re-labels
    recs = [json.loads(line) for line in first.splitlines()]
    assert [(r["id"], r["from"], r["to"], r["rule"]) for r in recs] == [
        ("x:1:ru", "technology", "government_operations", "e-government as administration")]
    assert mod.main(["--out", str(out)]) == 0 and out.read_text(encoding="utf-8") == first


@needs_shared
def test_pooled_training_corpus_has_both_corpora_one_row_per_text_and_no_gold():
    from collections import Counter

    from pipeline.corpora import topics as corpus, topics_pooled as pooled

    rows, summary = pooled.pooled_examples()
    assert summary["rows"] == len(rows) > 9000
    froms = Counter(r["labels_from"] for r in rows)
    assert froms["claims"] > 1000 and froms["topics"] > 1000 and froms["claims+topics"] > 1000
    assert len({pooled.dedupe_key(r["text"]) for r in rows}) == len(rows)
    sources = Counter(r["source"] for r in rows)
    assert {"ru_lenta", "kaznerd", "enu1", "kk_ktb"} <= set(sources)
    assert "kaznerd-valid" not in sources and "kaznerd-test" not in sources
    assert "none" not in {r["label"] for r in rows}
    gold = corpus.gold_texts()
    assert not any(pooled.overlaps_gold_text(r["text"], gold) for r in rows)


def test_word_vectors_only_for_texts_the_vectors_know_and_never_pickled():
    """navec vectors go to Russian text; a Kazakh text (few of its words in navec) gets none,
    and the vectors stay out of the saved model (they ship in the natasha wheel)."""
    import pickle

    import numpy as np

    pytest.importorskip("navec")
    from pipeline.topics.estimators import MeanWordVectors

    mv = MeanWordVectors(weight=2.0)
    X = mv.transform(["Правительство повысит пенсии с января.",
                      "Үкімет қаңтардан бастап зейнетақыны көтереді.", ""]).toarray()
    assert np.isclose(np.linalg.norm(X[0]), 2.0)
    assert not X[1].any() and not X[2].any()
    assert len(pickle.dumps(mv)) < 1000


def test_a_damaged_word_table_stops_the_model_load_naming_the_file(tmp_path):
    """The topic model reads the kk->ru word table lazily; a table cut short, missing or rebuilt
    since training must stop the load (before any work) with the file and the fix, not fail
    mid-run or silently change topics."""
    from pipeline.topics.model import TopicModelError, check_inputs, record_inputs

    table = tmp_path / "lexicon.tsv"
    table.write_text("білім\tобразование:0.8 знание:0.2\nжол\tдорога:1.0\n", encoding="utf-8")
    card = {"inputs": record_inputs({"features": {"vectors": {"lexicon": str(table)}}})}
    check_inputs(card, tmp_path / "model.joblib")  # the same file: fine
    table.write_text("білім\tобразование:0.8 знание:0.2\n", encoding="utf-8")  # cut at a line end
    with pytest.raises(TopicModelError, match=r"lexicon\.tsv is not the file .*make train-topics"):
        check_inputs(card, tmp_path / "model.joblib")
    table.unlink()
    with pytest.raises(TopicModelError, match=r"lexicon\.tsv.* is missing.*make train-topics"):
        check_inputs(card, tmp_path / "model.joblib")


def test_shipped_topic_model_records_its_word_table():
    from pipeline.topics.model import load_model

    card = load_model().card
    assert "models/kk_ru_lexicon/lexicon.tsv" in card.get("inputs", {})
