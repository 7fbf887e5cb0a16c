"""X's weighted text length (twitter-text configuration v3, docs.x.com "Counting characters"):
NFC first; each URL weighs 23; each emoji, with its modifiers and ZWJ sequence, weighs 2; other
code points weigh 1 inside U+0000-10FF, U+2000-200D, U+2010-201F, U+2032-2037 and 2 elsewhere.

URLs are found as twitter-text does in spirit, not to the letter: anything with http(s)://, and
bare domains under any two-letter (country) top-level domain or a common generic one (twitter-text
carries the full IANA list, so a rare generic TLD here counts as plain text, never as more)."""

from __future__ import annotations

import re
import unicodedata

URL_WEIGHT = 23
EMOJI_WEIGHT = 2
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
# fmt: off
_GENERIC = frozenset((
    "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "aero",
    "coop", "museum", "mobi", "asia", "jobs", "tel", "travel", "app", "dev", "page", "blog",
    "news", "online", "site", "shop", "store", "tech", "xyz", "top", "club", "live", "life",
    "world", "today", "art", "design", "media", "cloud", "digital", "email", "link", "one",
    "space", "website", "wiki", "agency", "company", "global", "group", "network", "social",
    "studio", "video", "music", "games", "game", "fun", "bar", "cafe", "photo", "photos",
    "pics", "plus", "zone", "work", "works", "city", "land", "love", "bio", "eco", "fit",
    "health", "care", "money", "finance", "bank", "capital", "market", "solutions", "services",
    "support", "systems", "tools", "team", "center", "academy", "school", "education", "law",
    "legal", "travel", "tours", "events", "family", "kids", "fashion", "style", "beauty",
    "food", "pizza", "wine", "coffee", "email", "chat",
))
# fmt: on
_TLDS = "|".join(sorted(_GENERIC, key=len, reverse=True)) + "|[a-z]{2}"
_URL = re.compile(
    r"(?<![\w@.$#/-])(?:"
    r"https?://(?:[\w-]+\.)+[\w-]{2,}(?::\d{1,5})?"
    rf"|(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])(?::\d{{1,5}})?"
    r")(?:/[^\s]*)?",
    re.IGNORECASE,
)
_TRAILING = ".,!?:;'\")]}"
_ZWJ, _VS16, _KEYCAP = 0x200D, 0xFE0F, 0x20E3
_CASHTAG = re.compile(r"(?<![\w$])\$[a-z]{1,6}(?:[._][a-z]{1,2})?(?![\w$])", re.IGNORECASE)


def _is_pictograph(cp: int) -> bool:
    return (
        cp in (0x00A9, 0x00AE)  # © and ® are emoji to twitter-text even without U+FE0F
        or 0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        or cp in (0x3030, 0x303D, 0x3297, 0x3299)
    )


def _emoji_end(text: str, i: int) -> int:
    """Index after the emoji starting at `i`, or `i` when none starts there."""
    n = len(text)
    cp = ord(text[i])
    nxt = ord(text[i + 1]) if i + 1 < n else -1
    if text[i] in "0123456789#*":
        j = i + 1 + (nxt == _VS16)
        return j + 1 if j < n and ord(text[j]) == _KEYCAP else i
    if 0x1F1E6 <= cp <= 0x1F1FF and 0x1F1E6 <= nxt <= 0x1F1FF:
        return i + 2  # a flag: two regional indicators
    if not _is_pictograph(cp) and nxt != _VS16:
        return i
    j = i + 1
    while j < n:
        c = ord(text[j])
        if c == _VS16 or 0x1F3FB <= c <= 0x1F3FF or 0xE0020 <= c <= 0xE007F:
            j += 1
        elif c == _ZWJ and j + 1 < n and _is_pictograph(ord(text[j + 1])):
            j += 2
        else:
            break
    return j


def _char_weight(cp: int) -> int:
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT) else 2


def urls(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        spans.append((start, end))
    return spans


def weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    spans = urls(text)
    total, i, span = 0, 0, 0
    while i < len(text):
        if span < len(spans) and i == spans[span][0]:
            total += URL_WEIGHT
            i = spans[span][1]
            span += 1
            continue
        end = _emoji_end(text, i)
        if end > i:
            total += EMOJI_WEIGHT
            i = end
            continue
        total += _char_weight(ord(text[i]))
        i += 1
    return total


def cashtags(text: str) -> list[str]:
    return _CASHTAG.findall(text)


def mentions(text: str) -> set[str]:
    return {m.lower() for m in re.findall(r"(?<![\w@])@(\w{1,15})", text)}
