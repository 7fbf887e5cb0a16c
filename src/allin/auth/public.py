"""The explicit list of routes that answer without authentication.

Every other route of the app must reject an anonymous call with 401:
`tests/auth/test_route_protection.py` walks all routes of `create_app()` (so routers added
later are covered without touching the test) and fails on any route that is neither
protected nor listed here. A domain that adds a public route adds one line below, in review.
Entries are "METHOD /path/template" as the router declares it; mounts are "MOUNT /prefix".
"""

from __future__ import annotations

from allin.core.config import SOCIAL_CALLBACK_PATH

PUBLIC_PATHS: frozenset[str] = frozenset(
    {
        # core
        "GET /api/health",
        "GET /api/health/{service}",
        "GET /api/docs",
        "GET /api/openapi.json",
        "MOUNT /api/docs/static",
        # auth: the ways in, and first-run setup
        "POST /api/auth/register",
        "POST /api/auth/verify-email",
        "POST /api/auth/resend-verification",
        "POST /api/auth/login",
        "POST /api/auth/refresh",
        "POST /api/auth/forgot-password",
        "POST /api/auth/reset-password",
        "GET /api/auth/setup",
        "POST /api/auth/setup",
        # tiktok: TikTok's redirect (the one-time state names the user) and its signed webhook
        "GET /api/integrations/tiktok/callback",
        # ... and the confirmation page's two answers (a signed token, not a login, decides)
        "POST /api/integrations/tiktok/callback/confirm",
        "POST /api/integrations/tiktok/callback/cancel",
        "POST /api/integrations/tiktok/webhook",
        # social: every platform's redirect and the confirmation page's answers, as TikTok's
        f"GET {SOCIAL_CALLBACK_PATH}",
        f"POST {SOCIAL_CALLBACK_PATH}/confirm",
        f"POST {SOCIAL_CALLBACK_PATH}/cancel",
        # posts: the iCalendar feed, for calendar apps (its secret URL is the credential)
        "GET /api/calendar/feed/{token}.ics",
        # ... and media files for platforms that fetch them (Instagram): a signed, expiring URL
        "GET /api/media/public/{media_id:uuid}/{expires:int}/{signature}",
        # sign: EulerStream-compatible, anonymous within the per-IP quota, or keyed
        "GET /webcast/fetch",
        "GET /webcast/fetch/",
        "GET /webcast/rooms/{room_id}/connect",
        # dashboard: the page shell and its files (all data comes from the API above)
        "GET /",
        "GET /app",
        "GET /app/{page:path}",
        "GET /verify-email",
        "GET /reset-password",
        "GET /assets/vendor/plotly.min.js",
        "MOUNT /assets",
        # live: the WebSocket authenticates in its handler (browsers cannot send headers)
        "WEBSOCKET /api/sessions/{session_id}/ws",
        # sign service: anonymous callers are metered per IP, keys optional
        "POST /api/eulerstream",
        "POST /api/signature",
        "POST /api/sign",
        "POST /api/test/compatibility",
        "GET /api/integration-guide",
        "POST /webcast/sign_url",
        "GET /webcast/sign_url",
        "POST /webcast/sign_url/",
        "POST /tiktok/sign_url",
        "GET /webcast/rate_limits",
        "GET /accounts/me/rate_limits",
        "GET /webcast/room_id",
        "GET /webcast/anchors/{unique_id}/room_id",
        "GET /webcast/room_info",
        "GET /webcast/anchors/{unique_id}/room_info",
        "POST /webcast/bulk_live_check",
    }
)


def is_public(method: str, path: str) -> bool:
    return f"{method.upper()} {path}" in PUBLIC_PATHS
