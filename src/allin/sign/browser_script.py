"""The simulator's own page-signing script, and the server-side check of what it produces.

TikTok's pages carry a script (webmssdk, `byted_acrawler`) that signs the page's own API
calls; outside a browser that loaded the page the signature cannot be made. The simulator
mimics that with a script of ours, so the browser signer is exercised end to end:

- every live page embeds :data:`SIGNING_SCRIPT` with a fresh nonce and the key derived from it
  (``HMAC(secret, "page:" + nonce)``, the secret never leaves the server);
- the script exposes ``window.byted_acrawler.sign({url})`` (TikTok's own name), which returns
  ``1.<nonce>.<unix time>.<HMAC-SHA256(key, time \\n User-Agent \\n path?query)>`` for the
  ``_signature`` query parameter;
- the simulator's ``webcast/im/fetch`` checks it (:meth:`PageSigning.admit`): a wrong or stale
  signature is refused with 403 (as TikTok refuses), a missing one only when required.

SHA-256 is written out in the script, not taken from WebCrypto, because WebCrypto exists only
in secure contexts and the simulator may be served over plain HTTP on any host.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import weakref
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request

from allin.core.clock import clock
from allin.core.text import is_ascii_digits
from allin.sign.algorithm.urls import param_name

SIGNATURE_PARAM = "_signature"
SIGNATURE_VERSION = "1"
DEFAULT_MAX_AGE = 300.0  # s a signature stays valid (clock skew + queueing)

SIGNING_SCRIPT = r"""(function () {
  "use strict";
  var NONCE = "%(nonce)s", KEY = "%(key)s";

  // SHA-256 round constants and initial hash: fractional parts of cube / square roots of
  // the first primes, computed here rather than tabulated.
  var primes = [], n = 2;
  while (primes.length < 64) {
    var isPrime = true;
    for (var d = 2; d * d <= n; d++) { if (n %% d === 0) { isPrime = false; break; } }
    if (isPrime) primes.push(n);
    n++;
  }
  function frac32(x) { return ((x - Math.floor(x)) * 4294967296) >>> 0; }
  var K = primes.map(function (p) { return frac32(Math.pow(p, 1 / 3)); });
  var H0 = primes.slice(0, 8).map(function (p) { return frac32(Math.sqrt(p)); });

  function rotr(x, r) { return (x >>> r) | (x << (32 - r)); }

  function sha256(bytes) {
    var bitLength = bytes.length * 8;
    var padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[bytes.length] = 0x80;
    var view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(bitLength / 4294967296));
    view.setUint32(padded.length - 4, bitLength >>> 0);
    var h = H0.slice(), w = new Uint32Array(64);
    for (var block = 0; block < padded.length; block += 64) {
      for (var t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
      for (t = 16; t < 64; t++) {
        var s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
        var s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
      }
      var a = h[0], b = h[1], c = h[2], e = h[4], f = h[5], g = h[6], dd = h[3], hh = h[7];
      for (t = 0; t < 64; t++) {
        var ch = (e & f) ^ (~e & g);
        var t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ch + K[t] + w[t]) >>> 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        hh = g; g = f; f = e; e = (dd + t1) >>> 0; dd = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      h[0] = (h[0] + a) >>> 0; h[1] = (h[1] + b) >>> 0; h[2] = (h[2] + c) >>> 0;
      h[3] = (h[3] + dd) >>> 0; h[4] = (h[4] + e) >>> 0; h[5] = (h[5] + f) >>> 0;
      h[6] = (h[6] + g) >>> 0; h[7] = (h[7] + hh) >>> 0;
    }
    var out = new Uint8Array(32), outView = new DataView(out.buffer);
    for (var i = 0; i < 8; i++) outView.setUint32(i * 4, h[i]);
    return out;
  }

  function utf8(text) { return new TextEncoder().encode(text); }
  function concat(a, b) {
    var r = new Uint8Array(a.length + b.length);
    r.set(a); r.set(b, a.length);
    return r;
  }
  function hex(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += (bytes[i] + 256).toString(16).slice(1);
    return s;
  }
  function hmacSha256Hex(key, message) {
    var k = utf8(key);
    if (k.length > 64) k = sha256(k);
    var block = new Uint8Array(64); block.set(k);
    var inner = new Uint8Array(64), outer = new Uint8Array(64);
    for (var i = 0; i < 64; i++) { inner[i] = block[i] ^ 0x36; outer[i] = block[i] ^ 0x5c; }
    return hex(sha256(concat(outer, sha256(concat(inner, utf8(message))))));
  }

  function paramName(piece) {
    var name = piece.split("=")[0].replace(/\+/g, " ");
    try { return decodeURIComponent(name); } catch (err) { return name; }
  }
  function canonical(url) {
    var u = new URL(url, window.location.href);
    var kept = u.search.slice(1).split("&").filter(function (piece) {
      return piece && paramName(piece) !== "%(param)s";
    });
    return u.pathname + (kept.length ? "?" + kept.join("&") : "");
  }
  function sign(input) {
    var url = typeof input === "string" ? input : input.url;
    var ts = Math.floor(Date.now() / 1000);
    var message = ts + "\n" + navigator.userAgent + "\n" + canonical(url);
    return "%(version)s." + NONCE + "." + ts + "." + hmacSha256Hex(KEY, message);
  }

  var acrawler = window.byted_acrawler || {};
  acrawler.sign = sign;
  window.byted_acrawler = acrawler;
})();
"""


class Verdict(StrEnum):
    ABSENT = "absent"
    VALID = "valid"
    INVALID = "invalid"


def page_key(secret: bytes, nonce: str) -> str:
    """The per-page signing key the script carries; derived, so the server keeps no table."""
    return hmac.new(secret, f"page:{nonce}".encode(), hashlib.sha256).hexdigest()


def render_script(secret: bytes, nonce: str | None = None) -> str:
    nonce = nonce or secrets.token_hex(8)
    return SIGNING_SCRIPT % {
        "nonce": nonce,
        "key": page_key(secret, nonce),
        "param": SIGNATURE_PARAM,
        "version": SIGNATURE_VERSION,
    }


def signature_message(timestamp: int, user_agent: str, path: str, query: str) -> str:
    return f"{timestamp}\n{user_agent}\n{path}{'?' + query if query else ''}"


def expected_signature(
    secret: bytes, nonce: str, timestamp: int, user_agent: str, path: str, query: str
) -> str:
    """What the script would produce (tests and the Python side of the protocol)."""
    key = page_key(secret, nonce).encode()
    message = signature_message(timestamp, user_agent, path, query).encode()
    mac = hmac.new(key, message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}.{nonce}.{timestamp}.{mac}"


def verify_signature(
    secret: bytes,
    *,
    path: str,
    query: str,
    user_agent: str,
    now: float,
    max_age: float = DEFAULT_MAX_AGE,
) -> Verdict:
    """Checks the ``_signature`` parameter of a request's raw ``query`` against the rest of it."""
    pieces = [piece for piece in query.split("&") if piece]
    found = [piece for piece in pieces if param_name(piece) == SIGNATURE_PARAM]
    if not found:
        return Verdict.ABSENT
    if len(found) > 1:
        return Verdict.INVALID
    value = unquote(found[0].partition("=")[2])
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != SIGNATURE_VERSION or not is_ascii_digits(parts[2]):
        return Verdict.INVALID
    _, nonce, raw_timestamp, _ = parts
    timestamp = int(raw_timestamp)
    if abs(now - timestamp) > max_age:
        return Verdict.INVALID
    rest = "&".join(piece for piece in pieces if param_name(piece) != SIGNATURE_PARAM)
    expected = expected_signature(secret, nonce, timestamp, user_agent, path, rest)
    return Verdict.VALID if hmac.compare_digest(expected, value) else Verdict.INVALID


