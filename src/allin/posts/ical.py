"""The user's schedule as an iCalendar feed (RFC 5545): one VEVENT per scheduled or
published target, times in UTC, lines folded at 75 octets, text escaped."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from allin.posts.links import post_page
from allin.posts.models import Post, PostTarget

_EVENT_LENGTH = timedelta(minutes=15)


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )  # fmt: skip


def _fold(line: str) -> list[str]:
    """RFC 5545 §3.1: lines longer than 75 octets continue on lines that start with a space."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        limit = 75 if not out else 74
        if len(current) + len(encoded) > limit:
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return [out[0], *(" " + part for part in out[1:])]


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def calendar(entries: Iterable[tuple[PostTarget, Post]], now: datetime, link_base: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//AllIN//Publishing schedule//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:AllIN posts",
    ]
    for target, post in entries:
        if target.scheduled_at is None:
            continue
        start = target.published_at or target.scheduled_at
        summary = f"[{target.platform}] {post.content[:60]}".strip()
        lines += [
            "BEGIN:VEVENT",
            f"UID:{target.id}@allin",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(start)}",
            f"DTEND:{_stamp(start + _EVENT_LENGTH)}",
            f"SUMMARY:{_escape(summary)}",
            f"DESCRIPTION:{_escape(f'{target.status}: {post.content}')}",
            f"URL:{link_base}{post_page(post.id)}",
            f"STATUS:{'CANCELLED' if target.status == 'CANCELLED' else 'CONFIRMED'}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))
