"""`polclaims train topics`: read any labelled table, check it, cross-validate, fit, save with a card.

Why it checks before it trains: a user's label column may hold empty cells, lists, or a class
with a single example; each of those makes a misleading model or a cryptic scikit-learn
traceback. Every such row is named (row number, id when there is an id column) with its
reason; the run stops unless the user asks to skip them, and then the skipped rows are listed.
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipeline import config
from pipeline.topics.model import TopicModel, build_pipeline, record_inputs

TABULAR = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".tsv": "csv"}


class TrainDataError(Exception):
    """The training data cannot be used as given; the message says which rows and why."""


@dataclass
class LabelledData:
    texts: list[str]
    labels: list[str]
    groups: list[str] | None
    langs: list[str] | None
    ids: list[str]
    source: str
    rows_read: int
    problems: list[dict] = field(default_factory=list)  # skipped rows: {"row", "id", "reason"}
    by: dict[str, list[str]] = field(default_factory=dict)  # --by-col: column -> value per example
    sources: list[str] | None = None  # --source-col: leave-one-source-out cross-validation


def load_table(data: str):
    """A `datasets.Dataset` from a JSONL/CSV/Parquet file, a folder saved with `save_to_disk`,
    or a dataset name `datasets` can load (offline: only ones already in its cache)."""
    import datasets

    datasets.disable_progress_bars()
    path = Path(data)
    if path.is_file():
        fmt = TABULAR.get(path.suffix.lower())
        if fmt is None:
            raise TrainDataError(f"{data}: unknown file type {path.suffix!r}; use .jsonl, .csv, .tsv or .parquet")
        kwargs = {"delimiter": "\t"} if path.suffix.lower() == ".tsv" else {}
        try:
            ds = datasets.load_dataset(fmt, data_files=str(path), split="train", **kwargs)
        except Exception as exc:  # noqa: BLE001 - the reader's message is the useful part
            raise TrainDataError(f"{data}: cannot read as {fmt}: {exc}") from exc
        return ds
    if path.is_dir():
        try:
            ds = datasets.load_from_disk(str(path))
        except Exception as exc:  # noqa: BLE001
            raise TrainDataError(f"{data}: not a dataset saved with save_to_disk: {exc}") from exc
    else:
        try:
            ds = datasets.load_dataset(data)
        except Exception as exc:  # noqa: BLE001
            raise TrainDataError(f"{data}: no such file, and `datasets` cannot load it: {exc}") from exc
    if isinstance(ds, datasets.DatasetDict):
        if "train" not in ds:
            raise TrainDataError(f"{data}: dataset has splits {list(ds)}, none called 'train'")
        ds = ds["train"]
    return ds


def _label_problem(value: Any) -> str | None:
    if value is None:
        return "label is empty (null)"
    if isinstance(value, float) and math.isnan(value):
        return "label is empty (NaN)"
    if isinstance(value, bool):
        return f"label is a boolean ({value}), not a category"
    if isinstance(value, (list, dict, tuple)):
        return f"label is a {type(value).__name__}, not a single category: {str(value)[:60]}"
    if isinstance(value, float) and not value.is_integer():
        return f"label is a fractional number ({value}), not a category"
    if not str(value).strip():
        return "label is empty"
    return None


def _label_str(value: Any) -> str:
    if isinstance(value, float):
        value = int(value)
    return str(value).strip()


def read_labelled(data: str, text_col: str = "text", label_col: str = "label",
                  group_col: str | None = None, lang_col: str | None = None,
                  id_col: str | None = "id", skip_invalid: bool = False,
                  min_per_class: int = 2, by_cols: list[str] | None = None,
                  source_col: str | None = None) -> LabelledData:
    ds = load_table(data)
    cols = list(ds.column_names)
    for name, col in (("--text-col", text_col), ("--label-col", label_col),
                      ("--group-col", group_col), ("--lang-col", lang_col), ("--source-col", source_col),
                      *(("--by-col", c) for c in by_cols or [])):
        if col is not None and col not in cols:
            raise TrainDataError(f"{data}: no column {col!r} ({name}); columns are: {', '.join(cols)}")
    id_col = id_col if id_col in cols else None
    texts, labels, groups, langs, ids, problems, sources = [], [], [], [], [], [], []
    by: dict[str, list[str]] = {c: [] for c in by_cols or []}
    for n, row in enumerate(ds, start=1):
        rid = str(row[id_col]) if id_col and row.get(id_col) is not None else f"row {n}"
        text = row[text_col]
        reason = None
        if not isinstance(text, str) or not text.strip():
            reason = f"text ({text_col}) is empty or not a string"
        else:
            reason = _label_problem(row[label_col])
        if reason:
            problems.append({"row": n, "id": rid, "reason": reason})
            continue
        texts.append(text)
        labels.append(_label_str(row[label_col]))
        groups.append(str(row[group_col]) if group_col else None)
        langs.append(str(row[lang_col]) if lang_col else None)
        sources.append(str(row[source_col]) if source_col else None)
        for c, vals in by.items():
            vals.append(str(row[c]))
        ids.append(rid)
    rows_read = len(ds)
    # classes too small to learn or to cross-validate
    counts = Counter(labels)
    rare = {lab for lab, c in counts.items() if c < min_per_class}
    if rare:
        for i, lab in enumerate(labels):
            if lab in rare:
                problems.append({"row": None, "id": ids[i],
                                 "reason": f"label {lab!r} has only {counts[lab]} example(s); at least "
                                           f"{min_per_class} are needed"})
    if problems and not skip_invalid:
        shown = "\n".join(f"  {p['id']}: {p['reason']}" for p in problems[:15])
        more = f"\n  ... and {len(problems) - 15} more" if len(problems) > 15 else ""
        raise TrainDataError(f"{data}: {len(problems)} of {rows_read} rows cannot be used for training "
                             f"(column {label_col!r}):\n{shown}{more}\n"
                             "Fix them, or pass --skip-invalid to train without them.")
    if rare:
        keep = [i for i, lab in enumerate(labels) if lab not in rare]
        texts, labels, ids = [texts[i] for i in keep], [labels[i] for i in keep], [ids[i] for i in keep]
        groups, langs = [groups[i] for i in keep], [langs[i] for i in keep]
        sources = [sources[i] for i in keep]
        by = {c: [vals[i] for i in keep] for c, vals in by.items()}
    if len(set(labels)) < 2:
        raise TrainDataError(f"{data}: need at least 2 labels with {min_per_class}+ examples each; "
                             f"found {dict(Counter(labels))}")
    return LabelledData(texts, labels, groups if group_col else None, langs if lang_col else None,
                        ids, data, rows_read, problems, by, sources if source_col else None)


def _scores(y_true: list[str], y_pred: list[str], labels: list[str], top3: list[bool] | None = None) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out = {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4),
        "weighted_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)), 4),
    }
    if top3 is not None:
        out["top3_accuracy"] = round(sum(top3) / len(top3), 4) if top3 else None
    out["per_class"] = {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                              "f1": round(float(f[i]), 4), "support": int(s[i])}
                        for i, lab in enumerate(labels)}
    return out


def source_folds(sources: list[str], min_size: int = 100) -> list[tuple[list[int], list[str]]]:
    """Leave-one-source-out folds: [(row indices held out, sources held out)]. A source with at
    least `min_size` rows is a fold of its own; smaller ones are pooled (largest first) into
    folds of at least `min_size` rows, so that no fold scores a handful of texts. Every row is in
    exactly one fold and no source is in two."""
    by_source: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        by_source.setdefault(src, []).append(i)
    order = sorted(by_source, key=lambda s: (-len(by_source[s]), s))
    folds = [(by_source[s], [s]) for s in order if len(by_source[s]) >= min_size]
    pool: tuple[list[int], list[str]] = ([], [])
    for s in order:
        if len(by_source[s]) >= min_size:
            continue
        pool[0].extend(by_source[s])
        pool[1].append(s)
        if len(pool[0]) >= min_size:
            folds.append(pool)
            pool = ([], [])
    if pool[0]:
        if folds and len(folds[-1][1]) > 1 and len(by_source[folds[-1][1][0]]) < min_size:
            folds[-1][0].extend(pool[0])    # the last pooled fold takes the remainder
            folds[-1][1].extend(pool[1])
        else:
            folds.append(pool)
    return [(sorted(idx), srcs) for idx, srcs in folds]


def _fold_predictions(data: LabelledData, splits, settings: dict[str, Any], n_folds: int,
                      progress: Callable[[str], None] | None = None, what: str = "fold"):
    """Every row predicted by a model trained without its fold: (labels, top-3 hits)."""
    import numpy as np
    from sklearn.base import clone

    from sklearn.pipeline import Pipeline

    y = np.array(data.labels, dtype=object)
    pred = np.empty(len(y), dtype=object)
    top3 = np.zeros(len(y), dtype=bool)
    base = build_pipeline(settings)
    # leading steps that learn nothing from the data are computed once for all rows
    k = 0
    while k < len(base.steps) - 1 and getattr(base.steps[k][1], "polclaims_stateless", False):
        k += 1
    if k:
        X = Pipeline(base.steps[:k]).fit_transform(data.texts)
        X = X.tocsr() if hasattr(X, "tocsr") else X
        base = Pipeline(base.steps[k:])
    else:
        X = np.array(data.texts, dtype=object)
    rows = (lambda idx: X[idx]) if k else (lambda idx: list(X[idx]))
    for i, (tr, te, name) in enumerate(splits, start=1):
        if progress:
            progress(f"{what} {i}/{n_folds}{' (' + name + ')' if name else ''}: training on {len(tr)}, "
                     f"predicting {len(te)}")
        model = clone(base).fit(rows(tr), list(y[tr]))
        proba = model.predict_proba(rows(te))
        classes = np.array(model.classes_, dtype=object)
        order = np.argsort(-proba, axis=1)[:, :3]
        pred[te] = classes[order[:, 0]]
        top3[te] = [y[j] in set(classes[o]) for j, o in zip(te, order)]
    return pred, top3


def _with_breakdowns(report: dict[str, Any], data: LabelledData, pred, top3, labels: list[str],
                     extra: dict[str, list[str]] | None = None) -> dict[str, Any]:
    y = data.labels
    breakdowns = {"lang": data.langs} if data.langs is not None else {}
    breakdowns.update(extra or {})
    breakdowns.update(data.by)
    for col, values in breakdowns.items():
        report[f"by_{col}"] = {}
        for v in sorted(set(values)):
            idx = [i for i, x in enumerate(values) if x == v]
            sub = _scores([y[i] for i in idx], [pred[i] for i in idx], labels, [bool(top3[i]) for i in idx])
            sub.pop("per_class")
            report[f"by_{col}"][v] = sub
    report["_pred"] = list(pred)
    return report


def cross_validate(data: LabelledData, folds: int, seed: int, settings: dict[str, Any],
                   progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """k-fold predictions for every row (folds grouped by `groups` when given: both sides of a
    translated pair stay in one fold) and the scores computed from them."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    labels = sorted(set(data.labels))
    smallest = min(Counter(data.labels).values())
    k = max(2, min(folds, smallest if data.groups is None else folds))
    if data.groups is not None:
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        splits = splitter.split(data.texts, data.labels, data.groups)
    else:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        splits = splitter.split(data.texts, data.labels)
    pred, top3 = _fold_predictions(data, ((tr, te, "") for tr, te in splits), settings, k, progress)
    report = {"folds": k, "grouped": data.groups is not None, "scheme": "random folds" +
              (" (rows sharing a group value kept together)" if data.groups is not None else ""),
              **_scores(list(data.labels), list(pred), labels, list(top3))}
    return _with_breakdowns(report, data, pred, top3, labels)


