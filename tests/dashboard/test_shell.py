"""The dashboard's HTTP side: the page shell, its security headers and embedded config, the
static files, and Plotly served from the installed package."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from allin.app import create_app
from allin.core.config import Settings
from allin.core.domain import AppState, app_state, assemble
from allin.core.health import HealthRegistry
from allin.dashboard.assets import STATIC_DIR, plotly_bundle
from allin.dashboard.router import (
    FEATURE_ROUTES,
    PLOTLY_PATH,
    DashboardShell,
    dashboard_domain,
    demo_username,
    features,
    render_shell,
)
from tests.support.server import serve_in_thread


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, httpx.Client]]:
    """One app served for the whole module: these tests only read pages and files."""
    tmp = tmp_path_factory.mktemp("site")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        data_dir=tmp / "var",
        database_url=f"sqlite+aiosqlite:///{tmp / 'allin.db'}",
        log_format="json",
        secret_key="test-secret-key-not-for-production",
    )
    app = create_app(settings)
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url) as http:
        yield app, http


@pytest.fixture
def client(site: tuple[FastAPI, httpx.Client]) -> httpx.Client:
    return site[1]


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
def test_every_page_gets_the_shell(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "connect-src 'self'"):
        assert directive in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert '<main id="main"' in response.text


def test_the_shell_describes_the_server(client: httpx.Client) -> None:
    config = embedded_config(client.get("/").text)
    assert config["plotly"] == f"{PLOTLY_PATH}?v={plotly_bundle().version}"
    assert config["features"] == dict.fromkeys(FEATURE_ROUTES, True)  # every domain is mounted
    assert config["demo_username"] is None
    assert config["refresh_cookie"] is True


def test_features_follow_the_routes_the_app_has(make_settings: Callable[..., Settings]) -> None:
    """A page whose API is missing is not offered: the dashboard alone has none of them."""
    assert features(bare_app(make_settings())) == dict.fromkeys(FEATURE_ROUTES, False)


def bare_app(settings: Settings) -> FastAPI:
    """Just the dashboard on an app: enough for the shell, and cheap."""
    app = FastAPI()
    state = AppState(settings=settings, health=HealthRegistry(), started_at=0.0)
    app.state.allin = state
    assemble(app, state, [dashboard_domain(state, simulator_streamer="demo_streamer")])
    return app


def test_config_cannot_close_its_script_element(make_settings: Callable[..., Settings]) -> None:
    app = bare_app(make_settings())
    app_state(app).get(DashboardShell).demo_username = "</script><script>alert(1)</script>"
    html = render_shell(app)
    assert "<script>alert(1)" not in html
    assert embedded_config(html)["demo_username"] == "</script><script>alert(1)</script>"


@pytest.mark.parametrize(
    ("web_url", "expected"),
    [
        ("http://127.0.0.1:8090", "demo_streamer"),
        ("http://localhost:8090", "demo_streamer"),
        ("https://[::1]:8443", "demo_streamer"),
        ("https://www.tiktok.com", None),
        ("http://10.0.0.5:8090", None),
    ],
)
def test_the_simulator_offers_its_demo_stream(
    make_settings: Callable[..., Settings], web_url: str, expected: str | None
) -> None:
    app = bare_app(make_settings(tiktok_web_url=web_url))
    assert demo_username(app) == expected
    app_state(app).get(DashboardShell).demo_username = "someone_else"
    assert demo_username(app) == "someone_else"


def test_a_sign_usage_route_lights_up_the_sign_page(
    make_settings: Callable[..., Settings],
) -> None:
    app = bare_app(make_settings())
    assert features(app)["sign_usage"] is False
    sign = APIRouter()

    @sign.get("/api/sign/usage")
    async def usage() -> dict[str, str]:
        return {}

    app.include_router(sign)
    assert features(app)["sign_usage"] is True


def test_shell_references_only_existing_local_files(client: httpx.Client) -> None:
    html = client.get("/").text
    references = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert references
    for reference in references:
        assert reference.startswith("/"), f"{reference} is not on this server"
        if reference.startswith("/app"):
            continue
        response = client.get(reference)
        assert response.status_code == 200, reference


def test_static_files_revalidate(client: httpx.Client) -> None:
    first = client.get("/assets/js/main.js")
    assert first.status_code == 200
    assert "javascript" in first.headers["content-type"]
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["x-content-type-options"] == "nosniff"
    again = client.get("/assets/js/main.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path", ["/assets/../router.py", "/assets/%2e%2e/router.py", "/assets/js/nope.js", "/assets/"]
)
def test_nothing_outside_the_static_directory(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "dashboard_domain" not in response.text


def test_plotly_is_served_from_the_package_gzipped(client: httpx.Client) -> None:
    package_file = plotly_bundle().path.read_bytes()
    response = client.get(PLOTLY_PATH, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == package_file  # httpx decodes the gzip body
    assert int(response.headers["content-length"]) < len(package_file) // 2
    cached = client.get(PLOTLY_PATH, headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304


def test_plotly_without_gzip(client: httpx.Client) -> None:
    response = client.get(PLOTLY_PATH, headers={"Accept-Encoding": "identity"})
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
