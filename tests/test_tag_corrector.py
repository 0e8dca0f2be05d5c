"""The Kazakh tag corrector: treebank lexicon + suffix classifiers after the Stanza tagger."""
from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.config import shared_data_dir
from pipeline.nlp.conllu import format_feats, parse_feats
from pipeline.nlp.tag_corrector import TagCorrector, TaggedWord, treebank_words

DATA = shared_data_dir()
needs_shared = pytest.mark.skipif(not (DATA / "ud" / "kk_ktb").is_dir(),
                                  reason=f"{DATA} is absent (../shared/data is not beside this clone)")

# Passive verbs end in -ыл/-іл + ending, active ones do not: enough for the suffix classifier.
_PASSIVE = [("бекітілді", "бекіт"), ("салынды", "сал"), ("ашылды", "аш"), ("берілді", "бер"),
            ("жасалды", "жаса"), ("қабылданды", "қабылда"), ("көрсетілді", "көрсет"), ("құрылды", "құр")]
_ACTIVE = [("бекітті", "бекіт"), ("салды", "сал"), ("ашты", "аш"), ("берді", "бер"),
           ("жасады", "жаса"), ("қабылдады", "қабылда"), ("көрсетті", "көрсет"), ("құрды", "құр")]
_VERB = "Mood=Ind|Number=Sing|Person=3|Tense=Past|VerbForm=Fin"


def _training_words() -> list[TaggedWord]:
    words = [TaggedWord(f, lem, "VERB", "v", _VERB + "|Voice=Pass") for f, lem in _PASSIVE]
    words += [TaggedWord(f, lem, "VERB", "v", _VERB) for f, lem in _ACTIVE]
    words += [TaggedWord("жылы", "жыл", "NOUN", "n", "Case=Nom"), TaggedWord("жылы", "жылы", "ADJ", "adj", "_"),
              TaggedWord("Астана", "Астана", "PROPN", "np", "Case=Nom")]
    return words


def _word(text, lemma, upos, feats=None):
    return SimpleNamespace(text=text, lemma=lemma, upos=upos, xpos="x", feats=feats)


def test_known_forms_get_their_one_treebank_analysis():
    tc = TagCorrector(features=["Voice"]).fit(_training_words())
    w = _word("Астана", "Астана", "NOUN", "Case=Acc")
    assert tc.correct([w]) == 1
    assert (w.upos, w.xpos, w.feats) == ("PROPN", "np", "Case=Nom")
    # lower-cased fallback: a sentence-initial form still finds its analysis
    w = _word("Бекітілді", "бекіт", "NOUN")
    tc.correct([w])
    assert w.upos == "VERB" and "Voice=Pass" in w.feats


def test_known_forms_with_one_lemma_get_it_after_the_lemmatizer():
    tc = TagCorrector(features=["Voice"]).fit(_training_words())
    w = _word("Бекітілді", "бекітіл", "VERB", _VERB + "|Voice=Pass")
    tc.correct([w], features=False)
    assert w.lemma == "бекітіл"  # the tagger's stage leaves lemmas alone
    assert tc.correct([w], lexicon=False) == 1
    assert w.lemma == "бекіт"
    # "жылы" has two lemmas in the training data (жыл, жылы): the lemmatizer's stays
    w = _word("жылы", "жылы", "ADJ")
    tc.correct([w])
    assert w.lemma == "жылы"


def test_forms_with_several_analyses_stay_within_the_treebank_s():
    """"жылы" is a NOUN ("year", Case=Nom) or an ADJ ("warm") in the training data: the
    tagger's choice stands when the treebank has it; an analysis the treebank never gave the
    form is replaced by its most frequent one of the same UPOS."""
    tc = TagCorrector(features=["Voice"]).fit(_training_words())
    assert tc.lookup("жылы") is None
    adj = _word("жылы", "жылы", "ADJ", None)
    assert tc.correct([adj], features=False) == 0
    assert (adj.upos, adj.feats) == ("ADJ", None)
    noun = _word("жылы", "жыл", "NOUN", "Case=Loc")
    assert tc.correct([noun], features=False) == 1
    assert (noun.upos, noun.xpos, noun.feats) == ("NOUN", "n", "Case=Nom")


