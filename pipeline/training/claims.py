"""Train the learned claim extractor on the claims corpus and measure it the honest way.

The headline is *leave-one-source-out* cross-validation: for each source (a site of the parallel
corpus, KazNERD news, a treebank, a Russian news or social-media collection), a model trained on
every other source extracts the claims of that one; the pooled predictions are scored per
language, per type and per source by the same scorer as `polclaims evaluate claims`
(predicate-span overlap). The rules alone are scored on the same texts beside it. Small sites
(fewer than ``min_source_texts`` texts) are one group, so that no fold is a handful of lines.

Parsing is the slow part, so each sentence's parse is cached in ``build/claims_cache/`` (keyed by
its text and the NLP settings); features, training and the folds then take a minute.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

from pipeline import __version__, config
from pipeline.io.records import Claim
from pipeline.claims.learned import CandidateRecord, ClaimModel, apply_model, label_records

CACHE_DIR = Path("build/claims_cache")


def _settings_key(lang: str) -> str:
    """Changes when anything that shapes one language's parses changes: the package version, the
    language's NLP config and the contents of the model files it names (a retrained adapter or
    tagger invalidates the cache; the other language's parses stay valid)."""
    h = hashlib.sha1(__version__.encode())
    cfg = _parse_settings(config.load(f"nlp_{lang}"))
    h.update(json.dumps(cfg, sort_keys=True, default=str).encode())
    for path in sorted(_model_files(cfg)):
        h.update(path.name.encode())
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:12]


# Config keys that name how to rebuild a file, not how text is parsed: editing them keeps the cache.
_NOT_PARSE_KEYS = frozenset({"rebuild"})


def _parse_settings(cfg: Any) -> Any:
    """The config without the keys that do not shape parses (_NOT_PARSE_KEYS), at any depth."""
    if isinstance(cfg, dict):
        return {k: _parse_settings(v) for k, v in cfg.items() if k not in _NOT_PARSE_KEYS}
    if isinstance(cfg, list):
        return [_parse_settings(v) for v in cfg]
    return cfg


def _model_files(cfg: Any) -> set[Path]:
    """Files of the project that a config names (relative paths such as models/ru_adapter/adapter.npz);
    folders are walked."""
    out: set[Path] = set()
    if isinstance(cfg, dict):
        for v in cfg.values():
            out |= _model_files(v)
    elif isinstance(cfg, list):
        for v in cfg:
            out |= _model_files(v)
    elif isinstance(cfg, str) and cfg.startswith("models/"):
        path = config.PROJECT_ROOT / cfg
        if path.is_file():
            out.add(path)
        elif path.is_dir():
            out |= {f for f in path.rglob("*") if f.is_file()}
    return out


