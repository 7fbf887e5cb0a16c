"""Start-up guards of the auth runtime."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from allin.auth.runtime import AuthRuntime
from allin.core.config import Settings


def test_cheap_hashing_is_refused_in_production(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(RuntimeError, match="PASSWORD_HASH_PROFILE"):
        AuthRuntime.from_settings(make_settings(env="production", password_hash_profile="test"))
    assert AuthRuntime.from_settings(make_settings(env="production")).passwords.profile == "owasp"


def test_redis_session_store_needs_redis(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        AuthRuntime.from_settings(make_settings(session_store="redis"))
