"""X's weighted post length, as twitter-text's configuration v3 defines it (docs.x.com,
"Counting characters"; twitter/twitter-text `config/v3.json`).

The text is normalised to NFC. Every URL weighs 23 whatever its length. Every emoji weighs 2,
including the whole of a sequence (skin-tone modifiers, ZWJ families, flags, keycaps, tag
sequences). Any other code point weighs 1 inside U+0000-10FF, U+2000-200D, U+2010-201F and
U+2032-2037, and 2 elsewhere, so CJK counts double. A post is valid up to 280.

URLs are recognised as twitter-text does in its essentials: `http(s)://` followed by a host, or
a bare host under a known top-level domain; a host label longer than 63 characters once
punycode-encoded is not a URL, so its characters count one by one. twitter-text ships the full
IANA list of top-level domains; this module knows the generic ones in use and every two-letter
country code, which covers what creators write.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
EMOJI_WEIGHT = 2
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

_WORDS = (
    "com net org edu gov mil int info biz name pro mobi app dev io ai co me tv ly xyz online "
    "site tech store blog shop news live art club design page link website space cloud "
    "email social media video music game games fun world today group agency studio digital "
    "network systems solutions company global life love photo photos travel health"
)
_GENERIC_TLDS = frozenset(_WORDS.split(" "))
_DOMAIN_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_HOST = rf"(?:{_DOMAIN_LABEL}\.)+[^\W\d_]{{2,}}"
# A path stops at white space and at invisible formatting characters (bidi controls).
_PATH_CHAR = r"[^\s\u200b-\u200f\u202a-\u202e\u2060-\u206f]"
_URL = re.compile(
    rf"(?<![\w@$#.\-/])(?P<scheme>https?://)?(?P<host>{_HOST})(?::\d{{1,5}})?"
    rf"(?P<path>[/?#]{_PATH_CHAR}*)?",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,:;!?'\""

_VS16, _ZWJ, _KEYCAP = 0xFE0F, 0x200D, 0x20E3


def _is_pictographic(cp: int) -> bool:
    """Extended_Pictographic, by the blocks that hold it (Unicode 15)."""
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        or 0x2190 <= cp <= 0x21FF
        or cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299)
    )


def _is_regional_indicator(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _is_modifier(cp: int) -> bool:
    return cp == _VS16 or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F


def _emoji_length(text: str, start: int) -> int:
    """How many code points the emoji starting at `start` spans (0 when none starts there)."""
    cps = [ord(c) for c in text[start : start + 2]]
    first = cps[0]
    following = cps[1] if len(cps) > 1 else None
    if text[start] in "#*0123456789":
        # A keycap: the character, an optional VS16, then U+20E3.
        end = start + 1 + (following == _VS16)
        return end + 1 - start if end < len(text) and ord(text[end]) == _KEYCAP else 0
    if _is_regional_indicator(first):
        return 2 if following is not None and _is_regional_indicator(following) else 0
    if first < 0x2000 and following != _VS16:
        return 0  # (c) and (r) are emoji only in their emoji presentation
    if not _is_pictographic(first):
        return 0
    end = start + 1
    while end < len(text):
        cp = ord(text[end])
        if _is_modifier(cp):
            end += 1
        elif cp == _ZWJ and end + 1 < len(text) and _is_pictographic(ord(text[end + 1])):
            end += 2
        else:
            break
    return end - start


def _label_fits(label: str) -> bool:
    if label.isascii():
        return len(label) <= 63
    try:
        return len(b"xn--" + label.encode("punycode")) <= 63
    except UnicodeError:
        return False


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where the URLs of `text` (already NFC) are, as (start, end) indexes."""
    spans = []
    for match in _URL.finditer(text):
        host = match.group("host")
        labels = host.split(".")
        tld = labels[-1].lower()
        if not all(_label_fits(label) for label in labels):
            continue
        if match.group("scheme") is None and not (
            tld in _GENERIC_TLDS or (len(tld) == 2 and tld.isascii())
        ):
            continue
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING_PUNCTUATION:
            end -= 1
        if text[end - 1] == ")" and text.count("(", start, end) < text.count(")", start, end):
            end -= 1
        spans.append((start, end))
    return spans


def code_point_weight(cp: int) -> int:
    return 1 if any(low <= cp <= high for low, high in _LIGHT_RANGES) else 2


def weighted_length(text: str) -> int:
    """The length X counts against the 280 limit."""
    text = unicodedata.normalize("NFC", text)
    spans = url_spans(text)
    total = index = 0
    for start, end in [*spans, (len(text), len(text))]:
        while index < start:
            size = _emoji_length(text, index)
            if size:
                total += EMOJI_WEIGHT
                index += size
            else:
                total += code_point_weight(ord(text[index]))
                index += 1
        if start < end:
            total += URL_WEIGHT
        index = max(index, end)
    return total


def is_valid(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> bool:
    return bool(text.strip()) and weighted_length(text) <= limit
