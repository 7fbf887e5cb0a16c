"""x-tt-params: the request parameters TikTok web sends AES-encrypted in a header.

Publicly documented: the plaintext is the ``key=value`` pairs joined with ``&`` (values
not URL-encoded, ``is_encryption=1`` last), encrypted with AES-128-CBC, PKCS#7 padding,
key = IV = ``webapp1.0+202106``, and base64-encoded.

The raw join cannot carry ``&`` inside a value (or ``=`` inside a key), so this module
percent-escapes exactly ``%``, ``&`` (and ``=`` in keys); text without those characters
is encrypted byte for byte as the browser does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY = b"webapp1.0+202106"
IV = KEY
ENCRYPTION_FLAG = "is_encryption"


class InvalidXTtParams(ValueError):
    """The string is not an x-tt-params value this key decrypts."""


def _escape(text: str, *, is_key: bool) -> str:
    escaped = text.replace("%", "%25").replace("&", "%26")
    return escaped.replace("=", "%3D") if is_key else escaped


def _cipher() -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(KEY), modes.CBC(IV))


def x_tt_params(params: Mapping[str, str]) -> str:
    """Encrypt ``params`` (order kept) into an x-tt-params header value."""
    pairs = list(params.items())
    if ENCRYPTION_FLAG not in params:
        pairs.append((ENCRYPTION_FLAG, "1"))
    plaintext = "&".join(f"{_escape(k, is_key=True)}={_escape(v, is_key=False)}" for k, v in pairs)
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = _cipher().encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def _decrypt(value: str) -> bytes:
    try:
        ciphertext = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidXTtParams(f"x-tt-params is not base64: {exc}") from exc
    if not ciphertext or len(ciphertext) % 16:
        raise InvalidXTtParams(f"ciphertext length {len(ciphertext)} is not a multiple of 16")
    decryptor = _cipher().decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise InvalidXTtParams("bad padding: wrong key or corrupted value") from exc


def decode_x_tt_params(value: str) -> dict[str, str]:
    """Decrypt an x-tt-params value back into its parameters (``is_encryption`` included)."""
    try:
        plaintext = _decrypt(value).decode()
    except UnicodeDecodeError as exc:
        raise InvalidXTtParams("decrypted parameters are not UTF-8") from exc
    params: dict[str, str] = {}
    for piece in plaintext.split("&"):
        if piece:
            key, _, val = piece.partition("=")
            params[unquote(key)] = unquote(val)
    return params
