"""Datasette metadata for a polclaims store: titles, column descriptions, facets, canned queries.

Kept as Python (not a metadata.json) so the column descriptions sit next to the store's column
lists they describe, and a test can check that every column of the claim record has one.
"""
from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from pipeline import __version__

DB_NAME = "polclaims"  # the database's name in every URL, whatever the file is called

CLAIM_DOCS = {
    "claim_id": "Stable id of the claim (hash of statement, span and type); the claim's page is /polclaims/claims/<claim_id>.",
    "statement_id": "Id of the statement (speech, page, post) the claim was read from.",
    "lang": "Language of the claim's sentence: kk (Kazakh) or ru (Russian).",
    "sentence": "The sentence that holds the claim, as written (the predicate is highlighted).",
    "char_start": "Start of the sentence, in characters of the statement text.",
    "char_end": "End of the sentence (exclusive), in characters of the statement text.",
    "type": "commitment (the speaker or government will do something), obligation (something must be done) or decision (something was decided or done).",
    "predicate": "The words that carry the claim (verb group), as written.",
    "predicate_start": "Start of the predicate, in characters of the statement text.",
    "predicate_end": "End of the predicate (exclusive), in characters of the statement text.",
    "predicate_lemma": "Lemma of the predicate's action verb (избрать, беру): the same action across inflections.",
    "actor": "Who commits, must act or decided, as written (empty when the sentence does not say).",
    "actor_kind": "speaker, government, society, other or unspecified.",
    "target": "What the claim is about: the object or complement of the predicate, as written.",
    "polarity": "affirmative or negative (will not, must not).",
    "tense": "past, present or future of the predicate.",
    "quantities": "Numbers in the claim (JSON list: text, value, unit, offsets): 2 млрд тенге, 50 городов.",
    "entities": "Named entities in the claim's sentence (JSON list: text, label, offsets).",
    "topic": "Most likely policy topic of the claim's sentence (codes of docs/topics.md), from the topic model.",
    "topics": "Top topics with their probabilities (JSON list of label, score).",
    "aligned_to": "claim_id of the same claim in the other language (kk <-> ru twin), where the statement has both.",
    "confidence": "The extractor's probability that this is a claim of this type (1.0 for rule-only claims).",
    "sentence_index": "Position of the sentence in the statement (0-based).",
    "pipeline_version": "polclaims version that extracted the claim.",
    "model_versions": "Versions of the models used (JSON object).",
    "has_quantity": "1 when the claim has at least one quantity (derived from quantities).",
}

STATEMENT_DOCS = {
    "id": "Statement id, from the input (or derived from the file name).",
    "text": "Full text of the statement; claim offsets index this text.",
    "speaker": "Who spoke or published the statement, as given in the input.",
    "date": "Date as written in the input.",
    "source": "Where the statement comes from (site, corpus).",
    "url": "Address of the statement, where known.",
    "title": "Title of the page or speech.",
    "parallel_id": "Id shared by the Kazakh and Russian versions of one statement.",
    "origin": "File (and line or row) the statement was read from.",
    "content_hash": "sha256 of text and metadata: a re-run skips unchanged statements.",
    "pipeline_version": "polclaims version that processed the statement.",
    "processed_at": "When it was processed (UTC, ISO 8601).",
    "date_iso": "The date as YYYY-MM-DD where it parses (for date filters and the year facet).",
    "topic": "Most likely policy topic of the whole statement.",
    "topics": "Top topics of the statement with their probabilities (JSON).",
}

SENTENCE_DOCS = {
    "id": "Row id (also the rowid of the full-text index sentences_fts).",
    "statement_id": "Statement the sentence belongs to.",
    "idx": "Position of the sentence in the statement (0-based).",
    "char_start": "Start offset in the statement text.",
    "char_end": "End offset (exclusive) in the statement text.",
    "text": "The sentence as written.",
    "lang": "kk, ru or other.",
    "paragraph": "Paragraph number in the statement.",
    "boilerplate": "1 for navigation, bylines and other page furniture (never holds claims).",
    "boilerplate_rule": "Which boilerplate rule matched.",
}

FAILURE_DOCS = {
    "id": "Row id.",
    "record_id": "Input record that failed.",
    "origin": "File (and line or row) it came from.",
    "stage": "Where it failed: read, segment, nlp, extract ...",
    "reason": "Why, in words.",
    "failed_at": "When (UTC).",
}

