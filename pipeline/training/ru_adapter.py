"""Train the Russian UD adapter (`pipeline/nlp/ud_adapter.py`) from UD Russian dev files.

`polclaims train ru-adapter` (settings: `configs/train_ru_adapter.toml`): runs the Russian
pipeline *without* the adapter on the raw text of each gold sentence, pairs every system token
with the gold token at the same character span, and fits one classifier per target (UPOS, the
configured features, the relation label). Writes `adapter.npz`, `card.json` and `README.md`.
"""
from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

from pipeline import config

log = logging.getLogger(__name__)


def read_gold(path: Path, exclude: set[tuple[str, ...]] | None = None
              ) -> Iterator[tuple[str, list[tuple[int, int, list[str]]]]]:
    """(sentence text, [(start, end, conllu columns)]) for each sentence of a CoNLL-U file; token
    offsets are found by matching the forms in order (multi-word tokens are skipped). The text is
    the `# text` line, or (GramEval files have none) the forms joined as `SpaceAfter=No` says.
    Sentences whose words (`sentence_key`) are in `exclude` are skipped: files that are scored."""
    from pipeline.nlp.conllu import read_conllu_blocks

    for block in read_conllu_blocks(path):
        lines = block.splitlines()
        text = next((l[len("# text = "):] for l in lines if l.startswith("# text = ")), None)
        cols_all = [l.split("\t") for l in lines if not l.startswith("#")]
        rows = [c for c in cols_all if len(c) >= 10 and "-" not in c[0] and "." not in c[0]]
        if not rows or (exclude and sentence_key(rows) in exclude):
            continue
        if text is None:
            text = _text_of(cols_all)
        yield text, _offsets(text, rows)


def sentence_key(rows: list[list[str]]) -> tuple[str, ...]:
    """A sentence's words, lower-cased with е for ё: the same sentence in two treebanks (GramEval
    re-annotated UD Taiga and GSD sentences) gets the same key."""
    return tuple(c[1].lower().replace("ё", "е") for c in rows)


def sentences_of(files: list[Path]) -> set[tuple[str, ...]]:
    """The keys of every sentence of `files` (the files that are scored, kept out of training)."""
    from pipeline.nlp.conllu import word_rows

    return {sentence_key(rows) for f in files for rows in word_rows(f) if rows}


def _text_of(cols_all: list[list[str]]) -> str:
    """A sentence's text from its token lines (multi-word tokens give the surface form)."""
    out, skip_until = [], 0
    for c in cols_all:
        if len(c) < 10 or "." in c[0]:
            continue
        if "-" in c[0]:
            skip_until = int(c[0].split("-")[1])
        elif int(c[0]) <= skip_until:
            continue
        out.append(c[1] + ("" if "SpaceAfter=No" in c[9] else " "))
    return "".join(out).strip()


def _offsets(text: str, rows: list[list[str]]) -> list[tuple[int, int, list[str]]]:
    out, pos = [], 0
    for cols in rows:
        i = text.find(cols[1], pos)
        if i < 0:
            continue
        out.append((i, i + len(cols[1]), cols))
        pos = i + len(cols[1])
    return out


def harmonise(cols: list[str], rules: list[dict]) -> dict[str, str]:
    """The gold features of a token after the `[[data.harmonise]]` rules of the training config
    (where the training files disagree with each other and with the target convention): a rule
    matches a lemma and a form pattern, sets features and drops others."""
    from pipeline.nlp.conllu import parse_feats

    feats = parse_feats(cols[5])
    for rule in rules:
        if cols[2].lower() == rule["lemma"] and re.search(rule.get("form", ""), cols[1].lower()):
            if all(feats.get(k) == v for k, v in rule.get("when", {}).items()):
                for k in rule.get("drop", []):
                    feats.pop(k, None)
                feats.update(rule.get("set", {}))
    return feats


