"""The Russian spaCy pipeline (pipeline/nlp/ru.py): loads offline, annotates correctly, and
keeps a minimum accuracy on UD Russian GSD (skipped when ../shared/data is absent)."""
from __future__ import annotations

import io
import warnings

import pytest

spacy = pytest.importorskip("spacy")
pytest.importorskip("natasha")
pytest.importorskip("slovnet")

from pipeline import config  # noqa: E402
from pipeline.nlp.conllu import doc_to_conllu  # noqa: E402
from pipeline.nlp import ru, ru_config, ru_slovnet  # noqa: E402

SENT1 = "Мы наделяем сельские акиматы дополнительными полномочиями."
SENT2 = "Президент Нурсултан Назарбаев выступил в Астане."


@pytest.fixture(scope="module")
def nlp():
    return ru.load_ru()


def test_loads_offline_with_all_components(nlp):
    assert nlp.lang == "ru"
    for name in ("polclaims_razdel_senter", "polclaims_slovnet_morph", "lemmatizer",
                 "polclaims_slovnet_syntax", "polclaims_slovnet_ner"):
        assert name in nlp.pipe_names
    # model files come from the installed natasha package, not from a machine path
    assert ru_config.resolve_model_path("natasha:model/slovnet_morph_news_v1.tar").is_file()


def test_sentences_pos_lemmas_root_entities(nlp):
    text = f"{SENT1} {SENT2}"
    doc = nlp(text)
    sents = list(doc.sents)
    assert [s.text.strip() for s in sents] == [SENT1, SENT2]
    tok = {t.text: t for t in doc}
    assert tok["наделяем"].pos_ == "VERB"
    assert tok["наделяем"].lemma_ == "наделять"
    assert tok["полномочиями"].lemma_ == "полномочие"
    assert tok["Мы"].pos_ == "PRON"
    assert tok["наделяем"].morph.get("Person") == ["1"]
    for s in sents:
        roots = [t for t in s if t.head.i == t.i]
        assert len(roots) == 1
    assert tok["наделяем"].dep_ == "ROOT"
    assert tok["Мы"].head.i == tok["наделяем"].i and tok["Мы"].dep_ == "nsubj"
    per = [e for e in doc.ents if "Назарбаев" in e.text]
    assert per and per[0].label_ == "PER"
    assert any(e.label_ == "LOC" and e.text == "Астане" for e in doc.ents)


def test_offsets_are_exact(nlp):
    text = "  Цена выросла на 10% в 2023 г.,  т.е. втрое!\n\nСм. https://example.kz/a?b=1 #выборы\tи т.д. "
    doc = nlp(text)
    assert doc.text == text
    for t in doc:
        assert text[t.idx:t.idx + len(t.text)] == t.text
    words = [t.text for t in doc if not t.is_space]
    for expected in ("10", "%", "г.", "т.", "е.", "https://example.kz/a?b=1", "#выборы", "д."):
        assert expected in words
    # a blank line always ends a sentence; no sentence starts on whitespace
    assert len(list(doc.sents)) >= 2
    assert all(not s[0].is_space or s.start == 0 for s in doc.sents)


def test_pipe_matches_call_and_conllu_is_valid(nlp):
    from udtools import udeval

    texts = [SENT1, SENT2, "", "   ", "Да. Нет? Может быть…"]
    piped = list(nlp.pipe(texts, batch_size=2))
    for text, doc in zip(texts, piped):
        single = nlp(text)
        assert [(t.text, t.pos_, t.lemma_, t.head.i, t.dep_) for t in doc] == \
               [(t.text, t.pos_, t.lemma_, t.head.i, t.dep_) for t in single]
    conllu = "".join(doc_to_conllu(d, f"d{i}") for i, d in enumerate(piped))
    parsed = udeval.load_conllu(io.StringIO(conllu), "system", {})  # raises on cycles/multiple roots
    assert len(parsed.sentences) == 5


def test_component_subset_and_spacy_package_fallback():
    nlp = ru.load_ru({"components": ["senter"]})
    assert nlp.pipe_names == ["polclaims_razdel_senter"]
    assert len(list(nlp("Раз. Два.").sents)) == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nlp = ru.load_ru({"spacy_package": "polclaims_no_such_model", "components": ["senter"]})
    assert nlp.pipe_names == ["polclaims_razdel_senter"]
    assert any("polclaims_no_such_model" in str(w.message) for w in caught)
    with pytest.raises(RuntimeError, match="not installed"):
        ru.load_ru({"spacy_package": "polclaims_no_such_model", "spacy_package_fallback": False})
    with pytest.raises(ValueError):
        ru.load_ru({"components": ["senter", "parser9000"]})


