"""The database stores on SQLite and PostgreSQL: one refresh across workers, one-time states,
the journal, webhook keys, daily snapshots, key rotation, and clean removal."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from allin.core.clock import utcnow
from allin.core.crypto import EncryptionKey, TokenCipher
from allin.db import migrate
from allin.db.engine import create_engine, create_session_factory
from allin.simulator.open_api import PROFILE_2026
from allin.tiktok.analytics import summarize
from allin.tiktok.client import TikTokClient, TikTokConfig
from allin.tiktok.errors import TikTokError
from allin.tiktok.models import TokenSet, UserInfo, Video
from allin.tiktok.publish import InMemoryPublishJournal, PublishRecord, PublishState
from allin.tiktok.service import TikTokService
from allin.tiktok.stores import (
    AccountInUseError,
    DbAccounts,
    DbIdempotency,
    DbPublishJournal,
    DbSnapshots,
    DbStateStore,
    DbTokenStore,
    Sessions,
)
from allin.tiktok.tables import TikTokOAuthState
from allin.tiktok.tokens import Refresher, TokenManager
from allin.tiktok.webhooks import sign
from tests.tiktok.conftest import MovableClock, Sim, make_config
from tests.tiktok.routes import new_user

K1 = EncryptionKey("k1", b"1" * 32)
K2 = EncryptionKey("k2", b"2" * 32)
CIPHER = TokenCipher([K1])


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    await asyncio.to_thread(migrate.upgrade, database_url, "head")
    engine = create_engine(database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def new_account(sessions: Sessions, open_id: str = "open-1") -> str:
    return await DbAccounts(sessions).attach(await new_user(sessions), open_id, (), UserInfo())


def db_service(sim: Sim, sessions: Sessions) -> TikTokService:
    return TikTokService(
        TikTokClient(make_config(sim)),
        cipher=CIPHER,
        token_store=DbTokenStore(sessions),
        states=DbStateStore(sessions),
        accounts=DbAccounts(sessions),
    )


async def test_one_refresh_across_workers(
    sessions: Sessions, sim: Sim, moved: MovableClock
) -> None:
    """Two workers (separate services, caches and DB connections) find the token expired at
    once. With TikTok's rotating refresh tokens, a second refresh would be wasted at best."""
    sim.config.token_profile = PROFILE_2026
    first, second = db_service(sim, sessions), db_service(sim, sessions)
    try:
        user = await new_user(sessions)
        url = await first.start_connect(user)
        async with httpx.AsyncClient() as browser:
            location = (await browser.get(url)).headers["location"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        account = (await second.finish_connect(user, query)).account_id  # any worker finishes
        old = await first.tokens.get_valid_token(account)
        for worker in (first, second):  # a slow token endpoint: both see the expiry in time
            worker.tokens.refresher = _slowly(worker.tokens.refresher)
        moved.advance(7_200 + 1)
        tokens = await asyncio.gather(
            first.tokens.get_valid_token(account), second.tokens.get_valid_token(account)
        )
        assert tokens[0] == tokens[1] != old
        assert sim.world.calls["token"] == 2  # the code exchange and ONE refresh
        assert (await second.me(account)).display_name == "Sim Creator"
    finally:
        await first.aclose()
        await second.aclose()


def _slowly(refresher: Refresher) -> Refresher:
    async def slow(refresh_token: str) -> TokenSet:
        await asyncio.sleep(0.2)
        return await refresher(refresh_token)

    return slow


async def test_states_are_one_time_bound_and_short_lived(
    sessions: Sessions, moved: MovableClock
) -> None:
    store = DbStateStore(sessions)
    user = await new_user(sessions)
    soon = utcnow() + timedelta(seconds=600)
    await store.put("a" * 64, user, soon)
    assert await store.pop("a" * 64) == user
    assert await store.pop("a" * 64) is None  # used up
    await store.put("b" * 64, user, soon)
    async with sessions() as db:
        stored = list(await db.scalars(select(TikTokOAuthState.state_hash)))
    assert stored and "b" * 64 not in stored  # only digests at rest
    moved.advance(601)
    assert await store.pop("b" * 64) is None  # expired
    assert await store.pop("") is None


async def test_journal_round_trip_and_removal_cascades(sessions: Sessions) -> None:
    journal = DbPublishJournal(sessions)
    account = await new_account(sessions)
    record = PublishRecord(
        id=uuid.uuid4().hex,
        account_id=account,
        mode="direct",
        source="FILE_UPLOAD",
        privacy_level="SELF_ONLY",
        file_path="/tmp/v.mp4",
        video_size=12_000_000,
        chunk_size=6_000_000,
        total_chunk_count=2,
    )
    await journal.save(record)
    assert await journal.get(record.id) == record
    done = replace(record, state=PublishState.COMPLETE, publish_id="v_pub_file~1", post_ids=("7",))
    await journal.save(done)
    assert await journal.find_by_publish_id("v_pub_file~1") == done
    pending = replace(record, id=uuid.uuid4().hex, publish_id=None)
    await journal.save(pending)
    assert await journal.unfinished() == [pending]

    snapshots = DbSnapshots(sessions)
    await snapshots.record(account, summarize(None, [Video(id="1", view_count=5)]))
    await DbAccounts(sessions).remove(account)
    assert await journal.get(record.id) is None and await journal.unfinished() == []
    assert await snapshots.history(account, 30) == []


async def test_one_owner_per_tiktok_account(sessions: Sessions) -> None:
    accounts = DbAccounts(sessions)
    first = await accounts.attach(await new_user(sessions), "open-9", (), UserInfo())
    with pytest.raises(AccountInUseError):
        await accounts.attach(await new_user(sessions), "open-9", (), UserInfo())
    assert await DbTokenStore(sessions).account_for_open_id("open-9") == first


async def test_daily_snapshots(sessions: Sessions, moved: MovableClock) -> None:
    store = DbSnapshots(sessions)
    account = await new_account(sessions)
    for views in (10, 20):  # twice on one day: the later reading wins
        await store.record(
            account, summarize(None, [Video(id="1", view_count=views, like_count=1)])
        )
    moved.advance(86_400)
    await store.record(account, summarize(None, [Video(id="1", view_count=35, like_count=2)]))
    history = await store.history(account, 30)
    assert [d.views for d in history] == [20, 35]
    assert history[1].day - history[0].day == timedelta(days=1)
    assert history[1].engagement_rate == round(2 / 35 * 100, 4)
    assert [d.views for d in await store.history(account, 1)] == [35]


async def test_webhook_keys_and_release_on_failure(sessions: Sessions) -> None:
    keys = DbIdempotency(sessions)
    assert await keys.claim("k", "post.publish.complete")
    assert not await keys.claim("k", "post.publish.complete")
    await keys.release("k")
    assert await keys.claim("k")

    class BrokenJournal(InMemoryPublishJournal):
        async def find_by_publish_id(self, publish_id: str) -> PublishRecord | None:
            raise RuntimeError("database away")

    config = TikTokConfig(client_key="ck", client_secret="cs", redirect_uri="http://x/cb")
    service = TikTokService(
        TikTokClient(config), cipher=CIPHER, journal=BrokenJournal(), idempotency=keys
    )
    body = json.dumps(
        {"client_key": "ck", "event": "post.publish.complete", "create_time": 1,
         "content": json.dumps({"publish_id": "p1"})}
    ).encode()  # fmt: skip
    with pytest.raises(RuntimeError):
        await service.handle_webhook(sign("cs", int(time.time()), body), body)
    service.publisher.journal = InMemoryPublishJournal()
    handled = await service.handle_webhook(sign("cs", int(time.time()), body), body)
    assert not handled.duplicate  # the failed attempt did not use up the key
    again = await service.handle_webhook(sign("cs", int(time.time()), body), body)
    assert again.duplicate
    await service.aclose()


def _grant(n: int) -> TokenSet:
    return TokenSet(
        access_token=f"act.{n}",
        expires_in=86_400,
        refresh_token=f"rft.{n}",
        refresh_expires_in=31_536_000,
        open_id="open-1",
        issued_at=utcnow(),
    )


async def test_rotate_all_re_encrypts_under_the_newest_key(sessions: Sessions) -> None:
    account = await new_account(sessions)

    async def never(_: str) -> TokenSet:
        raise AssertionError("no refresh expected")

    await TokenManager(DbTokenStore(sessions), CIPHER, never).store_tokens(account, _grant(1))
    newest = TokenCipher([K2, K1])
    store = DbTokenStore(sessions)
    assert await store.rotate_all(lambda sealed: sealed.rotated(newest)) == 1
    assert await store.rotate_all(lambda sealed: sealed.rotated(newest)) == 0
    sealed = await store.load(account)
    assert sealed is not None and newest.key_id_of(sealed.access_token_enc) == "k2"
    only_new = TokenCipher([K2])
    assert sealed.unseal(only_new).refresh_token == "rft.1"
    assert await TokenManager(store, only_new, never).get_valid_token(account) == "act.1"


async def test_cleared_tokens_ask_for_a_reconnect(sessions: Sessions) -> None:
    account = await new_account(sessions)

    async def never(_: str) -> TokenSet:
        raise AssertionError("no refresh expected")

    tokens = TokenManager(DbTokenStore(sessions), CIPHER, never)
    await tokens.store_tokens(account, _grant(1))
    await tokens.clear_token(account)
    assert await tokens.token_info(account) is None
    with pytest.raises(TikTokError) as caught:
        await tokens.get_valid_token(account)
    assert caught.value.code == "access_token_invalid"
    assert await DbTokenStore(sessions).load("not-a-uuid") is None
