"""From statements to claims: segment, analyse each sentence in its language, extract, align.

Statements are handled in chunks so that the sentences of many statements go through each
language pipeline together (batching is where the NLP speed comes from), while memory stays
bounded by the chunk size. A statement that fails at any stage becomes a `Failure`; the others
go on.
"""
from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from typing import Iterable, Iterator, TypeVar

from pipeline import __version__, config
from pipeline.batch.memory import release_free_memory
from pipeline.io.records import Claim, Failure, Statement
from pipeline.claims import StatementResult

log = logging.getLogger(__name__)

PIPELINE_VERSION = f"polclaims-{__version__}"


def current_version() -> str:
    """What the store records per statement (and compares on re-runs): the package version plus
    the topic model and the claim extractor in use, so a retrained or switched model re-does
    stored statements."""
    from pipeline.topics.assign import fingerprint

    return f"{PIPELINE_VERSION}+{fingerprint()}+{claims_model_version()}"

T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last may be shorter): the unit of work of every
    engine, so that all engines cut the input the same way."""
    it = iter(items)
    while True:
        chunk = list(itertools.islice(it, size))
        if not chunk:
            return
        yield chunk


def failure_result(f: Failure) -> StatementResult:
    """A record that could not be read, as a result in its input position."""
    return StatementResult(Statement(f.record_id, ""), failure=f)


def model_versions() -> dict[str, str]:
    return {
        "kk": str(config.load("nlp_kk").get("version", "kk")),
        "ru": str(config.load("nlp_ru").get("version", "ru")),
        "claims": claims_model_version(),
    }


def claims_model_version() -> str:
    """"rules-<v>" for the rule extractor, "learned-<hash of the model file>" for the learned one."""
    from pipeline.claims.learned import model_fingerprint

    return model_fingerprint() or str(config.load("claims/ru").get("version", "rules-1"))


def _analyse_chunk(chunk: list[StatementResult]) -> None:
    """Analyse a chunk; when the language pipelines raise on it (a library choking on some
    text), analyse its statements one by one, so that only the statement that breaks them
    fails, by name, and the batch goes on."""
    try:
        _analyse_chunk_together(chunk)
    except Exception as exc:  # noqa: BLE001 - a bad record must not stop the batch
        if len(chunk) == 1:
            res = chunk[0]
            log.warning("language analysis failed in %s", res.statement.id, exc_info=True)
            res.claims = []
            res.failure = Failure(res.statement.id, f"language analysis failed: {type(exc).__name__}: {exc}",
                                  res.statement.origin, "nlp")
            return
        for res in chunk:
            res.claims, res.sentences, res.failure = [], [], None
            _analyse_chunk([res])


def _analyse_chunk_together(chunk: list[StatementResult]) -> None:
    from pipeline.nlp import pipe_groups_by_language
    from pipeline.text.segment import segment
    from pipeline.claims.extract import extractor_for
    from pipeline.claims.learned import active_model, decide

    model = active_model()
    pending: list[tuple[StatementResult, object, list]] = []   # the learned path decides per chunk
    probas: list = []                                          # ... from these (one array per language)
    jobs: list[tuple[tuple[StatementResult, object], str, str]] = []
    for res in chunk:
        try:
            paras = segment(res.statement.id, res.statement.text)
        except Exception as exc:  # noqa: BLE001 - a bad record must not stop the batch
            res.failure = Failure(res.statement.id, f"segmentation failed: {exc}", res.statement.origin, "segment")
            continue
        res.sentences = [s for p in paras for s in p.sentences]
        for s in res.sentences:
            if not s.boilerplate and s.lang in ("kk", "ru"):
                jobs.append(((res, s), s.lang, s.text))
    for lang, group in pipe_groups_by_language(jobs, free_strings=True):
        if model is None:
            for (res, sent), doc in group:
                if res.failure is None:
                    try:
                        res.claims.extend(extractor_for(lang).extract(doc, sent, res.statement.text))
                    except Exception as exc:  # noqa: BLE001
                        _extraction_failed(res, sent, exc)
            continue
        _decide_language_group(model, lang, group, pending, probas)
    if pending:
        import numpy as np

        try:
            decided = decide(model, [recs for _, _, recs in pending], np.concatenate(probas))
        except Exception as exc:  # noqa: BLE001 - the chunk's statements fail by name, the batch goes on
            log.exception("claim model failed")
            for res, sent, _ in pending:
                res.failure = res.failure or Failure(res.statement.id, f"claim model failed: {exc}",
                                                     res.statement.origin, "extract")
            decided = [[] for _ in pending]
        for (res, sent, _), claims in zip(pending, decided):
            if res.failure is None:
                res.claims.extend(claims)
    versions = model_versions()
    for res in chunk:
        if res.failure is not None:
            res.claims = []
            continue
        res.claims.sort(key=lambda c: c.predicate_start)
        for c in res.claims:
            c.pipeline_version = PIPELINE_VERSION
            c.model_versions = versions
        align_within(res.claims)


def _extraction_failed(res: StatementResult, sent, exc: Exception) -> None:
    log.exception("extraction failed in %s", res.statement.id)
    res.failure = Failure(res.statement.id, f"claim extraction failed in sentence {sent.index}: {exc}",
                          res.statement.origin, "extract")


def _decide_language_group(model, lang: str, group: list, pending: list, probas: list) -> None:
    """The learned path over one language's parsed sentences of a chunk, while their docs are valid:
    candidates of every sentence, one model call for all of them (not one per sentence), then the
    actor/target options of the candidates it keeps (they need the parse). Appends
    `(result, sentence, records)` to `pending` and the records' probabilities to `probas`, for
    ``decide`` once per chunk; what ``analyse_sentence`` + ``decide`` do sentence by sentence."""
    import numpy as np

    from pipeline.claims.extract import extractor_for
    from pipeline.claims.learned import LABELS, add_role_options, keeps, option_settings, sentence_candidates

    ex = extractor_for(lang)
    staged = []
    for (res, sent), doc in group:
        if res.failure is not None:
            continue
        try:
            recs, cands = sentence_candidates(ex, doc, sent, res.statement.text, context=model.uses_context)
        except Exception as exc:  # noqa: BLE001
            _extraction_failed(res, sent, exc)
            continue
        staged.append((res, sent, doc, recs, cands))
    flat = [r for *_, recs, _ in staged for r in recs]
    try:
        proba = model.proba_records(flat, settled=True) if flat else np.zeros((0, len(LABELS)))
    except Exception as exc:  # noqa: BLE001 - the chunk's statements fail by name, the batch goes on
        log.exception("claim model failed")
        for res, *_ in staged:
            res.failure = res.failure or Failure(res.statement.id, f"claim model failed: {exc}",
                                                 res.statement.origin, "extract")
        return
    want = keeps(model, proba) if getattr(model, "role_model_", None) is not None else [False] * len(flat)
    opts = option_settings(model)  # the options the model's role chooser was trained on
    k = 0
    for res, sent, doc, recs, cands in staged:
        n = len(recs)
        if res.failure is None:
            try:
                add_role_options(ex, doc, sent, recs, cands, want[k:k + n], opts)
            except Exception as exc:  # noqa: BLE001
                _extraction_failed(res, sent, exc)
        pending.append((res, sent, recs))
        k += n
    probas.append(proba)


def align_within(claims: list[Claim]) -> None:
    """A page holding both languages: align its Kazakh claims with its Russian ones."""
    from pipeline.claims.align import align

    kk = [c for c in claims if c.lang == "kk"]
    ru = [c for c in claims if c.lang == "ru"]
    if kk and ru:
        align(kk, ru)


def align_parallel(results: list[StatementResult]) -> None:
    """Statements sharing a `parallel_id`: align the claims of one language with the other's."""
    from pipeline.claims.align import align

    groups: dict[str, list[StatementResult]] = defaultdict(list)
    for r in results:
        if r.statement.parallel_id and r.failure is None:
            groups[r.statement.parallel_id].append(r)
    for members in groups.values():
        if len(members) < 2:
            continue
        claims = [c for m in members for c in m.claims if c.aligned_to is None]
        kk = [c for c in claims if c.lang == "kk"]
        ru = [c for c in claims if c.lang == "ru"]
        if kk and ru:
            align(kk, ru)


def process_statements(items: Iterable[Statement | Failure], chunk_size: int = 64) -> Iterator[StatementResult]:
    """Yield one `StatementResult` per input record, in input order (failures included); claims
    and statements get topics from the active topic model (pipeline.topics.assign)."""
    chunk: list[StatementResult] = []

    def flush() -> Iterator[StatementResult]:
        todo = [r for r in chunk if r.failure is None]
        if todo:
            _analyse_chunk(todo)
            align_parallel(todo)
            from pipeline.topics.assign import assign_topics

            assign_topics(todo)
        yield from chunk
        chunk.clear()
        release_free_memory()

    for item in items:
        if isinstance(item, Failure):
            chunk.append(failure_result(item))
        else:
            chunk.append(StatementResult(item))
        if len(chunk) >= chunk_size:
            yield from flush()
    yield from flush()


def extract_for_evaluation(statements: list[Statement]) -> dict[str, list[Claim]]:
    """What `evaluate claims` scores: the full `process` path over gold texts."""
    results = list(process_statements(statements, chunk_size=10_000))
    return {r.statement.id: r.claims for r in results}
