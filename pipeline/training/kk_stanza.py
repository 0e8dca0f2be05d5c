"""Train the shipped Kazakh Stanza models (tokenizer, POS, lemma, depparse, NER) on a CPU.

Why its own module: Stanza's `run_*` helpers expect its private data layout and download
word vectors from a hub; here everything is built from `../shared/data` and settings in
`configs/train_kk.toml`, so `polclaims train kk` rebuilds `models/kk/` offline.
"""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Iterator

from pipeline.nlp.conllu import read_iob, sentence_texts, split_ktb, word_rows

log = logging.getLogger("polclaims.train.kk")

STEPS = ("split", "vectors", "charlm", "tokenize", "mwt", "pos", "lemma", "tag_corrector", "depparse", "ner", "evaluate")


def conllu_words(path: Path) -> list[list[str]]:
    """The word forms of each sentence of a CoNLL-U file."""
    return [[cols[1] for cols in sent] for sent in word_rows(path)]


_TOKEN_RE = re.compile(r"\w+(?:[-']\w+)*|[^\w\s]", re.UNICODE)


def _parallel_kk_lines(cfg: dict, data_root: Path) -> Iterator[str]:
    """Lines of the Kazakh files of the parallel corpus (TMX markup removed)."""
    pdir = data_root / cfg["data"]["parallel_dir"]
    for f in sorted(pdir.iterdir()):
        name = f.name.lower()
        if "kaz" not in name:
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        if name.endswith(".tmx"):
            text = re.sub(r"<[^>]+>", "\n", text)
        yield from text.splitlines()


def kazakh_corpus(cfg: dict, data_root: Path, splits: dict[str, Path]) -> list[list[str]]:
    """Unlabelled Kazakh sentences for word vectors; never the KTB test split."""
    sents: list[list[str]] = []
    for key in ("kaznerd_train", "kaznerd_eval"):
        sents.extend([w for w, _ in s] for s in read_iob(data_root / cfg["data"][key]))
    for line in _parallel_kk_lines(cfg, data_root):
        toks = _TOKEN_RE.findall(line)
        if len(toks) >= 3:
            sents.append(toks)
    for split in ("train", "dev"):
        sents.extend(conllu_words(splits[split]))
    return sents


def train_charlm(cfg: dict, data_root: Path, splits: dict[str, Path], work: Path, out_dir: Path) -> None:
    """Forward and backward character language models on the same unlabelled Kazakh text as the
    vectors, as raw lines (KTB train fold only; its dev fold is the LM's dev text), trained at
    once in two processes. A component trained with `charlm = true` in its section reads them."""
    cdir = work / "charlm"
    (cdir / "train").mkdir(parents=True, exist_ok=True)
    lines = [" ".join(w for w, _ in s) for key in ("kaznerd_train", "kaznerd_eval")
             for s in read_iob(data_root / cfg["data"][key])]
    lines += [ln.strip() for ln in _parallel_kk_lines(cfg, data_root) if len(ln.split()) >= 3]
    lines += sentence_texts(splits["train"])
    (cdir / "train" / "kk.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (cdir / "dev.txt").write_text("\n".join(sentence_texts(splits["dev"])) + "\n", encoding="utf-8")
    log.info("charlm text: %d lines, %d characters", len(lines), sum(map(len, lines)))
    jobs = []
    for direction in ("forward", "backward"):
        args = ["stanza.models.charlm", "--mode", "train", "--shorthand", "kk_ktb", "--direction", direction,
                "--train_dir", str(cdir / "train"), "--eval_file", str(cdir / "dev.txt"),
                "--save_dir", str(out_dir), "--save_name", f"kk_charlm_{direction}.pt",
                "--vocab_save_name", str(cdir / "kk_charlm_vocab.pt"), "--cpu", *_opts(cfg["charlm"])]
        jobs.append(_start(args, work / f"charlm_{direction}.log"))
    for proc, args, logfile, t0 in jobs:
        _wait(proc, args, logfile, t0)


def train_vectors(cfg: dict, data_root: Path, splits: dict[str, Path], work: Path, out_dir: Path) -> Path:
    """fastText vectors on Kazakh text, written as a Stanza pretrain file."""
    from gensim.models import FastText
    from stanza.models.common.pretrain import Pretrain

    vc = cfg["vectors"]
    corpus = kazakh_corpus(cfg, data_root, splits)
    log.info("vector corpus: %d sentences, %d tokens", len(corpus), sum(map(len, corpus)))
    lowered = [[w.lower() for w in s] for s in corpus]
    model = FastText(vector_size=vc["dim"], window=vc["window"], min_count=vc["min_count"],
                     workers=max(1, os.cpu_count() or 1), seed=1)
    model.build_vocab(corpus_iterable=lowered)
    model.train(corpus_iterable=lowered, total_examples=len(lowered), epochs=vc["epochs"])
    vocab = list(model.wv.index_to_key)[: vc["max_vocab"]]
    # words of the training splits get subword-composed vectors even when rare in the corpus
    extra = {w.lower() for split in ("train", "dev") for s in conllu_words(splits[split]) for w in s}
    seen = set(vocab)
    vocab.extend(sorted(w for w in extra if w not in seen))
    txt = work / "kk_vectors.txt"
    with txt.open("w", encoding="utf-8") as fh:
        fh.write(f"{len(vocab)} {vc['dim']}\n")
        for w in vocab:
            vec = model.wv[w]
            fh.write(w + " " + " ".join(f"{x:.4f}" for x in vec) + "\n")
    out = out_dir / "kk_pretrain.pt"
    pt = Pretrain(str(out), str(txt), max_vocab=len(vocab) + 10)
    pt.load()
    log.info("pretrain: %d words -> %s", len(vocab), out)
    return out


def _start(args: list[str], logfile: Path):
    """Start a Stanza trainer in a child process (its own allocator settings, own log)."""
    log.info("running: %s", " ".join(args))
    with logfile.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.training.run_stanza", *args],
                                stdout=fh, stderr=subprocess.STDOUT)
    return proc, args, logfile, time.time()