# The bundled models, their training data and its licence (from the model cards in models/).
THREAD_DOCS = {
    "thread_id": "Stable id of the promise thread (hash of its members); its page shows the timeline.",
    "status": "acted on (a decision followed the commitment), overdue (a named year or date passed with no decision), reaffirmed (the commitment was repeated) or open.",
    "status_label": "The status as read: \"reaffirmed 2 times\".",
    "reaffirmed": "How many later statements repeated the commitment.",
    "topic": "Most common topic of the thread's claims.",
    "langs": "Languages of the thread's claims: kk, ru or kk,ru.",
    "label": "Lemma and target of the thread's first claim, for people.",
    "first_date": "Date of the earliest dated statement (ISO).",
    "last_date": "Date of the latest dated statement (ISO).",
    "deadline": "The date a commitment named (\"до 2020 года\"), where one did.",
    "n_claims": "Claims in the thread (kk-ru twins each count).",
    "n_statements": "Statements in the thread (a kk page and its ru version count once).",
    "evidence": "The members and rules behind the status (JSON list).",
    "built_at": "When `polclaims track` built the thread (UTC).",
}

THREAD_MEMBER_DOCS = {
    "thread_id": "The thread.",
    "claim_id": "A claim of the thread.",
    "statement_id": "The claim's statement.",
    "position": "Step of the timeline (0 = earliest); kk-ru twins share one.",
    "role": "announced (first commitment), reaffirmed (a later one), decided (a decision enacting it) or obligated (an obligation about it).",
    "date": "The statement's date (ISO).",
    "date_inferred": "1 when the date was read from a dateline in the text, not given with the statement.",
    "score": "Strongest link of the claim inside the thread (the linker's probability).",
}

MODELS = (
    ("models/kk", "Kazakh Stanza pipeline (tokenizer, tagger, lemmatizer, parser, NER)",
     "UD Kazakh KTB (CC BY-SA 4.0), KazNERD (CC BY 4.0) and others listed in models/kk/README.md"),
    ("models/ru_adapter_syntagrus", "Russian UD adapter over Slovnet/pymorphy3 (SynTagRus/GramEval conventions, the default)",
     "GramEval 2020 training files (CC BY-SA 4.0)"),
    ("models/ru_adapter", "Russian UD adapter over Slovnet/pymorphy3 (UD GSD/Taiga conventions, an option)",
     "UD Russian GSD/Taiga dev files (CC BY-SA 4.0)"),
    ("models/langid", "Kazakh/Russian sentence language identifier",
     "apertium-kaz-rus parallel corpus (GPL-3.0)"),
    ("models/topics", "Topic classifier (TF-IDF + logistic regression)",
     "the project's topic labels (data/topics) over apertium-kaz-rus (GPL-3.0) and KazNERD (CC BY 4.0) texts"),
    ("models/claims", "Learned claim extractor (logistic regression over parse candidates)",
     "the project's claims corpus (data/claims) over texts of ../shared/data sources"),
    ("models/threads", "Promise-thread pair classifier (logistic regression over claim-pair features)",
     "the project's thread gold pairs (data/threads) over the claims corpus"),
)

# Facets of the claims page (the plugin's "claim" facet: all counted in one query): claim
# columns, then the speaker, source and year of the statement a claim came from.
CLAIM_FACETS = [{"claim": name} for name in ("type", "lang", "actor_kind", "topic", "polarity", "tense",
                                              "speaker", "source", "year")]

# Month of a claim: its statement's date, or "undated" (the chart keeps undated claims visible).
_MONTH = "coalesce(substr(s.date_iso, 1, 7), 'undated')"

