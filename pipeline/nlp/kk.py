"""Kazakh NLP: the project's own Stanza models, delivered as spaCy `Doc`s.

Why a spaCy Doc: extractors are written once against Universal Dependencies attributes
(`pos_`, `morph`, `lemma_`, `dep_`, `head`, `ents`) for both languages. spacy-stanza does the
same wrapping but pins an old Stanza, so the conversion lives here (about 100 lines).

Multi-word tokens (KTB splits "тиіспіз" into "тиіс" + "піз") become several spaCy tokens
that cover the surface string exactly, so character offsets stay true; the UD word forms are
kept in `token._.form` and the surface token in `token._.mwt` for CoNLL-U output.
"""
from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Iterable, Iterator

import spacy
from spacy.tokens import Doc

from pipeline import config
from pipeline.nlp.docs import register_extensions
from pipeline.nlp.tag_corrector import TagCorrector, attach

log = logging.getLogger(__name__)

PROCESSORS = ("tokenize", "mwt", "pos", "lemma", "depparse", "ner")


def _split_surface(surface: str, forms: list[str]) -> list[str]:
    """Cut a multi-word token's surface into one piece per word, covering it exactly.

    Word forms are usually case-insensitive substrings in order ("Балалы" -> бала + лы);
    anything left between them (a hyphen) goes to the preceding piece. If the forms do not
    line up, the cut is proportional to their lengths.
    """
    low = surface.lower()
    cuts: list[int] = []
    end = len(surface)
    for form in reversed(forms[1:]):  # right to left: suffixes are matched where they end
        i = low.rfind(form.lower(), 1, end) if form else -1
        if i <= 0 or (cuts and i >= cuts[0]):
            cuts = []
            break
        cuts.insert(0, i)
        end = i
    if len(cuts) != len(forms) - 1 or len(set(cuts)) != len(cuts):
        if len(surface) < len(forms):
            return [surface] + [""] * (len(forms) - 1)
        total = sum(len(f) for f in forms) or 1
        cuts, acc = [], 0
        for k, form in enumerate(forms[:-1], start=1):
            acc += len(form)
            lo = cuts[-1] + 1 if cuts else 1
            hi = len(surface) - (len(forms) - k)
            cuts.append(max(lo, min(hi, round(acc * len(surface) / total))))
    bounds = [0, *cuts, len(surface)]
    return [surface[a:b] for a, b in zip(bounds, bounds[1:])]


def load_stanza(cfg: dict, processors: list[str], **extra):
    """A Stanza pipeline over the shipped models (offline, CPU speed fixes applied). `extra`
    goes to `stanza.Pipeline` (e.g. `tokenize_pretokenized=True` to score on gold tokens)."""
    import stanza

    from pipeline.nlp.torch_fixes import patch_bilinear

    patch_bilinear()
    threads = int(cfg.get("torch_threads", 1))
    if threads > 0:
        # PyTorch's intra-op threads cost 40x on this kind of VM (LSTMs over short inputs):
        # scale with worker processes instead
        import torch

        torch.set_num_threads(threads)
    mdir = config.resolve_path(cfg["model_dir"])
    files = cfg["models"]
    kwargs = {}
    for proc in processors:
        path = mdir / files[proc]
        if not path.exists():
            raise FileNotFoundError(f"Kazakh {proc} model not found at {path}; rebuild with `polclaims train kk`")
        kwargs[f"{proc}_model_path"] = str(path)
        if proc in ("pos", "depparse", "ner"):
            kwargs[f"{proc}_pretrain_path"] = str(mdir / files["pretrain"])
    for direction in ("forward", "backward"):
        if not files.get(f"charlm_{direction}"):
            continue
        path = mdir / files[f"charlm_{direction}"]
        if not path.exists():
            raise FileNotFoundError(f"Kazakh {direction} character LM not found at {path}; "
                                    "rebuild with `polclaims train kk`")
        # only the components trained with it read it (the others ignore the path)
        for proc in set(processors) & {"pos", "lemma", "depparse"}:
            kwargs[f"{proc}_{direction}_charlm_path"] = str(path)
    from pipeline.nlp.stanza_speed import apply, no_optimizers

    speed = cfg.get("speed", {})
    with nullcontext() if speed.get("optimizer_at_load", True) else no_optimizers():
        pipe = stanza.Pipeline(
            lang="kk", dir=str(mdir), processors=",".join(processors), download_method=None,
            resources_filepath=str(mdir / "resources.json"), allow_unknown_language=True, use_gpu=False,
            logging_level=cfg.get("stanza_logging", "WARN"),
            **{**kwargs, **cfg.get("stanza", {}), **cfg.get("stanza_options", {}), **extra})
    if files.get("tag_corrector") and "pos" in processors:
        path = mdir / files["tag_corrector"]
        if not path.exists():
            raise FileNotFoundError(f"Kazakh tag corrector not found at {path}; rebuild with "
                                    "`polclaims train kk --steps tag_corrector`")
        attach(pipe, TagCorrector.load(path))
    apply(pipe, speed)
    return pipe


