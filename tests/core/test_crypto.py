"""Token encryption at rest: round trips, key rotation, tamper detection, key derivation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.core.config import Settings
from allin.core.crypto import (
    CryptoError,
    EncryptionKey,
    TokenCipher,
    cipher_from_settings,
    derive_key,
    generate_key,
    parse_keys,
)

OLD = EncryptionKey("old", b"o" * 32)
NEW = EncryptionKey("new", b"n" * 32)


@given(st.text())
def test_round_trip(plaintext: str) -> None:
    cipher = TokenCipher([NEW, OLD])
    token = cipher.encrypt(plaintext)
    assert cipher.decrypt(token) == plaintext
    assert len(plaintext) < 16 or plaintext not in token


@given(st.text(min_size=1))
def test_rotate_moves_to_newest_key(plaintext: str) -> None:
    old_token = TokenCipher([OLD]).encrypt(plaintext)
    both = TokenCipher([NEW, OLD])
    assert both.needs_rotation(old_token)
    rotated = both.rotate(old_token)
    assert both.key_id_of(rotated) == "new"
    assert TokenCipher([NEW]).decrypt(rotated) == plaintext
    assert both.rotate(rotated) == rotated  # already current: unchanged


@given(st.text(), st.integers(min_value=0), st.integers(min_value=0, max_value=7))
def test_any_bit_flip_is_detected(plaintext: str, position: int, bit: int) -> None:
    cipher = TokenCipher([NEW])
    token = cipher.encrypt(plaintext)
    raw = bytearray(token.encode())
    start = len("v1.new.")
    index = start + position % (len(raw) - start)
    raw[index] ^= 1 << bit
    tampered = raw.decode("latin-1")
    try:
        same = _body(tampered) == _body(token)
    except CryptoError:
        return
    if same:
        return  # only base64's unused trailing bits changed: the sealed bytes are identical
    with pytest.raises(CryptoError):
        cipher.decrypt(tampered)


def _body(token: str) -> bytes:
    return TokenCipher._split(token)[1]


def test_nonces_differ() -> None:
    cipher = TokenCipher([NEW])
    assert cipher.encrypt("same") != cipher.encrypt("same")


def test_unknown_key_and_garbage_rejected() -> None:
    token = TokenCipher([OLD]).encrypt("secret")
    with pytest.raises(CryptoError, match="unknown key"):
        TokenCipher([NEW]).decrypt(token)
    for bad in ("", "plain", "v2.new.AAAA", "v1.new.", "v1.new.AAAA"):
        with pytest.raises(CryptoError):
            TokenCipher([NEW]).decrypt(bad)


def test_key_id_is_authenticated() -> None:
    # Same secret under two ids: moving a token to the other id must fail.
    a, b = EncryptionKey("a", b"k" * 32), EncryptionKey("b", b"k" * 32)
    token = TokenCipher([a]).encrypt("secret")
    with pytest.raises(CryptoError):
        TokenCipher([b, a]).decrypt(token.replace("v1.a.", "v1.b.", 1))


def test_parse_keys_with_and_without_ids() -> None:
    k1, k2 = generate_key(), generate_key()
    keys = parse_keys(f"2026:{k1}, {k2}")
    assert keys[0].key_id == "2026"
    assert len(keys[1].key_id) == 8
    with pytest.raises(CryptoError):
        parse_keys("x:c2hvcnQ")  # too short
    with pytest.raises(CryptoError):
        parse_keys(f"a:{k1},a:{k2}")
    with pytest.raises(CryptoError):
        parse_keys(" , ")


def test_settings_keys_newest_first(make_settings: Callable[..., Settings]) -> None:
    k1, k2 = generate_key(), generate_key()
    old = cipher_from_settings(make_settings(token_encryption_keys=f"k1:{k1}"))
    token = old.encrypt("act.1")
    both = cipher_from_settings(make_settings(token_encryption_keys=f"k2:{k2},k1:{k1}"))
    assert both.decrypt(token) == "act.1"
    assert both.key_id_of(both.rotate(token)) == "k2"


def test_derived_key_is_separate_from_secret(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    cipher = cipher_from_settings(settings)
    secret = settings.resolved_secret_key().get_secret_value()
    derived = derive_key(secret)
    assert derived.secret != secret.encode()[:32]
    assert cipher.current_key_id == derived.key_id
    assert cipher.decrypt(cipher.encrypt("rft.x")) == "rft.x"
    other = cipher_from_settings(make_settings(secret_key="another-secret"))
    with pytest.raises(CryptoError):
        other.decrypt(cipher.encrypt("rft.x"))


def test_env_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key()
    monkeypatch.setenv("ALLIN_TOKEN_ENCRYPTION_KEYS", f"env:{key}")
    settings = Settings(_env_file=None, secret_key="s")  # type: ignore[call-arg]
    assert cipher_from_settings(settings).current_key_id == "env"
