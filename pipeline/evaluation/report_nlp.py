"""Compute every NLP score the README and model cards report (`make eval-nlp`).

Kazakh: the held-out test fold of KTB (the split of `configs/train_kk.toml`, never trained on)
and the KazNERD test part for NER. Russian: the scored files of `configs/train_ru_adapter.toml`
(GramEval 2020 dev genres, UD GSD, Taiga and Poetry test), none trained on.
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


START, END = "<!-- nlp-scores:start -->", "<!-- nlp-scores:end -->"
# README rows: result key -> row name (other keys stay in the JSON file only)
ROW_NAMES = {
    "kk_ktb_test_fold": "Kazakh: KTB test fold",
    "ru_grameval_news_dev": "Russian: GramEval news (Lenta) dev",
    "ru_grameval_syntagrus_dev": "Russian: GramEval SynTagRus fiction dev",
    "ru_grameval_social_dev": "Russian: GramEval social dev",
    "ru_grameval_wiki_dev": "Russian: GramEval wiki dev (GSD sentences)",
    "ru_grameval_poetry_dev": "Russian: GramEval poetry dev (Taiga sentences)",
    "ru_grameval_17cent_dev": "Russian: GramEval 17th-century dev",
    "ru_gsd_test": "Russian: UD GSD test",
    "ru_taiga_test": "Russian: UD Taiga test",
    "ru_poetry_test": "Russian: UD Poetry test",
}
COLS = ["Tokens", "Sentences", "UPOS", "UFeats", "Lemmas", "UAS", "LAS", "tokens_per_second"]


def row_name(key: str) -> str:
    """"ru_gsd_test" -> "Russian: UD GSD test" (the configured adapter); "ru_gsd_test@gsd-taiga" ->
    "Russian: UD GSD test, gsd-taiga adapter" (another adapter, `--ru-adapter`)."""
    base, _, variant = key.partition("@")
    return ROW_NAMES.get(base, base) + (f", {variant} adapter" if variant else "")


def readme_table(results: dict) -> str:
    """The README's table of every scored file (rows in ROW_NAMES order), the targets, the NER line."""
    keys = [k for k in ROW_NAMES if "UPOS" in results.get(k, {})]
    variants = sorted({k.split("@", 1)[1] for k in results if "@" in k})
    keys += [f"{k}@{v}" for v in variants for k in ROW_NAMES if "UPOS" in results.get(f"{k}@{v}", {})]
    lines = ["| test set (never trained on) | " + " | ".join(c.replace("tokens_per_second", "tokens/s") for c in COLS) + " |",
             "|---" * (len(COLS) + 1) + "|"]
    lines += [f"| {row_name(k)} | " + " | ".join(str(results[k].get(c, "")) for c in COLS) + " |" for k in keys]
    lines.append("| targets kk / ru (issue #2 / #15) | ≥98 / ≥99 | | ≥88 / ≥97 | ≥80 / ≥92 | ≥90 / ≥96 | | ≥60 / ≥85 | |")
    out = "\n".join(lines) + "\n"
    ner = results.get("kk_kaznerd_test")
    if ner:
        out += (f"\nKazakh NER on the KazNERD test part ({ner['sentences']} sentences, gold tokens, 25 classes): "
                f"entity-level P {ner['precision']} / R {ner['recall']} / F1 {ner['f1']}.\n")
    return out


def update_readme(readme: Path, table: str) -> bool:
    """Put `table` between the nlp-scores markers of `readme`; True when the file changed."""
    from pipeline.evaluation.readme import fill_block

    return fill_block(readme, START, END, table)


def main(argv: list[str] | None = None) -> dict:
    from pipeline.evaluation.nlp import evaluate_pipeline
    from pipeline.nlp import get_pipeline

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "models" / "nlp_scores.json")
    ap.add_argument("--langs", default="kk,ru")
    ap.add_argument("--readme", type=Path, help="fill this README's nlp-scores block with the table")
    ap.add_argument("--ru-adapter", action="append", default=[], metavar="NAME=MODEL",
                    help="also score the Russian files with this adapter model (rows '<file>@NAME')")
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
            # every scored Russian file (GramEval dev genres, UD GSD / Taiga / Poetry test), none of
            # whose sentences the UD adapter was fitted on (configs/train_ru_adapter.toml)
            from pipeline.nlp.ru import load_ru

            scored = load("train_ru_adapter")["data"]["eval_files"]
            files = {k: args.data / rel for k, rel in scored.items() if (args.data / rel).exists()}
            for key, path in files.items():
                results[key] = evaluate_pipeline(get_pipeline("ru"), path)
            for spec in args.ru_adapter:  # the same files with another adapter: "<key>@<name>"
                name, _, model = spec.partition("=")
                nlp = load_ru({"adapter": {"apply": True, "model": model}})
                for key, path in files.items():
                    results[f"{key}@{name}"] = evaluate_pipeline(nlp, path)
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    if "ru" in langs:  # rows of adapters this run did not score are stale (e.g. after a default switch)
        variants = {spec.partition("=")[0] for spec in args.ru_adapter}
        old = {k: v for k, v in old.items() if "@" not in k or k.split("@", 1)[1] in variants}
    old.update(results)
    args.out.write_text(json.dumps(old, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    table = readme_table(old)
    print(table)
    if args.readme:
        update_readme(args.readme, table)
    return results


if __name__ == "__main__":
    main()
