"""`allin sign ...`: sign a URL with the configured signer, or run the compatibility suite
against a running server."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Annotated

import httpx
import typer
from rich.console import Console

from allin.core.config import get_settings
from allin.sign.selftest import SUITE
from allin.sign.service import create_service
from allin.sign.signers import SignedUrl, SignerError

app = typer.Typer(help="Sign service: sign URLs, check a server's EulerStream compatibility.")
console = Console()


async def _sign(url: str, user_agent: str | None) -> SignedUrl:
    service = create_service(get_settings())
    await service.start()
    try:
        signed, _ = await service.sign(url, user_agent)
        return signed
    finally:
        await service.close()


@app.command("url")
def sign_url(
    url: str,
    user_agent: Annotated[str | None, typer.Option(help="User-Agent to bind to")] = None,
) -> None:
    """Sign URL with the configured signer (ALLIN_SIGNER) and print the result as JSON."""
    try:
        signed = asyncio.run(_sign(url, user_agent))
    except (ValueError, SignerError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    print(json.dumps(asdict(signed), indent=2))


@app.command("check")
def check(
    base_url: Annotated[str, typer.Argument(help="The server to test")] = "http://127.0.0.1:8000",
) -> None:
    """Run the eulerstream_compatibility suite on a running server; exit 1 if a check fails."""
    try:
        response = httpx.post(
            f"{base_url.rstrip('/')}/api/test/compatibility", json={"testSuite": SUITE}, timeout=120
        )
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        console.print(f"[red]cannot run the suite: {exc}[/]")
        raise typer.Exit(1) from exc
    if response.status_code != 200:
        console.print(f"[red]HTTP {response.status_code}: {body}[/]")
        raise typer.Exit(1)
    colours = {"passed": "green", "failed": "red", "skipped": "yellow"}
    for result in body["results"]:
        colour = colours[result["status"]]
        console.print(f"[{colour}]{result['status']:>7}[/] {result['name']}: {result['detail']}")
    console.print(f"signer {body['signer']}: {body['summary']}")
    if not body["passed"]:
        raise typer.Exit(1)
