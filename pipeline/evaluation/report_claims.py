"""The README's table of claim fields: every field `evaluate claims` scores, good or bad, per
language, rendered from its results (never typed in).

    make eval-claims      # evaluate claims --out build/claims_scores_{dev,seed}.json, then this:
    python -m pipeline.evaluation.report_claims build/claims_scores_dev.json build/claims_scores_seed.json \
        --save models/claims/final_fields.json --readme README.md

`--save` keeps the compact figures in the repository (a clean clone has no build/), so a test can
check that the README's table is exactly what they render to.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from pipeline.evaluation.claims import FIELDS

START, END = "<!-- claims-fields:start -->", "<!-- claims-fields:end -->"
LABELS = {"dev.gold.jsonl": "dev (143 texts)", "seed.gold.jsonl": "reference statement"}
# what each comparison asks of a matched claim (pipeline/evaluation/claims.py has the exact rules)
MEANING = {
    "type": "same claim type",
    "polarity": "same polarity",
    "tense": "same tense",
    "actor_kind": "same kind of actor",
    "actor": "actor words equal (case and punctuation aside; none = none)",
    "target": "target words equal",
    "target_lenient": "target shares half its words with the gold one",
    "predicate_lemma": "same lemma of the action verb",
    "quantities": "same numbers",
    "quantities+units": "same numbers and units",
    "topic": "same topic",
}


def compact(result: dict[str, Any]) -> dict[str, Any]:
    """What the table needs from an `evaluate claims --out` result."""
    f = result["fields"]
    return {"gold_file": Path(result.get("gold_file", "")).name,
            "detection": {k: result["detection"]["all"][k] for k in ("gold", "pred", "matched")},
            "fields": {scope: {name: [v["correct"], v["total"]] for name, v in counts.items()}
                       for scope, counts in [("all", f["all"])] + sorted(f.get("by_lang", {}).items())}}


def _cell(pair: list[int] | None) -> str:
    if not pair or not pair[1]:
        return "–"
    correct, total = pair
    return f"{100 * correct / total:.1f} ({correct}/{total})"


def render(figures: list[dict[str, Any]]) -> str:
    """One markdown table: a row per field, columns all / kk / ru for each gold file."""
    head = ["field", "a matched claim counts as right when it has ..."]
    rule = ["---", "---"]
    for fig in figures:
        name = LABELS.get(fig["gold_file"], fig["gold_file"])
        for scope in ("all", "kk", "ru"):
            head.append(f"{name}: {scope}")
            rule.append("---")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(rule) + "|"]
    for field in FIELDS:
        row = [f"`{field}`", MEANING.get(field, "")]
        for fig in figures:
            for scope in ("all", "kk", "ru"):
                row.append(_cell(fig["fields"].get(scope, {}).get(field)))
        lines.append("| " + " | ".join(row) + " |")
    matched = "; ".join(f"{LABELS.get(f['gold_file'], f['gold_file'])}: {f['detection']['matched']} matched of "
                        f"{f['detection']['gold']} gold claims" for f in figures)
    return "\n".join(lines) + f"\n\n% of matched claims (right / matched); {matched}.\n"


def update_readme(readme: Path, table: str) -> bool:
    """Put `table` between the markers of `readme`; True when the file changed."""
    from pipeline.evaluation.readme import fill_block

    return fill_block(readme, START, END, table)


def readme_block(readme: Path) -> str | None:
    text = readme.read_text(encoding="utf-8")
    m = re.search(re.escape(START) + r"\n(.*?)" + re.escape(END), text, re.S)
    return m.group(1) if m else None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m pipeline.evaluation.report_claims", description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="*", type=Path, help="`evaluate claims --out` JSON files")
    ap.add_argument("--save", type=Path, help="write the compact figures here (JSON)")
    ap.add_argument("--load", type=Path, help="render from compact figures saved before instead")
    ap.add_argument("--readme", type=Path, help="fill this README's claims-fields block")
    args = ap.parse_args(argv)
    if args.load:
        figures = json.loads(args.load.read_text(encoding="utf-8"))
    else:
        figures = [compact(json.loads(p.read_text(encoding="utf-8"))) for p in args.results if p.exists()]
    if not figures:
        raise SystemExit("no results to report (run `make eval-claims` first)")
    if args.save:
        args.save.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    table = render(figures)
    if args.readme:
        update_readme(args.readme, table)
    print(table)


if __name__ == "__main__":
    main()
