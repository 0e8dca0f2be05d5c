"""What both languages' `Doc`s carry beyond spaCy's built-in attributes."""
from __future__ import annotations

from spacy.tokens import Token


def register_extensions() -> None:
    """`token._.form`: the UD word form when a surface token was split (multi-word token);
    `token._.mwt`: that surface token. Both None for ordinary tokens."""
    for name in ("form", "mwt"):
        if not Token.has_extension(name):
            Token.set_extension(name, default=None)
