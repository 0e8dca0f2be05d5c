"""Russian tokens and sentences: the razdel tokenizer (exact character offsets, UD-style splits) and
the razdel sentence splitter, as spaCy components."""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterable, Iterator

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


# Spans that must be one token although razdel splits them. These follow UD Russian
# tokenization (GSD, Taiga, SynTagRus agree): abbreviations and initials keep their period,
# web text keeps URLs, e-mails, hashtags, @mentions and ")))"-smileys whole.
_ABBREVIATIONS = (
    "т|д|п|е|к|н|э|г|гг|в|вв|с|ст|см|ср|др|пр|им|ул|пл|пер|просп|обл|р|пос|дер|оз|о|кв|корп|"
    "тыс|млн|млрд|трлн|руб|коп|долл|чел|мин|сек|ч|кг|км|тел|гос|пол|гр|рис|стр|гл|напр|ок|"
    "сокр|букв|реж|ум|род|англ|нем|фр|лат|греч|итал|исп|кит|япон|араб|акад|проф|доц|ред|изд|"
    "примеч|прим|т\\.е|т\\.к|т\\.п|т\\.д"
)
_PROTECTED = re.compile(
    r"(?:https?://|www\.)[^\s<>\"«»]*[^\s<>\"«».,;:!?)\]]"                      # URL
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"                                            # e-mail
    r"|(?<![\w@#])[#@]\w[\w-]*"                                                   # #tag, @user
    r"|(?:&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);)+"                                   # HTML entities
    r"|`{2,}|'{2,}|\){2,}|\({2,}"                                                   # `` '' ))) ((
    r"|(?<!\w)[А-ЯЁA-Z]\.(?=[^\S\n]?[А-ЯЁA-Z])"                                    # initials
    rf"|(?<![\w-])(?:{_ABBREVIATIONS})\.(?![\w-])",                                  # abbreviations
    re.IGNORECASE,
)
_NUMBER_RANGE = re.compile(r"\d+[-‐–—]\d+")  # "1904-1905" -> three tokens, as in UD


def razdel_spans(text: str) -> list[tuple[int, int]]:
    """Token character spans: razdel.tokenize, then the UD Russian conventions above."""
    from razdel import tokenize

    toks = [(t.start, t.stop) for t in tokenize(text)]
    out: list[tuple[int, int]] = []
    j = 0
    for m in _PROTECTED.finditer(text):
        a, b = m.span()
        while j < len(toks) and toks[j][1] <= a:
            out.append(toks[j])
            j += 1
        if j < len(toks) and toks[j][0] < a < toks[j][1] and _can_cut_before(text, a):
            out.append((toks[j][0], a))
        elif j < len(toks) and toks[j][0] < a:
            continue  # the match starts inside a token we must not cut: leave razdel's tokens
        while j < len(toks) and toks[j][0] < b:
            if toks[j][1] > b:
                toks[j] = (b, toks[j][1])
                break
            j += 1
        out.append((a, b))
    out.extend(toks[j:])
    spans = []
    for s, e in out:
        if _NUMBER_RANGE.fullmatch(text, s, e):
            cut = next(i for i in range(s, e) if not text[i].isdigit())
            spans.extend([(s, cut), (cut, cut + 1), (cut + 1, e)])
        else:
            spans.append((s, e))
    return spans


def _can_cut_before(text: str, a: int) -> bool:
    """A protected span may start inside a razdel token only after punctuation ("(#tag")."""
    return not text[a - 1].isalnum()