def _wait(proc, args: list[str], logfile: Path, t0: float) -> None:
    if proc.wait() != 0:
        raise RuntimeError(f"{args[0]} failed (exit {proc.returncode}); see {logfile}")
    log.info("done in %.0f s (log: %s)", time.time() - t0, logfile)


def _run(args: list[str], logfile: Path) -> None:
    """Run a Stanza trainer in a child process and wait for it."""
    _wait(*_start(args, logfile))


def _opts(section: dict) -> list[str]:
    out = []
    for k, v in section.items():
        out += [f"--{k}", str(v)]
    return out


def train_tokenizer(cfg, splits, work, out_dir):
    from stanza.utils.datasets import conllu_to_text, prepare_tokenizer_data

    files = {}
    for name in ("train", "dev"):
        txt = work / f"kk_ktb.{name}.txt"
        conllu_to_text.main([str(splits[name]), str(txt)])
        labels = work / f"kk_ktb-ud-{name}.toklabels"
        mwt = work / f"kk_ktb-ud-{name}-mwt.json"
        prepare_tokenizer_data.main([str(txt), str(splits[name]), "-o", str(labels), "-m", str(mwt)])
        files[name] = (txt, labels)
    _run(["stanza.models.tokenizer", "--mode", "train", "--lang", "kk", "--shorthand", "kk_ktb",
          "--txt_file", str(files["train"][0]), "--label_file", str(files["train"][1]),
          "--dev_txt_file", str(files["dev"][0]), "--dev_label_file", str(files["dev"][1]),
          "--dev_conll_gold", str(splits["dev"]), "--mwt_json_file", str(work / "kk_ktb-ud-train-mwt.json"),
          "--conll_file", str(work / "tok_dev.pred.conllu"),
          "--save_dir", str(out_dir), "--save_name", "kk_tokenizer.pt", *_opts(cfg["tokenizer"])],
         work / "tokenize.log")


def train_mwt(cfg, splits, work, out_dir):
    _run(["stanza.models.mwt_expander", "--mode", "train", "--lang", "kk", "--shorthand", "kk_ktb",
          "--train_file", str(splits["train"]), "--eval_file", str(splits["dev"]),
          "--output_file", str(work / "mwt_dev.pred.conllu"), "--gold_file", str(splits["dev"]),
          "--save_dir", str(out_dir), "--save_name", "kk_mwt.pt", *_opts(cfg["mwt"])],
         work / "mwt.log")


def _charlm_args(opts: dict, out_dir: Path) -> list[str]:
    """`charlm = true` in a component's section: train it on the character LMs of [charlm]
    (popped from `opts`, which then holds only Stanza's own options)."""
    if not opts.pop("charlm", False):
        return []
    return ["--charlm", "--charlm_shorthand", "kk_ktb",
            "--charlm_forward_file", str(out_dir / "kk_charlm_forward.pt"),
            "--charlm_backward_file", str(out_dir / "kk_charlm_backward.pt")]


def train_pos(cfg, splits, work, out_dir, pretrain):
    """`train_on_dev = true`: the dev fold joins the training data (the step count is fixed in
    the config; dev then only picks Stanza's checkpoint). The test fold is never used."""
    opts = dict(cfg["pos"])
    charlm = _charlm_args(opts, out_dir)
    train_file = splits["train"]
    if opts.pop("train_on_dev", False):
        train_file = work / "kk_ktb.train+dev.gold.conllu"
        train_file.write_text(splits["train"].read_text(encoding="utf-8") + splits["dev"].read_text(encoding="utf-8"),
                              encoding="utf-8")
    _run(["stanza.models.tagger", "--mode", "train", "--lang", "kk", "--shorthand", "kk_ktb",
          "--train_file", str(train_file), "--eval_file", str(splits["dev"]),
          "--output_file", str(work / "pos_dev.pred.conllu"),
          "--wordvec_pretrain_file", str(pretrain), "--save_dir", str(out_dir),
          "--save_name", "kk_pos.pt", *charlm, *_opts(opts)], work / "pos.log")


