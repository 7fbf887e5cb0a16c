"""TikTok username normalisation: "@Name", profile/live URLs and stray spaces -> "name"."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from allin.live.errors import InvalidUsernameError

# TikTok handles: letters, digits, "_" and "."; at most 24 characters; case-insensitive.
_USERNAME = re.compile(r"[a-z0-9_.]{1,24}")
_TIKTOK_HOST = re.compile(r"(?:^|\.)tiktok\.com$")
_MAX_INPUT = 2048


def normalize_username(value: str) -> str:
    """Returns the bare lower-case handle for `value`, which may be `name`, `@name`, or a URL
    such as https://www.tiktok.com/@name/live. Raises InvalidUsernameError otherwise."""
    if not isinstance(value, str) or len(value) > _MAX_INPUT:
        raise InvalidUsernameError(str(value)[:64])
    text = value.strip()
    if "/" in text or text.lower().startswith(("http:", "https:")):
        text = _handle_from_url(value, text)
    text = text.strip()
    if text.startswith("@"):
        text = text[1:]
    name = text.lower()
    if not _USERNAME.fullmatch(name):
        raise InvalidUsernameError(value)
    return name


def _handle_from_url(original: str, text: str) -> str:
    if text.startswith(("@", "/")):  # a bare path such as "@name/live"
        path = text
    else:
        try:
            parts = urlsplit(text if "://" in text else "https://" + text)
            host = (parts.hostname or "").lower()
        except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
            raise InvalidUsernameError(original, f"Not a URL: {original!r}") from None
        if not _TIKTOK_HOST.search(host):
            raise InvalidUsernameError(original, f"Not a TikTok URL: {original!r}")
        path = parts.path
    for segment in unquote(path).split("/"):
        if segment.startswith("@"):
            return segment
    raise InvalidUsernameError(original, f"No @username in URL: {original!r}")
