"""`GET /api/integration-guide`: ready-to-paste settings for TikTokLive (Python) and
TikTok-Live-Connector (Node) pointed at this server, as JSON or as a self-contained HTML page
(`?format=html`, or a browser's `Accept: text/html`). No CDN: the page has no external asset."""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from allin.core.domain import app_state
from allin.sign.responses import INVALID_REQUEST, SignFailure, documented
from allin.sign.service import SignService

router = APIRouter(tags=["sign: self-service"])
KEY_PLACEHOLDER = "YOUR_API_KEY"


def base_url(request: Request) -> str:
    public = app_state(request.app).settings.public_url
    return str(public or request.base_url).rstrip("/")


def python_snippet(base: str) -> str:
    return f'''from TikTokLive import TikTokLiveClient
from TikTokLive.client.web.web_settings import WebDefaults
from TikTokLive.events import CommentEvent, ConnectEvent

# Before creating any client: every client asks this server for its signed connection.
WebDefaults.tiktok_sign_url = "{base}"
# Optional: without a key, 1000 requests per hour per IP.
WebDefaults.tiktok_sign_api_key = "{KEY_PLACEHOLDER}"

client = TikTokLiveClient(unique_id="@username")


@client.on(ConnectEvent)
async def on_connect(event: ConnectEvent) -> None:
    print("Connected to room", client.room_id)


@client.on(CommentEvent)
async def on_comment(event: CommentEvent) -> None:
    print(f"{{event.user.nickname}}: {{event.comment}}")


client.run()
'''


def python_env(base: str) -> str:
    return f"SIGN_API_URL={base} SIGN_API_KEY={KEY_PLACEHOLDER} python bot.py"


def node_snippet(base: str) -> str:
    return f"""import {{
    SignConfig,
    TikTokLiveConnection,
    WebcastEvent,
}} from 'tiktok-live-connector';

// Before the first connection: the sign client is created once and cached.
SignConfig.basePath = '{base}';

const connection = new TikTokLiveConnection('username', {{
    signApiKey: '{KEY_PLACEHOLDER}', // optional; without a key: 1000 requests/hour per IP
}});

connection.on(WebcastEvent.CHAT, (data) => {{
    console.log(`${{data.user.nickname}}: ${{data.comment}}`);
}});

connection.connect()
    .then((state) => console.info(`Connected to room ${{state.roomId}}`))
    .catch((err) => console.error('Failed to connect', err));
"""


def node_env(base: str) -> str:
    return f"SIGN_API_URL={base} SIGN_API_KEY={KEY_PLACEHOLDER} node bot.mjs"


def curl_snippet(base: str) -> str:
    return (
        f"curl -X POST {base}/api/eulerstream \\\n"
        f'  -H "Authorization: Bearer {KEY_PLACEHOLDER}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        '  -d \'{"url": "https://www.tiktok.com/@testuser/live"}\''
    )


def guide(base: str, signer: str) -> dict[str, Any]:
    return {
        "base_url": base,
        "signer": signer,
        "api_key": {
            "placeholder": KEY_PLACEHOLDER,
            "create": f"{base}/app/keys",
            "headers": ["x-api-key", "Authorization: Bearer", "?apiKey="],
            "anonymous_limit": "1000 requests per hour per IP",
        },
        "endpoints": {
            "health": f"{base}/api/health",
            "sign": f"{base}/api/eulerstream",
            "euler_v1_fetch": f"{base}/webcast/fetch",
            "euler_v1_sign_url": f"{base}/webcast/sign_url",
            "euler_v2_connect": f"{base}/webcast/rooms/{{room_id}}/connect",
            "euler_v2_sign_url": f"{base}/tiktok/sign_url",
            "rate_limits": f"{base}/webcast/rate_limits",
            "compatibility_test": f"{base}/api/test/compatibility",
        },
        "clients": {
            "python": {
                "library": "TikTokLive (pip install TikTokLive)",
                "settings": {
                    "WebDefaults.tiktok_sign_url": base,
                    "WebDefaults.tiktok_sign_api_key": KEY_PLACEHOLDER,
                },
                "env": {"SIGN_API_URL": base, "SIGN_API_KEY": KEY_PLACEHOLDER},
                "snippet": python_snippet(base),
                "env_snippet": python_env(base),
            },
            "node": {
                "library": "TikTok-Live-Connector (npm install tiktok-live-connector)",
                "settings": {"SignConfig.basePath": base, "signApiKey": KEY_PLACEHOLDER},
                "env": {"SIGN_API_URL": base, "SIGN_API_KEY": KEY_PLACEHOLDER},
                "snippet": node_snippet(base),
                "env_snippet": node_env(base),
            },
            "curl": {"snippet": curl_snippet(base)},
        },
    }


_STYLE = """body{font:15px/1.5 system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1f}pre{background:#f4f4f6;padding:1rem;overflow:auto;border-radius:6px}
code{font-family:ui-monospace,monospace}h2{margin-top:2rem}.note{color:#555}"""


_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
# The page is self-contained: nothing loads, nothing runs, nobody frames it.
GUIDE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def render_html(data: dict[str, Any]) -> str:
    def block(title: str, code: str) -> str:
        return f"<h3>{html.escape(title)}</h3><pre><code>{html.escape(code)}</code></pre>"

    clients = data["clients"]
    base = html.escape(data["base_url"])
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>AllIN sign service: integration guide</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Integration guide</h1>"
        f"<p>This server (<code>{base}</code>, signer <code>{html.escape(data['signer'])}"
        "</code>) speaks the EulerStream sign API. Point your client at it; an API key "
        f'(create one at <a href="{base}/app/keys">{base}/app/keys</a>) lifts the anonymous '
        "limit of 1000 requests per hour per IP.</p>"
        "<h2>Python: TikTokLive</h2>"
        + block("bot.py", clients["python"]["snippet"])
        + block("or with environment variables", clients["python"]["env_snippet"])
        + "<h2>Node: TikTok-Live-Connector</h2>"
        + block("bot.mjs", clients["node"]["snippet"])
        + block("or with environment variables", clients["node"]["env_snippet"])
        + "<h2>Any HTTP client</h2>"
        + block("curl", clients["curl"]["snippet"])
        + f'<p class="note">Check this server with <code>POST {base}/api/test/compatibility'
        '</code> and body <code>{"testSuite": "eulerstream_compatibility"}</code>.</p>'
        "</body></html>"
    )


@router.get(
    "/api/integration-guide",
    summary="Snippets for TikTokLive and TikTok-Live-Connector pointed at this server",
    responses={
        200: {"content": {"application/json": {}, "text/html": {}}},
        **documented(400),
    },
    response_model=None,
)
async def integration_guide(
    request: Request,
    format: str | None = Query(default=None, json_schema_extra={"enum": ["json", "html"]}),
) -> JSONResponse | HTMLResponse:
    if format not in (None, "json", "html"):
        raise SignFailure(400, INVALID_REQUEST, "`format` must be json or html")
    data = guide(base_url(request), app_state(request.app).get(SignService).mode)
    wants_html = format == "html" or (
        format is None and "text/html" in request.headers.get("accept", "")
    )
    if wants_html:
        return HTMLResponse(render_html(data), headers=GUIDE_HEADERS)
    return JSONResponse({"success": True, "data": data})
