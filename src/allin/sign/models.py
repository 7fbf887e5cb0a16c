"""Sign service usage: requests per API key per hour (the dashboard's chart)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from allin.db.base import Base


class SignUsage(Base):
    """One row per key and UTC hour; counters are added to, never overwritten, so every
    process of a deployment can flush into the same row."""

    __tablename__ = "sign_usage"

    api_key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(primary_key=True)  # start of the hour, UTC
    requests: Mapped[int] = mapped_column(Integer, default=0)
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)  # of which answered 429