def test_mst_gives_single_rooted_tree():
    import numpy as np

    rng = np.random.default_rng(1)
    for n in (1, 2, 5, 30):
        scores = rng.normal(size=(n, n + 1)) * 4
        scores[:, 0] += 3  # many words want the root
        heads = ru_slovnet.mst_heads(scores)
        assert (heads == 0).sum() == 1
        assert ru_slovnet._find_cycle(np.concatenate([[0], heads])) is None


GSD_TEST = config.shared_data_dir() / "ud" / "ru_gsd" / "ru_gsd-ud-test.conllu"


@pytest.mark.skipif(not GSD_TEST.is_file(), reason=f"UD Russian GSD not found at {GSD_TEST} (../shared/data absent)")
def test_accuracy_smoke_on_gsd(nlp):
    from udtools import udeval

    blocks = GSD_TEST.read_text(encoding="utf-8").split("\n\n")[:50]
    gold = "\n\n".join(blocks) + "\n\n"
    texts = [line[len("# text ="):].strip() for b in blocks for line in b.splitlines() if line.startswith("# text =")]
    assert len(texts) == 50
    system = "".join(doc_to_conllu(d, f"s{i}") for i, d in enumerate(nlp.pipe(texts)))
    ev = udeval.evaluate(udeval.load_conllu(io.StringIO(gold), "gold", {}),
                         udeval.load_conllu(io.StringIO(system), "system", {}))
    assert ev["Tokens"].f1 >= 0.95
    assert ev["UPOS"].f1 >= 0.90
    assert ev["Lemmas"].f1 >= 0.88
    assert ev["LAS"].f1 >= 0.65


GSD_DEV = config.shared_data_dir() / "ud" / "ru_gsd" / "ru_gsd-ud-dev.conllu"


@pytest.mark.skipif(not GSD_DEV.is_file(), reason=f"UD Russian GSD not found at {GSD_DEV} (../shared/data absent)")
def test_ud_adapter_trains_pickles_and_runs_as_a_component(tmp_path):
    """A user can train the adapter on their own UD file: fit on 60 sentences, save, load it
    into the pipeline; the adapted tags come from the adapter's label set."""
    from pipeline.nlp.ud_adapter import UDAdapter
    from pipeline.training.ru_adapter import aligned_examples

    blocks = GSD_DEV.read_text(encoding="utf-8").split("\n\n")[:60]
    small = tmp_path / "small.conllu"
    small.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    base = ru.load_ru({"adapter": {"apply": False}})
    X, Y, n = aligned_examples(base, [small], None, features=["Case", "Animacy"])
    assert n == 60 and len(X) > 800 and set(Y) == {"upos", "feat:Case", "feat:Animacy"}
    adapter = UDAdapter(C=0.5).fit(X, Y)
    adapter.save(tmp_path / "adapter.npz")
    nlp = ru.load_ru({"adapter": {"apply": True, "model": str(tmp_path / "adapter.npz")}})
    assert nlp.pipe_names[-1] == "polclaims_ud_adapter"
    doc = nlp(SENT1)
    assert {t.pos_ for t in doc} <= set(Y["upos"])
    # only the features the adapter was trained on are replaced; the tagger's others are kept
    words = {t.text: t for t in doc}
    assert set(words["акиматы"].morph.get("Case")) <= set(Y["feat:Case"])
    assert words["наделяем"].morph.get("Aspect") == base(SENT1)[1].morph.get("Aspect") == ["Imp"]


def test_ud_adapter_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-ru-adapter"):
        ru.load_ru({"adapter": {"apply": True, "model": str(tmp_path / "nope.npz")}})


GRAMEVAL_STYLE = """1	Власти	власть	NOUN	_	Animacy=Inan|Case=Nom|Gender=Fem|Number=Plur	2	nsubj	_	_
2	отказываются	отказываться	VERB	_	Aspect=Imp|Mood=Ind|Number=Plur|Person=3|Tense=Pres|VerbForm=Fin|Voice=Mid	0	root	_	_
3	.	.	PUNCT	_	_	2	punct	_	_

# text = Ещё зимой, сказал он.
1	Ещё	еще	ADV	_	Degree=Pos	2	advmod	_	_
2	зимой	зима	NOUN	_	Animacy=Inan|Case=Ins|Gender=Fem|Number=Sing	4	obl	_	SpaceAfter=No
3	,	,	PUNCT	_	_	4	punct	_	_
4	сказал	сказать	VERB	_	Aspect=Perf|Gender=Masc|Mood=Ind|Number=Sing|Tense=Past|VerbForm=Fin|Voice=Act	0	root	_	_
5	он	он	PRON	_	Case=Nom|Gender=Masc|Number=Sing|Person=3	4	nsubj	_	SpaceAfter=No
6	.	.	PUNCT	_	_	4	punct	_	_

"""