def train_lemma(cfg, splits, work, out_dir):
    opts = dict(cfg["lemma"])
    charlm = _charlm_args(opts, out_dir)
    _run(["stanza.models.lemmatizer", "--mode", "train", "--shorthand", "kk_ktb",
          "--train_file", str(splits["train"]), "--eval_file", str(splits["dev"]),
          "--output_file", str(work / "lemma_dev.pred.conllu"),
          "--save_dir", str(out_dir), "--save_name", "kk_lemma.pt", *charlm, *_opts(opts)],
         work / "lemma.log")


def train_tag_corrector(cfg, splits, out_dir) -> Path:
    """The treebank lexicon and suffix classifiers that correct the tagger (seconds; see
    pipeline/nlp/tag_corrector.py): the train fold, plus the dev fold with `train_on_dev`
    (its settings were chosen on dev first); never the test fold."""
    from pipeline.nlp.tag_corrector import TagCorrector, treebank_words

    tc = dict(cfg.get("tag_corrector", {}))
    folds = ["train", "dev"] if tc.pop("train_on_dev", False) else ["train"]
    model = TagCorrector(**tc)
    model.fit([w for fold in folds for w in treebank_words(splits[fold])])
    out = out_dir / "kk_tag_corrector.joblib"
    model.save(out)
    log.info("tag corrector: %d lexicon forms, classifiers for %s -> %s", len(model.lexicon_),
             ", ".join(model.models_), out)
    return out


def train_depparse(cfg, splits, work, out_dir, pretrain):
    opts = dict(cfg["depparse"])
    charlm = _charlm_args(opts, out_dir)
    _run(["stanza.models.parser", "--mode", "train", "--lang", "kk", "--shorthand", "kk_ktb",
          "--train_file", str(splits["train"]), "--eval_file", str(splits["dev"]),
          "--output_file", str(work / "depparse_dev.pred.conllu"),
          "--wordvec_pretrain_file", str(pretrain), "--save_dir", str(out_dir),
          "--save_name", "kk_depparse.pt", *charlm, *_opts(opts)], work / "depparse.log")


def iob_to_json(sents, path: Path) -> None:
    data = [[{"text": w, "ner": t} for w, t in s] for s in sents]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def train_ner(cfg, data_root, work, out_dir, pretrain):
    """KazNERD: the validation file trains (90%) and early-stops (10%); test-part is held out."""
    sents = read_iob(data_root / cfg["data"]["kaznerd_train"])
    train = [s for i, s in enumerate(sents) if i % 10 != 0]
    dev = [s for i, s in enumerate(sents) if i % 10 == 0]
    iob_to_json(train, work / "kk_kaznerd.train.json")
    iob_to_json(dev, work / "kk_kaznerd.dev.json")
    iob_to_json(read_iob(data_root / cfg["data"]["kaznerd_eval"]), work / "kk_kaznerd.test.json")
    _run(["stanza.models.ner_tagger", "--mode", "train", "--shorthand", "kk_kaznerd",
          "--train_file", str(work / "kk_kaznerd.train.json"),
          "--eval_file", str(work / "kk_kaznerd.dev.json"),
          "--wordvec_pretrain_file", str(pretrain), "--save_dir", str(out_dir),
          "--save_name", "kk_ner.pt", *_opts(cfg["ner"])], work / "ner.log")


def main(config: Path, data_root: Path, out_dir: Path, work: Path, steps: list[str]) -> None:
    cfg = tomllib.loads(config.read_text(encoding="utf-8"))
    work.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = split_ktb(cfg, data_root, work)
    pretrain = out_dir / "kk_pretrain.pt"
    if "vectors" in steps:
        pretrain = train_vectors(cfg, data_root, splits, work, out_dir)
    if "charlm" in steps:
        train_charlm(cfg, data_root, splits, work, out_dir)
    if "tokenize" in steps:
        train_tokenizer(cfg, splits, work, out_dir)
    if "mwt" in steps:
        train_mwt(cfg, splits, work, out_dir)
    if "pos" in steps:
        train_pos(cfg, splits, work, out_dir, pretrain)
    if "lemma" in steps:
        train_lemma(cfg, splits, work, out_dir)
    if "tag_corrector" in steps:
        train_tag_corrector(cfg, splits, out_dir)
    if "depparse" in steps:
        train_depparse(cfg, splits, work, out_dir, pretrain)
    if "ner" in steps:
        train_ner(cfg, data_root, work, out_dir, pretrain)


if __name__ == "__main__":
    import argparse

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", type=Path, default=Path("configs/train_kk.toml"))
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("models/kk"))
    ap.add_argument("--work", type=Path, default=Path("build/kk"))
    ap.add_argument("--steps", default=",".join(STEPS[:-1]))
    a = ap.parse_args()
    main(a.config, a.data, a.out, a.work, a.steps.split(","))
