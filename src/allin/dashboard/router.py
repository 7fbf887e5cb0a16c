"""The web dashboard: one HTML shell for `/` and every `/app/...` page (the browser-side router
picks the page), its static files under `/assets`, and Plotly's bundled JS.

The pages are public (the login page must load signed out); every piece of data they show comes
from the authenticated JSON API, so nothing here needs a session.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool

from allin import __version__
from allin.core.domain import AppState, Domain, Mount, app_state
from allin.dashboard.assets import (
    IMMUTABLE,
    STATIC_DIR,
    DashboardStatic,
    plotly_bundle,
    static_version,
)

ASSETS_PREFIX = "/assets"
PLOTLY_PATH = f"{ASSETS_PREFIX}/vendor/plotly.min.js"
SHELL_TEMPLATE = Path(__file__).parent / "templates" / "index.html"

# Nothing leaves the app's origin: scripts, styles, images, fetches, forms. Plotly injects
# <style> elements, hence 'unsafe-inline' for styles (never for scripts).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SHELL_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

# Pages light up when the API behind them is mounted (other domains land independently).
# `sign_usage` is the hook for the sign service's per-key usage page.
FEATURE_ROUTES: dict[str, str] = {
    "live": "/api/sessions",
    "watchlist": "/api/watchlist",
    "api_keys": "/api/auth/api-keys",
    "sign_usage": "/api/sign/usage",
    "sign_limits": "/api/sign/limits",
    "rate_limits": "/webcast/rate_limits",
    "integration_guide": "/api/integration-guide",
    "social_accounts": "/api/social/accounts",
    "ai": "/api/ai/generate/stream",
    "ai_recap": "/api/ai/live-recap",
    "posts": "/api/posts",
    "calendar": "/api/calendar",
    "notifications": "/api/notifications",
    "queue_admin": "/api/admin/queue/status",
    "tiktok_creator_info": "/api/social/accounts/{account_id:uuid}/creator-info",
}

router = APIRouter(include_in_schema=False)
_JS = "text/javascript; charset=utf-8"


def features(app: FastAPI) -> dict[str, bool]:
    paths = {route.path for route in iter_route_contexts(app.routes)}
    return {name: path in paths for name, path in FEATURE_ROUTES.items()}


def client_config(app: FastAPI) -> dict[str, Any]:
    """What the browser needs to know about this server, embedded in the shell."""
    settings = app_state(app).settings
    return {
        "version": __version__,
        "plotly": f"{PLOTLY_PATH}?v={plotly_bundle().version}",
        "refresh_cookie": bool(getattr(settings, "refresh_cookie", True)),
        "demo_username": demo_username(app),
        "features": features(app),
    }


@dataclass(slots=True)
class DashboardShell:
    """The page template, and the always-live streamer of the built-in TikTok simulator that
    the composition layer names (None when there is none)."""

    template: str
    simulator_streamer: str | None = None
    demo_username: str | None = None
    """Offered in one click whatever TikTok's host (demo mode sets it)."""


def demo_username(app: FastAPI) -> str | None:
    """The simulator's always-live streamer, offered as a one-click connect when TikTok is the
    built-in simulator: named outright (demo mode), or implied when TikTok's web host is a
    loopback address (real TikTok never is)."""
    shell = app_state(app).get(DashboardShell)
    if shell.demo_username:
        return shell.demo_username
    host = urlsplit(app_state(app).settings.tiktok_web_url or "").hostname or ""
    return shell.simulator_streamer if _is_loopback(host) else None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def render_shell(app: FastAPI) -> str:
    template = app_state(app).get(DashboardShell).template
    # `<` escaped so no value can close the <script> element holding the JSON.
    config = json.dumps(client_config(app), separators=(",", ":")).replace("<", "\\u003c")
    return template.replace("__CONFIG__", config)


@router.get("/", response_class=HTMLResponse)
@router.get("/app", response_class=HTMLResponse)
@router.get("/app/{page:path}", response_class=HTMLResponse)
@router.get("/verify-email", response_class=HTMLResponse)  # the links in our mails
@router.get("/reset-password", response_class=HTMLResponse)
async def shell(request: Request) -> HTMLResponse:
    return HTMLResponse(render_shell(request.app), headers=SHELL_HEADERS)


@router.get(PLOTLY_PATH)
async def plotly_js(request: Request) -> Response:
    """Served from the installed package; gzip when accepted; cached for a year (the URL
    carries the version)."""
    bundle = plotly_bundle()
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": bundle.etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == bundle.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return FileResponse(bundle.path, media_type=_JS, headers=headers)
    headers["Content-Encoding"] = "gzip"
    body = await run_in_threadpool(bundle.gzipped)  # compressed once, then cached
    return Response(body, media_type=_JS, headers=headers)


def dashboard_domain(
    state: AppState, *, simulator_streamer: str | None = None, demo_username: str | None = None
) -> Domain:
    """Serves the dashboard at `/` and `/app/...`, its files at `/assets`."""
    template = SHELL_TEMPLATE.read_text(encoding="utf-8").replace("__ASSET_V__", static_version())
    state.provide(DashboardShell(template, simulator_streamer, demo_username))
    return Domain(
        name="dashboard",
        routers=(router,),
        mounts=(Mount(ASSETS_PREFIX, DashboardStatic(directory=STATIC_DIR), "dashboard-assets"),),
    )
