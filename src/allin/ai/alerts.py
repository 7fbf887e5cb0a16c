"""One mail per credit period when a user's use passes the alert ratio (80 % by default).

The period row's `alerted_at` is claimed atomically by whoever crosses the ratio first (a
settle, or the periodic sweep); a mail that cannot be sent gives the claim back, so the next
sweep tries again and nobody gets it twice."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.ai.credits import Ledger
from allin.auth.email import EmailBackend
from allin.auth.models import User
from allin.core.config import Settings
from allin.core.logging import Category, get_logger

log = get_logger(Category.AI)


class CreditAlerts:
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        ledger: Ledger,
        mailer: EmailBackend,
    ) -> None:
        self.settings = settings
        self.sessions = session_factory
        self.ledger = ledger
        self.mailer = mailer

    async def send(self, user_id: uuid.UUID, period_id: uuid.UUID) -> None:
        """Mails the alert for a claimed period; gives the claim back when it cannot."""
        async with self.sessions() as db:
            user = await db.get(User, user_id)
        if user is None:
            return
        balance = await self.ledger.balance(user.id, user.plan)
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = user.email
        message["Subject"] = "You have used most of this month's AllIN AI credits"
        message["Message-ID"] = make_msgid(domain="allin.local")
        message.set_content(
            f"Hello {user.display_name},\n\n"
            f"You have used {balance.used} of your {balance.allowance} AI credits this month "
            f"({round(self.settings.ai_alert_ratio * 100)} % or more). They reset at "
            f"{balance.resets_at.isoformat()} ({balance.time_zone}).\n"
        )
        try:
            await self.mailer.send(message)
        except Exception as exc:  # the next sweep tries again
            log.warning("ai credit alert not sent", error=type(exc).__name__)
            await self.ledger.unclaim_alert(period_id)

    async def sweep(self) -> int:
        """Alerts every current period past the ratio that has no mail yet; how many."""
        async with self.sessions() as db:
            rows = (await db.execute(select(User.id, User.plan))).all()
        plans = {user_id: plan for user_id, plan in rows}
        claimed = await self.ledger.due_alerts(plans)
        for period_id in claimed:
            period = await self.ledger.period_of(period_id)
            if period is not None:
                await self.send(period.user_id, period_id)
        return len(claimed)
