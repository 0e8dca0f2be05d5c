"""The Kazakh pipeline's speed settings ([speed] of configs/nlp_kk.toml): the lossless ones must
not change a single analysis, and each can be switched off."""
from __future__ import annotations

import random

import numpy as np
import pytest

from pipeline.config import load, shared_data_dir
from pipeline.nlp import stanza_speed

DATA = shared_data_dir()
needs_shared = pytest.mark.skipif(not (DATA / "parallel_kk_ru").is_dir(),
                                  reason=f"{DATA} is absent (../shared/data is not beside this clone)")

TEXTS = [
    "Біз селолық әкімдіктерге қосымша өкілеттіктер береміз. Мен тұжырымдаманы бекіттім.",
    "Қасым-Жомарт Тоқаев Астана қаласында Үкімет отырысын өткізді.",
    "Биыл облыс бойынша 53 мың жаңа жұмыс орнын ашу жоспарланып отыр, оның ішінде тұрақты "
    "жұмыс орындары 18 мыңнан асады, бұл өткен жылмен салыстырғанда едәуір көп.",
    "Біз бүкіл әлеммен бірге өркениетті жолмен жүруге тиіспіз. Оған жол беруге болмайды.",
]


def _stanza_tarjan():
    from stanza.models.common import chuliu_edmonds

    stanza_speed.use_fast_cycle_check(False)
    return chuliu_edmonds.tarjan


def test_list_tarjan_finds_the_same_cycles_as_stanzas():
    """Same cycles in the same order on head arrays with none, one and several cycles (the
    parser's decoder contracts them in that order, so the trees stay the same)."""
    original = _stanza_tarjan()
    rng = random.Random(3)
    with_cycles = 0
    for _ in range(3000):
        n = rng.randint(2, 60)
        tree = np.array([0] + [rng.randrange(n) for _ in range(n - 1)])
        if rng.random() < 0.3:  # mostly trees: attach each node to an earlier one
            tree = np.array([0] + [rng.randrange(i) for i in range(1, n)])
        want, got = original(tree), stanza_speed.tarjan(tree)
        with_cycles += bool(want)
        assert len(want) == len(got), tree
        for a, b in zip(want, got):
            assert np.array_equal(a, b), tree
    assert with_cycles > 1000  # the comparison did meet cycles


def test_fast_cycle_check_gives_the_same_trees():
    from stanza.models.common import chuliu_edmonds

    rng = np.random.default_rng(5)
    scores = [rng.normal(size=(n, n)) for n in rng.integers(3, 70, size=300)]
    stanza_speed.use_fast_cycle_check(False)
    want = [chuliu_edmonds.chuliu_edmonds_one_root(s.copy()) for s in scores]
    stanza_speed.use_fast_cycle_check(True)
    try:
        got = [chuliu_edmonds.chuliu_edmonds_one_root(s.copy()) for s in scores]
    finally:
        stanza_speed.use_fast_cycle_check(False)
    assert all(np.array_equal(a, b) for a, b in zip(want, got))


def test_unknown_component_to_quantise_is_named():
    with pytest.raises(ValueError, match="parserr"):
        stanza_speed.quantize_int8(type("P", (), {"processors": {}})(), ["parserr"])


def _analyses(nlp, texts):
    return [[(t.text, t.pos_, str(t.morph), t.lemma_, t.head.i, t.dep_, t.ent_type_) for t in nlp(x)]
            for x in texts]


def _cfg(**speed):
    cfg = dict(load("nlp_kk"))
    cfg["speed"] = {**cfg.get("speed", {}), **speed}
    return cfg


def test_lossless_settings_change_no_analysis():
    """inference_mode, the list-based cycle check, the char LMs without their output layer and
    the lemmatizer's batch size: the same analyses as with all of them off."""
    from pipeline.nlp.kk import KazakhPipeline

    off = _cfg(inference_mode=False, fast_cycle_check=False, charlm_output_layer=True, quantize_int8=[])
    off["stanza_options"] = {}
    on = _cfg(quantize_int8=[])
    base = _analyses(KazakhPipeline(off), TEXTS)
    fast = KazakhPipeline(on)
    lms = stanza_speed._charlms(fast.stanza)
    assert lms and all(type(lm.decoder).__name__ == "Identity" for lm in lms)
    assert _analyses(fast, TEXTS) == base


def test_shipped_int8_char_lms_are_quantised_and_parse_alike():
    """The shipped setting quantises the parser's character LMs (and nothing else); the parses
    of these sentences stay nearly the same as with float LMs."""
    from pipeline.nlp.kk import KazakhPipeline

    assert load("nlp_kk")["speed"]["quantize_int8"] == ["charlm"]
    q = KazakhPipeline(_cfg())
    lstm_types = {type(lm.charlstm.lstm).__module__ for lm in stanza_speed._charlms(q.stanza)}
    assert lstm_types and all("quantized" in m for m in lstm_types)
    parser_lstm = q.stanza.processors["depparse"].trainer.model.parserlstm.lstm[0].lstm
    assert "quantized" not in type(parser_lstm).__module__
    f = KazakhPipeline(_cfg(quantize_int8=[]))
    a, b = _analyses(q, TEXTS), _analyses(f, TEXTS)
    tokens = [x for s in a for x in s]
    same = sum(x == y for sa, sb in zip(a, b) for x, y in zip(sa, sb))
    assert len(tokens) == sum(len(s) for s in b)
    assert same / len(tokens) >= 0.9


@needs_shared
def test_parallel_lines_pair_up(tmp_path):
    """The Kazakh vs Russian speed row annotates the two sides of the same line pairs."""
    from pipeline.benchmarks.run import parallel_lines

    texts = parallel_lines(DATA, tmp_path, n=50)
    kk = texts["kk"].read_text(encoding="utf-8").split("\n\n")
    ru = texts["ru"].read_text(encoding="utf-8").split("\n\n")
    assert len(kk) == len(ru) == 50
    assert all(len(x.split()) >= 12 for x in kk + ru)
    assert sum(any(c in "әғқңөұүһі" for c in x) for x in kk) > 40
    assert sum(any(c in "әғқңөұүһі" for c in x) for x in ru) < 10


def test_speed_check_compares_token_by_token(monkeypatch):
    """`python -m pipeline.benchmarks.kk_speed_check` counts agreement per field; a text the two settings
    tokenize differently is counted apart, not compared shifted."""
    from pipeline.benchmarks import kk_speed_check as speed_check

    calls = []

    def fake(cfg, texts):
        calls.append(cfg["speed"])
        base = [[("а", "NOUN", "", "а", 0, "root", "O")], [("б", "VERB", "", "б", 0, "root", "O")],
                [("в", "X", "", "в", 0, "root", "O")]]
        if len(calls) == 2:
            base[1] = [("б", "VERB", "", "б", 0, "obj", "O")]
            base[2] = [("в", "X", "", "в", 0, "root", "O"), ("г", "X", "", "г", 0, "dep", "O")]
        return base, 1.0

    monkeypatch.setattr(speed_check, "analyses", fake)
    res = speed_check.compare(["а", "б", "вг"])
    assert calls[0] == speed_check.OFF
    assert res["sentences_tokenized_differently"] == 1
    assert res["tokens"] == 2 and res["sentences_identical"] == 1
    assert res["identical"]["deprel"].startswith("1/2") and res["identical"]["upos"].startswith("2/2")
