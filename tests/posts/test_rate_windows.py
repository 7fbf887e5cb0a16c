"""Rate windows against the X simulator over real HTTP: a 429 holds the account it names (or
the whole app) in the database, every publisher honours it, and it ends on time."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import Clock, clock
from allin.core.config import Settings, social_callback_path
from allin.db.engine import create_engine, create_session_factory
from allin.posts import ops, queue, windows
from allin.posts.media import MediaStore
from allin.posts.models import Post, PostTarget, RateWindow, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.ports import AccountRef, PublishingAccounts
from allin.posts.publisher import Publisher
from allin.simulator.social.x import XConfig, XState, create_x_simulator
from allin.simulator.social.x.config import XUser
from allin.social.providers.base import (
    AccountCredentials,
    ContentRules,
    LimitScope,
    Platform,
    ProviderConfig,
    SocialProvider,
    SocialProviderError,
)
from allin.social.providers.facebook import FacebookProvider
from allin.social.providers.oauth import code_challenge, new_code_verifier
from allin.social.providers.x import XProvider
from tests.social.providers.meta_env import running
from tests.social.providers.support import FAST_RETRY, follow_consent
from tests.support.server import serve

REDIRECT = "http://127.0.0.1:5000" + social_callback_path("x")
USERS = [XUser("1001", "alice_x", "Alice"), XUser("1002", "bob_x", "Bob")]


@dataclass
class SimAccounts:
    """The accounts port over X accounts connected to the simulator through real OAuth."""

    provider: XProvider
    owner_id: uuid.UUID
    credentials_by_id: dict[uuid.UUID, AccountCredentials] = field(default_factory=dict)

    async def connect(self, handle: str) -> uuid.UUID:
        verifier = new_code_verifier()
        url = self.provider.authorization_url("st", code_challenge(verifier))
        callback = await follow_consent(url, sim_user=handle)
        token = await self.provider.exchange_code(callback["code"], verifier)
        [me] = await self.provider.identities(token)
        account_id = uuid.uuid4()
        self.credentials_by_id[account_id] = AccountCredentials(
            me.platform_user_id, token.access_token
        )
        return account_id

    async def account(self, account_id: uuid.UUID) -> AccountRef | None:
        return AccountRef(account_id, self.owner_id, Platform.X, "x")

    async def credentials(self, account_id: uuid.UUID) -> tuple[SocialProvider, AccountCredentials]:
        return self.provider, self.credentials_by_id[account_id]

    async def needs_reconnect(self, account_id: uuid.UUID, error: SocialProviderError) -> None:
        raise AssertionError(f"no account should need reconnecting: {error}")

    def content_rules(self, platform: Platform) -> ContentRules | None:
        return XProvider.rules


@dataclass
class World:
    sim: XState | None
    accounts: PublishingAccounts
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    owner_id: uuid.UUID
    publishers: list[Publisher] = field(default_factory=list)

    def publisher(self, sessions: async_sessionmaker[AsyncSession] | None = None) -> Publisher:
        media = MediaStore(self.settings.data_dir / "media", self.settings.posts_max_upload_bytes)
        notifier = Notifier(self.settings, None)
        name = f"test-{len(self.publishers)}"
        publisher = Publisher(
            self.settings, sessions or self.sessions, self.accounts, media, notifier, name
        )
        self.publishers.append(publisher)
        return publisher

    @property
    def state(self) -> XState:
        assert self.sim is not None
        return self.sim

    def tweets(self, author: str) -> list[str]:
        return [t.text for t in self.state.tweets.values() if t.author_id == author]


async def connect(world: World, handle: str) -> uuid.UUID:
    assert isinstance(world.accounts, SimAccounts)
    return await world.accounts.connect(handle)


@pytest.fixture
async def world(
    make_settings: Callable[..., Settings],
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
) -> AsyncIterator[World]:
    app = create_x_simulator(XConfig(users=list(USERS)))
    async with serve(app) as url:
        config = ProviderConfig("sim-x-client-id", "sim-x-client-secret", REDIRECT, url, url)
        provider = XProvider(config, retry=FAST_RETRY, timeout=5.0)
        settings = make_settings(database_url=database_url)
        yield World(app.state.sim, SimAccounts(provider, owner_id), sessions, settings, owner_id)
        await provider.aclose()


async def add_target(
    world: World, account_id: uuid.UUID, text: str, platform: str = "x"
) -> uuid.UUID:
    now = clock.now()
    async with world.sessions() as session, session.begin():
        post = Post(owner_id=world.owner_id, content=text, timezone="UTC")
        session.add(post)
        await session.flush()
        target = PostTarget(
            post_id=post.id,
            owner_id=world.owner_id,
            account_id=account_id,
            platform=platform,
            status=TargetStatus.SCHEDULED,
            scheduled_at=now,
            next_attempt_at=now,
        )
        session.add(target)
    return target.id


async def run(publisher: Publisher, target_id: uuid.UUID) -> PostTarget:
    """Claims the one target (if due) and lets the publisher handle it."""
    async with publisher.writing() as session:
        claimed = await queue.claim(
            session, publisher.owner, clock.now(), publisher.lease, 1, target_id
        )
    assert claimed == [target_id], "the target is not due"
    await publisher.run(target_id)
    async with publisher.sessions() as session:
        target = await session.get(PostTarget, target_id)
    assert target is not None
    return target


def assert_held(target: PostTarget, until: datetime, who: str) -> None:
    assert target.status == TargetStatus.SCHEDULED
    assert target.last_error_code == "SOCIAL_003"
    assert target.next_attempt_at == until
    assert target.attempts == 0 and target.sent_at is None  # not sent, no attempt counted
    assert until.isoformat() in (target.last_error or "") and who in (target.last_error or "")


async def open_windows(world: World) -> list[RateWindow]:
    async with world.sessions() as session:
        return await windows.active(session, clock.now())


async def test_an_account_limit_holds_that_account_only_and_every_publisher_sees_it(
    world: World, database_url: str
) -> None:
    world.state.config.user_limits["tweets.create"] = 1  # per user per 15 minutes
    alice = await connect(world, "alice_x")
    bob = await connect(world, "bob_x")
    first = world.publisher()
    assert (await run(first, await add_target(world, alice, "a1"))).status == "PUBLISHED"
    limited = await run(first, await add_target(world, alice, "a2"))
    assert limited.status == TargetStatus.SCHEDULED and limited.last_error_code == "SOCIAL_003"
    [window] = await open_windows(world)
    assert (window.scope, window.platform, window.key) == ("account", "x", str(alice))
    reset = world.state.windows.peek(("tweets.create", "1001"), 900.0).reset_at
    assert window.until.timestamp() == math.ceil(reset)  # x-rate-limit-reset
    assert limited.next_attempt_at == window.until

    # Another process: its own engine and publisher, only the database in common.
    engine = create_engine(database_url)
    try:
        second = world.publisher(create_session_factory(engine))
        held = await run(second, await add_target(world, alice, "a3"))
        assert_held(held, window.until, "this account")
        assert (await run(second, await add_target(world, bob, "b1"))).status == "PUBLISHED"
    finally:
        await engine.dispose()
    assert world.tweets("1001") == ["a1"] and world.tweets("1002") == ["b1"]


async def test_an_app_limit_holds_every_account_of_the_platform(world: World) -> None:
    world.state.config.app_limits["tweets.create"] = (1, 86_400.0)
    alice = await connect(world, "alice_x")
    bob = await connect(world, "bob_x")
    publisher = world.publisher()
    assert (await run(publisher, await add_target(world, alice, "a1"))).status == "PUBLISHED"
    await run(publisher, await add_target(world, bob, "b1"))  # over the app's day
    [window] = await open_windows(world)
    assert (window.scope, window.platform, window.key) == ("app", "x", windows.APP_KEY)
    assert timedelta(hours=23) < window.until - clock.now() <= timedelta(hours=24, seconds=1)
    calls = world.state.faults.calls.get("tweets.create", 0)
    for account in (alice, bob):
        held = await run(publisher, await add_target(world, account, "held"))
        assert_held(held, window.until, "the app")
    assert world.state.faults.calls.get("tweets.create", 0) == calls  # nothing was sent
    async with world.sessions() as session:
        status = await ops.queue_status(session, world.settings)
    assert [(w.scope, w.key, w.until) for w in status.rate_windows] == [
        ("app", "app", window.until)
    ]


class Moved(Clock):
    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return Clock.now(clock) + self.offset


@pytest.fixture
def moved(monkeypatch: pytest.MonkeyPatch) -> Moved:
    movable = Moved()
    monkeypatch.setattr(clock, "now", movable.now)
    return movable


async def test_a_window_ends_on_time_and_is_swept(world: World, moved: Moved) -> None:
    world.state.config.user_limits["tweets.create"] = 1
    alice = await connect(world, "alice_x")
    publisher = world.publisher()
    await run(publisher, await add_target(world, alice, "a1"))
    limited = await run(publisher, await add_target(world, alice, "a2"))
    [window] = await open_windows(world)
    waiting = await add_target(world, alice, "a3")

    moved.offset = window.until - Clock.now(clock) - timedelta(seconds=1)
    assert_held(await run(publisher, waiting), window.until, "this account")
    assert await open_windows(world)

    moved.offset = window.until - Clock.now(clock)  # the reset moment: sending again
    assert (await run(publisher, limited.id)).status == "PUBLISHED"
    assert await open_windows(world) == []
    async with world.sessions() as session, session.begin():
        assert await windows.sweep(session, clock.now()) == 1
        assert await session.scalar(select(func.count()).select_from(RateWindow)) == 0
    assert world.tweets("1001") == ["a1", "a2"]


async def test_a_meta_app_limit_holds_facebook_and_instagram(world: World) -> None:
    """One Meta app serves both, so an app-level limit on either holds the other."""
    page, ig, x_account = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = clock.now()
    until = now + timedelta(minutes=15)
    async with world.sessions() as session, session.begin():
        await windows.open_window(
            session, Platform.INSTAGRAM, ig, LimitScope.APP, until, "(#4) app limit", now
        )
        # a shorter limit later does not shorten the open window; a longer one extends it
        await windows.open_window(
            session, Platform.FACEBOOK, page, LimitScope.APP, now + timedelta(minutes=1), None, now
        )
    async with world.sessions() as session:
        for platform, account in (("facebook", page), ("instagram", ig)):
            held = await windows.holding(session, platform, account, now)
            assert held is not None and held.until == until and held.reason == "(#4) app limit"
        assert await windows.holding(session, "x", x_account, now) is None
        assert await windows.holding(session, "instagram", ig, until) is None  # ended
    later = until + timedelta(hours=1)
    async with world.sessions() as session, session.begin():
        await windows.open_window(
            session, Platform.FACEBOOK, page, LimitScope.ACCOUNT, later, "(#32) Page", now
        )
    async with world.sessions() as session:
        held = await windows.holding(session, "facebook", page, now)
        assert held is not None and held.until == later and held.scope == "account"
        other = await windows.holding(session, "facebook", uuid.uuid4(), now)
        assert other is not None and other.until == until and other.scope == "app"


async def test_a_held_account_is_not_read_back_before_the_window_ends(world: World) -> None:
    """Reconciling reads the platform (and on LinkedIn may send again): it waits too."""
    alice = await connect(world, "alice_x")
    target_id = await add_target(world, alice, "sent, answer lost")
    now = clock.now()
    until = now + timedelta(minutes=10)
    async with world.sessions() as session, session.begin():
        target = await session.get(PostTarget, target_id)
        assert target is not None
        target.status, target.sent_at, target.attempts = TargetStatus.UNCONFIRMED, now, 1
        await windows.open_window(
            session, Platform.X, alice, LimitScope.ACCOUNT, until, "Too Many Requests", now
        )
    calls = dict(world.state.faults.calls)
    checked = await run(world.publisher(), target_id)
    assert checked.status == TargetStatus.UNCONFIRMED and checked.next_attempt_at == until
    assert until.isoformat() in (checked.last_error or "") and checked.attempts == 1
    assert dict(world.state.faults.calls) == calls  # the platform was not asked


async def test_processes_opening_the_same_window_at_once_keep_one_row_and_the_last_end(
    world: World, database_url: str
) -> None:
    account, now = uuid.uuid4(), clock.now()
    ends = [now + timedelta(seconds=60 + i) for i in range(12)]
    engine = create_engine(database_url)
    factories = [world.sessions, create_session_factory(engine)]

    async def open_one(index: int) -> None:
        async with factories[index % 2]() as session, session.begin():
            await windows.open_window(
                session, Platform.X, account, LimitScope.ACCOUNT, ends[index], str(index), now
            )

    try:
        await asyncio.gather(*(open_one(i) for i in (5, 11, 0, 7, 3, 9, 1, 10, 2, 8, 4, 6)))
    finally:
        await engine.dispose()
    [window] = await open_windows(world)
    assert window.until == ends[-1] and window.reason == "11"


@dataclass
class MetaAccounts:
    """The accounts port over the Meta simulator's Page, and an Instagram account that is
    never called (content rules are not under test here, so any text passes)."""

    provider: FacebookProvider
    page: AccountCredentials
    owner_id: uuid.UUID

    async def account(self, account_id: uuid.UUID) -> AccountRef | None:
        return AccountRef(account_id, self.owner_id, Platform.FACEBOOK)

    async def credentials(self, account_id: uuid.UUID) -> tuple[SocialProvider, AccountCredentials]:
        return self.provider, self.page

    async def needs_reconnect(self, account_id: uuid.UUID, error: SocialProviderError) -> None:
        raise AssertionError(error)

    def content_rules(self, platform: Platform) -> ContentRules | None:
        return ContentRules(text_limit=63_206)


async def test_a_meta_app_limit_on_a_page_holds_the_instagram_accounts_too(
    make_settings: Callable[..., Settings],
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
) -> None:
    async for env in running(FacebookProvider):
        _, page = await env.account()
        assert isinstance(env.provider, FacebookProvider)
        accounts = MetaAccounts(env.provider, page, owner_id)
        settings = make_settings(database_url=database_url)
        world = World(None, accounts, sessions, settings, owner_id)
        publisher = world.publisher()
        page_account, ig_account = uuid.uuid4(), uuid.uuid4()
        env.state.faults.inject("page.feed", "usage_cap")  # (#341) Application limit reached
        page_target = await add_target(world, page_account, "on the Page", "facebook")
        limited = await run(publisher, page_target)
        assert limited.last_error_code == "SOCIAL_003" and "the app" in (limited.last_error or "")
        opened = await open_windows(world)
        assert sorted((w.scope, w.platform) for w in opened) == [
            ("app", "facebook"),
            ("app", "instagram"),
        ]
        calls = dict(env.state.faults.calls)
        ig_target = await add_target(world, ig_account, "on Instagram", "instagram")
        held = await run(publisher, ig_target)
        assert_held(held, opened[0].until, "the app")
        assert dict(env.state.faults.calls) == calls
