"""The learned claim extractor: candidates, training on a small fixture, the saved model refusing
wrong files, and the shipped model on the reference statement."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.claims import learned
from pipeline.training import claims as training
from pipeline.claims.learned import ClaimModel
from pipeline.config import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
DATA = shared_data_dir()

FIXTURE = [  # (item_id, lang, text, [(predicate, type)])
    ("a:1", "ru", "Правительство утвердило программу развития сел.", [("утвердило", "decision")]),
    ("a:2", "ru", "Аким поручил построить новую школу.", [("поручил построить", "decision")]),
    ("a:3", "ru", "Необходимо принять меры по снижению тарифов.", [("Необходимо принять", "obligation")]),
    ("a:4", "ru", "Вчера шёл сильный дождь.", []),
    ("a:5", "ru", "В 2025 году будет построено 50 школ.", [("будет построено", "commitment")]),
    ("a:6", "ru", "Мальчик читал книгу у окна.", []),
    ("b:1", "kk", "Үкімет бағдарламаны бекітті.", [("бекітті", "decision")]),
    ("b:2", "kk", "Мектептер жылу маусымына дайын болуы тиіс.", [("болуы тиіс", "obligation")]),
    ("b:3", "kk", "Кеше қатты жаңбыр жауды.", []),
    ("b:4", "kk", "Біз мұғалімдердің жалақысын арттырамыз.", [("арттырамыз", "commitment")]),
    ("b:5", "kk", "Бала терезе алдында кітап оқыды.", []),
    ("b:6", "kk", "Аудандарда 50 мектеп салынатын болады.", [("салынатын болады", "commitment")]),
]


def fixture_records():
    recs = []
    for item_id, lang, text, claims in FIXTURE:
        recs.append({"item_id": item_id, "pair_id": None, "lang": lang, "text": text, "topic": None,
                     "source": item_id.split(":")[0], "stratum": None,
                     "claims": [{"type": t, "predicate": p, "predicate_lemma": None, "actor": None,
                                 "actor_kind": "unspecified", "target": None, "polarity": "affirmative",
                                 "tense": "past" if t == "decision" else ("future" if t == "commitment" else "present"),
                                 "quantities": [], "topic": None, "align": None} for p, t in claims]})
    return recs


@pytest.fixture(scope="module")
def analysed():
    recs = fixture_records()
    records, rules = training.analyse_items(recs, cache_dir=None, progress=False)
    gold = training.gold_items_of(recs)
    learned.label_records(records, gold)
    return recs, records, rules


def test_candidates_cover_every_gold_claim_and_more(analysed):
    recs, records, _ = analysed
    n_gold = sum(len(r["claims"]) for r in recs)
    assert sum(r.label != "none" for r in records) == n_gold          # every gold claim has a candidate
    assert sum(r.label == "none" for r in records) >= 4                # ... and the rest are negatives
    orders = [r for r in records if r.statement_id == "a:2" and r.label == "decision"]
    assert orders and orders[0].claim.predicate == "поручил построить"  # an order and its action are one claim


def test_fit_predict_and_fields(analysed):
    _, records, _ = analysed
    model = ClaimModel(C=10.0, none_threshold=0.5).fit([r.features for r in records], [r.label for r in records],
                                                        [r.gold_tense for r in records])
    pred = model.predict([r.features for r in records])
    assert pred == [r.label for r in records]                          # a flexible model fits its training data
    proba = model.predict_proba([r.features for r in records])
    assert proba.shape == (len(records), len(model.classes_))
    claims = learned.apply_model(model, [r for r in records if r.statement_id == "b:4"])
    assert [(c.type, c.predicate, c.predicate_lemma) for c in claims] == [("commitment", "арттырамыз", "арттыру")]
    assert 0.5 < claims[0].confidence <= 1.0 and claims[0].tense == "future"
    assert type(claims[0].type) is str and type(claims[0].tense) is str   # plain values: JSON, CSV, SQLite


def test_word_vectors_carry_a_predicate_to_an_unseen_synonym(tmp_path):
    """The vector columns place an unseen verb near the training verbs of the same meaning: a model
    that saw only "построить"/"строить" as claims scores "возвести" above an unrelated verb; the
    saved model holds the PCA projection, never the vector tables."""
    from pipeline.claims.vectors import LemmaVectors

    def row(lemma: str) -> dict:
        return {"lang=ru": 1.0, f"m_lemma=ru:{lemma}": 1.0}
    lv = LemmaVectors(slots=("m_lemma=",), dims=16, sentence=False, langs=("ru",)).fit([])
    m = lv.transform([row("построить"), row("возвести"), row("несуществующийглагол")]).toarray()
    assert m.shape == (3, 16) and abs(m[0]).sum() > 0 and abs(m[2]).sum() == 0   # unknown word: zeros
    claim = ["построить", "строить", "соорудить", "отремонтировать", "реконструировать"]
    other = ["читать", "петь", "гулять", "спать", "смеяться"]
    X = [row(w) for w in claim + other]
    y = ["commitment"] * len(claim) + ["none"] * len(other)
    vec = ClaimModel(C=10.0, none_threshold=0.5, min_count=1,
                     vectors={"slots": ["m_lemma="], "dims": 16, "sentence": False}).fit(X, y)
    plain = ClaimModel(C=10.0, none_threshold=0.5, min_count=1).fit(X, y)
    none = list(vec.classes_).index("none")
    p_vec = vec.predict_proba([row("возвести"), row("танцевать")])[:, none]
    p_plain = plain.predict_proba([row("возвести"), row("танцевать")])[:, none]
    assert p_vec[0] < p_vec[1]                        # the synonym is nearer a claim than the unrelated verb
    assert p_plain[0] == pytest.approx(p_plain[1])    # without vectors both are just unknown words
    path = vec.save(tmp_path / "model.joblib")
    assert path.stat().st_size < 200_000
    assert ClaimModel.load(path).predict([row("возвести")]) == vec.predict([row("возвести")])


ROLE_GOLD = {  # item_id -> (actor, target) the annotators would mark
    "a:1": ("Правительство", "программу развития сел"), "a:2": ("Аким", "новую школу"),
    "a:3": (None, "меры по снижению тарифов"), "a:5": (None, "50 школ"),
    "b:1": ("Үкімет", "бағдарламаны"), "b:2": (None, "Мектептер"), "b:4": ("Біз", "мұғалімдердің жалақысын"),
    "b:6": (None, "50 мектеп"),
}


def test_roles_are_learned_from_gold_actor_and_target():
    """The role chooser learns where annotators put actor and target (here: the passive and modal
    sentences' subjects are targets, not actors), and its choice replaces the rules' fields."""
    from pipeline.claims.roles import gold_choice

    recs = fixture_records()
    for r in recs:
        for c in r["claims"]:
            c["actor"], c["target"] = ROLE_GOLD[r["item_id"]]
    records, _ = training.analyse_items(recs, cache_dir=None, progress=False)
    learned.label_records(records, training.gold_items_of(recs))
    gold_recs = [r for r in records if r.label != "none"]
    assert gold_recs and all(r.roles is not None for r in gold_recs)     # options where gold claims are
    for r in gold_recs:                                                  # every gold phrase is an option
        assert gold_choice(r.roles["actor"], r.gold_actor) is not None, (r.statement_id, r.gold_actor)
        assert gold_choice(r.roles["target"], r.gold_target) is not None, (r.statement_id, r.gold_target)
    model = ClaimModel(C=10.0, none_threshold=0.5, role_C=10.0).fit(
        [r.features for r in records], [r.label for r in records], [r.gold_tense for r in records],
        **training._role_args(records))
    claims = learned.apply_model(model, gold_recs)
    got = {c.statement_id: (c.actor, c.target) for c in claims}
    right = sum(got[k] == v for k, v in ROLE_GOLD.items())
    assert right >= 7, got                                               # fits its training data
    assert got["b:2"] == (None, "Мектептер")                             # a modal's subject can be its target
    b6 = got["b:6"]
    assert b6[0] is None and "мектеп" in b6[1]                           # a passive's subject is its target
    no_roles = learned.apply_model(ClaimModel(C=10.0, none_threshold=0.5, learn_roles=False).fit(
        [r.features for r in records], [r.label for r in records], **training._role_args(records)), gold_recs)
    assert {c.statement_id: (c.actor, c.target) for c in no_roles}["a:1"][0] == "Правительство"  # rules' fields


def test_train_writes_model_card_and_readme(tmp_path):
    card = training.train(fixture_records(), tmp_path / "m", command="test", cv=True, min_source_texts=1, progress=False,
                          jobs=1, cache_dir=tmp_path / "cache")  # not the project's build/claims_cache
    for name in ("model.joblib", "card.json", "README.md"):
        assert (tmp_path / "m" / name).is_file()
    assert card["loso_cv"]["folds"] == ["a", "b"]
    assert set(card["loso_cv"]["learned"]["by_lang"]) == {"kk", "ru"}
    loaded = ClaimModel.load(tmp_path / "m" / "model.joblib")
    assert isinstance(loaded, ClaimModel) and 0 < loaded.threshold_ < 1
    assert "Leave-one-source-out" in (tmp_path / "m" / "README.md").read_text(encoding="utf-8")


def test_model_file_refused_with_its_name_and_the_rebuild_command(tmp_path):
    missing = tmp_path / "none.joblib"
    with pytest.raises(FileNotFoundError, match="none.joblib.*make train-claims"):
        ClaimModel.load(missing)
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"\x00\x01 not a model")
    with pytest.raises(ValueError, match="junk.joblib is not a readable claim model.*make train-claims"):
        ClaimModel.load(junk)
    other = tmp_path / "other.joblib"
    import joblib

    joblib.dump({"a": 1}, other)
    with pytest.raises(ValueError, match="other.joblib is not a polclaims claim model"):
        ClaimModel.load(other)


def test_shipped_model_loads_and_has_a_card():
    model = ClaimModel.load(ROOT / "models" / "claims" / "model.joblib")
    card = json.loads((ROOT / "models" / "claims" / "card.json").read_text(encoding="utf-8"))
    assert "loso_cv" in card and card["data"]["texts"] >= 1000
    assert set(model.classes_) == set(learned.LABELS)


@pytest.mark.skipif(not (DATA / "gold" / "seed.gold.jsonl").is_file(),
                    reason=f"{DATA}/gold is absent (../shared/data is not beside this clone)")
def test_learned_extractor_on_the_reference_statement():
    from pipeline.batch.analyse import extract_for_evaluation
    from pipeline.evaluation.claims import evaluate

    result = evaluate(DATA / "gold" / "seed.gold.jsonl", extract_for_evaluation)
    det = result["detection"]["all"]
    assert det["gold"] == 37
    assert det["recall"] >= 0.7 and det["precision"] >= 0.9, det   # README: the reference-statement check
    assert result["alignment"]["precision"] >= 0.9, result["alignment"]


def test_process_takes_a_claims_model_folder_and_refuses_a_bad_one(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli.app import app

    src = tmp_path / "s.txt"
    src.write_text("Правительство утвердило программу развития сел.", encoding="utf-8")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.joblib").write_bytes(b"not a model")
    res = CliRunner().invoke(app, ["process", str(src), "--out", str(tmp_path / "c.jsonl"), "--no-db",
                                   "--claims-model", str(bad)])
    assert res.exit_code == 2 and "is not a readable claim model" in res.output
    res = CliRunner().invoke(app, ["process", str(src), "--out", str(tmp_path / "c.jsonl"), "--no-db",
                                   "--claims-model", str(ROOT / "models" / "claims")])
    assert res.exit_code == 0, res.output
    rows = [json.loads(l) for l in (tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows and rows[0]["model_versions"]["claims"].startswith("learned-")


def test_final_checks_are_added_to_a_model_card(tmp_path):
    import shutil

    model_dir = tmp_path / "m"
    shutil.copytree(ROOT / "models" / "claims", model_dir)
    gold = tmp_path / "g.jsonl"
    gold.write_text(json.dumps({"item_id": "g:1", "pair_id": None, "lang": "ru", "topic": None,
                                "text": "Необходимо принять конкретные меры по снижению тарифов.",
                                "claims": [{"type": "obligation", "predicate": "Необходимо принять"}]},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    checks = training.add_final_checks(model_dir, [gold])
    assert checks["g.jsonl"]["detection"]["gold"] == 1
    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    assert card["final_checks"]["g.jsonl"]["detection"]["f1"] == checks["g.jsonl"]["detection"]["f1"]
    assert "| g.jsonl | 1 |" in (model_dir / "README.md").read_text(encoding="utf-8")
    assert "POLCLAIMS_CLAIMS_MODEL" not in __import__("os").environ


def test_parse_cache_key_follows_each_languages_models(tmp_path, monkeypatch):
    """A retrained model file (the Russian UD adapter) must invalidate the cached parses of its
    language, and only of its language: Kazakh parses stay valid."""
    from pipeline import config as cfg_mod

    (tmp_path / "models" / "ru_adapter").mkdir(parents=True)
    (tmp_path / "models" / "kk").mkdir(parents=True)
    adapter = tmp_path / "models" / "ru_adapter" / "adapter.npz"
    adapter.write_bytes(b"one")
    (tmp_path / "models" / "kk" / "tagger.pt").write_bytes(b"kk")
    configs = {"nlp_ru": {"adapter": {"model": "models/ru_adapter/adapter.npz"}}, "nlp_kk": {"model_dir": "models/kk"}}
    monkeypatch.setattr(cfg_mod, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(cfg_mod, "load", lambda name: configs[name])
    ru1, kk1 = training._settings_key("ru"), training._settings_key("kk")
    adapter.write_bytes(b"two")
    assert training._settings_key("ru") != ru1
    assert training._settings_key("kk") == kk1
    (tmp_path / "models" / "kk" / "tagger.pt").write_bytes(b"kk2")
    assert training._settings_key("kk") != kk1
    ru2 = training._settings_key("ru")
    configs["nlp_ru"]["adapter"]["rebuild"] = "make train-ru-adapter"  # names a command, parses no differently
    assert training._settings_key("ru") == ru2
    configs["nlp_ru"]["adapter"]["pymorphy"] = True  # a parse setting
    assert training._settings_key("ru") != ru2


def test_train_claims_lang_option_refuses_an_unknown_language_and_an_empty_selection(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli.app import app

    gold = tmp_path / "g.jsonl"
    gold.write_text(json.dumps({"item_id": "x:1:kk", "lang": "kk", "text": "Біз мектеп саламыз.", "claims": []},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["train", "claims", str(gold), "--lang", "en", "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "kk or ru" in res.output
    res = CliRunner().invoke(app, ["train", "claims", str(gold), "--lang", "ru", "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "no ru text" in res.output
    assert not (tmp_path / "m").exists()


def _role_fixture(options: dict | None = None):
    recs = fixture_records()
    for r in recs:
        for c in r["claims"]:
            c["actor"], c["target"] = ROLE_GOLD[r["item_id"]]
    records, _ = training.analyse_items(recs, cache_dir=None, progress=False, role_options=options)
    learned.label_records(records, training.gold_items_of(recs))
    return recs, records


def test_configured_role_chooser_learns_per_language_and_travels_with_the_model(tmp_path):
    """The shipped settings ([model.roles]: a conditional logit per language, the "none" option
    seeing the phrases around) learn the fixture's roles; the model keeps its option settings, so
    `process` offers a loaded model the options it was trained on."""
    from pipeline.claims.roles import RoleModel

    s = training.config.load("claims/model")
    s["model"]["roles"] = {**s["model"].get("roles", {}), "form": "choice", "by_language": True,
                           "none_context": ["actor"], "parent": True}
    s["model"]["role_C"] = 10.0
    recs, records = _role_fixture(s["model"]["roles"])
    gold_recs = [r for r in records if r.label != "none"]
    none_f = gold_recs[0].roles["actor"][0]["f"]
    assert any(k.startswith("none&has=") for k in none_f)                # "none" sees what is there
    assert not any(k.startswith("none&has=") for k in gold_recs[0].roles["target"][0]["f"])
    model = training.model_from_settings(s)
    model.C, model.none_threshold = 10.0, 0.5
    model.fit([r.features for r in records], [r.label for r in records], [r.gold_tense for r in records],
              **training._role_args(records))
    rm = model.role_model_
    assert isinstance(rm, RoleModel) and set(rm.models_) == {"actor/kk", "actor/ru", "target/kk", "target/ru"}
    got = {c.statement_id: (c.actor, c.target) for c in learned.apply_model(model, gold_recs)}
    assert sum(got[k] == v for k, v in ROLE_GOLD.items()) >= 7, got
    loaded = ClaimModel.load(model.save(tmp_path / "model.joblib"))
    assert learned.option_settings(loaded) == s["model"]["roles"]
    assert {c.statement_id: (c.actor, c.target) for c in learned.apply_model(loaded, gold_recs)} == got


def test_roles_use_rules_per_language_and_auto_decides_on_inner_folds():
    """`use`: where the rules' field stays (per role and language); "auto" decides on out-of-fold
    choices of source-grouped folds inside the training data and records the counts."""
    recs, records = _role_fixture()
    gold_recs = [r for r in records if r.label != "none"]
    rules = {r.statement_id: (r.claim.actor, r.claim.actor_kind, r.claim.target) for r in gold_recs}
    model = ClaimModel(C=10.0, none_threshold=0.5, role_C=10.0,
                       roles={"use": {"actor": {"kk": "rules", "ru": "learned"}, "target": "learned"}})
    model.fit([r.features for r in records], [r.label for r in records], **training._role_args(records))
    assert model.role_model_.uses("actor", "kk") == "rules" and model.role_model_.uses("actor", "ru") == "learned"
    claims = {c.statement_id: c for c in learned.apply_model(model, gold_recs)}
    for k in ("b:1", "b:2", "b:4", "b:6"):                               # Kazakh actors: the rules' own
        assert (claims[k].actor, claims[k].actor_kind) == rules[k][:2], k
    assert claims["a:3"].actor is None                                   # Russian: learned
    auto = ClaimModel(C=10.0, none_threshold=0.5, role_C=10.0, roles={"use": {"actor": "auto", "target": "auto"}})
    auto.fit([r.features for r in records], [r.label for r in records],
             groups=[r.statement_id + "-src" for r in records], **training._role_args(records))
    rm = auto.role_model_
    assert set(rm.decided_) == {"actor/kk", "actor/ru", "target/kk", "target/ru"}
    for key, counts in rm.decided_.items():
        assert rm.use_[key] == ("learned" if counts.get("learned", 0) > counts.get("rules", 0) else "rules")
    with pytest.raises(ValueError, match="learned, rules or auto"):
        ClaimModel(roles={"use": {"actor": "maybe"}}).fit(
            [r.features for r in records], [r.label for r in records], **training._role_args(records))


def test_a_role_model_from_before_the_settings_still_applies():
    """A shipped model pickled before [model.roles] existed (no option settings, a RoleModel
    without use/form/by_language) still chooses actor and target."""
    recs, records = _role_fixture({})
    gold_recs = [r for r in records if r.label != "none"]
    model = ClaimModel(C=10.0, none_threshold=0.5, role_C=10.0).fit(
        [r.features for r in records], [r.label for r in records], **training._role_args(records))
    del model.roles
    for attr in ("use", "gold", "inner_folds", "form", "decode", "by_language", "use_"):
        delattr(model.role_model_, attr)
    assert learned.option_settings(model) == {}
    got = {c.statement_id: (c.actor, c.target) for c in learned.apply_model(model, gold_recs)}
    assert sum(got[k] == v for k, v in ROLE_GOLD.items()) >= 7, got


def test_roles_harness_scores_oracle_matches_like_the_evaluator():
    """`python -m pipeline.training.claims_roles`: every gold claim with a candidate is scored, per
    language, learned beside the rules, with the evaluator's field comparison."""
    from pipeline.evaluation.claims import compare_fields
    from pipeline.training import claims_roles

    recs = fixture_records()
    for r in recs:
        for c in r["claims"]:
            c["actor"], c["target"] = ROLE_GOLD[r["item_id"]]
    s = training.config.load("claims/model")
    s["cv"]["min_source_texts"] = 1
    res = claims_roles.run(recs, s, parse=True, cache_dir=None, error_examples=2)
    assert res["matched"] == res["gold"] == 8 and res["folds"] == ["a", "b"]
    assert res["learned"]["kk"]["n"] == 4 and res["learned"]["ru"]["n"] == 4
    data = claims_roles.prepare(recs, 1, parse=True, cache_dir=None)
    want = sum(compare_fields(row["gold"], row["record"].claim)["actor"] for row in data["rows"]) / 8
    assert res["rules"]["all"]["actor"] == pytest.approx(want, abs=1e-4)
    assert set(res["errors"]) == {"actor/kk", "actor/ru", "target/kk", "target/ru"}
    assert "Roles, leave-one-source-out" in claims_roles.table(res)
    with pytest.raises(RuntimeError, match="not in the parse cache"):
        training.analyse_items(recs, cache_dir=Path("/nonexistent-cache"), gold_sentences_only=True, parse=False)


def test_a_per_language_chooser_keeps_the_rules_for_a_language_it_never_saw():
    recs, records = _role_fixture({})
    ru = [r for r in records if r.lang == "ru"]
    kk_gold = [r for r in records if r.lang == "kk" and r.label != "none"]
    model = ClaimModel(C=10.0, none_threshold=0.5, role_C=10.0, roles={"form": "choice", "by_language": True}).fit(
        [r.features for r in ru], [r.label for r in ru], **training._role_args(ru))
    assert model.role_model_.uses("actor", "kk") == "rules"
    got = {c.statement_id: (c.actor, c.target) for c in learned.apply_model(model, kk_gold)}
    rules = {r.statement_id: (r.claim.actor, r.claim.target) for r in kk_gold}
    assert got and all(got[k] == rules[k] for k in got)                  # the claims it keeps: rules' fields
