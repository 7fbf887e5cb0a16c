"""LinkedIn's "little text" format of `commentary`: `\\ | { } @ [ ] ( ) < > # * _ ~` are
reserved and need a backslash, except in a hashtag (`#word`) or a mention
(`@[Name](urn:li:person:…)` / `@[Name](urn:li:organization:…)`). LinkedIn accepts a post with
an unescaped reserved character and silently keeps only what came before it."""

from __future__ import annotations

import re

RESERVED = frozenset("\\|{}@[]()<>#*_~")
_HASHTAG = re.compile(r"#\w+")
_MENTION = re.compile(r"@\[[^\[\]\\]*\]\(urn:li:(?:person|organization):[\w-]+\)")


def stored_commentary(text: str) -> str:
    """What LinkedIn keeps of `text`: everything before the first unescaped reserved character
    that does not start a hashtag or a mention."""
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in RESERVED:
            i += 2
            continue
        if char not in RESERVED:
            i += 1
            continue
        construct = _HASHTAG if char == "#" else _MENTION if char == "@" else None
        match = construct.match(text, i) if construct is not None else None
        if match is None:
            return text[:i]
        i = match.end()
    return text


def escape(text: str) -> str:
    """Every reserved character escaped: the text is kept whole, with no hashtags or mentions."""
    return "".join("\\" + c if c in RESERVED else c for c in text)
