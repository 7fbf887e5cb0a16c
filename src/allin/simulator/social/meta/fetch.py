"""Meta fetches media from the URL a client gives. Tests register bytes per URL in
`state.media_library` (None = unreachable); other URLs are fetched over HTTP when allowed."""

from __future__ import annotations

import httpx

from allin.core.http import create_http_client
from allin.simulator.social.meta.state import MetaState


async def fetch_media(state: MetaState, url: str) -> bytes | None:
    if url in state.media_library:
        return state.media_library[url]
    if not state.config.fetch_urls or not url.startswith(("http://", "https://")):
        return None
    try:
        async with create_http_client(timeout=5.0) as http:
            response = await http.get(url, follow_redirects=True)
    except httpx.HTTPError:
        return None
    return response.content if response.status_code == 200 else None