class RazdelTokenizer:
    """razdel.tokenize turned into a spaCy Doc that keeps the text exactly.

    Why: razdel (+ the UD rules in `razdel_spans`) matches UD Russian tokenization better than
    spaCy's Russian rules, and it is what the Slovnet models were trained on. spaCy stores at
    most one space after a token, so other whitespace becomes whitespace tokens, as spaCy's
    own tokenizer does; `doc.text == text` and every `token.idx` is exact.
    """

    def __init__(self, vocab: Vocab):
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        pos = 0
        for start, stop in razdel_spans(text):
            if start > pos:
                self._gap(text[pos:start], words, spaces)
            words.append(text[start:stop])
            spaces.append(False)
            pos = stop
        if pos < len(text):
            self._gap(text[pos:], words, spaces)
        return Doc(self.vocab, words=words, spaces=spaces)

    @staticmethod
    def _gap(gap: str, words: list[str], spaces: list[bool]) -> None:
        if words and not spaces[-1] and gap[0] == " " and not words[-1].isspace():
            spaces[-1] = True
            gap = gap[1:]
        if gap:
            words.append(gap)
            spaces.append(False)

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for text in texts:
            yield self(text)

    # spaCy calls these when saving/loading a pipeline; the tokenizer has no state.
    def to_bytes(self, **kwargs) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> "RazdelTokenizer":
        return self

    def to_disk(self, path, **kwargs) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)

    def from_disk(self, path, **kwargs) -> "RazdelTokenizer":
        return self


@spacy.registry.tokenizers("polclaims_razdel_tokenizer")
def create_razdel_tokenizer():
    def make(nlp: Language) -> RazdelTokenizer:
        return RazdelTokenizer(nlp.vocab)

    return make


# --------------------------------------------------------------------------------------------
# Sentence splitter
# --------------------------------------------------------------------------------------------


_ENTITY_END = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);\s*$")


class RazdelSenter:
    """Sentence starts from razdel.sentenize, which handles Russian abbreviations and quotes.

    razdel ignores line breaks, so text is first cut at blank lines (paragraphs) or, with
    `split_on_newline`, at every line break. A sentence starts at the first non-whitespace
    token at or after the start offset razdel reports.
    """

    def __init__(self, name: str, split_on_newline: bool, max_sentence_words: int = 200):
        self.name = name
        self.breaks = re.compile(r"\n" if split_on_newline else r"\n[^\S\n]*\n")
        self.max_words = max(int(max_sentence_words), 10)

    def sentence_starts(self, text: str) -> list[int]:
        from razdel import sentenize

        starts = []
        pos = 0
        for m in list(self.breaks.finditer(text)) + [None]:
            end = m.start() if m else len(text)
            chunk = text[pos:end]
            for k, sent in enumerate(sentenize(chunk)):
                # razdel reads the ";" of an HTML entity ("&#39;") as a sentence end
                if sent.text.strip() and (k == 0 or not _ENTITY_END.search(chunk, max(0, sent.start - 16), sent.start)):
                    starts.append(pos + sent.start)
            pos = m.end() if m else end
        return starts

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        starts = self.sentence_starts(doc.text)
        flags = [False] * len(doc)
        t = 0
        for offset in starts:
            while t < len(doc) and (doc[t].idx < offset or doc[t].is_space):
                t += 1
            if t < len(doc):
                flags[t] = True
        flags[0] = True
        self._cap_length(doc, flags)
        for token, flag in zip(doc, flags):
            token.is_sent_start = flag
        return doc

    def _cap_length(self, doc: Doc, flags: list[bool]) -> None:
        """Cut runaway "sentences" (unpunctuated verse, lists, chat logs) into pieces of at most
        `max_words` words, preferring a capitalised word after a lower-case one: the parser
        is quadratic in sentence length and useless on such spans anyway."""
        words = [t.i for t in doc if not t.is_space]
        count, last_cut, best = 0, 0, None
        for k, i in enumerate(words):
            if flags[i]:
                count, last_cut, best = 0, k, None
            count += 1
            if k > last_cut and doc[i].text[:1].isupper() and doc[words[k - 1]].text[:1].islower():
                best = k
            if count > self.max_words:
                cut = best if best is not None and best > last_cut else k
                flags[words[cut]] = True
                count, last_cut, best = k - cut + 1, cut, None

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("polclaims_razdel_senter", assigns=["token.is_sent_start"],
                  default_config={"split_on_newline": False, "max_sentence_words": 200})
def make_razdel_senter(nlp: Language, name: str, split_on_newline: bool,
                       max_sentence_words: int) -> RazdelSenter:
    return RazdelSenter(name, split_on_newline, max_sentence_words)