def analyse_items(items: Sequence[dict], cache_dir: Path | None = CACHE_DIR, progress: bool = True,
                  on_sentence: "Callable[[dict, Any, Any, list[CandidateRecord]], None] | None" = None,
                  context: bool | None = None, gold_sentences_only: bool = False,
                  parse: bool = True, role_options: dict | None = None) -> tuple[list[CandidateRecord], dict[str, list[Claim]]]:
    """Candidates of every item text and the rule extractor's claims (for the comparison). The
    parses are cached per sentence (spaCy Doc bytes, keyed by the NLP settings), so changing the
    features or the rules re-runs only the fast part. `on_sentence(item, sentence, doc, records)`:
    called for each parsed sentence with its candidate records (e.g. to keep its tokens).
    `context`: records carry their context-net inputs (default: when the settings use the net).
    `gold_sentences_only`: only the sentences that hold a gold predicate, without the candidates'
    claim features and without the rules' claims (what the role chooser's harness needs,
    ``pipeline.training.claims_roles``). `parse=False`: a sentence missing from the cache is an
    error (naming the cache file) instead of being parsed. `role_options`: how actor/target options
    are made (default: configs/claims/model.toml [model.roles])."""
    if context is None:
        context = bool(config.load("claims/model").get("model", {}).get("context", {}).get("use", False))
    from spacy.tokens import Doc

    from pipeline.nlp import get_pipeline, pipe_by_language
    from pipeline.text.segment import segment
    from pipeline.claims.extract import extractor_for
    from pipeline.claims.learned import analyse_sentence

    # actor/target options only where a gold claim is (they train and score the role chooser;
    # options for every candidate of the corpus would not fit in memory)
    spans = defaultdict(list)
    for g in gold_items_of(items):
        spans[g.item_id].extend((c.start, c.end) for c in g.claims if c.start is not None)
    sents = []
    for it in items:
        for p in segment(it["item_id"], it["text"]):
            for s in p.sentences:
                if not s.boilerplate and s.lang in ("kk", "ru") and (not gold_sentences_only or any(
                        min(s.end, e) > max(s.start, st) for st, e in spans.get(it["item_id"], []))):
                    sents.append((it, s))
    cache: dict[str, bytes] = {}
    for lang in sorted({s.lang for _, s in sents}):  # one cache file per language and its settings
        cache_file = Path(cache_dir) / f"docs-{lang}-{_settings_key(lang)}.pkl" if cache_dir is not None else None
        part: dict[str, bytes] = {}
        if cache_file is not None and cache_file.exists():
            with open(cache_file, "rb") as fh:
                part = pickle.load(fh)
        todo = [((it, s), s.lang, s.text) for it, s in sents if s.lang == lang and _doc_key(s.lang, s.text) not in part]
        if todo and not parse:
            raise RuntimeError(f"{len(todo)} {lang} sentences are not in the parse cache "
                               f"{cache_file or '(none)'} (first: {todo[0][0][0]['item_id']}); "
                               "`polclaims train claims` parses and caches them")
        if todo:
            stream = pipe_by_language(todo)
            if progress:
                from tqdm import tqdm

                stream = tqdm(stream, total=len(todo), desc=f"parsing corpus sentences ({lang})", unit="sent")
            for (_, s), lg, doc in stream:
                part[_doc_key(lg, s.text)] = doc.to_bytes()
            if cache_file is not None:
                cache_file.parent.mkdir(parents=True, exist_ok=True)
                with open(cache_file, "wb") as fh:
                    pickle.dump(part, fh)
        cache.update(part)
    records: list[CandidateRecord] = []
    rules: dict[str, list[Claim]] = {it["item_id"]: [] for it in items}
    for it, s in sents:
        doc = Doc(get_pipeline(s.lang).vocab).from_bytes(cache[_doc_key(s.lang, s.text)])
        ex = extractor_for(s.lang)
        near_gold = spans.get(it["item_id"], [])
        recs = analyse_sentence(ex, doc, s, it["text"], roles=lambda a, b, near=near_gold: any(
            min(b, e) > max(a, st) for st, e in near), context=context, features=not gold_sentences_only,
            options=role_options)
        if on_sentence is not None:
            on_sentence(it, s, doc, recs)
        records.extend(recs)
        if not gold_sentences_only:
            rules[it["item_id"]].extend(ex.extract(doc, s, it["text"]))
    return records, rules


def _doc_key(lang: str, text: str) -> str:
    return hashlib.sha1(f"{lang}\x1f{text}".encode()).hexdigest()


def gold_items_of(records: Sequence[dict]):
    """Corpus records (gold format) as the evaluator's GoldItems (predicates located in the text)."""
    from pipeline.evaluation.claims import load_gold_lines

    return load_gold_lines((json.dumps({k: r.get(k) for k in ("item_id", "pair_id", "lang", "text", "topic", "claims")},
                                       ensure_ascii=False) for r in records), "corpus records")


def fold_groups(items: Sequence[dict], min_source_texts: int) -> dict[str, str]:
    """item_id -> fold name: its source, or "small-sites" for sources with few texts."""
    sizes = Counter(it["source"] for it in items)
    return {it["item_id"]: (it["source"] if sizes[it["source"]] >= min_source_texts else "small-sites") for it in items}


