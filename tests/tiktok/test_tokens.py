"""Token manager: encrypted storage, refresh ahead of expiry, single-flight, disconnects."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from allin.core.clock import utcnow
from allin.core.crypto import EncryptionKey, TokenCipher
from allin.simulator.open_api import PROFILE_2026
from allin.tiktok.client import TikTokClient
from allin.tiktok.errors import TikTokError, TikTokErrorType
from allin.tiktok.models import TokenSet
from allin.tiktok.tokens import InMemoryTokenStore, SealedToken, TokenManager
from tests.tiktok.conftest import MovableClock, Sim, connect

CIPHER = TokenCipher([EncryptionKey("k1", b"1" * 32)])


def token_set(n: int, *, expires_in: int = 7_200, refresh: str | None = "rft.1") -> TokenSet:
    return TokenSet(
        access_token=f"act.{n}",
        expires_in=expires_in,
        refresh_token=refresh,
        refresh_expires_in=86_400,
        open_id="open-1",
        scope=["user.info.basic"],
        issued_at=utcnow(),
    )


class FakeRefresher:
    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.error: TikTokError | None = None

    async def __call__(self, refresh_token: str) -> TokenSet:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.error:
            raise self.error
        return token_set(100 + self.calls, refresh=f"rft.{100 + self.calls}")


def manager(
    refresher: FakeRefresher, margin: float = 600
) -> tuple[TokenManager, InMemoryTokenStore]:
    store = InMemoryTokenStore()
    return TokenManager(store, CIPHER, refresher, refresh_margin=margin), store


async def test_tokens_are_encrypted_at_rest() -> None:
    tokens, store = manager(FakeRefresher())
    await tokens.store_tokens("acc", token_set(1))
    row = store.rows["acc"]
    assert "act.1" not in row.access_token_enc and "rft.1" not in (row.refresh_token_enc or "")
    assert row.unseal(CIPHER).access_token == "act.1"
    info = await tokens.token_info("acc")
    assert info is not None and info.open_id == "open-1" and info.expires_at > utcnow()


async def test_cached_path_is_fast_and_skips_the_store() -> None:
    tokens, store = manager(FakeRefresher())
    await tokens.store_tokens("acc", token_set(1))
    loads = store.loads
    started = time.perf_counter()
    for _ in range(10_000):
        assert await tokens.get_valid_token("acc") == "act.1"
    per_call = (time.perf_counter() - started) / 10_000
    assert per_call < 50e-6  # microseconds, not milliseconds
    assert store.loads == loads


async def test_refresh_ahead_of_expiry(moved: MovableClock) -> None:
    refresher = FakeRefresher()
    tokens, store = manager(refresher, margin=600)
    await tokens.store_tokens("acc", token_set(1, expires_in=7_200))
    moved.advance(7_200 - 601)
    assert await tokens.get_valid_token("acc") == "act.1"
    moved.advance(2)
    assert await tokens.get_valid_token("acc") == "act.101"
    assert refresher.calls == 1
    assert store.rows["acc"].unseal(CIPHER).refresh_token == "rft.101"  # rotation kept


async def test_margin_never_exceeds_half_the_lifetime(moved: MovableClock) -> None:
    refresher = FakeRefresher()
    tokens, _ = manager(refresher, margin=600)
    await tokens.store_tokens("acc", token_set(1, expires_in=60))
    assert await tokens.get_valid_token("acc") == "act.1"
    moved.advance(31)
    assert await tokens.get_valid_token("acc") == "act.101"


async def test_fifty_concurrent_callers_share_one_refresh(moved: MovableClock) -> None:
    refresher = FakeRefresher(delay=0.05)
    tokens, _ = manager(refresher)
    await tokens.store_tokens("acc", token_set(1))
    moved.advance(7_200)
    results = await asyncio.gather(*(tokens.get_valid_token("acc") for _ in range(50)))
    assert set(results) == {"act.101"}
    assert refresher.calls == 1


async def test_cancelled_caller_does_not_cancel_shared_refresh(moved: MovableClock) -> None:
    refresher = FakeRefresher(delay=0.05)
    tokens, _ = manager(refresher)
    await tokens.store_tokens("acc", token_set(1))
    moved.advance(7_200)
    first = asyncio.create_task(tokens.get_valid_token("acc"))
    second = asyncio.create_task(tokens.get_valid_token("acc"))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == "act.101"
    assert refresher.calls == 1


async def test_invalid_grant_disconnects(moved: MovableClock) -> None:
    refresher = FakeRefresher()
    refresher.error = TikTokError("invalid_grant")
    tokens, store = manager(refresher)
    await tokens.store_tokens("acc", token_set(1))
    moved.advance(7_200)
    with pytest.raises(TikTokError) as caught:
        await tokens.get_valid_token("acc")
    assert caught.value.type is TikTokErrorType.TOKEN_EXPIRED
    assert "acc" not in store.rows


async def test_rotation_by_another_worker_is_not_a_disconnect(moved: MovableClock) -> None:
    """Two processes share one store; the other one rotates the refresh token under us."""
    store = InMemoryTokenStore()
    winner = TokenManager(store, CIPHER, FakeRefresher())

    async def lose_the_race(refresh_token: str) -> TokenSet:
        assert refresh_token == "rft.1"
        await winner.get_valid_token("acc")  # the other worker refreshes first ...
        raise TikTokError("invalid_grant")  # ... so TikTok rejects our old refresh token

    loser = TokenManager(store, CIPHER, lose_the_race)
    await winner.store_tokens("acc", token_set(1))
    moved.advance(7_200)
    assert await loser.get_valid_token("acc") == "act.101"
    assert "acc" in store.rows


async def test_outage_during_refresh_uses_still_valid_token(moved: MovableClock) -> None:
    refresher = FakeRefresher()
    refresher.error = TikTokError("internal_error")
    tokens, _ = manager(refresher)
    await tokens.store_tokens("acc", token_set(1))
    moved.advance(7_000)  # inside the margin, not yet expired
    assert await tokens.get_valid_token("acc") == "act.1"
    moved.advance(300)  # now expired: the outage surfaces
    with pytest.raises(TikTokError) as caught:
        await tokens.get_valid_token("acc")
    assert caught.value.retryable


async def test_missing_and_cleared() -> None:
    tokens, _ = manager(FakeRefresher())
    with pytest.raises(TikTokError):
        await tokens.get_valid_token("nobody")
    await tokens.store_tokens("acc", token_set(1, refresh=None))
    await tokens.clear_token("acc")
    assert await tokens.token_info("acc") is None
    with pytest.raises(TikTokError):
        await tokens.get_valid_token("acc")


async def test_refresh_without_refresh_token(moved: MovableClock) -> None:
    tokens, _ = manager(FakeRefresher())
    await tokens.store_tokens("acc", token_set(1, refresh=None))
    moved.advance(7_200)
    with pytest.raises(TikTokError) as caught:
        await tokens.get_valid_token("acc")
    assert caught.value.type is TikTokErrorType.TOKEN_EXPIRED


def test_sealed_rotation() -> None:
    new = TokenCipher([EncryptionKey("k2", b"2" * 32), EncryptionKey("k1", b"1" * 32)])
    from allin.tiktok.tokens import StoredToken

    stored = StoredToken("acc", "act.1", utcnow() + timedelta(hours=1), refresh_token="rft.1")
    sealed = SealedToken.seal(stored, CIPHER)
    rotated = sealed.rotated(new)
    assert new.key_id_of(rotated.access_token_enc) == "k2"
    assert rotated.unseal(new) == stored


# --- against the simulator ---


async def test_expired_access_token_refreshed_via_simulator(
    tiktok: TikTokClient, sim: Sim, moved: MovableClock
) -> None:
    sim.config.token_profile = PROFILE_2026
    grant = await connect(tiktok)
    tokens = TokenManager(InMemoryTokenStore(), CIPHER, tiktok.refresh)
    await tokens.store_tokens("acc", grant)
    moved.advance(7_200 + 1)
    with pytest.raises(TikTokError) as caught:
        await tiktok.user_info(grant.access_token)
    assert caught.value.type is TikTokErrorType.INVALID_TOKEN
    fresh = await asyncio.gather(*(tokens.get_valid_token("acc") for _ in range(50)))
    assert len(set(fresh)) == 1 and fresh[0] != grant.access_token
    assert (await tiktok.user_info(fresh[0])).open_id == grant.open_id
    assert sim.world.calls["token"] == 2  # the code exchange and ONE refresh


async def test_token_rejected_early_is_refreshed_once(tiktok: TikTokClient, sim: Sim) -> None:
    grant = await connect(tiktok)
    tokens = TokenManager(InMemoryTokenStore(), CIPHER, tiktok.refresh)
    await tokens.store_tokens("acc", grant)
    sim.world.expire_access_token(grant.access_token)  # TikTok-side invalidation
    info = await tokens.call_with_token("acc", tiktok.user_info)
    assert info.open_id == grant.open_id


async def test_revoked_consent_disconnects(tiktok: TikTokClient, sim: Sim) -> None:
    grant = await connect(tiktok)
    store = InMemoryTokenStore()
    tokens = TokenManager(store, CIPHER, tiktok.refresh)
    await tokens.store_tokens("acc", grant)
    sim.world.remove_authorization(grant.open_id or "", reason=1)
    with pytest.raises(TikTokError) as caught:
        await tokens.call_with_token("acc", tiktok.user_info)
    assert caught.value.type is TikTokErrorType.TOKEN_EXPIRED
    assert "acc" not in store.rows
