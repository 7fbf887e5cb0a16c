"""Encryption at rest for third-party tokens (TikTok access and refresh tokens).

AES-256-GCM, one random 96-bit nonce per message, the key id bound in as associated data.
Format: `v1.<key id>.<base64url(nonce || ciphertext+tag)>`. Keys come from
ALLIN_TOKEN_ENCRYPTION_KEYS (comma list, newest first, each `id:base64url-32-bytes` or just the
base64url key); when unset one key is derived from the instance secret with HKDF under a label of
its own, so it never equals a key derived from the same secret for anything else (e.g. JWTs).

A caller may bind a ciphertext to where it is stored (`context`, e.g. the row's id): it joins
the associated data, so a ciphertext copied into another row no longer decrypts there.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from allin.core.config import Settings, get_settings

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
HKDF_LABEL = b"allin/token-encryption/v1"
_AAD_PREFIX = b"allin-token:"


class CryptoError(ValueError):
    """A bad key, or a token that is malformed, tampered with or under an unknown key."""


@dataclass(frozen=True, slots=True)
class EncryptionKey:
    key_id: str
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise CryptoError(f"encryption key {self.key_id!r} must be {KEY_BYTES} bytes")
        if not self.key_id or "." in self.key_id or "," in self.key_id:
            raise CryptoError("key id must be non-empty without '.' or ','")

    @classmethod
    def from_secret(cls, secret: bytes, key_id: str | None = None) -> EncryptionKey:
        return cls(key_id or default_key_id(secret), secret)


def default_key_id(secret: bytes) -> str:
    """A short, stable id that names a key without revealing it."""
    return hashlib.sha256(b"allin-key-id:" + secret).hexdigest()[:8]


def generate_key() -> str:
    """A new key in the ALLIN_TOKEN_ENCRYPTION_KEYS format (base64url, 32 bytes)."""
    return _b64encode(os.urandom(KEY_BYTES))


def derive_key(instance_secret: str) -> EncryptionKey:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=HKDF_LABEL)
    return EncryptionKey.from_secret(hkdf.derive(instance_secret.encode("utf-8")))


def parse_keys(value: str) -> list[EncryptionKey]:
    """`id:key,key2,...` newest first; an entry without an id gets one from its key."""
    keys: list[EncryptionKey] = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        key_id, _, encoded = entry.rpartition(":")
        keys.append(EncryptionKey.from_secret(_b64decode(encoded), key_id or None))
    if not keys:
        raise CryptoError("no encryption keys given")
    ids = [key.key_id for key in keys]
    if len(set(ids)) != len(ids):
        raise CryptoError("duplicate encryption key ids")
    return keys


class TokenCipher:
    """Encrypts with the newest key; decrypts under any configured key."""

    def __init__(self, keys: list[EncryptionKey]) -> None:
        if not keys:
            raise CryptoError("at least one key is needed")
        self._newest = keys[0]
        self._aead = {key.key_id: AESGCM(key.secret) for key in keys}

    @property
    def current_key_id(self) -> str:
        return self._newest.key_id

    def encrypt(self, plaintext: str, context: bytes = b"") -> str:
        key_id = self._newest.key_id
        nonce = os.urandom(NONCE_BYTES)
        aad = _aad(key_id, context)
        sealed = self._aead[key_id].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{VERSION}.{key_id}.{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, context: bytes = b"") -> str:
        key_id, blob = self._split(token)
        aead = self._aead.get(key_id)
        if aead is None:
            raise CryptoError(f"token is under unknown key {key_id!r}")
        try:
            plain = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(key_id, context))
        except InvalidTag as exc:
            raise CryptoError("token failed authentication") from exc
        return plain.decode("utf-8")

    def key_id_of(self, token: str) -> str:
        return self._split(token)[0]

    def needs_rotation(self, token: str) -> bool:
        return self.key_id_of(token) != self._newest.key_id

    def rotate(self, token: str, context: bytes = b"") -> str:
        """The same plaintext under the newest key (unchanged if already under it)."""
        if not self.needs_rotation(token):
            self.decrypt(token, context)  # still authenticate it
            return token
        return self.encrypt(self.decrypt(token, context), context)

    @staticmethod
    def _split(token: str) -> tuple[str, bytes]:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != VERSION:
            raise CryptoError("not an encrypted token")
        blob = _b64decode(parts[2])
        if len(blob) < NONCE_BYTES + 16:
            raise CryptoError("encrypted token is truncated")
        return parts[1], blob


def cipher_from_settings(settings: Settings) -> TokenCipher:
    if settings.token_encryption_keys is not None:
        configured = settings.token_encryption_keys.get_secret_value().strip()
        if configured:
            return TokenCipher(parse_keys(configured))
    return TokenCipher([derive_key(settings.resolved_secret_key().get_secret_value())])


def _aad(key_id: str, context: bytes = b"") -> bytes:
    aad = _AAD_PREFIX + VERSION.encode() + b":" + key_id.encode("utf-8")
    # Without a context the associated data is what it always was (older ciphertexts).
    return aad + b"|" + context if context else aad


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise CryptoError("invalid base64") from exc


@lru_cache
def get_token_cipher() -> TokenCipher:
    """The process-wide cipher for the process-wide settings."""
    return cipher_from_settings(get_settings())


def encrypt(plaintext: str) -> str:
    return get_token_cipher().encrypt(plaintext)


def decrypt(token: str) -> str:
    return get_token_cipher().decrypt(token)


def rotate(token: str) -> str:
    return get_token_cipher().rotate(token)
