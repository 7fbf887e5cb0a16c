"""Swagger UI served from the swagger-ui-bundle package: the docs work offline."""

from __future__ import annotations

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


@docs_router.get(DOCS_URL)
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{request.app.title} — API",
        swagger_js_url=f"{_STATIC}/swagger-ui-bundle.js",
        swagger_css_url=f"{_STATIC}/swagger-ui.css",
        swagger_favicon_url=f"{_STATIC}/favicon-32x32.png",
    )
