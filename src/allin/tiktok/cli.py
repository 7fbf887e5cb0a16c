"""`allin tiktok ...`: desktop login (PKCE + loopback redirect), post, status, analytics, key
rotation, the server's circuit breaker, and the simulator.

Tokens from `login` are kept encrypted in `<data_dir>/tiktok-cli-tokens.json`; `analytics` and
`rotate-keys` also work on the accounts users connected through the server (its database).
Point the CLI at the simulator with ALLIN_TIKTOK_API_URL / ALLIN_TIKTOK_AUTH_URL.
"""

from __future__ import annotations

import asyncio
import webbrowser
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table
from sqlalchemy import or_, select

from allin.core.config import Settings, get_settings
from allin.core.crypto import CryptoError, cipher_from_settings
from allin.db.engine import create_engine, create_session_factory
from allin.social.models import AccountStatus, SocialAccount
from allin.tiktok import analytics as analytics_mod
from allin.tiktok.analytics import AnalyticsSnapshot, DailySnapshot
from allin.tiktok.client import TikTokClient, TikTokConfig
from allin.tiktok.errors import TikTokError
from allin.tiktok.filestore import FileTokenStore
from allin.tiktok.models import PrivacyLevel, VideoPostInfo
from allin.tiktok.oauth import parse_callback
from allin.tiktok.publish import PollPolicy, Publisher, PublishRecord
from allin.tiktok.service import TikTokService
from allin.tiktok.stores import IS_TIKTOK, DbTokenStore, Sessions, as_uuid
from allin.tiktok.tokens import TokenManager

app = typer.Typer(help="TikTok Open API: login, post, status, analytics, keys, the simulator.")
simulator_app = typer.Typer(help="The TikTok Open API simulator.")
app.add_typer(simulator_app, name="simulator")
console = Console()

CALLBACK_PATH = "/callback/"
DEFAULT_ACCOUNT = "default"


def _settings() -> Settings:
    return get_settings()


def _store(settings: Settings) -> FileTokenStore:
    return FileTokenStore(settings.data_dir / "tiktok-cli-tokens.json")


def _manager(settings: Settings, client: TikTokClient) -> TokenManager:
    return TokenManager(
        _store(settings),
        cipher_from_settings(settings),
        client.refresh,
        refresh_margin=settings.tiktok_token_refresh_margin,
    )


def _fail(error: TikTokError) -> typer.Exit:
    console.print(f"[red]{error.user_message}[/] ({error.code}; {error.message})")
    return typer.Exit(1)


# --- login: desktop flow with a loopback redirect ---


async def _wait_for_callback(port_holder: asyncio.Future[int]) -> dict[str, str]:
    received: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode("latin-1")
        while (await reader.readline()).strip():
            pass  # headers
        target = request_line.split(" ")[1] if " " in request_line else "/"
        query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
            b"AllIN: you can close this window.\r\n"
        )
        await writer.drain()
        writer.close()
        if urlsplit(target).path == CALLBACK_PATH and not received.done():
            received.set_result(query)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port_holder.set_result(server.sockets[0].getsockname()[1])
    async with server:
        return await received


async def _login(account: str, follow: bool, open_browser: bool) -> None:
    settings = _settings()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiter = asyncio.create_task(_wait_for_callback(port))
    redirect_uri = f"http://127.0.0.1:{await port}{CALLBACK_PATH}"
    async with TikTokClient(TikTokConfig.from_settings(settings)) as client:
        url, state = client.authorization_url(redirect_uri=redirect_uri)
        if follow:  # e.g. the simulator with auto-consent: act as the browser ourselves
            async with httpx.AsyncClient(follow_redirects=True) as browser:
                await browser.get(url)
        elif open_browser:
            webbrowser.open(url)
            console.print(f"Opened your browser. If it did not open, visit:\n{url}")
        else:
            console.print(f"Open this URL to connect TikTok:\n{url}")
        query = await asyncio.wait_for(waiter, timeout=settings.tiktok_state_ttl)
        callback = parse_callback(query, expected_state=state)
        tokens = await client.exchange_code(callback.code, state=state, redirect_uri=redirect_uri)
        await _manager(settings, client).store_tokens(account, tokens)
    console.print(
        f"[green]Connected[/] TikTok account {tokens.open_id} as '{account}' "
        f"(scopes: {', '.join(tokens.scope)}; access token for {tokens.expires_in} s)"
    )


