"""Third-opinion batches (``python data/claims/make_adjudication.py``): every unit whose two
annotators disagree (different claims, types or topic) after ``python -m pipeline.corpora.claims
merge build/claims_label`` goes, texts only, to a third annotator who has seen neither annotation
(batches ``adj1_<k>``, about 250 texts each, the annotator prompt of the other rounds). A second
merge then keeps what two of the three hold (pipeline.corpora.claims.majority_claims).
Later rounds: ``python data/claims/make_adjudication.py adj3 build/claims_label_r3 120`` (prefix,
folder, texts per batch)."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline.corpora import claims as corpus  # noqa: E402

PREFIX = sys.argv[1] if len(sys.argv) > 1 else "adj1"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "build/claims_label")
BATCH_TEXTS = int(sys.argv[3]) if len(sys.argv) > 3 else 250


def main() -> None:
    pending = {json.loads(l)["unit_id"] for l in (OUT / "pending.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()}
    already = set()   # units already given to a third annotator in an earlier batch
    for f in OUT.glob("adj*.jsonl"):
        if ".labels" not in f.name:
            for l in f.read_text(encoding="utf-8").splitlines():
                if l.strip():
                    r = json.loads(l)
                    already.add(r.get("pair_id") or r.get("item_id"))
    todo = [u for u in corpus.read_units() if u.unit_id in pending and u.unit_id not in already]
    random.Random(3).shuffle(todo)
    batches = corpus.cut_batches(todo, BATCH_TEXTS)
    for k, b in enumerate(batches):
        corpus.write_annotator_batch(OUT / f"{PREFIX}_{k:02d}.jsonl", b)
    print(len(todo), "units in", len(batches), "batches")


if __name__ == "__main__":
    main()