def cross_validate_by_source(data: LabelledData, settings: dict[str, Any], min_size: int = 100,
                             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Leave-one-source-out predictions for every row (`source_folds`), scored overall, per
    language, per source and per fold: what the model does on a site it has never seen."""
    import numpy as np

    labels = sorted(set(data.labels))
    folds = source_folds(data.sources, min_size)
    if len(folds) < 2:
        raise TrainDataError(f"--source-col: {len(set(data.sources))} source(s) make {len(folds)} fold(s); "
                             "leave-one-source-out needs at least 2")
    n = len(data.texts)

    def splits():
        for te, srcs in folds:
            mask = np.ones(n, dtype=bool)
            mask[te] = False
            yield np.flatnonzero(mask), np.array(te), "+".join(srcs) if len(srcs) <= 3 else \
                f"{len(srcs)} small sources"

    pred, top3 = _fold_predictions(data, splits(), settings, len(folds), progress, what="held-out source")
    fold_of = [""] * n
    for te, srcs in folds:
        name = srcs[0] if len(srcs) == 1 else "pooled: " + ", ".join(srcs)
        for i in te:
            fold_of[i] = name
    report = {"folds": len(folds), "grouped": True, "scheme": "leave one source out",
              "min_source_rows": min_size, "pooled_sources": [s for _, srcs in folds if len(srcs) > 1 for s in srcs],
              **_scores(list(data.labels), list(pred), labels, list(top3))}
    report = _with_breakdowns(report, data, pred, top3, labels, {"source": data.sources})
    return report


def confusion_png(y_true: list[str], y_pred: list[str], labels: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    size = max(6, 0.45 * len(labels) + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=labels, ax=ax, xticks_rotation=90,
                                            colorbar=False, cmap="Blues")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def train(data: LabelledData, out: str | Path, folds: int | None = None, seed: int | None = None,
          settings: dict[str, Any] | None = None, command: str = "",
          progress: Callable[[str], None] | None = None,
          min_source_rows: int | None = None) -> tuple[TopicModel, dict[str, Any]]:
    """Cross-validate (leave one source out first when `data.sources` is set, then random
    folds), fit on everything, save the model with its card, README and confusion matrix.
    Returns the model and the headline report (by source when there is one)."""
    settings = settings or config.load("topics")
    folds = folds or int(settings.get("cv", {}).get("folds", 5))
    seed = seed if seed is not None else int(settings.get("cv", {}).get("seed", 13))
    min_source_rows = min_source_rows or int(settings.get("cv", {}).get("min_source_rows", 100))
    out = Path(out)
    seconds = {}
    by_source = None
    if data.sources is not None:
        t0 = time.perf_counter()
        by_source = cross_validate_by_source(data, settings, min_source_rows, progress)
        seconds["cross_validation_by_source"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    report = cross_validate(data, folds, seed, settings, progress)
    seconds["cross_validation"] = round(time.perf_counter() - t0, 1)
    pred = report.pop("_pred")
    headline = by_source or report
    if by_source is not None:
        pred = by_source.pop("_pred")
    if progress:
        progress(f"fitting the final model on all {len(data.texts)} examples")
    t1 = time.perf_counter()
    pipe = build_pipeline(settings).fit(data.texts, data.labels)
    seconds["final_fit"] = round(time.perf_counter() - t1, 1)
    counts = Counter(data.labels)
    card = {
        "name": out.name,
        "labels": sorted(counts),
        "label_counts": dict(counts.most_common()),
        "data": {"source": str(data.source), "rows_read": data.rows_read, "examples": len(data.texts),
                 "skipped": len(data.problems), "languages": dict(Counter(data.langs)) if data.langs else None,
                 "sources": dict(Counter(data.sources).most_common()) if data.sources else None},
        "settings": {k: settings.get(k) for k in ("features", "classifier")},
        "cv": report,
        "seconds": seconds,
        "command": command,
        "inputs": record_inputs(settings),
    }
    if by_source is not None:
        card["cv_by_source"] = by_source
    model = TopicModel(pipe, card)
    model.save(out)
    out.mkdir(parents=True, exist_ok=True)
    title = (f"{out.name}: leave-one-source-out CV ({headline['folds']} folds), accuracy {headline['accuracy']:.3f}"
             if by_source is not None else f"{out.name}: {report['folds']}-fold CV, macro-F1 {report['macro_f1']:.3f}")
    confusion_png(data.labels, pred, card["labels"], out / "confusion.png", title)
    (out / "README.md").write_text(model_card_markdown(card, out), encoding="utf-8")
    model.card["size_bytes"] = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    (out / "card.json").write_text(json.dumps(model.card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(model_card_markdown(model.card, out), encoding="utf-8")
    return model, headline


def report_table(report: dict[str, Any]) -> str:
    what = ("leave-one-source-out cross-validation" if report.get("scheme") == "leave one source out"
            else "cross-validation" + (" (grouped)" if report.get("grouped") else ""))
    top3 = f", top-3 {report['top3_accuracy']:.3f}" if report.get("top3_accuracy") is not None else ""
    lines = [f"{report['folds']}-fold {what} on {report['n']} examples: accuracy {report['accuracy']:.3f}, "
             f"macro-F1 {report['macro_f1']:.3f}, weighted-F1 {report['weighted_f1']:.3f}{top3}"]
    if report.get("pooled_sources"):
        lines.append(f"  (sources under {report['min_source_rows']} rows pooled into shared folds: "
                     f"{', '.join(report['pooled_sources'])})")
    for key, groups in report.items():
        if key.startswith("by_") and isinstance(groups, dict):
            for value, s in groups.items():
                name = value if key == "by_lang" else f"{key[3:]}={value}"
                t3 = f" top-3 {s['top3_accuracy']:.3f}" if s.get("top3_accuracy") is not None else ""
                lines.append(f"  {name}: n={s['n']} accuracy {s['accuracy']:.3f} macro-F1 {s['macro_f1']:.3f}{t3}")
    lines.append(f"{'label':24} {'P':>6} {'R':>6} {'F1':>6} {'n':>6}")
    for lab, s in sorted(report["per_class"].items(), key=lambda kv: -kv[1]["support"]):
        lines.append(f"{lab:24} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:6d}")
    return "\n".join(lines)


def _features_words(settings: dict[str, Any]) -> str:
    feats = settings.get("features") or {}
    words = ("hashed word + character n-grams with TF-IDF weights" if feats.get("kind") == "hashing"
             else "word + character n-gram TF-IDF")
    if (feats.get("vectors") or {}).get("path"):
        words += f" and mean word vectors ({feats['vectors']['path']})"
        if feats["vectors"].get("lexicon"):
            words += f"; Kazakh words through the translation table `{feats['vectors']['lexicon']}`"
    return words


def model_card_markdown(card: dict[str, Any], out: Path) -> str:
    cv = card["cv"]
    data = card["data"]
    lines = [f"# Topic model `{card['name']}`", "",
             f"A scikit-learn Pipeline ({_features_words(card['settings'])} into "
             f"{card['settings']['classifier'].get('kind', 'logreg')}), written by `polclaims train topics`.", "",
             "## Data", "",
             f"- source: `{data['source']}`; rows read {data['rows_read']}, used {data['examples']}, "
             f"skipped {data['skipped']}",
             ]
    if data.get("languages"):
        lines.append("- languages: " + ", ".join(f"{k} {v}" for k, v in data["languages"].items()))
    if data.get("sources"):
        lines.append(f"- sources ({len(data['sources'])}): " + ", ".join(f"{k} {v}" for k, v in data["sources"].items()))
    lines += ["- label counts (class imbalance): " + ", ".join(f"{k} {v}" for k, v in card["label_counts"].items()),
              "", "## Command", "", "```", card.get("command") or "polclaims train topics ...", "```", ""]
    src = card.get("cv_by_source")
    if src:
        lines += ["## Headline: texts of a source the model has never seen (leave one source out)", "",
                  "Each source (site or corpus) is held out in turn and predicted by a model trained on all "
                  "the others; this is what to expect on a new site. Random folds (below) share sites "
                  "between training and test and flatter the model.", "",
                  "| | n | source-grouped accuracy | macro-F1 | top-3 | random-fold accuracy | macro-F1 |",
                  "|---|---|---|---|---|---|---|"]
        rows = [("all", src, cv)] + [(k, v, cv.get("by_lang", {}).get(k, {})) for k, v in src.get("by_lang", {}).items()]
        for name, a, b in rows:
            lines.append(f"| {name} | {a['n']} | **{a['accuracy']:.3f}** | {a['macro_f1']:.3f} | "
                         f"{a.get('top3_accuracy', float('nan')):.3f} | {b.get('accuracy', float('nan')):.3f} | "
                         f"{b.get('macro_f1', float('nan')):.3f} |")
        lines += ["", "### Leave-one-source-out report (computed by the command above)", "", "```",
                  report_table(src), "```", "",
                  "Confusion matrix of the leave-one-source-out predictions: `confusion.png`.", ""]
    lines += [f"## {'Random folds' if src else 'Scores'} (computed by the command above)", "", "```",
              report_table(cv), "```", ""]
    if not src:
        lines += ["Confusion matrix of the cross-validated predictions: `confusion.png`.", ""]
    lines.append("Training time: " + ", ".join(f"{k.replace('_', ' ')} {v} s" for k, v in card["seconds"].items()) + ".")
    if "size_bytes" in card:
        lines.append(f"Size: {card['size_bytes'] / 1e6:.1f} MB.")
    ge = card.get("gold_eval")
    if ge:
        lines += ["", f"## Gold texts not used in training: `{ge['gold']}`", "",
                  f"{ge['items']} texts with a topic: accuracy {ge['overall']['accuracy']}, "
                  f"top-3 accuracy {ge['overall']['top3_accuracy']}.", "",
                  "| language | n | accuracy | top-3 |", "|---|---|---|---|"]
        for k, v in ge["by_gold_lang"].items():
            lines.append(f"| {k} (gold `lang`) | {v['n']} | {v['accuracy']} | {v['top3_accuracy']} |")
        for k, v in ge["by_text_lang"].items():
            lines.append(f"| {k} (language of the text) | {v['n']} | {v['accuracy']} | {v['top3_accuracy']} |")
    if card.get("note"):
        lines += ["", "## Notes", "", card["note"]]
    return "\n".join(lines) + "\n"
