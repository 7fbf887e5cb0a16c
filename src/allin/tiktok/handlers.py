"""The one line phase-2 routes need: `app.add_exception_handler(TikTokError, handle_tiktok_error)`
turns any TikTokError into the standard envelope (code TIKTOK_<TYPE>, the user-facing message)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from allin.core.handlers import error_response
from allin.core.logging import Category, get_logger
from allin.tiktok.errors import TikTokError

log = get_logger(Category.TIKTOK)


async def handle_tiktok_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TikTokError)
    log.warning(
        "tiktok error returned", error_code=exc.code, type=exc.type.value, log_id=exc.log_id
    )
    return error_response(exc.to_app_error())