class KazakhPipeline:
    """Callable like a spaCy `Language`: text in, `Doc` out (also `pipe` for batches)."""

    lang = "kk"

    def __init__(self, cfg: dict | None = None):
        register_extensions()
        cfg = cfg or config.load("nlp_kk")
        self.processors = list(cfg.get("processors", PROCESSORS))
        self.batch_size = int(cfg.get("batch_size", 64))
        self.stanza = load_stanza(cfg, self.processors, tokenize_no_ssplit=bool(cfg.get("no_ssplit", False)))
        self.vocab = spacy.blank("xx").vocab  # spaCy has no Kazakh class; "xx" gives lexical attributes
        self.version = cfg.get("version", "kk-stanza")
        self.inference_mode = bool(cfg.get("speed", {}).get("inference_mode", False))
        self._known_morphs: set[str] = set()

    # -- conversion -------------------------------------------------------------------------
    def to_doc(self, text: str, sdoc) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        pos, tags, morphs, lemmas, deps = [], [], [], [], []
        heads: list[int | None] = []
        forms: list[str | None] = []
        mwts: list[str | None] = []
        offsets: list[int] = []
        cursor = 0

        def add_space(gap: str) -> None:
            words.append(gap)
            spaces.append(False)
            pos.append("SPACE"); tags.append("_SP"); morphs.append(""); lemmas.append(gap)
            deps.append("dep"); heads.append(None); forms.append(None); mwts.append(None)
            offsets.append(-1)

        def add_gap(start: int) -> None:
            nonlocal cursor
            gap = text[cursor:start]
            if gap:
                if gap.startswith(" ") and words and words[-1] and not spaces[-1] and pos[-1] != "SPACE":
                    spaces[-1] = True
                    gap = gap[1:]
                if gap:
                    add_space(gap)
            cursor = start

        for sent in sdoc.sentences:
            word_index: dict[int, int] = {}  # stanza word id -> spaCy token index
            sent_words = []
            for tok in sent.tokens:
                add_gap(tok.start_char)
                surface = text[tok.start_char:tok.end_char]
                wlist = tok.words
                pieces = [surface] if len(wlist) == 1 else _split_surface(surface, [w.text for w in wlist])
                for piece, w in zip(pieces, wlist):
                    if piece == "":
                        # no surface left for this word: merge it into the previous piece's token
                        word_index[w.id] = len(words) - 1
                        continue
                    word_index[w.id] = len(words)
                    words.append(piece)
                    spaces.append(False)
                    pos.append(w.upos or "X"); tags.append(w.xpos or "_")
                    morphs.append(w.feats or ""); lemmas.append(w.lemma or w.text)
                    deps.append(w.deprel or "dep"); heads.append(w.head)
                    forms.append(w.text if len(wlist) > 1 else None)
                    mwts.append(surface if len(wlist) > 1 else None)
                    sent_words.append((len(words) - 1, w))
                cursor = tok.end_char
            # resolve heads of this sentence to absolute token indices
            root = None
            for ti, w in sent_words:
                if not w.head:
                    root = ti
            for ti, w in sent_words:
                if w.head:
                    heads[ti] = word_index.get(w.head, root if root is not None else ti)
                else:
                    heads[ti] = ti
                    deps[ti] = "root" if "depparse" in self.processors else "dep"
        add_gap(len(text))
        # whitespace tokens hang on the nearest preceding real token (or the next one)
        for i, h in enumerate(heads):
            if h is None:
                j = i - 1
                while j >= 0 and pos[j] == "SPACE":
                    j -= 1
                if j < 0:
                    j = i + 1
                    while j < len(words) and pos[j] == "SPACE":
                        j += 1
                heads[i] = j if j < len(words) else i
        has_parse = "depparse" in self.processors
        if "pos" in self.processors:
            # Register the analyses in the morphology table first: `Doc(morphs=...)` interns them as
            # transient strings inside a memory zone, and the table would keep keys to strings
            # freed at the zone's end (spaCy 3.8).
            for m in set(morphs) - self._known_morphs:
                self.vocab.morphology.add(m)
                self._known_morphs.add(m)
        doc = Doc(
            self.vocab, words=words, spaces=spaces,
            pos=pos if "pos" in self.processors else None,
            tags=tags if "pos" in self.processors else None,
            morphs=morphs if "pos" in self.processors else None,
            lemmas=lemmas if "lemma" in self.processors else None,
            heads=heads if has_parse else None, deps=deps if has_parse else None,
            sent_starts=None if has_parse else self._sent_starts(sdoc, words, pos, text),
        )
        for tok, form, mwt in zip(doc, forms, mwts):
            if form is not None:
                tok._.form = form
                tok._.mwt = mwt
        if "ner" in self.processors:
            ents = []
            for ent in sdoc.ents:
                span = doc.char_span(ent.start_char, ent.end_char, label=ent.type, alignment_mode="expand")
                if span is not None:
                    ents.append(span)
            doc.ents = spacy.util.filter_spans(ents)
        doc.user_data["lang"] = "kk"
        return doc

    @staticmethod
    def _sent_starts(sdoc, words, pos, text) -> list[bool]:
        starts = {s.tokens[0].start_char for s in sdoc.sentences if s.tokens}
        out, off = [], 0
        for w, p in zip(words, pos):
            idx = text.find(w, off) if p != "SPACE" else off
            out.append(idx in starts)
            off = idx + len(w) if idx >= 0 else off
        return out

    # -- API --------------------------------------------------------------------------------
    def memory_zone(self):
        """Like `Language.memory_zone`: strings and lexemes of the texts parsed inside are freed
        at the end, so a long run's vocabulary does not grow with its corpus."""
        return self.vocab.memory_zone()

    def _no_autograd(self):
        """`torch.inference_mode` around the Stanza calls (`[speed] inference_mode`): no
        autograd bookkeeping at all, where Stanza's own `no_grad` still records versions."""
        if not self.inference_mode:
            return nullcontext()
        import torch

        return torch.inference_mode()

    def __call__(self, text: str) -> Doc:
        with self._no_autograd():
            sdoc = self.stanza(text)
        return self.to_doc(text, sdoc)

    def pipe(self, texts: Iterable[str], batch_size: int | None = None) -> Iterator[Doc]:
        """Batch through Stanza (`bulk_process`) — much faster than one call per text."""
        import stanza

        bs = batch_size or self.batch_size
        batch: list[str] = []
        for text in texts:
            batch.append(text)
            if len(batch) >= bs:
                yield from self._run_batch(batch, stanza)
                batch = []
        if batch:
            yield from self._run_batch(batch, stanza)

    def _run_batch(self, batch: list[str], stanza) -> Iterator[Doc]:
        in_docs = [stanza.Document([], text=t) for t in batch]
        with self._no_autograd():
            out = self.stanza(in_docs)
        for text, sdoc in zip(batch, out):
            yield self.to_doc(text, sdoc)


def load_kk(cfg: dict | None = None) -> KazakhPipeline:
    return KazakhPipeline(cfg)
