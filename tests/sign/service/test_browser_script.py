"""The simulator's page-signing script: the JavaScript and the Python check agree, and the
check refuses anything but the script's own output."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allin.sign.browser_script import (
    PageSigning,
    Verdict,
    expected_signature,
    render_script,
    verify_signature,
)

SECRET = b"k" * 32
NOW = 1_795_000_000
UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0"
PATH = "/webcast/im/fetch/"
QUERY = "aid=1988&room_id=7&cursor=&msToken=abc&X-Bogus=DFSz"


def signed_query(query: str = QUERY, *, ua: str = UA, at: int = NOW) -> str:
    signature = expected_signature(SECRET, "n0nce", at, ua, PATH, query)
    return f"{query}&_signature={signature}"


def check(query: str, *, ua: str = UA, now: float = NOW) -> Verdict:
    return verify_signature(SECRET, path=PATH, query=query, user_agent=ua, now=now)


def test_valid_signature() -> None:
    assert check(signed_query()) is Verdict.VALID


@pytest.mark.parametrize(
    ("query", "ua", "now"),
    [
        (signed_query().replace("room_id=7", "room_id=8"), UA, NOW),  # another room
        (signed_query(), UA + " extra", NOW),  # another browser
        (signed_query(), UA, NOW + 301),  # stale
        (signed_query(), UA, NOW - 301),  # from the future
        (signed_query() + "&_signature=x", UA, NOW),  # two signatures
        (QUERY + "&_signature=1.n.notatime.ab", UA, NOW),
        (QUERY + "&_signature=2.n0nce.1795000000.ab", UA, NOW),
        (QUERY + "&_signature=", UA, NOW),
    ],
)
def test_invalid_signatures(query: str, ua: str, now: float) -> None:
    assert check(query, ua=ua, now=now) is Verdict.INVALID


def test_absent_signature_and_other_secrets() -> None:
    assert check(QUERY) is Verdict.ABSENT
    other = verify_signature(b"x" * 32, path=PATH, query=signed_query(), user_agent=UA, now=NOW)
    assert other is Verdict.INVALID


@settings(max_examples=200, deadline=None)
@given(
    query=st.lists(
        st.tuples(
            st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.text("abc%=+-._~09", max_size=8)
        ),
        max_size=6,
    ),
    flip=st.integers(min_value=0),
)
def test_any_change_to_the_signed_query_is_caught(query: list[tuple[str, str]], flip: int) -> None:
    raw = "&".join(f"{k}={v}" for k, v in query if k != "_signature")
    signed = signed_query(raw)
    assert check(signed) is Verdict.VALID
    if raw:
        index = flip % len(raw)
        changed = raw[:index] + ("Z" if raw[index] != "Z" else "Y") + raw[index + 1 :]
        assert check(signed.replace(raw, changed, 1)) is not Verdict.VALID


NODE = shutil.which("node")


def run_in_node(script: str, calls: list[str], ua: str) -> list[str]:
    assert NODE, "node is needed (Debian package nodejs)"
    program = (
        "globalThis.window = globalThis;"
        "window.location = {href: 'http://127.0.0.1:9/@someone/live'};"
        f"globalThis.navigator = {{userAgent: {json.dumps(ua)}}};"
        f"{script}\n"
        f"console.log(JSON.stringify({json.dumps(calls)}.map("
        "u => window.byted_acrawler.sign({url: u}))));"
    )
    out = subprocess.run([NODE, "-e", program], capture_output=True, text=True, check=True)
    result: list[str] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("ua", [UA, "Agent ü 日本/1.0", "x" * 300])
def test_the_javascript_signs_what_python_verifies(ua: str) -> None:
    urls = [
        f"http://127.0.0.1:9{PATH}?{QUERY}",
        f"{PATH}?{QUERY}&_signature=stale",  # an old signature is not signed over
        "/short",
        "/q?" + "&".join(f"k{i}=v{i}" for i in range(80)),  # several SHA-256 blocks
    ]
    signatures = run_in_node(render_script(SECRET, "n0nce"), urls, ua)
    expected_queries = [QUERY, QUERY, "", "&".join(f"k{i}=v{i}" for i in range(80))]
    paths = [PATH, PATH, "/short", "/q"]
    for signature, path, query in zip(signatures, paths, expected_queries, strict=True):
        timestamp = int(signature.split(".")[2])
        assert signature == expected_signature(SECRET, "n0nce", timestamp, ua, path, query)


def test_each_page_gets_its_own_nonce() -> None:
    signing = PageSigning(secret=SECRET)
    first, second = signing.script_tag(), signing.script_tag()
    assert first.startswith('<script id="webmssdk">') and first != second
    assert SECRET.hex() not in first and "kkkk" not in first  # the secret stays server-side
