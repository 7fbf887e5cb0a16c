"""JWT access tokens: HS256 pinned, claims checked; forged tokens get AUTH_004."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from allin.auth.errors import InvalidTokenError
from allin.auth.tokens import (
    create_access_token,
    decode_access_token,
    hash_secret,
    jwt_key,
    new_secret,
)
from allin.core.clock import clock
from allin.core.config import Settings
from tests.auth.helpers import bearer, create_user, login, unique_email


@pytest.fixture
def plain_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


def _claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "token_use": "access",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_round_trip(plain_settings: Settings) -> None:
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    token, expires = create_access_token(plain_settings, user_id, session_id)
    claims = decode_access_token(plain_settings, token)
    assert (claims.user_id, claims.session_id) == (user_id, session_id)
    assert claims.expires_at == expires.replace(microsecond=0)
    assert expires - clock.now() <= timedelta(minutes=15)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert {"iss", "aud", "exp", "iat", "jti", "sub"} <= payload.keys()


def test_key_is_derived_not_the_raw_secret(plain_settings: Settings) -> None:
    raw = plain_settings.resolved_secret_key().get_secret_value().encode()
    assert jwt_key(plain_settings) != raw and len(jwt_key(plain_settings)) == 32


def test_alg_none_is_refused(plain_settings: Settings) -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(plain_settings))}."
    with pytest.raises(InvalidTokenError):
        decode_access_token(plain_settings, unsigned)


def test_other_key_is_refused(plain_settings: Settings) -> None:
    forged = jwt.encode(_claims(plain_settings), b"k" * 32, algorithm="HS256")
    with pytest.raises(InvalidTokenError):
        decode_access_token(plain_settings, forged)


def test_raw_instance_secret_is_not_the_key(plain_settings: Settings) -> None:
    secret = plain_settings.resolved_secret_key().get_secret_value()
    forged = jwt.encode(_claims(plain_settings), secret, algorithm="HS256")
    with pytest.raises(InvalidTokenError):
        decode_access_token(plain_settings, forged)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_algorithm_with_right_key_is_refused(plain_settings: Settings) -> None:
    token = jwt.encode(_claims(plain_settings), jwt_key(plain_settings), algorithm="HS512")
    with pytest.raises(InvalidTokenError):
        decode_access_token(plain_settings, token)


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": 1_000_000_000},  # expired long ago
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"jti": None},
        {"exp": None},
        {"sub": None},
        {"sub": "not-a-uuid"},
        {"sid": None},
        {"sid": "not-a-uuid"},
        {"token_use": None},
        {"token_use": "refresh"},
        {"iat": 4_000_000_000},  # issued in the future
    ],
    ids=str,
)
def test_bad_claims_are_refused(plain_settings: Settings, overrides: dict[str, Any]) -> None:
    token = jwt.encode(_claims(plain_settings, **overrides), jwt_key(plain_settings), "HS256")
    with pytest.raises(InvalidTokenError):
        decode_access_token(plain_settings, token)


def test_expired_after_configured_lifetime(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(jwt_expires_in="30s")
    token, _ = create_access_token(settings, uuid.uuid4(), uuid.uuid4())
    decode_access_token(settings, token)
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() - timedelta(seconds=60))
    old, _ = create_access_token(settings, uuid.uuid4(), uuid.uuid4())
    with pytest.raises(InvalidTokenError, match="expired"):
        decode_access_token(settings, old)


@given(st.text(max_size=300))
def test_garbage_never_decodes(text: str) -> None:
    from allin.core.config import Settings as S

    settings = S(_env_file=None, secret_key="x" * 32)  # type: ignore[call-arg]
    with pytest.raises(InvalidTokenError):
        decode_access_token(settings, text)


def test_opaque_secrets() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and len(a) >= 43
    assert hash_secret(a) == hash_secret(a) and len(hash_secret(a)) == 64
    assert hash_secret(a) != hash_secret(b)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_forged_tokens_over_http(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    email = unique_email()
    user_id = await create_user(app, email)
    tokens = await login(client, email)
    real = decode_access_token(settings, tokens["access_token"])
    claims = _claims(settings, sub=str(user_id), sid=str(real.session_id))
    forged = [
        f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
        jwt.encode(claims, b"wrong-key-wrong-key-wrong-key-32", algorithm="HS256"),
        jwt.encode(claims, jwt_key(settings), algorithm="HS384"),
        tokens["refresh_token"],  # an opaque refresh token is not an access token
        tokens["access_token"][:-4] + "AAAA",  # tampered signature
    ]
    for token in forged:
        response = await client.get("/api/auth/me", headers=bearer(token))
        assert response.status_code == 401, token
        assert response.json()["error"]["code"] == "AUTH_004"
    # The same claims signed properly do work: the checks above are about the signature.
    good = jwt.encode(claims, jwt_key(settings), algorithm="HS256")
    assert (await client.get("/api/auth/me", headers=bearer(good))).status_code == 200