def _role_args(records: Sequence[CandidateRecord]) -> dict[str, list]:
    return {"roles": [r.roles for r in records],
            "role_gold": [{"actor": r.gold_actor, "target": r.gold_target} for r in records],
            "langs": [r.lang for r in records]}


def model_from_settings(s: dict | None = None) -> ClaimModel:
    s = (s or config.load("claims/model")).get("model", {})
    return ClaimModel(C=float(s.get("C", 1.0)), class_weight=s.get("class_weight") or None,
                      max_iter=int(s.get("max_iter", 3000)), tense_C=float(s.get("tense_C", 1.0)),
                      use_tense_model=bool(s.get("tense_model", True)),
                      none_threshold=s.get("none_threshold", "auto"), min_count=int(s.get("min_count", 2)),
                      role_C=float(s.get("role_C", 0.5)), learn_roles=bool(s.get("learn_roles", True)),
                      vectors=s["vectors"] if s.get("vectors", {}).get("use", False) else None,
                      context=s["context"] if s.get("context", {}).get("use", False) else None,
                      roles=s.get("roles"))


def _align_pairs(items: Sequence[dict], predicted: dict[str, list[Claim]]) -> None:
    from pipeline.claims.align import align

    by_pair = defaultdict(dict)
    for it in items:
        if it.get("pair_id"):
            by_pair[it["pair_id"]][it["lang"]] = it["item_id"]
    for sides in by_pair.values():
        if "kk" in sides and "ru" in sides:
            kk, ru = predicted.get(sides["kk"], []), predicted.get(sides["ru"], [])
            for c in kk + ru:
                c.aligned_to = None
            if kk and ru:
                align(kk, ru)


def _predict(model: ClaimModel, records: Sequence[CandidateRecord]) -> dict[str, list[Claim]]:
    from pipeline.claims.extract import extractor_for

    by_sent = defaultdict(list)
    for r in records:
        by_sent[(r.statement_id, r.sentence_index)].append(r)
    out: dict[str, list[Claim]] = defaultdict(list)
    for (sid, _), recs in by_sent.items():
        claims = apply_model(model, recs)
        claims.sort(key=lambda c: c.predicate_start)
        if len(claims) > 1:
            extractor_for(recs[0].lang)._share_quantities(claims)
        out[sid].extend(claims)
    return out


def _copy_rules(rules: dict[str, list[Claim]]) -> dict[str, list[Claim]]:
    import copy

    return {k: [copy.copy(c) for c in v] for k, v in rules.items()}


def _summary(res: dict) -> dict[str, Any]:
    """The figures of a score() result that the card and README show."""
    det = res["detection"]
    f = res["fields"]
    out = {"all": det["all"], "by_lang": det["by_lang"], "typed": res["detection_typed"]["all"],
           "by_type": {t: {k: v[k] for k in ("gold", "pred", "precision", "recall", "f1")} for t, v in res["by_type"].items()},
           "fields": {lang: {k: v.get("accuracy") for k, v in f["by_lang"].get(lang, {}).items()} for lang in ("kk", "ru")},
           "fields_all": {k: v.get("accuracy") for k, v in f["all"].items()},
           "alignment": {k: res["alignment"].get(k) for k in ("gold_links", "pred_links", "correct", "precision", "recall", "f1")
                         if k in res["alignment"]}}
    return out


# P(no claim) thresholds at which cross-validation also scores the extractor (card: trade-off table)
TRADE_OFF_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def _fold(name: str, records: Sequence[CandidateRecord], rec_groups: Sequence[str], groups: dict[str, str],
          settings: dict | None) -> tuple[str, dict[str, list[Claim]], float, dict[float, dict[str, list[Claim]]]]:
    """One held-out source: fit on the others (threshold tuned inside them), extract its claims;
    also its claims at fixed thresholds (the precision/recall trade-off users can choose)."""
    t0 = time.time()
    train = [r for r, g in zip(records, rec_groups) if g != name]
    test = [r for r, g in zip(records, rec_groups) if g == name]
    model = model_from_settings(settings).fit([r.features for r in train], [r.label for r in train],
                                              [r.gold_tense for r in train], groups=[groups[r.statement_id] for r in train],
                                              context=[r.context for r in train], **_role_args(train))
    pred = dict(_predict(model, test))
    tuned = model.threshold_
    at: dict[float, dict[str, list[Claim]]] = {}
    for t in TRADE_OFF_THRESHOLDS:
        model.threshold_ = t
        at[t] = dict(_predict(model, test))
    model.threshold_ = tuned
    return name, pred, time.time() - t0, at


