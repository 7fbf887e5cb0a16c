"""The credit ledger through the API: reserve/settle/refund, 100 concurrent requests at the
limit, the 80 % mail over real SMTP, and the month in the user's time zone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from allin.auth.models import Plan
from allin.core.clock import clock
from allin.core.config import Settings
from allin.simulator.ai import Scenario
from tests.ai.conftest import Sims, set_plan
from tests.auth.helpers import SignedIn, signed_in
from tests.auth.mail import Mailbox
from tests.support.server import serve

BODY = {"content": "Our new bakery opens Saturday", "goal": "shorter", "platform": "x"}


@dataclass
class Metered:
    app: FastAPI
    client: httpx.AsyncClient
    user: SignedIn

    async def improve(self) -> httpx.Response:
        return await self.client.post(
            "/api/ai/improve-content", json=BODY, headers=self.user.headers
        )

    async def credits(self) -> dict[str, object]:
        response = await self.client.get("/api/ai/credits", headers=self.user.headers)
        data: dict[str, object] = response.json()["data"]
        return data


@pytest.fixture
def allowance() -> int:
    return 5


@pytest.fixture
async def metered(ai_settings: Callable[..., Settings], allowance: int) -> AsyncIterator[Metered]:
    # 200 output tokens cap: every request reserves (and costs) exactly one credit.
    settings = ai_settings(ai_plan_credits={"pro": allowance}, ai_max_output_tokens=200)
    app = create_app(settings)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        user = await signed_in(client, app)
        await set_plan(app, user, Plan.PRO)
        yield Metered(app, client, user)


async def test_credits_view_and_unlimited_plan(metered: Metered) -> None:
    before = await metered.credits()
    assert before["allowance"] == 5 and before["left"] == 5 and before["unlimited"] is False
    assert (await metered.improve()).json()["data"]["usage"]["credits_left"] == 4
    after = await metered.credits()
    assert after["used"] == 1 and after["reserved"] == 0 and after["left"] == 4
    await set_plan(metered.app, metered.user, Plan.FREE)  # not in ALLIN_AI_PLAN_CREDITS
    free = await metered.credits()
    assert free["unlimited"] is True and free["left"] is None


async def test_out_of_credits_is_402_with_reset_time(metered: Metered, sims: Sims) -> None:
    for _ in range(5):
        assert (await metered.improve()).status_code == 200
    response = await metered.improve()
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "AI_002"
    assert error["details"]["resets_at"] == (await metered.credits())["resets_at"]
    assert len(sims.openai.requests) == 5  # refused before any provider call


async def test_failed_calls_are_refunded(metered: Metered, sims: Sims) -> None:
    sims.openai.scenario = Scenario.SERVER_ERROR
    sims.anthropic.scenario = Scenario.SERVER_ERROR
    for _ in range(7):
        assert (await metered.improve()).status_code == 503
    balance = await metered.credits()
    assert balance["used"] == 0 and balance["reserved"] == 0


@pytest.mark.parametrize("allowance", [10])
async def test_100_concurrent_requests_at_the_limit_never_overspend(
    metered: Metered, sims: Sims
) -> None:
    responses = await asyncio.gather(*(metered.improve() for _ in range(100)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 10 and statuses.count(402) == 90, statuses
    assert len(sims.openai.requests) == 10
    balance = await metered.credits()
    assert balance["used"] == 10 and balance["reserved"] == 0 and balance["left"] == 0


async def test_one_mail_at_80_percent_over_smtp(metered: Metered, mailbox: Mailbox) -> None:
    for _ in range(3):
        await metered.improve()
    await asyncio.sleep(0.2)
    assert mailbox.to(metered.user.email) == []
    await metered.improve()  # 4 of 5 = 80 %
    mail = await mailbox.wait_for(metered.user.email)
    assert "4 of your 5 AI credits" in mail.body
    assert mail.message["Subject"].startswith("You have used most")
    await metered.improve()
    await asyncio.sleep(0.3)
    assert len(mailbox.to(metered.user.email)) == 1  # once per period


async def test_month_starts_in_the_users_time_zone(
    metered: Metered, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 10:30 UTC on 31 December is already 00:30 on 1 January at UTC+14.
    now = datetime(2026, 12, 31, 10, 30, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: now)
    await metered.improve()
    utc_view = await metered.credits()
    assert utc_view["used"] == 1 and utc_view["resets_at"] == "2027-01-01T00:00:00Z"
    response = await metered.client.put(
        "/api/ai/preferences",
        json={"time_zone": "Pacific/Kiritimati"},
        headers=metered.user.headers,
    )
    assert response.status_code == 200
    local = response.json()["data"]
    assert local["used"] == 0  # a new month there: nothing spent yet
    assert local["period_start"] == "2026-12-31T10:00:00Z"
    assert local["resets_at"] == "2027-01-31T10:00:00Z"
    bad = await metered.client.put(
        "/api/ai/preferences", json={"time_zone": "Mars/Olympus"}, headers=metered.user.headers
    )
    assert bad.status_code == 422


async def test_admin_usage_per_user_and_provider(metered: Metered, sims: Sims) -> None:
    from allin.auth.models import Role

    await metered.improve()
    sims.openai.then(Scenario.SERVER_ERROR)
    await metered.improve()
    admin = await signed_in(metered.client, metered.app, role=Role.ADMIN)
    response = await metered.client.get("/api/ai/admin/usage", headers=admin.headers)
    rows = response.json()["data"]
    assert sorted((r["provider"], r["requests"], r["credits"]) for r in rows) == [
        ("anthropic", 1, 1),
        ("openai", 1, 1),
    ]
    assert all(r["email"] == metered.user.email for r in rows)
    denied = await metered.client.get("/api/ai/admin/usage", headers=metered.user.headers)
    assert denied.status_code == 403


async def test_alert_that_could_not_be_sent_goes_out_with_the_next_sweep(
    ai_settings: Callable[..., Settings], smtp: object, mailbox: Mailbox
) -> None:
    from sqlalchemy import select

    from allin.ai.models import AiCreditPeriod
    from allin.ai.service import AiService
    from allin.auth.email import SmtpEmailBackend
    from allin.core.domain import app_state
    from tests.support.server import free_port

    working = ai_settings(ai_plan_credits={"pro": 5}, ai_max_output_tokens=200)
    broken = working.model_copy(update={"smtp_port": free_port()})  # nothing listens there
    app = create_app(broken)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        user = await signed_in(client, app)
        await set_plan(app, user, Plan.PRO)
        metered = Metered(app, client, user)
        for _ in range(4):
            assert (await metered.improve()).status_code == 200
        service = app_state(app).get(AiService)
        for _ in range(200):  # the failed send gives its claim back
            async with app_state(app).session_factory() as db:
                if await db.scalar(select(AiCreditPeriod.alerted_at)) is None:
                    break
            await asyncio.sleep(0.025)
        else:
            raise AssertionError("the failed alert kept its claim")
        assert mailbox.to(user.email) == []
        service.alerts.mailer = SmtpEmailBackend(working)
        assert await service.alerts.sweep() == 1
        assert "4 of your 5 AI credits" in (await mailbox.wait_for(user.email)).body
        assert await service.alerts.sweep() == 0
