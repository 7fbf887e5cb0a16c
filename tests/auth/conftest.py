from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from allin.core.config import Settings
from tests.auth.mail import Mailbox, SmtpServer


def auth_test_settings(smtp_port: int, /, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "password_hash_profile": "test",
        "email_backend": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_tls": "none",
        "smtp_timeout": 5,
        "public_url": "http://allin.test",
        "mail_from": "AllIN <no-reply@allin.test>",
    }
    values.update(overrides)
    return values


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mailbox(smtp: SmtpServer) -> Mailbox:
    return smtp.mailbox


@pytest.fixture
def auth_settings(
    make_settings: Callable[..., Settings], database_url: str, smtp: SmtpServer
) -> Callable[..., Settings]:
    """Settings for this test's database and SMTP server, with overrides."""

    def factory(**overrides: Any) -> Settings:
        return make_settings(
            database_url=database_url, **auth_test_settings(smtp.port, **overrides)
        )

    return factory


@pytest.fixture
def settings(auth_settings: Callable[..., Settings]) -> Settings:
    return auth_settings()
