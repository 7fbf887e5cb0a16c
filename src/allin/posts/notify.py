"""Tells a post's owner that a target failed: once in the in-app list and once by mail
(when the owner wants mail), with a link to the post."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from allin.auth.email import EmailBackend, public_url
from allin.auth.models import User
from allin.core.clock import clock
from allin.core.config import Settings
from allin.core.logging import Category, get_logger
from allin.core.tasks import run_in_background
from allin.posts.links import post_page
from allin.posts.models import Notification, PostingPreferences, PostTarget

log = get_logger(Category.QUEUE)


class Notifier:
    def __init__(self, settings: Settings, mailer: EmailBackend | None) -> None:
        self.settings = settings
        self.mailer = mailer

    async def failed(self, session: AsyncSession, target: PostTarget, words: str) -> None:
        """Within the transaction that marks the target FAILED: the notification row, and
        the mail claimed by setting `notified_at` (a second failure of the same target, after a
        retry, does not mail again)."""
        message = f"Your post to {target.platform} failed: {words}"
        session.add(
            Notification(
                user_id=target.owner_id,
                kind="publish_failed",
                message=message,
                post_id=target.post_id,
                target_id=target.id,
            )
        )
        claimed = await session.execute(
            update(PostTarget)
            .where(PostTarget.id == target.id, PostTarget.notified_at.is_(None))
            .values(notified_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount or self.mailer is None:  # type: ignore[attr-defined]
            return
        prefs = await session.get(PostingPreferences, target.owner_id)
        if prefs is not None and not prefs.email_on_failure:
            return
        user = await session.get(User, target.owner_id)
        if user is None:
            return
        mail = self._mail(user.email, message, target)
        mailer = self.mailer
        run_in_background(mailer.send(mail, link=self._link(target)), name="posts-failure-mail")

    def _link(self, target: PostTarget) -> str:
        return f"{public_url(self.settings)}{post_page(target.post_id)}"

    def _mail(self, to: str, message: str, target: PostTarget) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.mail_from
        mail["To"] = to
        mail["Subject"] = "A scheduled post failed"
        mail["Message-ID"] = make_msgid(domain="allin.local")
        mail.set_content(f"{message}\n\nOpen the post: {self._link(target)}\n")
        return mail
