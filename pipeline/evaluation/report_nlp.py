"""Compute every NLP score the README and model cards report (`make eval-nlp`).

Kazakh: the held-out test fold of KTB (the split of `configs/train_kk.toml`, never trained on)
and the KazNERD test part for NER. Russian: UD GSD and Taiga test files.
Results go to a JSON file; a Markdown table is printed for the README.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import tomllib
from pathlib import Path

from pipeline.config import PROJECT_ROOT, load


def kk_test_split(data: Path, work: Path) -> Path:
    from pipeline.nlp.conllu import split_ktb

    cfg = tomllib.loads((PROJECT_ROOT / "configs/train_kk.toml").read_text(encoding="utf-8"))
    return split_ktb(cfg, data, work)["test"]


def iob_spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Entity spans from IOB2 or BIOES tags."""
    spans, start, label = set(), None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, typ = tag.partition("-")
        if prefix in ("B", "S", "O") or (prefix in ("I", "E") and typ != label):
            if start is not None:
                spans.add((start, i, label))
            start, label = (i, typ) if prefix in ("B", "S", "I", "E") else (None, None)
        if prefix in ("S", "E") and start is not None:
            spans.add((start, i + 1, label))
            start, label = None, None
    return spans


def evaluate_kk_ner(test_file: Path, limit: int | None = None) -> dict:
    """Entity-level micro P/R/F1 of the Kazakh NER model on gold-tokenized KazNERD sentences."""
    from pipeline.nlp.kk import load_stanza
    from pipeline.nlp.conllu import read_iob

    sents = read_iob(test_file)[:limit] if limit else read_iob(test_file)
    nlp = load_stanza(load("nlp_kk"), ["tokenize", "ner"], tokenize_pretokenized=True)
    t0 = time.perf_counter()
    doc = nlp([[w for w, _ in s] for s in sents])
    elapsed = time.perf_counter() - t0
    tp = fp = fn = 0
    for gold, sent in zip(sents, doc.sentences):
        g = iob_spans([t for _, t in gold])
        p = iob_spans([tok.ner for tok in sent.tokens])
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"sentences": len(sents), "precision": round(100 * prec, 2), "recall": round(100 * rec, 2),
            "f1": round(100 * f1, 2), "seconds": round(elapsed, 1)}


def main(argv: list[str] | None = None) -> dict:
    from pipeline.evaluation.nlp import evaluate_pipeline
    from pipeline.nlp import get_pipeline

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "models" / "nlp_scores.json")
    ap.add_argument("--langs", default="kk,ru")
    args = ap.parse_args(argv)
    results: dict = {}
    langs = args.langs.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "kk" in langs:
            test = kk_test_split(args.data, Path(tmp))
            results["kk_ktb_test_fold"] = evaluate_pipeline(get_pipeline("kk"), test)
            # the same models without the tag corrector, for the model card's comparison
            from pipeline.nlp.kk import KazakhPipeline

            cfg = load("nlp_kk")
            bare = KazakhPipeline({**cfg, "models": {**cfg["models"], "tag_corrector": ""}})
            results["kk_ktb_test_fold_without_tag_corrector"] = evaluate_pipeline(bare, test)
            results["kk_kaznerd_test"] = evaluate_kk_ner(args.data / "kaznerd" / "IOB2_test-part.txt")
        if "ru" in langs:
            for name in ("ru_gsd/ru_gsd-ud-test.conllu", "ru_taiga/ru_taiga-ud-test.conllu"):
                key = Path(name).stem.replace("-ud-", "_")
                results[key] = evaluate_pipeline(get_pipeline("ru"), args.data / "ud" / name)
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    old.update(results)
    args.out.write_text(json.dumps(old, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    cols = ["Tokens", "Sentences", "UPOS", "UFeats", "Lemmas", "UAS", "LAS", "tokens_per_second"]
    print("| test set | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for key, sc in old.items():
        if "UPOS" in sc:
            print(f"| {key} | " + " | ".join(str(sc.get(c, "")) for c in cols) + " |")
    for key, sc in old.items():
        if "f1" in sc:
            print(f"| {key} (NER P/R/F1) | {sc['precision']} / {sc['recall']} / {sc['f1']} |")
    return results


if __name__ == "__main__":
    main()
