"""Promise threads with word vectors: near action lemmas as related verbs (blocking and rule score),
the vec_* pair features, and the held-out choice of the rules' one fitted setting."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.threads.cluster import link
from pipeline.threads.link import ThreadClaim, candidate_pairs, cosine, prepare


def _ru_vectors():
    from pipeline.claims.vectors import _table

    try:
        t = _table("ru")
    except (ImportError, OSError, FileNotFoundError) as e:  # natasha's navec file not installed
        pytest.skip(f"no Russian word vectors: {e}")
    if t is None:
        pytest.skip("configs/claims/ru.toml names no [vectors]")
    return t


def tc(cid, sid, lemma, target, sentence, **kw) -> ThreadClaim:
    return ThreadClaim(cid, sid, "ru", "commitment", lemma, None, target, sentence, "education", **kw)


# "рассмотреть" and "изучить" are in no related-verbs group of configs/threads/ru.toml
STUDY = [tc("a#0", "a", "рассмотреть", "вопрос строительства школы в Шымкенте",
            "Акимат рассмотрит вопрос строительства школы в Шымкенте."),
         tc("b#0", "b", "изучить", "вопрос строительства школы в Шымкенте",
            "Акимат изучит вопрос строительства школы в Шымкенте.")]


def _cos(a: str, b: str) -> float:
    words, rows = _ru_vectors()
    u, v = rows([words[a]])[0], rows([words[b]])[0]
    return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


def test_near_action_lemmas_are_proposed_and_linked_only_above_the_cut():
    c = _cos("рассмотреть", "изучить")
    assert 0 < c < 0.99
    off, _ = prepare(STUDY, predicate_cosine=0.0)
    assert not (off[0].keys & off[1].keys) and list(candidate_pairs(off)) == []
    assert link(STUDY, model=None, predicate_cosine=0.0)[0] == []
    on, _ = prepare(STUDY, predicate_cosine=c - 0.01)
    assert off[0].keys < on[0].keys and (on[0].keys & on[1].keys)
    assert list(candidate_pairs(on)) == [(0, 1)]
    assert link(STUDY, model=None, predicate_cosine=c - 0.01)[0] == [["a#0", "b#0"]]
    assert link(STUDY, model=None, predicate_cosine=min(0.999, c + 0.01))[0] == []


def test_light_verbs_get_no_near_lemma_keys():
    _ru_vectors()
    claims = [tc("a#0", "a", "быть", "школа", "Школа будет в Шымкенте."),
              tc("b#0", "b", "являться", "школа", "Школа является новой в Шымкенте.")]
    prepared, _ = prepare(claims, predicate_cosine=0.01)
    assert not any(k.startswith("≈") for k in prepared[0].keys)


def test_vector_features_compare_one_language_and_twins_within_theirs():
    from pipeline.threads.model import FEATURES, pair_vector

    _ru_vectors()
    prepared, idf = prepare(STUDY)
    a, b = prepared
    assert a.vec_target is not None and abs(float(np.linalg.norm(a.vec_sentence)) - 1) < 1e-4
    x = dict(zip(FEATURES, pair_vector(a, b, prepared, idf)))
    assert x["vec_target"] == pytest.approx(1.0, abs=1e-4)      # one target, two wordings of the verb
    assert 0 < x["vec_predicate"] < 0.99
    assert x["twin_vec_target"] == 0.0                           # no twins
    other = tc("c#0", "c", "изучить", "тарифы на электроэнергию", "Министерство изучит тарифы на электроэнергию.")
    p2, idf2 = prepare([STUDY[1], other])
    assert cosine(p2[0].vec_target, p2[1].vec_target) < x["vec_target"] - 0.2
    assert cosine(None, a.vec_target) == 0.0


def test_rules_setting_is_chosen_without_the_scored_sources(tmp_path, monkeypatch):
    """The near-lemma cut is chosen per held-out source on the other sources' pairs: a source whose
    gold says "same" is scored with the setting the other source's "not same" picked, and back."""
    from pipeline import config
    from pipeline.evaluation.threads import evaluate

    c = _cos("рассмотреть", "изучить")
    cfg = config.load("threads/link")
    monkeypatch.setitem(cfg["vectors"], "use", True)
    monkeypatch.setitem(cfg, "select", {"vectors.related_predicate_cosine": [0.0, round(c - 0.01, 4)]})

    def rec(item, source, c):
        return {"item_id": item, "pair_id": None, "lang": "ru", "text": c.sentence, "topic": "education",
                "source": source, "claims": [{"type": "commitment", "predicate": c.predicate_lemma,
                                              "predicate_lemma": c.predicate_lemma, "target": c.target,
                                              "topic": "education", "quantities": []}]}

    # s2: the same two wordings about another object (the two sources' claims never meet)
    other = [tc(c.claim_id, c.statement_id, c.predicate_lemma, c.target.replace("школы в Шымкенте", "больницы в Туркестане"),
                c.sentence.replace("школы в Шымкенте", "больницы в Туркестане")) for c in STUDY]
    records = [rec(f"{s}:{k}", s, c) for s, group in (("s1", STUDY), ("s2", other)) for k, c in enumerate(group)]
    pairs = [{"pair_id": f"p-{s}", "lang": "ru", "source": s, "stratum": "likely", "a": {"item_id": f"{s}:0", "claim": 0},
              "b": {"item_id": f"{s}:1", "claim": 0}, "same": s == "s1"} for s in ("s1", "s2")]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in pairs) + "\n", encoding="utf-8")
    scores = evaluate(path, None, records=records, linker="rules")
    lk = scores["linking"]
    # s1 ("same") is scored with the cut s2 ("not same") prefers: off, a miss; s2 with s1's: on, a wrong link
    assert (lk["tp"], lk["fp"], lk["fn"]) == (0, 1, 1)
    protocol = scores["rules_protocol"]
    assert protocol["folds"] == 2 and protocol["candidates"] == 2
    assert sorted(protocol["settings_chosen"].values()) == [1, 1]
    # the configured cut is left as it was
    assert cfg["vectors"]["related_predicate_cosine"] == config.load("threads/link")["vectors"]["related_predicate_cosine"]


