"""The explicit list of routes that answer without authentication.

Every other route of the app must reject an anonymous call with 401:
`tests/auth/test_route_protection.py` walks all routes of `create_app()` (so routers added
later are covered without touching the test) and fails on any route that is neither
protected nor listed here. A domain that adds a public route adds one line below, in review.
Entries are "METHOD /path/template" as the router declares it; mounts are "MOUNT /prefix".
"""

from __future__ import annotations

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
        # dashboard: the page shell and its files (all data comes from the API above)
        "GET /",
        "GET /app",
        "GET /app/{page:path}",
        "GET /assets/vendor/plotly.min.js",
        "MOUNT /assets",
        # live: the WebSocket authenticates in its handler (browsers cannot send headers)
        "WEBSOCKET /api/sessions/{session_id}/ws",
    }
)


def is_public(method: str, path: str) -> bool:
    return f"{method.upper()} {path}" in PUBLIC_PATHS
