"""`process` decides the claim candidates of a chunk's sentences together (one claim-model call per
language: pipeline.batch.analyse._decide_language_group) and remembers token attributes per doc
(extract.token_memo): both must give exactly what deciding sentence by sentence gives
(learned.analyse_sentence, then learned.decide), with a model that has the context net and the
role chooser (the paths where batching could change a decision)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.claims import learned
from pipeline.claims.learned import ClaimModel
from pipeline.io.records import Statement
from pipeline.training import claims as training

from tests.test_learned_claims import FIXTURE, ROLE_GOLD, fixture_records

FIELDS = ("statement_id", "lang", "sentence_index", "type", "predicate", "predicate_start", "predicate_end",
          "predicate_lemma", "actor", "actor_kind", "target", "polarity", "tense", "quantities", "entities",
          "confidence", "claim_id")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A claim model with the context net and the role chooser, fitted on the fixture sentences."""
    recs = fixture_records()
    for r in recs:
        for c in r["claims"]:
            c["actor"], c["target"] = ROLE_GOLD[r["item_id"]]
    records, _ = training.analyse_items(recs, cache_dir=None, progress=False, context=True)
    learned.label_records(records, training.gold_items_of(recs))
    net = {"epochs": 30, "batch_size": 8, "lr": 5e-3, "dropout": 0.0, "hidden": 32, "weight": 0.3}
    model = ClaimModel(C=10.0, none_threshold=0.5, role_C=10.0, context=net).fit(
        [r.features for r in records], [r.label for r in records], [r.gold_tense for r in records],
        context=[r.context for r in records], **training._role_args(records))
    assert model.uses_context and model.role_model_ is not None and model.context_weight_ == 0.3
    out = tmp_path_factory.mktemp("claims_model")
    model.save(out / "model.joblib")
    return out


def statements() -> list[Statement]:
    """The fixture sentences as statements of several sentences: Russian, Kazakh, and both on one page."""
    ru = " ".join(t for _, lang, t, _ in FIXTURE if lang == "ru")
    kk = " ".join(t for _, lang, t, _ in FIXTURE if lang == "kk")
    mixed = " ".join(t for _, _, t, _ in FIXTURE[:3] + FIXTURE[6:9])
    return [Statement("s-ru", ru), Statement("s-kk", kk), Statement("s-mixed", mixed)]


def sentence_by_sentence(model: ClaimModel, items: list[Statement]):
    """What process did before the batching: each sentence's records (role options of the candidates its
    own model call keeps), the model's probabilities per sentence, then one `decide` for all."""
    from pipeline.nlp import pipe_by_language
    from pipeline.text.segment import segment
    from pipeline.claims.extract import extractor_for

    jobs = [((st, s), s.lang, s.text) for st in items for p in segment(st.id, st.text) for s in p.sentences
            if not s.boilerplate and s.lang in ("kk", "ru")]
    per_sentence, probas = [], []
    for (st, sent), lang, doc in pipe_by_language(jobs):
        recs = learned.analyse_sentence(extractor_for(lang), doc, sent, st.text, roles=model)
        per_sentence.append(recs)
        probas.append(model.proba_records(recs) if recs else np.zeros((0, len(learned.LABELS))))
    claims = [c for cs in learned.decide(model, per_sentence) for c in cs]
    return per_sentence, np.concatenate(probas), claims


def test_batched_decisions_equal_sentence_by_sentence_ones(model_dir, monkeypatch):
    from pipeline.batch.analyse import process_statements

    monkeypatch.setenv("POLCLAIMS_CLAIMS_MODEL", str(model_dir))
    model = learned.active_model()
    items = statements()
    per_sentence, single, ref = sentence_by_sentence(model, items)
    flat = [r for recs in per_sentence for r in recs]
    together = model.proba_records(flat)
    # the context net over all candidates at once scores each as it does over its sentence alone
    assert np.allclose(together, single, atol=1e-6)
    assert learned.keeps(model, together) == learned.keeps(model, single)
    # process skips the net for candidates the linear part already rules out: same decisions, and
    # the other candidates' probabilities are those of the full computation
    settled = model.proba_records(flat, settled=True)
    ruled_out = (1 - model.context_weight_) * model.type_model_.predict_proba(
        [r.features for r in flat])[:, list(model.classes_).index("none")] >= model.threshold_
    assert 0 < ruled_out.sum() < len(flat)
    assert learned.keeps(model, settled) == learned.keeps(model, together)
    assert np.allclose(settled[~ruled_out], together[~ruled_out], atol=1e-6)
    results = list(process_statements(items))
    assert all(r.failure is None for r in results)
    got = sorted((tuple(getattr(c, f) for f in FIELDS) for r in results for c in r.claims), key=repr)
    want = sorted((tuple(getattr(c, f) for f in FIELDS) for c in ref), key=repr)
    assert len(want) >= 6 and any(c.actor for c in ref)   # claims in both languages, actors chosen by the role model
    assert {c.lang for c in ref} == {"kk", "ru"}
    assert got == want


def test_token_memo_gives_the_tokens_own_values():
    from spacy.tokens import Doc

    from pipeline.claims.extract import _feat, _feats, _lem, _low, _parse_morph, token_memo
    from pipeline.nlp import get_pipeline

    def values(doc):
        return [(_low(t), _lem(t), {k: _feat(t, k) for k in ("Case", "Tense", "Person", "Voice", "Nope")},
                 dict(_feats(t))) for t in doc]

    docs = [get_pipeline(lang)(text) for _, lang, text, _ in FIXTURE]
    for k, doc in enumerate(docs):
        other = docs[k - 1]
        plain, plain_other = values(doc), values(other)
        with token_memo(doc):
            with token_memo(doc):   # nested: the same memo
                memo = values(doc)
            assert values(other) == plain_other     # another doc's tokens are not taken for this one's
            assert values(doc) == plain
        assert memo == plain
        for t in doc:
            for k in ("Case", "Tense", "Person", "Number", "VerbForm"):
                v = t.morph.get(k)
                assert _feat(t, k) == (v[0] if v else None)
    # several values of one feature: the first, as Token.morph.get gives it
    doc = Doc(get_pipeline("ru").vocab, words=["мы", "их"])
    doc[0].set_morph("Case=Nom|Person=1,3")
    doc[1].set_morph("Animacy=Anim|Case=Gen,Nom")
    for t in doc:
        parsed = _parse_morph(str(t.morph))
        for k in ("Case", "Person", "Animacy", "Tense"):
            v = t.morph.get(k)
            assert parsed.get(k) == (v[0] if v else None)


def test_context_net_word_vectors_do_not_depend_on_what_was_looked_up_before():
    """A form the vector table lacks takes its lemma's vector: the lemma of this token, not that of
    the first token with the same form the process met (outputs would depend on the other
    statements of a run)."""
    from pipeline.claims.context import ContextClaimNet
    from pipeline.claims.vectors import _table

    t = _table("ru")
    if t is None:
        pytest.skip("configs/claims/ru.toml names no word vectors")
    form = "хрюкозябликов"
    assert form not in t[0] and "построить" in t[0] and "читать" in t[0]

    def net():
        n = ContextClaimNet()
        n.vec_dims_ = {"ru": int(t[1]([next(iter(t[0].values()))]).shape[1])}
        return n

    seen = net()
    first = seen._vectors("ru", [form], ["построить"])
    second = seen._vectors("ru", [form], ["читать"])
    assert not np.array_equal(first, second)
    assert np.array_equal(second, net()._vectors("ru", [form], ["читать"]))