def cross_validate(items: Sequence[dict], records: Sequence[CandidateRecord], rules: dict[str, list[Claim]],
                   min_source_texts: int = 60, settings: dict | None = None, progress: bool = True,
                   jobs: int | None = None) -> dict[str, Any]:
    """Leave-one-source-out: pooled scores (learned vs rules) per language, type and field, and
    the learned model's score on each held-out source."""
    from pipeline.evaluation.claims import score

    gold = gold_items_of(items)
    gold_by_id = {g.item_id: g for g in gold}
    label_records(records, gold)
    groups = fold_groups(items, min_source_texts)
    rec_groups = [groups[r.statement_id] for r in records]
    predicted: dict[str, list[Claim]] = {}
    per_source: dict[str, Any] = {}
    names = sorted(set(groups.values()))
    from joblib import Parallel, delayed

    jobs = jobs or int(config.load("claims/model").get("cv", {}).get("jobs", 2))
    results = Parallel(n_jobs=jobs)(delayed(_fold)(name, records, rec_groups, groups, settings) for name in names)
    at_threshold: dict[float, dict[str, list[Claim]]] = {t: {} for t in TRADE_OFF_THRESHOLDS}
    for k, (name, pred, seconds, at) in enumerate(results):
        for t, p in at.items():
            at_threshold[t].update(p)
        held = [it for it in items if groups[it["item_id"]] == name]
        for it in held:
            predicted[it["item_id"]] = pred.get(it["item_id"], [])
        _align_pairs(held, predicted)
        res = score([gold_by_id[it["item_id"]] for it in held], {it["item_id"]: predicted[it["item_id"]] for it in held},
                    text_langs=False)
        per_source[name] = {"texts": len(held), "langs": dict(Counter(it["lang"] for it in held)),
                            **{k2: res["detection"]["all"][k2] for k2 in ("gold", "pred", "precision", "recall", "f1")},
                            "by_lang": {lg: {k2: v[k2] for k2 in ("gold", "pred", "precision", "recall", "f1")}
                                        for lg, v in res["detection"]["by_lang"].items()}}
        if progress:
            print(f"  fold {k + 1}/{len(names)} {name:18} texts {len(held):5}  F1 {res['detection']['all']['f1']}"
                  f"  ({seconds:.1f} s)", flush=True)
    rule_pred = _copy_rules(rules)
    _align_pairs(items, rule_pred)
    learned = score(gold, predicted, text_langs=False)
    rules_res = score(gold, rule_pred, text_langs=False)
    random_drawn = {it["item_id"] for it in items if it.get("stratum") == "random"}
    natural = [g for g in gold if g.item_id in random_drawn]
    nat = score(natural, {g.item_id: predicted.get(g.item_id, []) for g in natural}, text_langs=False) if natural else None
    trade_off = {}
    for t, pred_t in at_threshold.items():
        d = score(gold, {g.item_id: pred_t.get(g.item_id, []) for g in gold}, text_langs=False)["detection"]
        trade_off[str(t)] = {"all": d["all"], "by_lang": d["by_lang"]}
    return {"folds": names, "per_source": per_source, "learned": _summary(learned), "rules": _summary(rules_res),
            "trade_off": trade_off,
            "natural_rate_learned": _summary(nat) if nat else None}


