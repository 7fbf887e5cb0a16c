"""structlog set-up: correlation ID and category on every line, console or JSON output."""

from __future__ import annotations

import logging
import sys
import traceback
import uuid
from enum import StrEnum
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, get_contextvars
from structlog.typing import EventDict, WrappedLogger

from allin.core.redact import redact_event

CORRELATION_HEADER = "X-Correlation-ID"
_MAX_CORRELATION_LEN = 128
MAX_TRACEBACK_FRAMES = 30
MAX_TRACEBACK_CHARS = 16_000


class Category(StrEnum):
    """Log categories: the platform's areas and the product's own domains."""

    CORE = "CORE"
    AUTH = "AUTH"
    SOCIAL = "SOCIAL"
    AI = "AI"
    QUEUE = "QUEUE"
    LIVE = "LIVE"
    SIGN = "SIGN"
    TIKTOK = "TIKTOK"
    HTTP = "HTTP"


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def clean_correlation_id(value: str | None) -> str:
    """Accept a caller's ID only if it is short and printable; otherwise make one."""
    if value and len(value) <= _MAX_CORRELATION_LEN and value.isascii() and value.isprintable():
        return value
    return new_correlation_id()


def bind_correlation_id(value: str) -> None:
    bind_contextvars(correlation_id=value)


def current_correlation_id() -> str | None:
    value = get_contextvars().get("correlation_id")
    return value if isinstance(value, str) else None


def get_logger(category: Category | str = Category.CORE, **bound: Any) -> Any:
    """A logger named after the calling module, with its category bound."""
    name = sys._getframe(1).f_globals.get("__name__", "allin")
    # Initial values keep the proxy lazy: it resolves against the config at first use.
    return structlog.get_logger(name, category=str(category), **bound)


def _default_category(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("category", Category.CORE.value)
    return event_dict


def bounded_exception(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """The traceback as plain text: no frame locals (they hold request headers, keys and
    tokens, and rendering them took seconds on the event loop), the innermost frames only,
    and a size cap, in every output format."""
    exc_info = event_dict.pop("exc_info", None)
    if not exc_info:
        return event_dict
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple) or exc_info[0] is None:
        return event_dict
    text = "".join(traceback.format_exception(*exc_info, limit=-MAX_TRACEBACK_FRAMES))
    if len(text) > MAX_TRACEBACK_CHARS:
        half = MAX_TRACEBACK_CHARS // 2
        text = f"{text[:half]}\n... [{len(text) - 2 * half} characters cut] ...\n{text[-half:]}"
    event_dict["exception"] = text
    return event_dict


def configure_logging(log_format: str = "console", level: str = "INFO") -> None:
    """Route structlog and the stdlib (uvicorn, alembic, httpx) through one formatter."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _default_category,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        bounded_exception,
        redact_event,  # last before rendering: it sees the exception text too
    ]
    renderer: Any
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # reconfigurable (tests, CLI then app)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # uvicorn's access line duplicates our request log, which carries the correlation ID.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx's INFO line is each outside URL whole, query string included (Meta's Graph API
    # takes access_token there); our clients log what matters themselves.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
