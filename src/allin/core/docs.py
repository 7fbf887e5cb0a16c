"""Swagger UI served from the swagger-ui-bundle package: the docs work offline."""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from allin.core.domain import Mount

DOCS_URL = "/api/docs"
OPENAPI_URL = "/api/openapi.json"
_STATIC = "/api/docs/static"

docs_router = APIRouter(include_in_schema=False)
docs_static = Mount(_STATIC, StaticFiles(directory=str(swagger_ui_path)), "swagger-static")


@cache
def _swagger_policy() -> str:
    # Swagger UI's page starts itself with one inline script; it is allowed by its hash.
    page = bytes(_page("AllIN").body).decode()
    inline = page.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    return (
        f"default-src 'self'; script-src 'self' 'sha256-{digest}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def _page(title: str) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{title} — API",
        swagger_js_url=f"{_STATIC}/swagger-ui-bundle.js",
        swagger_css_url=f"{_STATIC}/swagger-ui.css",
        swagger_favicon_url=f"{_STATIC}/favicon-32x32.png",
    )


@docs_router.get(DOCS_URL)
async def swagger_ui(request: Request) -> HTMLResponse:
    page = _page(request.app.title)
    page.headers["Content-Security-Policy"] = _swagger_policy()
    page.headers["X-Frame-Options"] = "DENY"
    page.headers["X-Content-Type-Options"] = "nosniff"
    return page
