"""Tables the README shows, filled in from computed figures between a pair of marker comments."""
from __future__ import annotations

import re
from pathlib import Path


def fill_block(readme: Path, start: str, end: str, body: str) -> bool:
    """Put `body` between the `start` and `end` markers of `readme`; True when the file changed."""
    text = readme.read_text(encoding="utf-8")
    block = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not block.search(text):
        raise SystemExit(f"{readme}: no {start} ... {end} block to fill")
    new = block.sub(lambda _: f"{start}\n{body}{end}", text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text