@app.command()
def login(
    account: Annotated[str, typer.Option(help="Local name for this account")] = DEFAULT_ACCOUNT,
    follow: Annotated[
        bool, typer.Option(help="Fetch the authorize URL ourselves (simulator auto-consent)")
    ] = False,
    browser: Annotated[bool, typer.Option(help="Open the system browser")] = True,
) -> None:
    """Connect a TikTok account (desktop flow: PKCE + loopback redirect)."""
    try:
        asyncio.run(_login(account, follow, browser))
    except TikTokError as error:
        raise _fail(error) from None


# --- post and status ---


def _print_record(record: PublishRecord) -> None:
    console.print(f"publish_id: [cyan]{record.publish_id}[/]  state: [bold]{record.state}[/]")
    if record.post_ids:
        console.print(f"post ids: {', '.join(record.post_ids)}")
    if record.fail_reason:
        console.print(f"fail reason: {record.fail_reason}")


async def _post(
    path: Path, size: int, account: str, info: VideoPostInfo | None, wait: bool, chunk_size: int
) -> PublishRecord:
    settings = _settings()
    async with TikTokClient(TikTokConfig.from_settings(settings)) as client:
        token = await _manager(settings, client).get_valid_token(account)
        poll = PollPolicy(
            initial=settings.tiktok_status_poll_initial,
            maximum=settings.tiktok_status_poll_max,
            timeout=settings.tiktok_status_poll_timeout,
        )
        publisher = Publisher(client, poll=poll, chunk_size=chunk_size)
        columns = (*Progress.get_default_columns()[:2], BarColumn(), DownloadColumn())
        with Progress(*columns, TransferSpeedColumn(), console=console) as progress:
            task = progress.add_task(f"Uploading {path.name}", total=size)
            record = await publisher.publish_file(
                token,
                path,
                info,
                account_id=account,
                wait=False,
                on_progress=lambda done, _: progress.update(task, completed=done),
            )
        if wait:
            console.print("TikTok is processing the video; this can take a few minutes.")
            record = await publisher.wait(token, record)
        return record


@app.command()
def post(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    privacy: Annotated[
        PrivacyLevel | None,
        typer.Option(help="Required for a direct post (no default, per TikTok's rules)"),
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="Caption (hashtags and @mentions allowed)")
    ] = None,
    inbox: Annotated[bool, typer.Option(help="Upload as a draft to the TikTok inbox")] = False,
    disable_comment: bool = False,
    disable_duet: bool = False,
    disable_stitch: bool = False,
    cover_ms: Annotated[int | None, typer.Option(help="Cover frame timestamp (ms)")] = None,
    account: str = DEFAULT_ACCOUNT,
    wait: Annotated[bool, typer.Option(help="Wait until TikTok finishes")] = True,
    chunk_size: Annotated[int, typer.Option(help="Preferred chunk size in bytes")] = 10_000_000,
) -> None:
    """Upload FILE in chunks (with a progress bar) and publish it, or send it to the inbox."""
    if not inbox and privacy is None:
        console.print("[red]Choose --privacy (or --inbox for a draft).[/]")
        raise typer.Exit(2)
    info = None
    if not inbox:
        assert privacy is not None
        info = VideoPostInfo(
            privacy_level=privacy,
            title=title,
            disable_comment=disable_comment,
            disable_duet=disable_duet,
            disable_stitch=disable_stitch,
            video_cover_timestamp_ms=cover_ms,
        )
    try:
        size = file.stat().st_size
        record = asyncio.run(_post(file, size, account, info, wait, chunk_size))
    except TikTokError as error:
        raise _fail(error) from None
    _print_record(record)


async def _status(publish_id: str, account: str) -> None:
    settings = _settings()
    async with TikTokClient(TikTokConfig.from_settings(settings)) as client:
        token = await _manager(settings, client).get_valid_token(account)
        status = await client.fetch_status(token, publish_id)
    console.print(f"{publish_id}: [bold]{status.status}[/]")
    if status.uploaded_bytes is not None:
        console.print(f"uploaded bytes: {status.uploaded_bytes}")
    if status.downloaded_bytes is not None:
        console.print(f"downloaded bytes: {status.downloaded_bytes}")
    if status.fail_reason:
        console.print(f"fail reason: {status.fail_reason}")
    if status.post_ids:
        console.print(f"post ids: {', '.join(status.post_ids)}")


