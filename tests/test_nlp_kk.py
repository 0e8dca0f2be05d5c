"""The shipped Kazakh Stanza models: offline loading, offsets, MWTs, and accuracy on unseen text."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pipeline.config import shared_data_dir
from pipeline.nlp.conllu import doc_to_conllu
from pipeline.nlp import get_pipeline
from pipeline.nlp.kk import _split_surface

DATA = shared_data_dir()
needs_shared = pytest.mark.skipif(not (DATA / "ud" / "kk_ktb").is_dir(),
                                  reason=f"{DATA} is absent (../shared/data is not beside this clone)")


@pytest.fixture(scope="module")
def kk():
    return get_pipeline("kk")


def test_loads_offline_and_analyses(kk):
    text = "Біз селолық әкімдіктерге қосымша өкілеттіктер береміз. Мен тұжырымдаманы бекіттім."
    doc = kk(text)
    assert doc.text == text
    sents = list(doc.sents)
    assert len(sents) == 2
    words = {t.text: t for t in doc}
    assert words["береміз"].pos_ == "VERB"
    assert words["Біз"].pos_ == "PRON"
    assert words["береміз"].lemma_ == "бер"
    roots = [t for t in sents[0] if t.dep_ == "root"]
    assert [t.text for t in roots] == ["береміз"]
    for t in doc:
        assert text[t.idx:t.idx + len(t.text)] == t.text


def test_whitespace_is_kept_exactly(kk):
    text = "Қоғам  және  азаматтар  қатысуы қажет.\n\nБіз тиіспіз."
    doc = kk(text)
    assert doc.text == text
    assert not any(t.is_space for s in doc.sents for t in s if t.i == s.start)


def test_multiword_tokens_cover_the_surface():
    assert _split_surface("тиіспіз", ["тиіс", "піз"]) == ["тиіс", "піз"]
    assert _split_surface("Балалы", ["бала", "лы"]) == ["Бала", "лы"]
    assert "".join(_split_surface("xyz", ["a", "b"])) == "xyz"


def test_conllu_output_is_valid(kk, tmp_path):
    doc = kk("Біз бүкіл әлеммен бірге өркениетті жолмен жүруге тиіспіз. Оған жол беруге болмайды.")
    path = tmp_path / "out.conllu"
    path.write_text(doc_to_conllu(doc), encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "udtools.cli", "--level", "2", "--lang", "kk", str(path)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]


def test_entities_from_kaznerd_model(kk):
    doc = kk("Қасым-Жомарт Тоқаев Астана қаласында Үкімет отырысын өткізді.")
    labels = {e.label_ for e in doc.ents}
    assert labels, "no entities found"
    assert labels & {"PERSON", "GPE", "LOCATION", "ORGANISATION"}


@needs_shared
def test_accuracy_on_held_out_ktb_fold(kk):
    """Smoke check on the KTB test fold (never trained on): the shipped models must stay
    well above chance on every level."""
    from pipeline.evaluation.nlp import evaluate_pipeline
    from pipeline.evaluation.report_nlp import kk_test_split

    with tempfile.TemporaryDirectory() as tmp:
        gold = kk_test_split(DATA, Path(tmp))
        # the first 40 sentences keep the test quick
        blocks = gold.read_text(encoding="utf-8").split("\n\n")[:40]
        small = Path(tmp) / "small.conllu"
        small.write_text("\n\n".join(b for b in blocks if b.strip()) + "\n\n", encoding="utf-8")
        scores = evaluate_pipeline(kk, small)
    assert scores["Tokens"] >= 95
    assert scores["UPOS"] >= 80
    assert scores["Lemmas"] >= 80
    assert scores["UFeats"] >= 65
    assert scores["LAS"] >= 45


@needs_shared
def test_ner_accuracy_on_kaznerd_test_part():
    from pipeline.evaluation.report_nlp import evaluate_kk_ner

    res = evaluate_kk_ner(DATA / "kaznerd" / "IOB2_test-part.txt", limit=300)
    assert res["f1"] >= 60


def test_a_configured_character_lm_that_is_missing_is_named():
    """A tagger trained with character LMs cannot run without them: a config naming one that is
    not there fails with the path and the rebuild command, not deep inside Stanza."""
    from pipeline.config import load
    from pipeline.nlp.kk import load_stanza

    cfg = dict(load("nlp_kk"))  # a copy: load() is cached
    cfg["models"] = {**cfg["models"], "charlm_forward": "no_such_charlm.pt"}
    with pytest.raises(FileNotFoundError, match="no_such_charlm.pt.*polclaims train kk"):
        load_stanza(cfg, ["tokenize", "pos"])