def aligned_examples(nlp, files: list[Path], morph_analyzer, features: list[str] | None = None,
                     min_feature_count: int = 30, relations: bool = False,
                     exclude: set[tuple[str, ...]] | None = None, harmonise_rules: list[dict] | None = None):
    """Feature dicts and targets of every system token that matches a gold token's span
    (sentences in `exclude` left out; gold features harmonised by `harmonise_rules`)."""
    from pipeline.nlp.conllu import parse_feats
    from pipeline.nlp.ud_adapter import ABSENT, token_features

    sents = [s for f in files for s in read_gold(f, exclude)]
    X: list[dict] = []
    gold: list[tuple[str, dict[str, str], str]] = []
    for (text, toks), doc in zip(sents, nlp.pipe(t for t, _ in sents)):
        by_span = {(a, b): cols for a, b, cols in toks}
        for t in doc:
            cols = by_span.get((t.idx, t.idx + len(t.text)))
            if cols is None or t.is_space:
                continue
            X.append(token_features(t, morph_analyzer))
            gold.append((cols[3], harmonise(cols, harmonise_rules) if harmonise_rules else parse_feats(cols[5]), cols[7]))
    if features is None:
        counts = Counter(k for _, f, _ in gold for k in f)
        features = sorted(k for k, c in counts.items() if c >= min_feature_count)
    Y = {"upos": [g[0] for g in gold]}
    if relations:
        Y["dep"] = [g[2] for g in gold]
    for name in features:
        Y[f"feat:{name}"] = [g[1].get(name, ABSENT) for g in gold]
    return X, Y, len(sents)


def train(out: Path, data: Path | None = None, cfg: dict | None = None) -> dict:
    from pipeline.nlp.ru import load_ru
    from pipeline.nlp.ud_adapter import UDAdapter

    cfg = cfg or config.load("train_ru_adapter")
    data = data or config.shared_data_dir()
    files = [data / f for f in cfg["data"]["train_files"]]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise FileNotFoundError(f"training files not found: {', '.join(missing)}")
    eval_files = eval_files_of(cfg, data)
    held_out = [data / f for f in cfg["data"].get("exclude_sentences_of", [])] + list(eval_files.values())
    exclude = sentences_of([f for f in held_out if f.exists()])
    t0 = time.perf_counter()
    nlp = load_ru({"adapter": {"apply": False}})
    lem = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
    analyzer = getattr(lem, "_morph", None) if cfg["model"].get("pymorphy", True) else None
    X, Y, n_sents = aligned_examples(nlp, files, analyzer, cfg["model"].get("features") or None,
                                     int(cfg["model"].get("min_feature_count", 30)),
                                     bool(cfg["model"].get("relations", False)), exclude=exclude,
                                     harmonise_rules=cfg["data"].get("harmonise", []))
    log.info("%d sentences, %d aligned tokens, targets: %s", n_sents, len(X), ", ".join(Y))
    adapter = UDAdapter(C=float(cfg["model"]["C"]), max_iter=int(cfg["model"]["max_iter"]),
                        min_count=int(cfg["model"]["min_count"]))
    adapter.fit(X, Y)
    out.mkdir(parents=True, exist_ok=True)
    adapter.save(out / "adapter.npz")
    card = {
        "name": "ru_adapter",
        "trained_on": [str(Path(f).relative_to(data)) for f in files],
        "sentences": n_sents,
        "aligned_tokens": len(X),
        "targets": adapter.targets,
        "settings": cfg["model"],
        "seconds": round(time.perf_counter() - t0, 1),
        "size_bytes": (out / "adapter.npz").stat().st_size,
        "command": cfg.get("card", {}).get("command", "make train-ru-adapter"),
        "conventions": cfg.get("card", {}).get("conventions", "UD Russian"),
        "about": cfg.get("card", {}).get("about", ""),
        "harmonised": cfg["data"].get("harmonise", []),
    }
    card["skipped_sentences"] = sum(1 for f in files for _ in read_gold(f)) - n_sents
    card["scores"] = evaluate(out / "adapter.npz", {k: f for k, f in eval_files.items() if f.exists()})
    (out / "card.json").write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "README.md").write_text(model_card(card), encoding="utf-8")
    return card