def test_numbered_clauses_of_one_type_are_kept_apart_when_configured():
    from pipeline.threads.link import overridden, settings

    decree = "1. Утвердить расположение специальных стационарных помещений для распространения литературы."
    claims = [ThreadClaim(f"{s}#0", s, "ru", "decision", "утвердить", None, "расположение специальных стационарных помещений",
                          decree, "civil_rights") for s in ("akimat-a", "akimat-b")]
    with overridden({"blocking.numbered_apart": False}):
        assert link(claims, model=None)[0] == [["akimat-a#0", "akimat-b#0"]]
    with overridden({"blocking.numbered_apart": True}):
        assert link(claims, model=None)[0] == []
    before = settings()["blocking"].get("numbered_apart")
    with overridden({"blocking.numbered_apart": not before}):
        pass
    assert settings()["blocking"].get("numbered_apart") == before


def test_near_lemma_keys_take_each_lemmas_few_nearest(monkeypatch):
    """Logic only (vectors set by hand): a common verb near many others is related to its own k
    nearest, and each lemma to its k nearest; nothing below the cut."""
    from pipeline import config
    from pipeline.threads.link import near_predicate_keys

    monkeypatch.setitem(config.load("threads/link")["vectors"], "use", False)
    lemmas = ["утвердить", "одобрить", "принять", "согласовать", "построить"]
    claims = [tc(f"{k}#0", str(k), lemma, "план", f"Решено: {lemma} план.") for k, lemma in enumerate(lemmas)]
    prepared, _ = prepare(claims)
    vecs = {"утвердить": [1, 0, 0], "одобрить": [0.95, 0.31, 0], "принять": [0.9, 0, 0.44],
            "согласовать": [0.8, 0.6, 0], "построить": [0, 0, 1]}
    for p in prepared:
        v = np.asarray(vecs[p.claim.predicate_lemma], dtype=np.float32)
        p.vec_predicate = v / np.linalg.norm(v)
    monkeypatch.setitem(config.load("threads/link")["vectors"], "near_lemmas", 1)
    near_predicate_keys(prepared, 0.7)
    keys = {p.claim.predicate_lemma: {k for k in p.keys if k.startswith("≈")} for p in prepared}
    # "утвердить"'s nearest is "одобрить"; "принять" and "согласовать" each have "утвердить" or "одобрить" nearest
    assert "≈одобрить|утвердить" in keys["утвердить"]
    assert keys["построить"] == set()                   # below the cut for all
    assert all(len(v) <= 3 for v in keys.values())
    assert sum(1 for k in keys["утвердить"] | keys["одобрить"] if "согласовать" in k) == 1
