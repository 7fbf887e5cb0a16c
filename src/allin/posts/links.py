"""Where a post lives in the dashboard: what failure mails and calendar entries link to."""

from __future__ import annotations

import uuid


def post_page(post_id: uuid.UUID) -> str:
    """The path of the post's page in the dashboard (its browser-side router serves /app/...)."""
    return f"/app/posts/{post_id}"