def test_adapter_training_reads_files_without_text_lines_and_leaves_out_scored_sentences(tmp_path):
    """GramEval files have no `# text` lines: the sentence text is rebuilt from the forms; a
    sentence that also occurs in a scored file (even with ё/е and case differences) is not trained on."""
    from pipeline.training.ru_adapter import read_gold, sentences_of

    train = tmp_path / "train.conllu"
    train.write_text(GRAMEVAL_STYLE, encoding="utf-8")
    got = list(read_gold(train))
    assert [t for t, _ in got] == ["Власти отказываются .", "Ещё зимой, сказал он."]
    text, toks = got[0]
    assert [(text[a:b], cols[3]) for a, b, cols in toks] == [("Власти", "NOUN"), ("отказываются", "VERB"), (".", "PUNCT")]
    scored = tmp_path / "scored.conllu"
    scored.write_text(GRAMEVAL_STYLE.split("\n\n", 1)[1].replace("Ещё", "еще"), encoding="utf-8")
    kept = list(read_gold(train, sentences_of([scored])))
    assert [t for t, _ in kept] == ["Власти отказываются ."]


def test_nlp_report_fills_the_readme_table(tmp_path):
    """`make eval-nlp` writes the README's table from the scores (rows per scored file), never by hand."""
    from pipeline.evaluation.report_nlp import END, START, readme_table, update_readme

    scores = {"ru_grameval_news_dev": {"Tokens": 100.0, "Sentences": 98.0, "UPOS": 98.81, "UFeats": 93.26,
                                       "Lemmas": 97.03, "UAS": 92.37, "LAS": 90.09, "tokens_per_second": 900.0},
              "ru_gsd_test": {"Tokens": 98.81, "UPOS": 93.91, "UFeats": 82.42},
              "ru_gsd_test@syntagrus": {"Tokens": 98.81, "UPOS": 93.5, "UFeats": 81.0},
              "kk_kaznerd_test": {"sentences": 10, "precision": 80.0, "recall": 70.0, "f1": 74.67}}
    table = readme_table(scores)
    rows = [line for line in table.splitlines() if line.startswith("| Russian")]
    assert rows[0].startswith("| Russian: GramEval news (Lenta) dev | 100.0 | 98.0 | 98.81 | 93.26 | 97.03 | 92.37 | 90.09 |")
    assert rows[1].startswith("| Russian: UD GSD test | 98.81 |")
    assert rows[2].startswith("| Russian: UD GSD test, syntagrus adapter | 98.81 |  | 93.5 | 81.0 |")
    assert "F1 74.67" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold table\n{END}\nrest\n", encoding="utf-8")
    assert update_readme(readme, table)
    text = readme.read_text(encoding="utf-8")
    assert "old table" not in text and "| 98.81 | 93.26 |" in text and text.endswith(f"{END}\nrest\n")
    assert not update_readme(readme, table)  # unchanged the second time
    with pytest.raises(SystemExit, match="nlp-scores"):
        bad = tmp_path / "bad.md"
        bad.write_text("no markers\n", encoding="utf-8")
        update_readme(bad, table)


def test_adapter_training_harmonises_the_future_of_byt():
    """GramEval's Taiga files tag "будет" Aspect=Imp|Tense=Pres, the rest of the training data
    (and SynTagRus) Tense=Fut: the shipped training config makes them agree before fitting, so the
    adapter does not learn to turn the future tense of "будет построено" into a present."""
    from pipeline.training.ru_adapter import harmonise

    rules = config.load("train_ru_adapter_syntagrus")["data"]["harmonise"]
    taiga = "5 будет быть AUX _ Aspect=Imp|Mood=Ind|Number=Sing|Person=3|Tense=Pres|VerbForm=Fin|Voice=Act 6 aux _ _".split()
    assert harmonise(taiga, rules) == {"Mood": "Ind", "Number": "Sing", "Person": "3", "Tense": "Fut",
                                       "VerbForm": "Fin", "Voice": "Act"}
    past = "5 было быть AUX _ Aspect=Imp|Gender=Neut|Mood=Ind|Number=Sing|Tense=Past|VerbForm=Fin|Voice=Act 6 aux _ _".split()
    assert harmonise(past, rules)["Tense"] == "Past" and harmonise(past, rules)["Aspect"] == "Imp"
    other = "5 будят будить VERB _ Aspect=Imp|Tense=Pres 0 root _ _".split()
    assert harmonise(other, rules)["Tense"] == "Pres"
