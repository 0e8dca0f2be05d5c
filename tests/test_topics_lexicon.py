"""The Kazakh -> Russian word translation table (pipeline.corpora.kk_ru_lexicon) and the Kazakh
word vectors the topic model reads through it: a word's translations come from aligned lines,
noise (a word seen once, whole-page lines) stays out, and a Kazakh text lands next to its Russian
translation in the navec space."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.corpora import kk_ru_lexicon as lx

# a small aligned fixture: each Kazakh word always beside its Russian translation, in changing company
FIXTURE = [
    ("мектеп жөндеу", "ремонт школы"),
    ("мектеп салу", "строительство школы"),
    ("аурухана салу", "строительство больницы"),
    ("аурухана жөндеу", "ремонт больницы"),
    ("жол салу", "строительство дороги"),
    ("жол жөндеу", "ремонт дороги"),
    ("мектеп пен аурухана", "школы и больницы"),
    ("бір рет кездесетін сөз", "слово встречается один раз"),
]


def test_induce_recovers_the_translations_of_aligned_lines():
    table = lx.induce(FIXTURE, iterations=10, min_count=2, min_cooc=2, min_score=0.2)
    best = {kk: trans[0][0] for kk, trans in table.items()}
    assert best["мектеп"] == "школы"
    assert best["аурухана"] == "больницы"
    assert best["жол"] == "дороги"
    assert best["салу"] == "строительство"
    assert best["жөндеу"] == "ремонт"
    for trans in table.values():
        assert abs(sum(p for _, p in trans) - 1) < 0.01
        assert [p for _, p in trans] == sorted((p for _, p in trans), reverse=True)


def test_rare_words_long_lines_and_words_without_a_vector_stay_out():
    table = lx.induce(FIXTURE, iterations=10, min_count=2, min_cooc=2, min_score=0.2)
    assert "кездесетін" not in table  # one line only
    # a whole page on one line links every word to every other: left out
    page = [(" ".join(["мектеп"] + ["толтырма"] * 100), " ".join(["школы"] + ["заполнение"] * 100))] * 3
    assert "толтырма" not in lx.induce(FIXTURE + page, iterations=10, min_score=0.2, max_line_tokens=80)
    # only Russian words the vectors know are kept as translations
    table = lx.induce(FIXTURE, iterations=10, min_score=0.2, keep_target=lambda w: w != "школы")
    assert "школы" not in {t for trans in table.values() for t, _ in trans}


def test_table_file_round_trip_and_bad_line_named(tmp_path):
    from pipeline.topics.estimators import read_lexicon

    table = lx.induce(FIXTURE, iterations=10, min_score=0.2)
    path = tmp_path / "lexicon.tsv"
    lx.write_table(table, path)
    back = read_lexicon(path)
    assert set(back) == set(table)
    assert back["мектеп"][0][0] == "школы"
    path.write_text("мектеп\tшколы:1\nбұзылған жол\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lexicon.tsv:2"):
        read_lexicon(path)


def test_build_without_the_corpus_says_where_it_comes_from(tmp_path):
    with pytest.raises(SystemExit, match="apertium-kaz-rus"):
        lx.build(tmp_path / "out.tsv", directory=tmp_path / "absent")


def test_kazakh_text_gets_the_vector_of_its_russian_translation(tmp_path):
    """Read through the table, a Kazakh sentence lands next to the Russian sentence it translates,
    farther from an unrelated one; a word form the table lacks is found by its prefix; the model
    pickles the table's path, not the vectors."""
    import numpy as np

    pytest.importorskip("navec")
    from pipeline.topics.estimators import MeanWordVectors

    path = tmp_path / "lexicon.tsv"
    path.write_text("мектеп\tшкола:0.7 школы:0.3\nжөндеу\tремонт:1\nмұғалім\tучитель:1\n", encoding="utf-8")
    mv = MeanWordVectors(lexicon=str(path), prefix=5, lexicon_min_coverage=0.5)
    X = mv.transform(["мектеп жөндеу", "ремонт школы", "нефть и газ", "мұғалімдер", "щщщщщ ъъъъъ"]).toarray()
    cos = X @ X.T / np.outer(np.linalg.norm(X, axis=1) + 1e-9, np.linalg.norm(X, axis=1) + 1e-9)
    assert cos[0, 1] > 0.8 and cos[0, 1] > cos[0, 2] + 0.2
    assert X[3].any()  # "мұғалімдер" by the prefix "мұғалім"
    assert not X[4].any()
    assert str(path) in pickle.dumps(mv).decode("latin-1") and len(pickle.dumps(mv)) < 1000


def test_shipped_table_is_lean_and_readable():
    from pipeline import config
    from pipeline.topics.estimators import read_lexicon

    path = config.resolve_path(config.load("topics")["lexicon"]["path"])
    if not path.exists():
        pytest.skip(f"{path} not built (python -m pipeline.corpora.kk_ru_lexicon)")
    assert path.stat().st_size < 5_000_000
    table = read_lexicon(path)
    assert len(table) > 1000
    assert Path(path).is_relative_to(PROJECT_ROOT / "models")


def test_card_shows_the_command_and_a_sample_to_judge_the_table_by():
    table = lx.induce(FIXTURE, iterations=10, min_score=0.2)
    text = lx.card(table, {"line_pairs": len(FIXTURE), "kk_words": len(table), "translations": 9,
                           "out": "models/kk_ru_lexicon/lexicon.tsv", "bytes": 100}, {"iterations": 10}, sample=3)
    assert "python -m pipeline.corpora.kk_ru_lexicon models/kk_ru_lexicon/lexicon.tsv" in text
    assert sum(1 for line in text.splitlines() if line.startswith("| ") and "Kazakh" not in line) == 3
