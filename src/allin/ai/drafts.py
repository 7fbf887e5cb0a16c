"""Drafts saved from AI results: a user's own post texts per platform, until the publishing
domain adopts them as draft posts."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.ai.models import AiDraft
from allin.ai.schemas import DraftOut
from allin.core.errors import NotFoundError


class Drafts:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = session_factory

    async def save(
        self,
        owner_id: uuid.UUID,
        platform: str,
        content: str,
        source: str,
        details: dict[str, Any],
    ) -> uuid.UUID:
        async with self.sessions() as db:
            draft = AiDraft(
                owner_id=owner_id,
                platform=platform,
                content=content,
                source=source,
                details=details,
            )
            db.add(draft)
            await db.commit()
            return draft.id

    async def _owned(self, db: AsyncSession, owner_id: uuid.UUID, draft_id: uuid.UUID) -> AiDraft:
        draft = await db.scalar(
            select(AiDraft).where(AiDraft.id == draft_id, AiDraft.owner_id == owner_id)
        )
        if draft is None:  # someone else's draft is as invisible as a missing one
            raise NotFoundError("Draft not found")
        return draft

    async def get(self, owner_id: uuid.UUID, draft_id: uuid.UUID) -> DraftOut:
        async with self.sessions() as db:
            return DraftOut.model_validate(await self._owned(db, owner_id, draft_id))

    async def list(self, owner_id: uuid.UUID, limit: int) -> list[DraftOut]:
        async with self.sessions() as db:
            rows = await db.scalars(
                select(AiDraft)
                .where(AiDraft.owner_id == owner_id)
                .order_by(AiDraft.created_at.desc())
                .limit(limit)
            )
            return [DraftOut.model_validate(row) for row in rows]

    async def delete(self, owner_id: uuid.UUID, draft_id: uuid.UUID) -> None:
        async with self.sessions() as db:
            await db.delete(await self._owned(db, owner_id, draft_id))
            await db.commit()
