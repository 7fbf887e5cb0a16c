"""Every platform's error table, from bodies recorded in the platforms' documentation and
public issue threads, mapped to the kind of error the caller acts on."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.social.providers import linkedin, meta, x
from allin.social.providers.base import ErrorKind, LimitScope, Platform
from allin.social.providers.transport import retry_after

AUTH, TRANSIENT, RATE, REJECTED, CONFIG = (
    ErrorKind.AUTH,
    ErrorKind.TRANSIENT,
    ErrorKind.RATE_LIMITED,
    ErrorKind.REJECTED,
    ErrorKind.CONFIG,
)


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, Any]:
    return {"title": title, "type": kind, "status": status, "detail": detail}


TW = "https://api.twitter.com/2/problems/"
X_CASES = [
    (401, problem(401, "Unauthorized", "Unauthorized"), AUTH),
    (
        403,
        problem(
            403,
            "Unsupported Authentication",
            "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
            TW + "unsupported-authentication",
        ),
        AUTH,
    ),
    (403, problem(403, "Client Forbidden", "not enrolled", TW + "client-forbidden"), AUTH),
    (403, problem(403, "Forbidden", "Forbidden"), AUTH),
    (
        403,
        problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."),
        REJECTED,
    ),
    (403, problem(403, "Forbidden", "You are not permitted to perform this action."), REJECTED),
    (
        400,
        {
            "errors": [{"parameters": {"text": ["x"]}, "message": "text is too long"}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.x.com/2/problems/invalid-request",
        },
        REJECTED,
    ),
    (429, problem(429, "Too Many Requests", "Too Many Requests"), RATE),
    (
        429,
        {
            "title": "UsageCapExceeded",
            "type": TW + "usage-capped",
            "period": "Monthly",
            "scope": "Product",
            "detail": "Usage cap exceeded: Monthly product cap",
        },
        RATE,
    ),
    (503, problem(503, "Service Unavailable", "Service Unavailable"), TRANSIENT),
    (
        400,
        {
            "error": "invalid_request",
            "error_description": "Value passed for the authorization code was invalid.",
        },
        AUTH,
    ),
    (
        401,
        {"error": "unauthorized_client", "error_description": "Missing valid authorization header"},
        CONFIG,
    ),
]


@pytest.mark.parametrize(("status", "body", "kind"), X_CASES)
def test_x_error_table(status: int, body: dict[str, Any], kind: ErrorKind) -> None:
    error = x.classify(answer(status, body))
    assert error.kind is kind and error.platform is Platform.X and error.http_status == status


def test_x_rate_limit_waits_until_the_window_resets() -> None:
    reset = int(time.time()) + 120
    error = x.classify(
        answer(
            429,
            problem(429, "Too Many Requests", "Too Many Requests"),
            {"x-rate-limit-reset": str(reset)},
        )
    )
    assert error.retry_after is not None and 110 <= error.retry_after <= 121
    assert (
        x.classify(
            answer(
                403,
                problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                ),
            )
        ).platform_code
        == "duplicate"
    )


def li(status: int, code: str | None, message: str, service: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "message": message}
    if service is not None:
        body["serviceErrorCode"] = service
    if code is not None:
        body["code"] = code
    return body


DUPLICATE_OF = "Content is a duplicate of urn:li:share:7199999999999999999"
DUPLICATE = {
    "errorDetailType": "com.linkedin.common.error.BadRequest",
    "message": f"ERROR :: /commentary :: {DUPLICATE_OF}\n",
    "errorDetails": {
        "inputErrors": [
            {
                "description": DUPLICATE_OF,
                "input": {"inputPath": {"fieldPath": "/commentary"}},
                "code": "DUPLICATE_POST",
            }
        ]
    },
    "status": 422,
}
LINKEDIN_CASES = [
    (
        401,
        li(
            401,
            "REVOKED_ACCESS_TOKEN",
            "The token used in the request has been revoked by the user",
            65601,
        ),
        AUTH,
    ),
    (
        401,
        li(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65602),
        AUTH,
    ),
    (401, li(401, None, "Invalid access token", 65600), AUTH),
    (
        403,
        li(403, "ACCESS_DENIED", "Not enough permissions to access: me.GET.NO_VERSION", 100),
        AUTH,
    ),
    (426, li(426, "NONEXISTENT_VERSION", "Requested version 20241101 is not active"), CONFIG),
    (422, DUPLICATE, REJECTED),
    (400, li(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map"), REJECTED),
    (400, li(400, "MEDIA_ASSET_PROCESSING_FAILED", "asset failed"), REJECTED),
    (429, li(429, None, "Resource level throttle APPLICATION DAY limit"), RATE),
    (500, li(500, None, "Internal Server Error"), TRANSIENT),
]


@pytest.mark.parametrize(("status", "body", "kind"), LINKEDIN_CASES)
def test_linkedin_error_table(status: int, body: dict[str, Any], kind: ErrorKind) -> None:
    error = linkedin.classify(answer(status, body))
    assert error.kind is kind and error.platform is Platform.LINKEDIN


def test_linkedin_duplicate_names_the_existing_post_and_throttles_wait_for_midnight() -> None:
    duplicate = linkedin.classify(answer(422, DUPLICATE))
    assert duplicate.platform_code == "DUPLICATE_POST"
    assert "urn:li:share:7199999999999999999" in (duplicate.platform_message or "")
    throttled = linkedin.classify(answer(429, li(429, None, "throttled")))
    assert throttled.retry_after is not None and 0 < throttled.retry_after <= 86_400


def graph(code: int, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": "m",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, **extra}}


META_CASES = [
    (graph(190), AUTH),
    *[(graph(190, sub), AUTH) for sub in (458, 459, 460, 463, 464, 467, 492)],
    (graph(102), AUTH),
    (graph(10), AUTH),
    (graph(200), AUTH),
    (graph(299), AUTH),
    *[(graph(code), RATE) for code in (4, 17, 32, 613, 80001, 80002, 341, 368)],
    (graph(506), REJECTED),
    (graph(1609005), REJECTED),
    (graph(100, 33), REJECTED),
    (graph(1), TRANSIENT),
    (graph(2, is_transient=True), TRANSIENT),
    (graph(2635), CONFIG),
    (graph(-2, 2207003), TRANSIENT),
    (graph(-2, 2207020), REJECTED),
    (graph(-1, 2207001, is_transient=True), TRANSIENT),
    (graph(-1, 2207032), REJECTED),
    (graph(9, 2207042), RATE),
    (graph(24, 2207008), REJECTED),
    (graph(9007, 2207027), TRANSIENT),
    (graph(36004, 2207010), REJECTED),
    (graph(9004, 2207052), REJECTED),
    (graph(352, 2207026), REJECTED),
    (graph(100, 2207040), REJECTED),
    (graph(25, 2207050), REJECTED),
]


@pytest.mark.parametrize(("body", "kind"), META_CASES)
def test_graph_error_table(body: dict[str, Any], kind: ErrorKind) -> None:
    error = meta.graph_error(Platform.FACEBOOK, answer(400, body))
    assert error.kind is kind


def test_graph_throttle_reads_the_business_use_case_header() -> None:
    usage = {"104": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    response = answer(400, graph(80001), {"X-Business-Use-Case-Usage": json.dumps(usage)})
    error = meta.graph_error(Platform.FACEBOOK, response)
    assert error.kind is RATE and error.retry_after == 420
    assert meta.graph_error(Platform.FACEBOOK, answer(400, graph(17))).retry_after


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        (graph(-1, 2207001, is_transient=True), True),
        (graph(2, is_transient=True), True),
        (graph(1), True),
        (graph(9007, 2207027), False),
        (graph(-2, 2207003), True),
        (graph(24, 2207008), False),
        (graph(506), False),
        (graph(190, 460), False),
    ],
)
def test_which_answers_to_a_sent_publish_leave_it_unknown(
    body: dict[str, Any], unknown: bool
) -> None:
    error = meta.graph_error(Platform.INSTAGRAM, answer(400, body))
    assert meta.outcome_unknown(error) is unknown


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
ERROR_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "code": st.integers(-5, 100_000) | st.text(max_size=6),
        "error_subcode": st.integers(0, 3_000_000) | st.none(),
        "message": st.text(max_size=30),
        "is_transient": st.booleans(),
    },
)


@given(st.integers(400, 599), JSON)
def test_any_body_classifies_without_crashing(status: int, body: Any) -> None:
    for classify in (x.classify, linkedin.classify):
        assert classify(answer(status, body)).kind in ErrorKind
    assert meta.graph_error(Platform.FACEBOOK, answer(status, body)).kind in ErrorKind


@given(st.integers(400, 599), ERROR_FIELDS, JSON)
def test_any_graph_error_classifies(status: int, fields: dict[str, Any], header: Any) -> None:
    headers = {"X-Business-Use-Case-Usage": json.dumps(header)}
    error = meta.graph_error(Platform.INSTAGRAM, answer(status, {"error": fields}, headers))
    assert error.kind in ErrorKind
    assert error.retry_after is None or error.retry_after > 0
    if status >= 500 and "code" not in fields:
        assert error.kind is TRANSIENT


# --- who a rate limit holds back, and until when ---

TOO_MANY = problem(429, "Too Many Requests", "Too Many Requests")


def _day_headers(app_left: int, user_left: int, reset: int) -> dict[str, str]:
    return {
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(reset - 3_000),
        "x-app-limit-24hour-remaining": str(app_left),
        "x-app-limit-24hour-reset": str(reset),
        "x-user-limit-24hour-remaining": str(user_left),
        "x-user-limit-24hour-reset": str(reset + 60),
    }


def test_x_names_the_spent_limit_and_its_reset() -> None:
    reset = int(time.time()) + 7_200
    app = x.classify(answer(429, TOO_MANY, _day_headers(0, 5, reset)))
    assert app.scope is LimitScope.APP and app.reset_at is not None
    assert int(app.reset_at.timestamp()) == reset
    assert app.details["scope"] == "app" and app.details["reset_at"] == app.reset_at.isoformat()
    user_day = x.classify(answer(429, TOO_MANY, _day_headers(9, 0, reset)))
    assert user_day.scope is LimitScope.ACCOUNT
    assert user_day.reset_at is not None and int(user_day.reset_at.timestamp()) == reset + 60
    window = x.classify(answer(429, TOO_MANY, _day_headers(9, 5, reset)))
    assert window.scope is LimitScope.ACCOUNT
    assert window.reset_at is not None and int(window.reset_at.timestamp()) == reset - 3_000
    capped = x.classify(answer(429, X_CASES[8][1], _day_headers(9, 5, reset)))
    assert capped.scope is LimitScope.APP and capped.retry_after == x.USAGE_CAP_RECHECK


def test_x_reset_in_the_past_still_waits_a_moment() -> None:
    error = x.classify(answer(429, TOO_MANY, {"x-rate-limit-reset": str(int(time.time()) - 60)}))
    assert error.retry_after is not None and 0 < error.retry_after <= 1.0
    assert error.reset_at is not None and error.reset_at > datetime.now(UTC)


def test_linkedin_throttle_scope_from_its_message() -> None:
    app = linkedin.classify(answer(429, li(429, "TOO_MANY_REQUESTS", LI_APP_DAY, 101)))
    assert app.scope is LimitScope.APP
    member = linkedin.classify(answer(429, li(429, "TOO_MANY_REQUESTS", LI_MEMBER_DAY, 101)))
    assert member.scope is LimitScope.ACCOUNT
    bare = linkedin.classify(answer(429, li(429, None, "Resource level throttle limit", 101)))
    assert bare.scope is LimitScope.ACCOUNT
    for error in (app, member, bare):  # daily limits: all end at the next UTC midnight
        assert error.reset_at is not None
        assert (error.reset_at.hour, error.reset_at.minute) in ((0, 0), (23, 59))


LI_APP_DAY = "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
LI_MEMBER_DAY = (
    "Resource level throttle APPLICATION_AND_MEMBER DAY limit for calls to this resource is "
    "reached."
)


@pytest.mark.parametrize(
    ("body", "headers", "scope"),
    [
        (graph(4), {}, LimitScope.APP),
        (graph(341), {}, LimitScope.APP),
        (graph(4, 2207051), {}, LimitScope.ACCOUNT),  # one account restricted as spam
        (graph(17), {}, LimitScope.ACCOUNT),
        (graph(17), {"X-App-Usage": '{"call_count":100,"total_time":40}'}, LimitScope.APP),
        (graph(17), {"X-App-Usage": '{"call_count":99}'}, LimitScope.ACCOUNT),
        (graph(32), {}, LimitScope.ACCOUNT),
        (graph(613), {}, LimitScope.ACCOUNT),
        (graph(80001), {}, LimitScope.ACCOUNT),
        (graph(80002), {}, LimitScope.ACCOUNT),
        (graph(9, 2207042), {}, LimitScope.ACCOUNT),
        (graph(368), {}, LimitScope.ACCOUNT),
        (
            graph(80001),  # both apply: the business use case's limit wins
            {
                "X-App-Usage": '{"call_count":100}',
                "X-Business-Use-Case-Usage": '{"1":[{"type":"pages","call_count":100}]}',
            },
            LimitScope.ACCOUNT,
        ),
    ],
)
def test_graph_limit_scope(
    body: dict[str, Any], headers: dict[str, str], scope: LimitScope
) -> None:
    error = meta.graph_error(Platform.INSTAGRAM, answer(400, body, headers))
    assert error.kind is RATE and error.scope is scope
    assert error.reset_at is not None and error.retry_after


def test_only_rate_limits_carry_a_scope() -> None:
    error = meta.graph_error(Platform.FACEBOOK, answer(400, graph(506)))
    assert error.scope is None and "scope" not in error.details


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), ("0", 0.0), ("", None), ("soon", None), ("-5", None), ("1.5", None)],
)
def test_retry_after_delta_seconds(value: str, seconds: float | None) -> None:
    assert retry_after(answer(429, {}, {"Retry-After": value})) == seconds


def test_retry_after_http_date() -> None:
    later = datetime.now(UTC) + timedelta(minutes=10)
    waited = retry_after(answer(429, {}, {"Retry-After": format_datetime(later, usegmt=True)}))
    assert waited is not None and 590 <= waited <= 600
    past = format_datetime(datetime(2015, 10, 21, 7, 28, tzinfo=UTC), usegmt=True)
    assert retry_after(answer(429, {}, {"Retry-After": past})) == 0.0


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_any_retry_after_header_parses_or_is_none(value: str) -> None:
    waited = retry_after(answer(429, {}, {"Retry-After": value}))
    assert waited is None or waited >= 0


HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
X_LIMIT_HEADERS = st.dictionaries(
    st.sampled_from(
        [
            f"x-{name}-{part}"
            for name in ("rate-limit", "app-limit-24hour", "user-limit-24hour")
            for part in ("limit", "remaining", "reset")
        ]
        + ["retry-after"]
    ),
    HEADER_VALUE | st.integers(0, 4_000_000_000).map(str),
    max_size=10,
)


@given(X_LIMIT_HEADERS)
def test_any_x_limit_headers_give_a_scope_and_no_reset_in_the_past(headers: dict[str, str]) -> None:
    before = datetime.now(UTC)
    error = x.classify(answer(429, TOO_MANY, headers))
    assert error.kind is RATE and error.scope in LimitScope
    assert error.reset_at is None or error.reset_at >= before  # never in the past
    assert error.retry_after is None or error.retry_after >= 0


@given(JSON, st.sampled_from([4, 17, 32, 341, 613, 80001]))
def test_any_app_usage_header_gives_a_scope(usage: Any, code: int) -> None:
    headers = {"X-App-Usage": json.dumps(usage)}
    error = meta.graph_error(Platform.FACEBOOK, answer(400, graph(code), headers))
    assert error.kind is RATE and error.scope in LimitScope
