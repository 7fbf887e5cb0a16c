"""A TokenStore in one JSON file (0600), for the CLI's desktop login; tokens stay encrypted."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from allin.tiktok.tokens import SealedToken, TokenRow, unlocked

_DATES = ("expires_at", "refresh_expires_at", "issued_at", "refreshed_at")


def _encode(token: SealedToken) -> dict[str, Any]:
    row = asdict(token)
    for key in _DATES:
        row[key] = row[key].isoformat() if row[key] else None
    row["scopes"] = list(token.scopes)
    return row


def _decode(row: dict[str, Any]) -> SealedToken:
    values = dict(row)
    for key in _DATES:
        values[key] = datetime.fromisoformat(values[key]) if values.get(key) else None
    values["scopes"] = tuple(values.get("scopes") or ())
    values.setdefault("bound", False)  # files written before tokens were bound to accounts
    return SealedToken(**values)


class FileTokenStore:
    def __init__(self, path: Path) -> None:
        self.path = anyio.Path(path)

    async def load(self, account_id: str) -> SealedToken | None:
        row = (await self._rows()).get(account_id)
        return _decode(row) if row else None

    async def save(self, token: SealedToken) -> None:
        rows = await self._rows()
        rows[token.account_id] = _encode(token)
        await self._write(rows)

    async def delete(self, account_id: str) -> None:
        rows = await self._rows()
        if rows.pop(account_id, None) is not None:
            await self._write(rows)

    async def account_for_open_id(self, open_id: str) -> str | None:
        rows = await self._rows()
        return next((k for k, row in rows.items() if row.get("open_id") == open_id), None)

    def locked(self, account_id: str) -> AbstractAsyncContextManager[TokenRow]:
        return unlocked(self, account_id)

    async def accounts(self) -> list[str]:
        return sorted(await self._rows())

    async def rotate(self, rotate: Callable[[SealedToken], SealedToken]) -> int:
        """Re-encrypt every stored token (`SealedToken.rotated`); returns how many changed."""
        rows = await self._rows()
        changed = 0
        for account_id, row in rows.items():
            sealed = _decode(row)
            rotated = rotate(sealed)
            if rotated != sealed:
                rows[account_id] = _encode(rotated)
                changed += 1
        if changed:
            await self._write(rows)
        return changed

    async def _rows(self) -> dict[str, Any]:
        if not await self.path.exists():
            return {}
        data = json.loads(await self.path.read_text("utf-8"))
        return data if isinstance(data, dict) else {}

    async def _write(self, rows: dict[str, Any]) -> None:
        await self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        await temp.write_text(json.dumps(rows, indent=2), "utf-8")
        await anyio.to_thread.run_sync(os.chmod, temp, 0o600)
        await temp.replace(self.path)
