"""X's weighted post length, as twitter-text's configuration v3 defines it.

Text is NFC-normalised and counted per code point: code points in the light ranges weigh 1
(U+0000-U+10FF, general punctuation spans), every other weighs 2 (CJK, most symbols); a URL
counts 23 whatever its length; an emoji sequence (with its modifiers, variation selectors,
ZWJ joins, keycaps or tag characters) counts 2 as a whole. The limit is 280.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
URL_LENGTH = 23
_SCALE = 100
_DEFAULT_WEIGHT = 200
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

# Scheme URLs, and bare domains under a two-letter (country) or common generic TLD (twitter-text
# carries the whole IANA list; a rare generic TLD here counts as its characters instead).
_GENERIC_TLDS = "com|org|net|edu|gov|info|biz|io|app|dev|xyz|online|site|shop|blog|news|me"
_URL = re.compile(
    r"(?<![\w@.$#/-])(?:https?://[^\s<>\"]+"
    rf"|(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_GENERIC_TLDS}|[a-z]{{2}})(?![\w-])"
    r"(?::\d{1,5})?(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)
_TRAILING = ".,:;!?)]}'\""

_ZWJ = 0x200D
_VS16 = 0xFE0F
_KEYCAP = 0x20E3


def _is_emoji_base(cp: int) -> bool:
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        # twitter-text's emoji pattern takes (c) and (R) even without U+FE0F
        or cp in (0x00A9, 0x00AE, 0x3030, 0x303D, 0x3297, 0x3299)
    )


def _is_modifier(cp: int) -> bool:
    return cp in (_VS16, _KEYCAP) or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F


def _weight(cp: int) -> int:
    for low, high in _LIGHT_RANGES:
        if low <= cp <= high:
            return _SCALE
    return _DEFAULT_WEIGHT


def _emoji_end(text: str, start: int) -> int:
    """The index after the emoji sequence starting at `start` (which is an emoji base)."""
    i = start + 1
    first = ord(text[start])
    if 0x1F1E6 <= first <= 0x1F1FF and i < len(text) and 0x1F1E6 <= ord(text[i]) <= 0x1F1FF:
        return i + 1  # a flag: two regional indicators
    while i < len(text):
        cp = ord(text[i])
        if _is_modifier(cp):
            i += 1
        elif cp == _ZWJ and i + 1 < len(text) and _is_emoji_base(ord(text[i + 1])):
            i += 2
        else:
            break
    return i


def _keycap_at(text: str, i: int) -> int:
    """Length of a keycap sequence ("1", VS16?, U+20E3) at `i`, or 0."""
    if text[i] not in "0123456789#*":
        return 0
    j = i + 1
    if j < len(text) and ord(text[j]) == _VS16:
        j += 1
    return j + 1 - i if j < len(text) and ord(text[j]) == _KEYCAP else 0


def _weigh_plain(text: str) -> int:
    total = 0
    i = 0
    while i < len(text):
        cp = ord(text[i])
        keycap = _keycap_at(text, i)
        if keycap:
            total += _DEFAULT_WEIGHT
            i += keycap
        elif _is_emoji_base(cp) or (i + 1 < len(text) and ord(text[i + 1]) == _VS16):
            total += _DEFAULT_WEIGHT
            i = _emoji_end(text, i)
        else:
            total += _weight(cp)
            i += 1
    return total


def weighted_length(text: str) -> int:
    """The length X counts for `text` (compare with `MAX_WEIGHTED_LENGTH`)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        total += _weigh_plain(text[position:start]) + URL_LENGTH * _SCALE
        position = end
    total += _weigh_plain(text[position:])
    return total // _SCALE
