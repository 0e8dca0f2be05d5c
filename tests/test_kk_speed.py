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
    """inference_mode, the list-based cycle check, the char LMs without their output layer, the
    lemmatizer's batch size, NER without its loss, the character models and seq2seq lemmas once
    per distinct word, no optimizers at load: the same analyses as with all of them off."""
    from pipeline.nlp.kk import KazakhPipeline

    off = _cfg(inference_mode=False, fast_cycle_check=False, charlm_output_layer=True, quantize_int8=[],
               ner_crf_loss=True, char_model_dedup=False, lemma_seq2seq_cache=0, optimizer_at_load=True)
    off["stanza_options"] = {}
    on = _cfg(quantize_int8=[])
    base = _analyses(KazakhPipeline(off), TEXTS)
    fast = KazakhPipeline(on)
    lms = stanza_speed._charlms(fast.stanza)
    assert lms and all(type(lm.decoder).__name__ == "Identity" for lm in lms)
    assert _analyses(fast, TEXTS) == base
    # the second pass meets stored seq2seq lemmas: still the same
    assert _analyses(fast, TEXTS) == base
    cache = fast.stanza.processors["lemma"].trainer.skip_seq2seq.__self__
    assert isinstance(cache, stanza_speed.Seq2SeqLemmaCache) and cache.store


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


class _FakeLemmaTrainer:
    """Dictionary lookups and an ensemble like Stanza's lemma trainer."""

    def __init__(self):
        self.dictionary = {("мен", "PRON"): "мен"}

    def skip_seq2seq(self, pairs):
        return [tuple(p) in self.dictionary for p in pairs]

    def ensemble(self, pairs, preds):
        return [self.dictionary.get(tuple(p), pred) for p, pred in zip(pairs, preds)]


def _lemmatize(trainer, pairs, model):
    """What Stanza's LemmaProcessor does around the two methods: the model on the words not
    skipped, '' for the others, then the ensemble."""
    skip = trainer.skip_seq2seq(pairs)
    preds = [model(p) if not s else "" for p, s in zip(pairs, skip)]
    return trainer.ensemble(pairs, preds), sum(not s for s in skip)


def test_seq2seq_lemmas_once_per_distinct_word_and_stored_within_bounds():
    calls = []

    def model(pair):
        calls.append(pair)
        return pair[0].rstrip("лар") or pair[0]

    plain = _FakeLemmaTrainer()
    cached = _FakeLemmaTrainer()
    cache = stanza_speed.Seq2SeqLemmaCache(cached, size=2)
    batch1 = [("мен", "PRON"), ("үйлер", "NOUN"), ("үйлер", "NOUN"), ("үйлер", "VERB"), ("бала", "NOUN")]
    batch2 = [("бала", "NOUN"), ("үйлер", "NOUN"), ("қала", "NOUN")]
    want1, n1 = _lemmatize(plain, batch1, model)
    want2, _ = _lemmatize(plain, batch2, model)
    calls.clear()
    got1, m1 = _lemmatize(cached, batch1, model)
    assert got1 == want1 and (n1, m1) == (4, 3)  # the repeated "үйлер" NOUN goes to the model once
    assert len(cache.store) == 2  # bounded: the oldest pair went
    got2, m2 = _lemmatize(cached, batch2, model)
    assert got2 == want2 and m2 == 2  # "бала" NOUN was stored; "үйлер" NOUN had been evicted
    assert list(cache.store) == [("үйлер", "NOUN"), ("қала", "NOUN")]  # least recently used went


def _char_model(bidirectional, attention, pad):
    import torch
    from stanza.models.common.char_model import CharacterModel

    torch.manual_seed(0)
    args = {"char_emb_dim": 8, "char_hidden_dim": 6, "char_num_layers": 1, "dropout": 0.0,
            "char_rec_dropout": 0.0}
    model = CharacterModel(args, {"char": list(range(20))}, pad=pad, bidirectional=bidirectional,
                           attention=attention)
    if attention:
        torch.nn.init.normal_(model.char_attn.weight)
    return model.eval()


@pytest.mark.parametrize("bidirectional,attention,pad", [(False, True, False), (True, False, False),
                                                         (True, False, True)])
def test_character_model_once_per_distinct_word_gives_the_same_rows(bidirectional, attention, pad):
    """The tagger's (one direction, attention) and NER's (both directions, final states) word
    character models: the same output with every word run once as with every occurrence."""
    import torch
    from stanza.models.common.data import sort_all

    rng = random.Random(1)
    words = [[rng.randrange(1, 20) for _ in range(rng.randint(1, 9))] for _ in range(12)]
    sents = [[rng.choice(words) for _ in range(rng.randint(1, 8))] for _ in range(6)]
    sents.sort(key=len, reverse=True)  # a batch's sentences come longest first
    flat = [w for s in sents for w in s]
    assert len({tuple(w) for w in flat}) < len(flat)  # there are repeats
    lens = [len(w) for w in flat]
    (sorted_words,), word_orig_idx = sort_all([flat], lens)  # as the tagger's data loader does
    wordlens = [len(w) for w in sorted_words]
    chars = torch.zeros(len(flat), max(wordlens), dtype=torch.long)
    for i, w in enumerate(sorted_words):
        chars[i, :len(w)] = torch.tensor(w)
    mask = chars.eq(0)
    sentlens = [len(s) for s in sents]
    model = _char_model(bidirectional, attention, pad)
    with torch.inference_mode():
        want = model(chars, mask, list(word_orig_idx), sentlens, wordlens)
        stanza_speed.dedup_char_models(type("P", (), {"processors": {"pos": type("Q", (), {
            "trainer": type("T", (), {"model": type("M", (), {"charmodel": model})()})()})()}})())
        got = model(chars, mask, list(word_orig_idx), sentlens, wordlens)
    if pad:
        assert torch.allclose(want, got, atol=1e-6)
    else:
        assert torch.allclose(want.data, got.data, atol=1e-6)
        assert torch.equal(want.batch_sizes, got.batch_sizes)


def test_ner_loss_skipped_only_at_prediction():
    import torch
    from stanza.models.common.crf import CRFLoss

    crit = CRFLoss(4)
    holder = type("P", (), {"processors": {"ner": type("Q", (), {
        "trainer": type("T", (), {"model": type("M", (), {"crits": [crit]})()})()})()}})()
    assert stanza_speed.skip_ner_loss(holder) == 1
    inputs = torch.randn(2, 3, 4)
    masks = torch.zeros(2, 3, dtype=torch.bool)
    tags = torch.randint(0, 4, (2, 3))
    crit.train()
    loss, trans = crit(inputs, masks, tags)
    assert loss.item() > 0 and trans is crit._transitions
    crit.eval()
    loss, trans = crit(inputs, masks, tags)
    assert loss.item() == 0 and trans is crit._transitions


def test_pipeline_loaded_without_optimizers_refuses_to_train():
    from stanza.models.common import utils

    with stanza_speed.no_optimizers():
        opt = utils.dispatch_optimizer("adam", [], lr=0.003)
        assert opt.param_groups[0]["lr"] == 0.003
    with pytest.raises(RuntimeError, match="prediction only"):
        opt.step()
    assert utils.dispatch_optimizer is not None and "lambda" not in utils.dispatch_optimizer.__name__