def train(items: Sequence[dict], out: Path, command: str = "", cv: bool = True, min_source_texts: int = 60,
          progress: bool = True, jobs: int | None = None, cache_dir: Path | None = CACHE_DIR) -> dict[str, Any]:
    """Cross-validate (unless cv=False), fit on everything, write model.joblib, card.json and README.md.
    Parses are cached in cache_dir (None: not cached)."""
    records, rules = analyse_items(items, cache_dir=cache_dir, progress=progress)
    card: dict[str, Any] = {"command": command, "pipeline_version": __version__,
                            "data": {"texts": len(items), "by_lang": dict(Counter(it["lang"] for it in items)),
                                     "sources": dict(sorted(Counter(it["source"] for it in items).items())),
                                     "claims": dict(Counter(f"{it['lang']}:{c['type']}" for it in items for c in it["claims"]))},
                            "candidates": len(records), "settings": config.load("claims/model")}
    if cv:
        card["loso_cv"] = cross_validate(items, records, rules, min_source_texts=min_source_texts, progress=progress,
                                         jobs=jobs)
    gold = gold_items_of(items)
    label_records(records, gold)
    cover = Counter(r.label for r in records)
    n_gold = sum(len(g.claims) for g in gold)
    card["candidate_recall"] = round(sum(v for k, v in cover.items() if k != "none") / max(1, n_gold), 4)
    t0 = time.time()
    groups = fold_groups(items, min_source_texts)
    model = model_from_settings().fit([r.features for r in records], [r.label for r in records],
                                      [r.gold_tense for r in records], groups=[groups[r.statement_id] for r in records],
                                      context=[r.context for r in records], **_role_args(records))
    card["none_threshold"] = model.threshold_
    card["fit_seconds"] = round(time.time() - t0, 1)
    model.info = {"trained_on": card["data"], "pipeline_version": __version__}
    out = Path(out)
    path = model.save(out / "model.joblib")
    card["size_bytes"] = path.stat().st_size
    (out / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    write_card_readme(out, card)
    return card


TRIED_HEADING = "## Tried"


def write_card_readme(out: Path, card: dict) -> None:
    """README.md of a model folder from its card; a hand-written "## Tried" section (experiments
    that did not make it, with their commands and numbers) is kept across retraining."""
    path = Path(out) / "README.md"
    tried = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        k = old.find("\n" + TRIED_HEADING)
        if k >= 0:
            tried = "\n" + old[k + 1:]
    path.write_text(card_markdown(card).rstrip("\n") + "\n" + tried, encoding="utf-8")


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def prf_table(rows: Sequence[tuple[str, dict]]) -> str:
    lines = ["| | gold | predicted | P | R | F1 |", "|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r.get('gold', '')} | {r.get('pred', '')} | {_pct(r.get('precision'))} | "
                     f"{_pct(r.get('recall'))} | {_pct(r.get('f1'))} |")
    return "\n".join(lines)


def cv_markdown(cv: dict) -> str:
    L, R = cv["learned"], cv["rules"]
    rows = []
    for lang in ("kk", "ru"):
        if lang in L["by_lang"]:
            rows.append((f"learned, {lang}", L["by_lang"][lang]))
            rows.append((f"rules, {lang}", R["by_lang"][lang]))
    rows += [("learned, all", L["all"]), ("rules, all", R["all"])]
    out = ["Leave-one-source-out cross-validation (each source's texts extracted by a model trained on the "
           "other sources; predicate-span overlap as in `polclaims evaluate claims`):", "", prf_table(rows), ""]
    out += ["By type (learned):", "", prf_table([(t, v) for t, v in L["by_type"].items()]), ""]
    fields = ["actor", "actor_kind", "target_lenient", "target", "polarity", "tense", "predicate_lemma", "quantities"]
    out += ["Fields of matched claims (learned / rules), accuracy %:", "",
            "| field | kk learned | kk rules | ru learned | ru rules |", "|---|---|---|---|---|"]
    for f in fields:
        out.append(f"| {f} | {_pct(L['fields']['kk'].get(f))} | {_pct(R['fields']['kk'].get(f))} | "
                   f"{_pct(L['fields']['ru'].get(f))} | {_pct(R['fields']['ru'].get(f))} |")
    a, ar = L["alignment"], R["alignment"]
    out += ["", f"kk-ru alignment of claims on the corpus's pairs: learned F1 {_pct(a.get('f1'))} "
                f"(P {_pct(a.get('precision'))}, R {_pct(a.get('recall'))}, {a.get('gold_links')} gold links); "
                f"rules F1 {_pct(ar.get('f1'))}.", ""]
    if cv.get("natural_rate_learned"):
        n = cv["natural_rate_learned"]
        out += ["Natural-rate part only (randomly drawn texts), learned: " + ", ".join(
            f"{lg} P {_pct(v['precision'])} R {_pct(v['recall'])} F1 {_pct(v['f1'])}" for lg, v in n["by_lang"].items()), ""]
    if cv.get("trade_off"):
        out += ["Precision against recall: the same folds with a fixed threshold on P(no claim) (`none_threshold` in "
                "configs/claims/model.toml; a candidate is a claim below it; lower = fewer, surer claims):", "",
                "| none_threshold | P kk | R kk | F1 kk | P ru | R ru | F1 ru |", "|---|---|---|---|---|---|---|"]
        for t, v in cv["trade_off"].items():
            kk, ru = v["by_lang"].get("kk", {}), v["by_lang"].get("ru", {})
            out.append(f"| {t} | {_pct(kk.get('precision'))} | {_pct(kk.get('recall'))} | {_pct(kk.get('f1'))} | "
                       f"{_pct(ru.get('precision'))} | {_pct(ru.get('recall'))} | {_pct(ru.get('f1'))} |")
        out.append("")
    out += ["Per held-out source (learned):", "", "| source | texts | gold | predicted | P | R | F1 |",
            "|---|---|---|---|---|---|---|"]
    for name, r in sorted(cv["per_source"].items()):
        out.append(f"| {name} | {r['texts']} | {r['gold']} | {r['pred']} | {_pct(r['precision'])} | "
                   f"{_pct(r['recall'])} | {_pct(r['f1'])} |")
    return "\n".join(out) + "\n"


README_START, README_END = "<!-- claims-loso:start -->", "<!-- claims-loso:end -->"


def _thousands(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) else str(x)


def readme_loso_table(card: dict) -> str:
    """The README's headline table (leave-one-source-out, learned vs rules per language), rendered
    from a card's figures so that the README never drifts from the model it ships."""
    L, R = card["loso_cv"]["learned"], card["loso_cv"]["rules"]
    rows = []
    for lang in ("kk", "ru"):
        if lang in L["by_lang"]:
            rows.append((f"**learned, {lang}**", L["by_lang"][lang], True))
            rows.append((f"rules, {lang}", R["by_lang"][lang], False))
    rows.append(("learned, all", L["all"], False))
    lines = ["| | gold | predicted | P | R | F1 |", "|---|---|---|---|---|---|"]
    for name, r, bold in rows:
        b = "**" if bold else ""
        lines.append(f"| {name} | {_thousands(r.get('gold'))} | {_thousands(r.get('pred'))} | {b}{_pct(r.get('precision'))}{b} | "
                     f"{_pct(r.get('recall'))} | {b}{_pct(r.get('f1'))}{b} |")
    lines.append("| targets (issue #13) | | | ≥ 80 | | ≥ 80 |")
    return "\n".join(lines) + "\n"


def card_markdown(card: dict) -> str:
    d = card["data"]
    out = ["# Learned claim extractor (`models/claims`)", "",
           "A scikit-learn classifier (DictVectorizer + logistic regression, `pipeline/claims/learned.py`) over "
           "high-recall claim candidates of the parse: claim or not, and the type; a second one predicts the tense. "
           "Actor and target are chosen among the phrases near the predicate by a third classifier "
           "(`pipeline/claims/roles.py`; rules: subject and object); quantities, lemma and polarity come from the "
           "rule extractor's field filling.", "",
           f"- Rebuild: `{card['command'] or 'make train-claims'}`",
           f"- Data: the claims corpus `data/claims/` ({d['texts']} texts: {d['by_lang']}; claims {d['claims']}), "
           f"texts from ../shared/data (sources: {', '.join(d['sources'])}).",
           f"- Candidates: {card['candidates']} (they cover {_pct(card.get('candidate_recall'))} % of the gold claims)",
           f"- Size: {card['size_bytes'] / 1e6:.1f} MB; fit in {card['fit_seconds']} s", ""]
    if "loso_cv" in card:
        out.append(cv_markdown(card["loso_cv"]))
    if card.get("final_checks"):
        out.append(checks_markdown(card["final_checks"]))
    return "\n".join(out)


def add_final_checks(out: Path, gold_paths: Sequence[Path]) -> dict[str, Any]:
    """Score the model in `out` on gold files (the dev gold, the reference statement) through the
    whole `process` path and add the figures to its card and README. These are final checks:
    nothing in training reads them."""
    import os

    from pipeline.evaluation.claims import evaluate
    from pipeline.claims import learned
    from pipeline.batch.analyse import extract_for_evaluation

    out = Path(out)
    previous = os.environ.get("POLCLAIMS_CLAIMS_MODEL")
    os.environ["POLCLAIMS_CLAIMS_MODEL"] = str(out.resolve())
    learned._ACTIVE.clear()
    try:
        checks = {}
        for g in gold_paths:
            res = evaluate(g, extract_for_evaluation)
            checks[Path(g).name] = {"detection": res["detection"]["all"], "by_lang": res["detection"]["by_lang"],
                                    "fields": {k: v.get("accuracy") for k, v in res["fields"]["all"].items()},
                                    "alignment": {k: res["alignment"].get(k) for k in ("gold_links", "pred_links", "correct", "precision", "recall", "f1")}}
    finally:
        if previous is None:
            os.environ.pop("POLCLAIMS_CLAIMS_MODEL", None)
        else:
            os.environ["POLCLAIMS_CLAIMS_MODEL"] = previous
        learned._ACTIVE.clear()
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    card["final_checks"] = checks
    (out / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    write_card_readme(out, card)
    return checks


def checks_markdown(checks: dict) -> str:
    lines = ["Final checks (`python -m pipeline.training.claims checks`, run by `make train-claims`; whole `process` "
             "path, never used to choose a feature, setting or threshold):", "",
             "| gold file | gold | predicted | P | R | F1 | F1 kk | F1 ru | actor | target (lenient) | alignment P / R |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, c in checks.items():
        d, bl, f, a = c["detection"], c["by_lang"], c["fields"], c["alignment"]
        lines.append(f"| {name} | {d['gold']} | {d['pred']} | {_pct(d['precision'])} | {_pct(d['recall'])} | {_pct(d['f1'])} | "
                     f"{_pct(bl.get('kk', {}).get('f1'))} | {_pct(bl.get('ru', {}).get('f1'))} | {_pct(f.get('actor'))} | "
                     f"{_pct(f.get('target_lenient'))} | {_pct(a.get('precision'))} / {_pct(a.get('recall'))} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m pipeline.training.claims")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("checks", help="final checks of a trained model on gold files, added to its card")
    c.add_argument("model_dir", type=Path)
    c.add_argument("gold", type=Path, nargs="+")
    r = sub.add_parser("readme", help="write the leave-one-source-out table of a model's card into the README")
    r.add_argument("model_dir", type=Path)
    r.add_argument("readme", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "readme":
        from pipeline.evaluation.readme import fill_block

        card = json.loads((args.model_dir / "card.json").read_text(encoding="utf-8"))
        fill_block(args.readme, README_START, README_END, readme_loso_table(card))
        print(f"{args.readme}: leave-one-source-out table written from {args.model_dir / 'card.json'}")
        return
    from pipeline.nlp import quiet_libraries

    quiet_libraries()
    print(checks_markdown(add_final_checks(args.model_dir, [g for g in args.gold if g.exists()])))


if __name__ == "__main__":
    main()
