"""The dashboard's HTTP side: the page shell, its security headers and embedded config, the
static files, and Plotly served from the installed package."""

from __future__ import annotations

import gzip
import json
import re

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from allin.dashboard.assets import STATIC_DIR, plotly_bundle
from allin.dashboard.router import PLOTLY_PATH, features

CONFIG = re.compile(r'<script id="allin-config" type="application/json">(.*?)</script>', re.S)
JS_DIR = STATIC_DIR / "js"


def embedded_config(html: str) -> dict[str, object]:
    match = CONFIG.search(html)
    assert match, "no config in the shell"
    config: dict[str, object] = json.loads(match.group(1))
    return config


@pytest.mark.parametrize(
    "path", ["/", "/app", "/app/sessions", "/app/live/0d8f4c3e-1111-4a4a-9b9b-123456789abc"]
)
async def test_every_page_gets_the_shell(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "connect-src 'self'"):
        assert directive in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert '<main id="main"' in response.text


async def test_the_shell_describes_the_server(client: httpx.AsyncClient) -> None:
    config = embedded_config((await client.get("/")).text)
    assert config["plotly"] == f"{PLOTLY_PATH}?v={plotly_bundle().version}"
    assert config["features"] == {
        "live": True,
        "watchlist": True,
        "api_keys": True,
        "sign_usage": False,
        "rate_limits": False,
        "integration_guide": False,
    }
    assert config["demo_username"] is None
    assert config["refresh_cookie"] is True


async def test_config_cannot_close_its_script_element(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    app.state.live_demo_username = "</script><script>alert(1)</script>"
    html = (await client.get("/app")).text
    assert "<script>alert(1)" not in html
    assert embedded_config(html)["demo_username"] == "</script><script>alert(1)</script>"


def test_a_sign_usage_route_lights_up_the_sign_page(app: FastAPI) -> None:
    assert features(app)["sign_usage"] is False
    sign = APIRouter()

    @sign.get("/api/sign/usage")
    async def usage() -> dict[str, str]:
        return {}

    app.include_router(sign)
    assert features(app)["sign_usage"] is True


async def test_shell_references_only_existing_local_files(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    references = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert references
    for reference in references:
        assert reference.startswith("/"), f"{reference} is not on this server"
        if reference.startswith("/app"):
            continue
        response = await client.get(reference)
        assert response.status_code == 200, reference


async def test_static_files_revalidate(client: httpx.AsyncClient) -> None:
    first = await client.get("/assets/js/main.js")
    assert first.status_code == 200
    assert "javascript" in first.headers["content-type"]
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["x-content-type-options"] == "nosniff"
    again = await client.get("/assets/js/main.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path", ["/assets/../router.py", "/assets/%2e%2e/router.py", "/assets/js/nope.js", "/assets/"]
)
async def test_nothing_outside_the_static_directory(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert "install_dashboard" not in response.text


async def test_plotly_is_served_from_the_package_gzipped(client: httpx.AsyncClient) -> None:
    package_file = plotly_bundle().path.read_bytes()
    response = await client.get(PLOTLY_PATH, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == package_file  # httpx decodes the gzip body
    assert int(response.headers["content-length"]) < len(package_file) // 2
    cached = await client.get(PLOTLY_PATH, headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304


async def test_plotly_without_gzip(client: httpx.AsyncClient) -> None:
    response = await client.get(PLOTLY_PATH, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.content == plotly_bundle().path.read_bytes()
    assert response.headers["content-type"].startswith("text/javascript")


def test_plotly_gzip_round_trips() -> None:
    bundle = plotly_bundle()
    assert gzip.decompress(bundle.gzipped()) == bundle.path.read_bytes()


def test_no_copy_of_plotly_is_committed() -> None:
    assert not [p for p in STATIC_DIR.rglob("*") if "plotly" in p.name.lower()]


def _imports(source: str) -> list[str]:
    return re.findall(r'^\s*(?:import|export)\s[^"\']*?from\s+"([^"]+)"', source, re.M)


def test_every_module_import_resolves() -> None:
    modules = sorted(JS_DIR.rglob("*.js"))
    assert len(modules) > 10
    for module in modules:
        for target in _imports(module.read_text(encoding="utf-8")):
            assert target.startswith("."), f"{module.name} imports {target} from elsewhere"
            resolved = (module.parent / target).resolve()
            assert resolved.is_file(), f"{module.name}: {target} does not exist"
            # Pages must not import the entry module: it is loaded with a version query, so a
            # plain import would start a second copy of the router.
            assert resolved != (JS_DIR / "main.js").resolve(), f"{module.name} imports main.js"


def test_every_routed_page_has_a_module() -> None:
    main = (JS_DIR / "main.js").read_text(encoding="utf-8")
    pages = set(re.findall(r'page: "([a-z]+)"', main)) | {"notfound"}
    assert {
        "login",
        "setup",
        "connect",
        "live",
        "sessions",
        "session",
        "watchlist",
        "keys",
        "sign",
    } <= pages
    for page in pages:
        module = JS_DIR / "pages" / f"{page}.js"
        assert module.is_file(), page
        assert "export async function render(" in module.read_text(encoding="utf-8"), page


def test_no_remote_urls_in_the_static_files() -> None:
    remote = re.compile(r"""["'(]\s*(?:https?:)?//[a-z0-9]""", re.I)
    # An XML namespace and examples of what users may paste: text, never fetched.
    allowed = {"http://www.w3.org/2000/svg", "https://www.tiktok.com/@"}
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in {".js", ".css", ".svg", ".html"}:
            text = path.read_text(encoding="utf-8")
            for name in allowed:
                text = text.replace(name, "")
            assert not remote.search(text), f"{path.relative_to(STATIC_DIR)} refers to a remote URL"
