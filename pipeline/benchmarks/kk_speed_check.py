"""How much the Kazakh speed settings change the analyses: the same texts through the pipeline
with `[speed]` and `[stanza_options]` of configs/nlp_kk.toml as shipped and with all of them
off, compared token by token (UPOS, features, lemma, head, relation, entity).

    python -m pipeline.benchmarks.kk_speed_check claims --texts 1000   # random Kazakh texts of the claims corpus
    python -m pipeline.benchmarks.kk_speed_check parallel --lines 400  # the kk side of `make bench`'s parallel lines
    python -m pipeline.benchmarks.kk_speed_check claims --off ner_crf_loss,char_model_dedup  # only these off

Needs ../shared/data (the texts). Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter

from pipeline import config

FIELDS = ("text", "upos", "feats", "lemma", "head", "deprel", "ner")
OFF = {"inference_mode": False, "fast_cycle_check": False, "charlm_output_layer": True, "quantize_int8": [],
       "ner_crf_loss": True, "char_model_dedup": False, "lemma_seq2seq_cache": 0, "optimizer_at_load": True}


def claims_texts(n: int, seed: int = 15) -> list[str]:
    """The Kazakh non-boilerplate sentences of `n` random Kazakh texts of the claims corpus."""
    from pipeline.corpora import claims as corpus
    from pipeline.text.segment import segment
    from pipeline.nlp import input_normalizer

    records, _ = corpus.items()
    kk = [r for r in records if r["lang"] == "kk"]
    random.Random(seed).shuffle(kk)
    norm = input_normalizer("kk")
    return [norm(s.text) for r in kk[:n] for p in segment(r["item_id"], r["text"])
            for s in p.sentences if not s.boilerplate and s.lang == "kk"]


def parallel_texts(n: int) -> list[str]:
    from pipeline.benchmarks.run import parallel_lines
    from pipeline.nlp import input_normalizer

    work = config.PROJECT_ROOT / "build" / "bench"
    text = parallel_lines(config.shared_data_dir(), work, n)["kk"].read_text(encoding="utf-8")
    return [input_normalizer("kk")(t) for t in text.split("\n\n")]


def analyses(cfg: dict, texts: list[str]) -> tuple[list[list[tuple]], float]:
    from pipeline.nlp.kk import KazakhPipeline

    nlp = KazakhPipeline(cfg)
    t0 = time.process_time()
    out = [[(t.text, t.pos_, str(t.morph), t.lemma_, t.head.i, t.dep_, t.ent_iob_ + t.ent_type_)
            for t in doc if not t.is_space] for doc in nlp.pipe(texts)]
    return out, time.process_time() - t0


def compare(texts: list[str], only: list[str] | None = None) -> dict:
    """Token-by-token agreement of the shipped settings with all of them off, or with only the
    `[speed]` settings named in `only` off (one text = one sentence or line; a text tokenized
    differently is counted apart)."""
    shipped = config.load("nlp_kk")
    if only:
        unknown = set(only) - set(OFF)
        if unknown:
            raise SystemExit(f"--off: unknown settings {sorted(unknown)} (known: {', '.join(OFF)})")
        off = {**shipped, "speed": {**shipped.get("speed", {}), **{k: OFF[k] for k in only}}}
    else:
        off = {**shipped, "speed": OFF, "stanza_options": {}}
    a, cpu_off = analyses(off, texts)
    b, cpu_on = analyses(shipped, texts)
    same, tokens, sentences_same = Counter(), 0, 0
    for sa, sb in zip(a, b):
        if len(sa) != len(sb):
            same["tokenization_differs"] += 1
            continue
        sentences_same += sa == sb
        for x, y in zip(sa, sb):
            tokens += 1
            for k, name in enumerate(FIELDS[1:], start=1):
                same[name] += x[k] == y[k]
            same["all"] += x == y
    return {"sentences": len(texts), "tokens": tokens, "sentences_identical": sentences_same,
            "sentences_tokenized_differently": same.pop("tokenization_differs", 0),
            "identical": {k: f"{v}/{tokens} ({100 * v / max(tokens, 1):.2f} %)" for k, v in same.items()},
            "cpu_s_settings_off": round(cpu_off, 1), "cpu_s_shipped": round(cpu_on, 1)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m pipeline.benchmarks.kk_speed_check", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", choices=("claims", "parallel"))
    ap.add_argument("--texts", type=int, default=1000, help="claims: random Kazakh texts of the claims corpus")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--lines", type=int, default=400, help="parallel: line pairs (kk side)")
    ap.add_argument("--off", default="", help="comma-separated [speed] settings to switch off in the "
                    "comparison run (default: all of them and [stanza_options])")
    args = ap.parse_args(argv)
    if not (config.shared_data_dir() / "parallel_kk_ru").is_dir():
        raise SystemExit(f"{config.shared_data_dir()} is absent: the texts come from ../shared/data")
    texts = claims_texts(args.texts, args.seed) if args.source == "claims" else parallel_texts(args.lines)
    only = [x for x in args.off.split(",") if x]
    res = {"source": args.source, "off": only or "all", **compare(texts, only)}
    print(json.dumps(res, ensure_ascii=False))
    return res


if __name__ == "__main__":
    main()