@app.command()
def status(publish_id: str, account: str = DEFAULT_ACCOUNT) -> None:
    """Show a publish's status as TikTok reports it."""
    try:
        asyncio.run(_status(publish_id, account))
    except TikTokError as error:
        raise _fail(error) from None


# --- analytics ---


def _print_analytics(title: str, snapshot: AnalyticsSnapshot) -> None:
    console.print(f"[bold]{title}[/]")
    console.print(
        f"followers {_n(snapshot.followers)}  views {snapshot.views}  likes {snapshot.likes}  "
        f"comments {snapshot.comments}  shares {snapshot.shares}  "
        f"engagement {snapshot.engagement_rate:.2f}%",
        soft_wrap=True,
    )
    table = Table("video", "title", "views", "likes", "comments", "shares", "engagement %")
    for video in snapshot.videos:
        table.add_row(
            video.id,
            (video.title or "")[:40],
            str(video.views),
            str(video.likes),
            str(video.comments),
            str(video.shares),
            f"{video.engagement_rate:.2f}",
        )
    if snapshot.videos:
        console.print(table)


def _print_history(history: list[DailySnapshot]) -> None:
    table = Table("day", "followers", "views", "likes", "comments", "shares", "engagement %")
    for day in history:
        table.add_row(
            day.day.isoformat(),
            _n(day.followers),
            str(day.views),
            str(day.likes),
            str(day.comments),
            str(day.shares),
            f"{day.engagement_rate:.2f}",
        )
    console.print(table)


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


async def _local_analytics(account: str) -> None:
    settings = _settings()
    async with TikTokClient(TikTokConfig.from_settings(settings)) as client:
        tokens = _manager(settings, client)
        snapshot = await tokens.call_with_token(
            account, lambda token: analytics_mod.collect(client, token)
        )
    _print_analytics(account, snapshot)


async def _server_analytics(account: str | None, refresh: bool, days: int) -> int:
    async with _database() as sessions:
        service = TikTokService.with_database(_settings(), sessions)
        try:
            rows = await _accounts(sessions, account)
            for row in rows:
                label = f"{row.display_name or row.platform_user_id} ({row.id}, {row.status})"
                if refresh and row.status == AccountStatus.ACTIVE:
                    try:
                        _print_analytics(label, await service.analytics(str(row.id), fresh=True))
                    except TikTokError as error:
                        console.print(f"[red]{label}: {error.user_message}[/] ({error.code})")
                else:
                    console.print(f"[bold]{label}[/]")
                _print_history(await service.analytics_history(str(row.id), days))
        finally:
            await service.aclose()
    return len(rows)


async def _accounts(sessions: Sessions, account: str | None) -> list[SocialAccount]:
    query = select(SocialAccount).where(IS_TIKTOK).order_by(SocialAccount.connected_at)
    if account:
        named = [SocialAccount.platform_user_id == account, SocialAccount.display_name == account]
        key = as_uuid(account)  # open_ids may look like UUIDs too: match any of the three
        query = query.where(or_(*named, SocialAccount.id == key) if key else or_(*named))
    async with sessions() as db:
        return list(await db.scalars(query))


