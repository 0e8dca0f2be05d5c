"""Re-label topic labels that contradict the codebook's Boundaries (../shared/docs/topics.md).

    python data/topics/relabel_boundaries.py            # writes data/topics/boundary_relabels.jsonl
    python data/topics/relabel_boundaries.py --dry-run  # prints the counts and a sample only

Reads every labelled text of the default topic corpus (data/topics and the claims corpus's topics,
pooled as by `python -m pipeline.corpora.topics_pooled`, before any earlier re-label), applies the
rules of configs/topics.toml `[[boundaries.rules]]` (pipeline.corpora.topic_boundaries) and writes one
record per changed text: {"sha1", "id", "lang", "from", "to", "rule"}. Deterministic: the same
labels, texts and rules give the same file. The corpus build applies a record only while the
text's label is still the record's `from`.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline.corpora import topic_boundaries as boundaries, topics_pooled as pooled  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--out", type=Path, default=pooled.relabels_path())
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    rows, _ = pooled.pooled_examples(relabels={})
    records = sorted(boundaries.relabel(rows), key=lambda r: (r["rule"], r["id"] or "", r["sha1"]))
    print(json.dumps(dict(Counter(f"{r['rule']}: {r['from']} -> {r['to']} ({r['lang']})" for r in records)),
                     ensure_ascii=False, indent=1))
    if args.dry_run:
        by_id = {r["id"]: r for r in rows}
        for rec in records[:: max(1, len(records) // 20)]:
            print(f"{rec['id']} [{rec['rule']}] {by_id[rec['id']]['text'][:160]}")
        return 0
    with open(args.out, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(records)} re-labels written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