def test_unseen_passive_verb_gets_voice_from_its_suffix():
    tc = TagCorrector(features=["Voice"]).fit(_training_words())
    passive = _word("тағайындалды", "тағайында", "VERB", _VERB)
    active = _word("тағайындады", "тағайында", "VERB", _VERB + "|Voice=Pass")
    assert tc.correct([passive, active]) == 2
    assert parse_feats(passive.feats)["Voice"] == "Pass"
    assert "Voice" not in parse_feats(active.feats)
    # other features are kept, in UD order
    assert passive.feats == format_feats({**parse_feats(_VERB), "Voice": "Pass"})
    # features=False leaves unseen words alone
    other = _word("тағайындалды", "тағайында", "VERB", _VERB)
    assert tc.correct([other], features=False) == 0


def test_saved_corrector_loads_and_a_wrong_file_is_refused(tmp_path):
    tc = TagCorrector(features=["Voice"]).fit(_training_words())
    tc.save(tmp_path / "tc.joblib")
    again = TagCorrector.load(tmp_path / "tc.joblib")
    assert again.lookup("Астана") == ("PROPN", "np", "Case=Nom")
    import joblib

    joblib.dump({"not": "a corrector"}, tmp_path / "other.joblib")
    with pytest.raises(TypeError, match="TagCorrector"):
        TagCorrector.load(tmp_path / "other.joblib")


def test_a_configured_corrector_that_is_missing_is_named():
    from pipeline.config import load
    from pipeline.nlp.kk import load_stanza

    cfg = dict(load("nlp_kk"))  # a copy: load() is cached
    cfg["models"] = {**cfg["models"], "tag_corrector": "no_such_corrector.joblib"}
    with pytest.raises(FileNotFoundError, match="no_such_corrector.joblib.*--steps tag_corrector"):
        load_stanza(cfg, ["tokenize", "mwt", "pos"])


@needs_shared
def test_corrector_improves_tags_on_the_held_out_fold():
    """What the shipped corrector is for: on KTB sentences never trained on, the pipeline with
    it gets more UPOS and features right than the same models without it."""
    from pipeline.config import load
    from pipeline.evaluation.nlp import evaluate_pipeline
    from pipeline.nlp.kk import KazakhPipeline
    from pipeline.evaluation.report_nlp import kk_test_split

    cfg = dict(load("nlp_kk"))  # a copy: load() is cached
    with tempfile.TemporaryDirectory() as tmp:
        gold = kk_test_split(DATA, Path(tmp))
        with_tc = evaluate_pipeline(KazakhPipeline(cfg), gold)
        without = evaluate_pipeline(KazakhPipeline({**cfg, "models": {**cfg["models"], "tag_corrector": ""}}), gold)
    assert with_tc["UPOS"] > without["UPOS"] + 1
    assert with_tc["UFeats"] > without["UFeats"] + 2


@needs_shared
def test_never_trained_on_the_test_fold():
    """The shipped lexicon holds no word form that only the test fold has."""
    import tomllib

    from pipeline.config import PROJECT_ROOT, load, resolve_path
    from pipeline.nlp.conllu import split_ktb

    cfg = tomllib.loads((PROJECT_ROOT / "configs" / "train_kk.toml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        splits = split_ktb(cfg, DATA, Path(tmp))
        train = {f for fold in ("train", "dev") for w in treebank_words(splits[fold]) for f in (w.form, w.form.lower())}
        test_only = {w.form for w in treebank_words(splits["test"])} - train
    assert len(test_only) > 100
    nlp = load("nlp_kk")
    tc = TagCorrector.load(resolve_path(nlp["model_dir"]) / nlp["models"]["tag_corrector"])
    assert not [f for f in test_only if f in tc.lexicon_]