@asynccontextmanager
async def _database() -> AsyncIterator[Sessions]:
    engine = create_engine(_settings().effective_database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@app.command()
def analytics(
    account: Annotated[
        str | None, typer.Option(help="Account id, open_id or display name (default: all)")
    ] = None,
    refresh: Annotated[
        bool, typer.Option(help="Ask TikTok now and record today's snapshot (cron: daily)")
    ] = False,
    days: Annotated[int, typer.Option(min=1, max=366, help="History to show")] = 30,
    local: Annotated[
        str | None, typer.Option(help="Instead: live numbers for this `allin tiktok login` name")
    ] = None,
) -> None:
    """Views, likes, comments, shares, engagement rate, and their daily history."""
    try:
        if local is not None:
            asyncio.run(_local_analytics(local))
            return
        shown = asyncio.run(_server_analytics(account, refresh, days))
    except TikTokError as error:
        raise _fail(error) from None
    if not shown:
        console.print("No connected TikTok accounts" + (f" match {account!r}" if account else ""))
        raise typer.Exit(1)


# --- key rotation ---


async def _rotate_keys() -> tuple[int, int]:
    settings = _settings()
    cipher = cipher_from_settings(settings)
    local = await _store(settings).rotate(lambda sealed: sealed.rotated(cipher))
    async with _database() as sessions:
        stored = await DbTokenStore(sessions).rotate_all(lambda sealed: sealed.rotated(cipher))
    return stored, local


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored TikTok token under the newest ALLIN_TOKEN_ENCRYPTION_KEYS key.

    Put the new key first and keep the old ones listed until this has run."""
    key_id = cipher_from_settings(_settings()).current_key_id
    try:
        stored, local = asyncio.run(_rotate_keys())
    except CryptoError as error:
        console.print(f"[red]Cannot decrypt a stored token:[/] {error}. Is every old key listed?")
        raise typer.Exit(1) from None
    console.print(
        f"Tokens now under key [cyan]{key_id}[/]: {stored} connected account(s) re-encrypted, "
        f"{local} CLI login(s) re-encrypted"
    )


# --- the server's circuit breaker ---


def _server_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


@app.command()
def breaker(
    reset: Annotated[bool, typer.Option("--reset", help="Close the breakers now")] = False,
    url: Annotated[str | None, typer.Option(help="Server URL (default ALLIN_PUBLIC_URL)")] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="ALLIN_API_KEY", help="An admin's API key")
    ] = None,
) -> None:
    """Show (or reset) the running server's TikTok circuit breakers, via its admin API."""
    if not api_key:
        console.print("[red]An admin API key is needed:[/] --api-key or ALLIN_API_KEY")
        raise typer.Exit(2)
    base = (url or _server_url(_settings())).rstrip("/") + "/api/admin/tiktok/circuit-breaker"
    try:
        response = httpx.request(
            "POST" if reset else "GET",
            base + "/reset" if reset else base,
            headers={"x-api-key": api_key},
            timeout=10,
        )
    except httpx.HTTPError as error:
        console.print(f"[red]Cannot reach the server:[/] {error}")
        raise typer.Exit(1) from None
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    if response.status_code != 200:
        message = (body.get("error") or {}).get("message", response.text)
        console.print(f"[red]{response.status_code}:[/] {message}")
        raise typer.Exit(1)
    table = Table("breaker", "state", "failures", "calls", "rejected", "opened", "last failure")
    for item in body["data"].values():
        table.add_row(
            item["name"],
            item["state"],
            str(item["failures"]),
            str(item["total_calls"]),
            str(item["rejected_calls"]),
            str(item["times_opened"]),
            item["last_failure_time"] or "-",
        )
    console.print(table)


# --- the simulator ---


@simulator_app.command("serve")
def simulator_serve(
    host: str = "127.0.0.1",
    port: int = 9400,
    profile: Annotated[str, typer.Option(help="Token lifetimes: classic or 2026")] = "classic",
    unaudited: Annotated[bool, typer.Option(help="Behave as an unaudited client")] = False,
    manual_consent: Annotated[bool, typer.Option(help="Show the consent page")] = False,
    webhook_url: Annotated[str | None, typer.Option(help="Where to deliver webhooks")] = None,
) -> None:
    """Run the TikTok Open API simulator (client key/secret: sim-client-key/sim-client-secret)."""
    import uvicorn

    from allin.simulator.open_api import (
        CLASSIC,
        PROFILE_2026,
        SimulatorConfig,
        create_open_api_simulator,
    )

    config = SimulatorConfig(
        token_profile=PROFILE_2026 if profile == "2026" else CLASSIC,
        audited=not unaudited,
        auto_consent=not manual_consent,
        webhook_url=webhook_url,
        processing_delay=2.0,
        moderation_delay=3.0,
    )
    config.redirect_uris.append(f"http://127.0.0.1:*{CALLBACK_PATH}")
    console.print(
        f"TikTok Open API simulator on [cyan]http://{host}:{port}[/] "
        f"(client key {config.client_key}, secret {config.client_secret})"
    )
    uvicorn.run(create_open_api_simulator(config), host=host, port=port, log_config=None)
