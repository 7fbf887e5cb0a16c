"""TikTok Open API integration (Login Kit, Display API, Content Posting API).

Modules: `client` (typed async client: Login Kit, Display, Content Posting), `oauth` (authorize
URL, hex-S256 PKCE, callback parsing), `tokens` (encrypted token store logic, single-flight
refresh), `publish` (creator_info check, chunked upload, status polling, crash reconciliation),
`chunks` (TikTok's chunk rules), `upload` (Content-Range PUTs), `media` (ffprobe checks),
`webhooks` (signature verification, idempotency), `analytics`, `resilience` (retries, breaker),
`errors` (TikTokError and every documented code), `service` (the facade HTTP routes call),
`tables` + `stores` (the database: accounts, states, journal, webhook keys, daily snapshots),
`router` + `schemas` (the HTTP API), `runtime` (`install_tiktok(app)`), `bodylimit` (the upload
route's larger body limit), `cli` (`allin tiktok ...`).
"""

from allin.tiktok.client import TikTokClient, TikTokConfig
from allin.tiktok.errors import TikTokError, TikTokErrorType
from allin.tiktok.service import TikTokService

__all__ = ["TikTokClient", "TikTokConfig", "TikTokError", "TikTokErrorType", "TikTokService"]