@dataclass
class PageSigning:
    """One simulator's signing state: its secret, whether signatures are required, counters."""

    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    required: bool = False
    max_age: float = DEFAULT_MAX_AGE
    counts: dict[Verdict, int] = field(default_factory=lambda: dict.fromkeys(Verdict, 0))

    def script_tag(self) -> str:
        """A ``<script>`` element for one page load (a fresh nonce each time)."""
        return f'<script id="webmssdk">{render_script(self.secret)}</script>'

    def check(self, request: Request) -> Verdict:
        raw_path = request.scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else request.url.path
        verdict = verify_signature(
            self.secret,
            path=path,
            query=request.scope.get("query_string", b"").decode("latin-1"),
            user_agent=request.headers.get("user-agent", ""),
            now=clock.now().timestamp(),
            max_age=self.max_age,
        )
        self.counts[verdict] += 1
        return verdict

    def admit(self, request: Request) -> bool:
        """False when the request must be refused (403): a bad signature, or none when required."""
        verdict = self.check(request)
        return verdict is Verdict.VALID or (verdict is Verdict.ABSENT and not self.required)


_BY_OWNER: weakref.WeakKeyDictionary[Any, PageSigning] = weakref.WeakKeyDictionary()


def page_signing(owner: Any) -> PageSigning:
    """The signing state of ``owner`` (a simulator), created on first use."""
    state = _BY_OWNER.get(owner)
    if state is None:
        state = _BY_OWNER[owner] = PageSigning()
    return state
