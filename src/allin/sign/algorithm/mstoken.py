"""msToken: the random token TikTok web adds to API query strings.

Public implementations generate 107 characters (126 and longer tokens are also seen
from browsers) drawn from a URL-safe alphabet, so the token needs no escaping.
"""

from __future__ import annotations

import random
import secrets
import string

MS_TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"
DEFAULT_MS_TOKEN_LENGTH = 107


def ms_token(rng: random.Random | None = None, length: int = DEFAULT_MS_TOKEN_LENGTH) -> str:
    """A random msToken; pass a seeded ``rng`` for reproducible tokens (tests)."""
    if length < 1:
        raise ValueError(f"msToken length must be positive, got {length}")
    source = rng if rng is not None else secrets.SystemRandom()
    return "".join(source.choice(MS_TOKEN_ALPHABET) for _ in range(length))