CANNED_QUERIES = {
    "aligned_pairs": {
        "title": "Kazakh claims beside their Russian twins",
        "description": "Every Kazakh claim with an aligned Russian claim (kk <-> ru pairs), in reading order.",
        "sql": (
            "select k.claim_id as kk_claim_id, r.claim_id as ru_claim_id, k.type as kk_type, "
            "r.type as ru_type, k.predicate as kk_predicate, r.predicate as ru_predicate, "
            "k.sentence as kk_sentence, r.sentence as ru_sentence, k.statement_id as statement_id\n"
            "from claims k join claims r on r.claim_id = k.aligned_to\n"
            "where k.lang = 'kk'\n"
            "order by k.statement_id, k.char_start, k.predicate_start"),
    },
    "actor_commitments": {
        "title": "Commitments of an actor over time",
        "description": "Commitments whose actor contains the given text (any case; e.g. үкімет, правительств), oldest first.",
        "sql": (
            f"select s.date_iso as date, {_MONTH} as month, c.actor, c.predicate, c.target, c.lang, "
            "c.claim_id, c.statement_id\n"
            "from claims c join statements s on s.id = c.statement_id\n"
            "where c.type = 'commitment' and instr(pc_fold(c.actor), pc_fold(:actor)) > 0\n"
            "order by s.date_iso, c.statement_id, c.char_start"),
    },
    "claims_with_quantities": {
        "title": "Claims with quantities",
        "description": "Claims that name numbers (sums, counts, percentages), with the numbers.",
        "sql": (
            "select c.claim_id, c.lang, c.type, c.predicate, c.quantities, c.sentence, c.statement_id\n"
            "from claims c where c.has_quantity = 1\n"
            "order by c.statement_id, c.char_start"),
    },
    "negative_obligations": {
        "title": "Obligations with negative polarity",
        "description": "What must not be done (obligations with negative polarity).",
        "sql": (
            "select c.claim_id, c.lang, c.predicate, c.actor, c.target, c.sentence, c.statement_id\n"
            "from claims c where c.type = 'obligation' and c.polarity = 'negative'\n"
            "order by c.statement_id, c.char_start"),
    },
    "claims_per_topic_month": {
        "title": "Claims per topic per month",
        "description": "Number of claims per topic and month of the statement (undated statements as 'undated'); "
                       "drawn as a stacked bar chart.",
        "sql": (
            f"select {_MONTH} as month, coalesce(c.topic, 'none') as topic, count(*) as claims\n"
            "from claims c join statements s on s.id = c.statement_id\n"
            "group by 1, 2 order by 1, 3 desc"),
    },
}

CHART_QUERY = "claims_per_topic_month"  # drawn as a chart on its page (plugin.py, chart.py)


def models_html() -> Markup:
    """The bundled models with their training data and its licence, for the front page."""
    items = "".join(f"<li><code>{escape(p)}</code>: {escape(what)}; trained on {escape(data)} "
                    f"(model card: <code>{escape(p)}/README.md</code>)</li>" for p, what, data in MODELS)
    return Markup(f"<ul>{items}</ul>")


def build_metadata(*, allow_sql: bool = False) -> dict[str, Any]:
    """The metadata dict for Datasette; `allow_sql=False` denies arbitrary SQL (canned queries
    still run)."""
    about = (
        "<p>Policy claims (commitments, obligations, decisions) that polclaims extracted from "
        "Kazakh and Russian statements of officials. Start with "
        f"<a href=\"/{DB_NAME}/claims\">the claims</a>: facets above the table, "
        "full-text search over the sentences (<code>әкім*</code> finds әкімдерді, әкімдіктерге), "
        "CSV and JSON export under every table.</p>")
    meta: dict[str, Any] = {
        "title": "polclaims",
        "description_html": about,
        "license": "GPL-3.0-or-later (polclaims); data: see each statement's source",
        "source": f"polclaims {__version__}",
        "databases": {
            DB_NAME: {
                "description_html": about,
                "tables": {
                    "claims": {
                        "title": "Claims",
                        "description": "One row per claim. Search: words are ANDed, word* matches any "
                                       "ending, \"quoted phrase\", OR, NOT; Kazakh letters stay distinct, "
                                       "case is folded.",
                        "columns": CLAIM_DOCS,
                        "facets": CLAIM_FACETS,
                        "size": 50,
                        "label_column": "predicate",
                    },
                    "statements": {"title": "Statements", "columns": STATEMENT_DOCS,
                                   "facets": ["speaker", "source", "topic"], "label_column": "id"},
                    "sentences": {"title": "Sentences", "columns": SENTENCE_DOCS,
                                  "facets": ["lang", "boilerplate"], "searchmode": "raw"},
                    "failures": {"title": "Failures: records that could not be processed, and why",
                                 "columns": FAILURE_DOCS, "facets": ["stage"]},
                    "threads": {"title": "Promise threads: one commitment across statements and time",
                                "description": "Built by `polclaims track`. Filter by status and topic with the facets; "
                                               "open a thread for its timeline and evidence.",
                                "columns": THREAD_DOCS, "facets": ["status", "topic", "langs"],
                                "label_column": "label", "size": 50},
                    "thread_members": {"title": "Thread members (claims with their role and date)",
                                       "columns": THREAD_MEMBER_DOCS, "facets": ["role", "date_inferred"]},
                    "schema_version": {"hidden": True},
                },
                "queries": CANNED_QUERIES,
            }
        },
    }
    if not allow_sql:
        meta["allow_sql"] = False
    return meta
