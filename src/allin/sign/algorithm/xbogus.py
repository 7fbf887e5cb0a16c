"""X-Bogus, the query signature TikTok's web SDK appends to API URLs.

Layout as publicly documented by reimplementations and confirmed against values captured
from browsers (see tests/sign/algorithm/test_xbogus.py for the sources). The signature
wraps 19 payload bytes:

====== ==========================================================================
bytes  content
====== ==========================================================================
0..3   header: 0x40, two flag bytes, and the UA key byte ``k``
4..5   last two bytes of md5(md5(query))
6..7   last two bytes of md5(md5(body))
8..9   last two bytes of md5(base64(rc4(key=[0, 1, k], user_agent)))
10..13 unix timestamp, big endian
14..17 the "canvas" fingerprint value, big endian
18     checksum: XOR of bytes 0..17, so the XOR of all 19 bytes is 0
====== ==========================================================================

The payload is RC4-encrypted with the one-byte key 0xFF, prefixed with 0x02 0xFF and
written with a shuffled base64 alphabet: 21 bytes become 28 characters.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

ALPHABET = "Dkdpgh4ZKsQB80/Mfvw36XI1R25-WUAlEi7NLboqYTOPuzmFjJnryx9HVGcaStCe"
"""The 64 digits; the documented table adds ``=`` as padding, never needed for 21 bytes."""

X_BOGUS_LENGTH = 28
DEFAULT_CANVAS = 0x2000BE90  # 536919696, the value the public reimplementations use
DEFAULT_HEADER = bytes((0x40, 0x00, 0x01, 0x0E))  # UA key [0, 1, 14]
EMPTY_BODY_DIGEST = bytes((0x45, 0x3F))  # last bytes of md5(md5(b""))

_DIGIT_VALUES = {digit: value for value, digit in enumerate(ALPHABET)}
_PREFIX = b"\x02\xff"
_PAYLOAD_KEY = b"\xff"
_PAYLOAD_LENGTH = 19
_MAX_U32 = 0xFFFFFFFF


def _xor_all(data: bytes) -> int:
    total = 0
    for byte in data:
        total ^= byte
    return total


class InvalidXBogus(ValueError):
    """The string is not a well-formed X-Bogus value."""


def rc4(key: bytes, data: bytes) -> bytes:
    """RC4 keystream XOR; the same call encrypts and decrypts."""
    if not key:
        raise ValueError("RC4 needs a non-empty key")
    box = list(range(256))
    j = 0
    for i in range(256):
        j = (j + box[i] + key[i % len(key)]) & 0xFF
        box[i], box[j] = box[j], box[i]
    out = bytearray(len(data))
    i = j = 0
    for n, byte in enumerate(data):
        i = (i + 1) & 0xFF
        j = (j + box[i]) & 0xFF
        box[i], box[j] = box[j], box[i]
        out[n] = byte ^ box[(box[i] + box[j]) & 0xFF]
    return bytes(out)


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def double_md5_tail(data: bytes) -> bytes:
    """Last two bytes of md5(md5(data)), the digest X-Bogus keeps of query and body."""
    return _md5(_md5(data))[-2:]


def user_agent_tail(user_agent: str, key_byte: int) -> bytes:
    """Last two bytes of md5(base64(rc4([0, 1, key_byte], user_agent))), UA as UTF-8."""
    encrypted = rc4(bytes((0, 1, key_byte)), user_agent.encode())
    return _md5(base64.b64encode(encrypted))[-2:]


@dataclass(frozen=True, slots=True)
class XBogusPayload:
    """The decoded content of an X-Bogus value (checksum excluded: it is derived)."""

    header: bytes
    query_digest: bytes
    body_digest: bytes
    ua_digest: bytes
    timestamp: int
    canvas: int

    def __post_init__(self) -> None:
        sizes = {"header": (self.header, 4), "query_digest": (self.query_digest, 2)}
        sizes |= {"body_digest": (self.body_digest, 2), "ua_digest": (self.ua_digest, 2)}
        for name, (value, size) in sizes.items():
            if len(value) != size:
                raise ValueError(f"{name} must be {size} bytes, got {len(value)}")
        for name, number in (("timestamp", self.timestamp), ("canvas", self.canvas)):
            if not 0 <= number <= _MAX_U32:
                raise ValueError(f"{name} must fit in 32 unsigned bits, got {number}")

    @property
    def ua_key_byte(self) -> int:
        """The last RC4 key byte used on the user agent (header byte 3)."""
        return self.header[3]

    @property
    def checksum(self) -> int:
        return _xor_all(self._body())

    def to_bytes(self) -> bytes:
        """The 19 plaintext payload bytes, checksum included."""
        body = self._body()
        return body + bytes((_xor_all(body),))

    @classmethod
    def from_bytes(cls, raw: bytes) -> XBogusPayload:
        if len(raw) != _PAYLOAD_LENGTH:
            raise InvalidXBogus(f"payload must be {_PAYLOAD_LENGTH} bytes, got {len(raw)}")
        if _xor_all(raw) != 0:
            raise InvalidXBogus("checksum mismatch: payload bytes do not XOR to 0")
        return cls(
            header=raw[0:4],
            query_digest=raw[4:6],
            body_digest=raw[6:8],
            ua_digest=raw[8:10],
            timestamp=int.from_bytes(raw[10:14], "big"),
            canvas=int.from_bytes(raw[14:18], "big"),
        )

    def _body(self) -> bytes:
        return b"".join(
            (
                self.header,
                self.query_digest,
                self.body_digest,
                self.ua_digest,
                self.timestamp.to_bytes(4, "big"),
                self.canvas.to_bytes(4, "big"),
            )
        )


def _to_digits(data: bytes) -> str:
    digits: list[str] = []
    for start in range(0, len(data), 3):
        group = int.from_bytes(data[start : start + 3], "big")
        digits.extend(ALPHABET[(group >> shift) & 0x3F] for shift in (18, 12, 6, 0))
    return "".join(digits)


def _from_digits(text: str) -> bytes:
    out = bytearray()
    for start in range(0, len(text), 4):
        group = 0
        for digit in text[start : start + 4]:
            group = (group << 6) | _DIGIT_VALUES[digit]
        out += group.to_bytes(3, "big")
    return bytes(out)


def encode_x_bogus(payload: XBogusPayload) -> str:
    """Wrap a payload into its 28-character X-Bogus form."""
    return _to_digits(_PREFIX + rc4(_PAYLOAD_KEY, payload.to_bytes()))


def unwrap_x_bogus(value: str) -> bytes:
    """The 19 decrypted payload bytes of ``value``; the checksum is not verified here."""
    if len(value) != X_BOGUS_LENGTH:
        raise InvalidXBogus(f"X-Bogus must be {X_BOGUS_LENGTH} characters, got {len(value)}")
    stray = sorted({char for char in value if char not in _DIGIT_VALUES})
    if stray:
        raise InvalidXBogus(f"characters outside the X-Bogus alphabet: {stray!r}")
    raw = _from_digits(value)
    if raw[:2] != _PREFIX:
        raise InvalidXBogus(f"X-Bogus must start with bytes 02 ff, got {raw[:2].hex(' ')}")
    return rc4(_PAYLOAD_KEY, raw[2:])


def decode_x_bogus(value: str) -> XBogusPayload:
    """Inverse of :func:`encode_x_bogus`; raises :class:`InvalidXBogus`."""
    return XBogusPayload.from_bytes(unwrap_x_bogus(value))


def x_bogus(
    query: str,
    user_agent: str,
    *,
    timestamp: int,
    canvas: int = DEFAULT_CANVAS,
    body: bytes = b"",
    header: bytes = DEFAULT_HEADER,
) -> str:
    """X-Bogus of ``query`` (the raw query string, without ``?``) for ``user_agent``.

    Pure and deterministic. ``header`` is the 4-byte layout header; its last byte selects
    the RC4 key used on the user agent. Browsers differ in ``header`` and ``canvas``.
    """
    if len(header) != 4:
        raise ValueError(f"header must be 4 bytes, got {len(header)}")
    payload = XBogusPayload(
        header=bytes(header),
        query_digest=double_md5_tail(query.encode()),
        body_digest=double_md5_tail(body),
        ua_digest=user_agent_tail(user_agent, header[3]),
        timestamp=timestamp,
        canvas=canvas,
    )
    return encode_x_bogus(payload)