METRICS = ("Tokens", "UPOS", "UFeats", "Lemmas", "UAS", "LAS")


def eval_files_of(cfg: dict, data: Path) -> dict[str, Path]:
    """The scored files of `[data.eval_files]` (name -> path under `data`), in the config's order."""
    return {name: data / rel for name, rel in cfg["data"]["eval_files"].items()}


def evaluate(model_path: Path, files: dict[str, Path]) -> dict:
    """CoNLL 2018 scores of the Russian pipeline without and with the adapter on held-out files."""
    from pipeline.evaluation.nlp import evaluate_pipeline
    from pipeline.nlp.ru import load_ru

    out: dict = {}
    for label, cfg in (("without", {"adapter": {"apply": False}}),
                       ("with", {"adapter": {"apply": True, "model": str(model_path)}})):
        nlp = load_ru(cfg)
        for name, f in files.items():
            r = evaluate_pipeline(nlp, f)
            out.setdefault(name, {})[label] = {m: r[m] for m in METRICS}
    return out


def model_card(card: dict) -> str:
    rows = []
    for name, r in card["scores"].items():
        for label in ("without", "with"):
            rows.append(f"| {name} | {label} adapter | " + " | ".join(str(r[label][m]) for m in METRICS) + " |")
    left_out = (f" Left out of training: {card['skipped_sentences']} sentences that also occur in a scored file."
                if card.get("skipped_sentences") else "")
    harm = "".join(f"\n- Harmonised before training: {h['lemma']} /{h.get('form', '')}/ "
                   f"{', '.join(f'{k}={v}' for k, v in h.get('when', {}).items())} -> "
                   f"{', '.join(f'{k}={v}' for k, v in h.get('set', {}).items())}"
                   f"{' without ' + ', '.join(h['drop']) if h.get('drop') else ''}"
                   for h in card.get("harmonised", []))
    return f"""# Russian UD adapter (model card): {card.get("conventions", "UD Russian")} conventions

A learned layer on top of the Russian pipeline (Slovnet tagger and parser, pymorphy3 lemmas) that
maps its UPOS and morphological features to the {card.get("conventions", "UD Russian")} conventions:
one logistic regression per target over the token's own analysis, its endings, its neighbours'
tags, its head's tag and pymorphy3's grammemes (`pipeline/nlp/ud_adapter.py`). Lemmas of tokens
whose UPOS changes are recomputed; heads and relation labels are the parser's. Chosen by
`configs/nlp_ru.toml` `[adapter] apply` / `model`.

{card.get("about", "")}

- Trained on: {", ".join(card["trained_on"])} ({card["sentences"]} sentences, {card["aligned_tokens"]}
  tokens whose span matches a gold token).{left_out}{harm}
- Targets: {", ".join(card["targets"])}
- Settings: {json.dumps(card["settings"], ensure_ascii=False)}
- Rebuild: `{card["command"]}` ({card["seconds"]} s here); size {card["size_bytes"] / 1e6:.1f} MB.

## Scores
End to end from raw text (files without `# text` lines: tokens joined as `SpaceAfter` says), CoNLL
2018 shared-task F1, computed by the training command on files none of whose sentences were
trained on. GramEval wiki dev sentences are UD GSD test sentences and GramEval poetry dev
sentences UD Taiga test sentences, there in GramEval conventions; UD GSD, Taiga and Poetry test
keep their own treebank's conventions.

| file | pipeline | {" | ".join(METRICS)} |
|---|---|{"---|" * len(METRICS)}
{chr(10).join(rows)}

Limits: a few thousand training sentences, so rare constructions stay as the tagger had them.
Relation labels are not relabelled.
"""
