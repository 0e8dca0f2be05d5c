"""The context net of the claim candidates (pipeline/claims/context.py, issue #13 experiment): its
inputs come from the same candidates as the linear model's, it learns a small fixture, and it
survives pickling (the torch weights are a state dict; the vector tables are not saved)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from pipeline.claims import learned
from pipeline.claims.context import LABELS, CandidateInput, ContextClaimNet, sentence_tokens
from pipeline.claims.learned import ClaimModel
from pipeline.training import claims as training

from tests.test_learned_claims import fixture_records


@pytest.fixture(scope="module")
def inputs():
    recs = fixture_records()
    sents = {}
    records, _ = training.analyse_items(recs, cache_dir=None, progress=False,
                                        on_sentence=lambda it, s, doc, rs: sents.__setitem__((s.statement_id, s.index),
                                                                                             sentence_tokens(s.lang, doc)))
    learned.label_records(records, training.gold_items_of(recs))
    X = [CandidateInput(sents[(r.statement_id, r.sentence_index)], r.words, r.main, r.rule,
                        float(r.features.get("rule_conf", 0.0))) for r in records]
    return records, X


def test_candidate_inputs_point_at_the_candidates_words(inputs):
    records, X = inputs
    for r, x in zip(records, X):
        assert r.main in r.words and x.main == r.main
        forms = " ".join(x.sentence.forms[i] for i in r.words)
        assert r.claim.predicate.lower().split()[0] in forms   # the predicate's words are the marked tokens


def test_context_net_learns_a_fixture_and_pickles(inputs):
    records, X = inputs
    y = [r.label for r in records]
    net = ContextClaimNet(epochs=40, batch_size=8, lr=5e-3, dropout=0.0, hidden=32).fit(X, y)
    proba = net.predict_proba(X)
    assert proba.shape == (len(X), len(LABELS)) and np.allclose(proba.sum(1), 1.0)
    assert [LABELS[i] for i in proba.argmax(1)] == y                 # a flexible model fits its training data
    again = pickle.loads(pickle.dumps(net))
    assert "_net_obj" not in again.__dict__ and "_vcache" not in again.__dict__
    assert np.allclose(again.predict_proba(X), proba, atol=1e-6)
    assert len(pickle.dumps(net)) < 4_000_000                         # small: a few MB at most


def test_retraining_keeps_the_tried_section_of_the_model_readme(tmp_path):
    card = {"command": "test", "data": {"texts": 1, "by_lang": {"kk": 1}, "sources": {"a": 1}, "claims": {}},
            "candidates": 3, "candidate_recall": 1.0, "size_bytes": 1000, "fit_seconds": 0.1}
    training.write_card_readme(tmp_path, card)
    first = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "## Tried" not in first and "Candidates: 3" in first
    (tmp_path / "README.md").write_text(first + "\n## Tried\n\n- a context net: F1 -1 (command X)\n", encoding="utf-8")
    card["candidates"] = 4
    training.write_card_readme(tmp_path, card)
    again = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "Candidates: 4" in again and again.endswith("## Tried\n\n- a context net: F1 -1 (command X)\n")
    assert again.count("## Tried") == 1


def test_records_carry_their_context_input_when_asked():
    recs = fixture_records()[:3]
    plain, _ = training.analyse_items(recs, cache_dir=None, progress=False, context=False)
    assert plain and all(r.context is None for r in plain)            # process without the net: no cost
    records, _ = training.analyse_items(recs, cache_dir=None, progress=False, context=True)
    assert all(r.context is not None and r.context.words == r.words and r.context.main == r.main for r in records)


def test_claim_model_with_context_net_needs_the_context_and_survives_saving(inputs, tmp_path):
    records, X = inputs
    for r, x in zip(records, X):
        r.context = x
    net = {"epochs": 30, "batch_size": 8, "lr": 5e-3, "dropout": 0.0, "hidden": 32, "inner_folds": 2, "weight": "auto"}
    model = ClaimModel(C=10.0, context=net).fit([r.features for r in records], [r.label for r in records],
                                                [r.gold_tense for r in records],
                                                groups=[r.statement_id.split(":")[0] for r in records],
                                                context=[r.context for r in records])
    assert model.uses_context and 0.0 <= model.context_weight_ <= 1.0 and 0.2 <= model.threshold_ <= 0.8
    with pytest.raises(ValueError, match="context"):
        model.predict_proba([r.features for r in records])              # the net's inputs cannot be left out
    proba = model.proba_records(records)
    assert proba.shape == (len(records), len(model.classes_)) and np.allclose(proba.sum(1), 1.0)
    path = model.save(tmp_path / "model.joblib")
    assert path.stat().st_size < 6_000_000
    again = ClaimModel.load(path)
    assert np.allclose(again.proba_records(records), proba, atol=1e-6)
    kept = learned.apply_model(again, records)
    assert {c.type for c in kept} <= {"commitment", "obligation", "decision"}
    with pytest.raises(ValueError, match="context"):
        ClaimModel(context=net).fit([r.features for r in records], [r.label for r in records],
                                    context=[None] * len(records))
