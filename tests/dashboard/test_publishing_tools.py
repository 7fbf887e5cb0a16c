"""The publishing pages' tools in a real browser against the real app and the X simulator:
weekly posting times, the media library, keyboard moves in the calendar, the iCalendar feed,
mail on failure and the unread count in the menu."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.dashboard.conftest import RequestLog, screenshot
from tests.dashboard.platform_support import PlatformStack, running_platform_stack
from tests.dashboard.test_platform_pages import ConsentAllowed, connect, dark, on_loop, png

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformStack]:
    with running_platform_stack(tmp_path_factory.mktemp("publishing")) as running:
        running.create_admin()
        yield running


@pytest.fixture
def requests(stack: PlatformStack) -> RequestLog:
    return ConsentAllowed(stack.base_url, stack.tiktok_url, stack.x_url)


def x_account(page: Page, stack: PlatformStack) -> str:
    connect(page, stack, "x", "X")
    return next(a["id"] for a in stack.call("GET", "/api/social/accounts") if a["platform"] == "x")


def unlabelled(page: Page, root: str) -> list[str]:
    found: list[str] = page.evaluate(
        """(root) => [...document.querySelectorAll(`${root} :is(input, select, textarea, button)`)]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.textContent.trim())
            .map(el => el.outerHTML)""",
        root,
    )
    return found


_WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > innerWidth + 1)
    .map(el => `${el.tagName}.${el.className}`).slice(0, 10)"""


def fits_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        fits = page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
        assert fits, page.evaluate(_WIDER_THAN_THE_SCREEN)
    finally:
        page.set_viewport_size({"width": 1400, "height": 1000})


def wednesday_ahead() -> date:
    """A Wednesday at least two days away: the days around it are in the future and in its week."""
    day = datetime.now(UTC).date() + timedelta(days=2)
    return day + timedelta(days=(2 - day.weekday()) % 7)


def schedule(stack: PlatformStack, account: str, text: str, local: str) -> str:
    body = {
        "content": text,
        "account_ids": [account],
        "timezone": "UTC",
        "schedule": {"mode": "at", "local_time": local},
    }
    post_id: str = stack.call("POST", "/api/posts", json=body)["id"]
    return post_id


def scheduled_local(stack: PlatformStack, post_id: str) -> str:
    local: str = stack.call("GET", f"/api/posts/{post_id}")["targets"][0]["scheduled_local"]
    return local


def test_posting_times_are_edited_per_account_and_feed_the_queue(
    page: Page, stack: PlatformStack
) -> None:
    account = x_account(page, stack)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    day = DAYS[tomorrow.weekday()]
    item = page.locator(f'.account-item[data-account="{account}"]')
    opener = item.get_by_role("button", name=re.compile("^Posting times of X"))
    expect(opener).to_have_attribute("aria-expanded", "false")
    opener.focus()
    page.keyboard.press("Enter")
    expect(opener).to_have_attribute("aria-expanded", "true")
    panel = item.get_by_role("region", name=re.compile("^Posting times of X"))
    expect(panel).to_contain_text("Times in your time zone (UTC)")
    expect(panel.locator(".slot")).to_have_count(0)
    assert not unlabelled(page, ".slots-panel")

    panel.get_by_role("button", name="Add time").click()  # no time picked yet
    expect(panel.get_by_label("Time", exact=True)).to_have_attribute("aria-invalid", "true")
    for clock in ("09:15", "18:00"):
        panel.get_by_label("Day", exact=True).select_option(label=day)
        panel.get_by_label("Time", exact=True).fill(clock)
        panel.get_by_label("Time", exact=True).press("Enter")
        expect(panel.locator(f'.slot[data-slot="{tomorrow.weekday()}-{clock}"]')).to_be_visible()
    expect(panel.get_by_role("status")).to_have_text(f"{day} 18:00 added")
    screenshot(page, "dashboard-posting-times.png")
    dark(page, "dashboard-posting-times-dark.png")
    fits_a_phone(page)
    panel.get_by_role("button", name=f"Remove {day} 18:00").click()
    expect(panel.locator(".slot")).to_have_count(1)
    expect(panel.get_by_role("button", name="Add time")).to_be_focused()
    saved = stack.call("GET", f"/api/posts/slots/{account}")
    assert saved["timezone"] == "UTC"
    assert saved["slots"] == [{"weekday": tomorrow.weekday(), "time": "09:15"}]

    page.reload()  # the times are the server's, not the page's
    item.get_by_role("button", name=re.compile("^Posting times of X")).click()
    expect(item.locator(".slot")).to_have_count(1)

    page.get_by_role("link", name="Compose").click()
    page.locator(".target-chip.platform-x").click()
    page.get_by_label("Post text").fill("Queued for the next free time")
    page.get_by_role("button", name="Add to queue").click()
    expect(page.locator('.target-item[data-platform="x"]')).to_have_attribute(
        "data-status", "SCHEDULED"
    )
    post_id = page.url.rsplit("/", 1)[-1]
    assert scheduled_local(stack, post_id).startswith(f"{tomorrow.isoformat()}T09:15")
    stack.call("POST", f"/api/posts/{post_id}/cancel")
    stack.call("PUT", f"/api/posts/slots/{account}", json={"timezone": "UTC", "slots": []})


def test_posting_times_set_in_another_zone_say_so_and_move_to_mine(
    page: Page, stack: PlatformStack
) -> None:
    account = x_account(page, stack)
    week = {"timezone": "Asia/Tokyo", "slots": [{"weekday": 4, "time": "20:00"}]}
    stack.call("PUT", f"/api/posts/slots/{account}", json=week)
    item = page.locator(f'.account-item[data-account="{account}"]')
    item.get_by_role("button", name=re.compile("^Posting times of X")).click()
    panel = item.get_by_role("region", name=re.compile("^Posting times of X"))
    expect(panel.locator(".slot-zone")).to_contain_text("Times in Asia/Tokyo")
    expect(panel.locator('.slot[data-slot="4-20:00"]')).to_be_visible()
    panel.get_by_role("button", name="Use my time zone (UTC)").click()
    expect(panel.locator(".slot-zone")).to_contain_text("Times in your time zone (UTC).")
    expect(panel.get_by_role("button", name="Use my time zone (UTC)")).to_have_count(0)
    expect(panel.get_by_role("status")).to_have_text("The same times now in UTC")
    assert stack.call("GET", f"/api/posts/slots/{account}") == {
        "account_id": account,
        "timezone": "UTC",
        "slots": [{"weekday": 4, "time": "20:00"}],
    }
    stack.call("PUT", f"/api/posts/slots/{account}", json={"timezone": "UTC", "slots": []})


def test_media_from_the_library_is_chosen_removed_and_kept_in_the_draft(
    page: Page, stack: PlatformStack
) -> None:
    x_account(page, stack)
    name = f"library-{time.monotonic_ns()}.png"
    media = stack.call("POST", "/api/media", params={"filename": name}, content=png(80, 60))
    page.goto(stack.base_url + "/app/compose")
    page.locator(".target-chip.platform-x").click()
    page.get_by_label("Post text").fill("From the library")

    page.get_by_role("button", name="Choose from library").click()
    dialog = page.get_by_role("dialog", name="Media library")
    entry = dialog.locator(f'.library-item[data-media="{media["id"]}"]')
    expect(entry.locator("img.media-thumb")).to_be_visible()  # the thumbnail, through the API
    assert not unlabelled(page, ".library-dialog")
    entry.get_by_label(re.compile(re.escape(name))).check()
    page.keyboard.press("Escape")  # cancel: nothing is added
    expect(dialog).to_have_count(0)
    expect(page.locator(".media-item")).to_have_count(0)

    page.get_by_role("button", name="Choose from library").click()
    dialog.locator(f'.library-item[data-media="{media["id"]}"] input').check()
    screenshot(page, "dashboard-media-library.png")
    dark(page, "dashboard-media-library-dark.png")
    fits_a_phone(page)
    dialog.get_by_role("button", name="Add selected").click()
    chosen = page.locator(f'.media-item[data-media="{media["id"]}"]')
    expect(chosen.locator("img.media-thumb")).to_be_visible()
    expect(chosen).to_contain_text(name)

    page.get_by_role("button", name="Choose from library").click()  # it shows as taken
    expect(dialog.locator(f'.library-item[data-media="{media["id"]}"] input')).to_be_disabled()
    dialog.get_by_role("button", name="Cancel").click()

    chosen.get_by_role("button", name=f"Remove {name}").click()
    expect(chosen).to_have_count(0)
    expect(page.get_by_role("button", name="Choose from library")).to_be_focused()
    page.get_by_role("button", name="Choose from library").click()
    dialog.locator(f'.library-item[data-media="{media["id"]}"] input').check()
    dialog.get_by_role("button", name="Add selected").click()
    expect(chosen).to_have_count(1)

    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/app/posts/[0-9a-f-]{36}$"))
    post_id = page.url.rsplit("/", 1)[-1]
    assert stack.call("GET", f"/api/posts/{post_id}")["media_ids"] == [media["id"]]
    page.get_by_role("link", name="Edit").click()  # the draft's media show in the composer
    expect(chosen.locator("img.media-thumb")).to_be_visible()
    expect(chosen).to_contain_text(name)


def test_keyboard_moves_a_post_in_the_week_and_the_month(page: Page, stack: PlatformStack) -> None:
    account = x_account(page, stack)
    wednesday = wednesday_ahead()
    post_id = schedule(stack, account, "Keyboard move", f"{wednesday.isoformat()}T10:30")
    page.goto(f"{stack.base_url}/app/calendar?view=week&date={wednesday.isoformat()}")
    chip = page.locator(f'.cal-entry[data-post="{post_id}"]')
    announce = page.locator("#cal-announce")
    expect(chip).to_have_attribute("aria-describedby", "cal-keys-help")
    expect(page.locator("#cal-keys-help")).to_contain_text("Enter confirms")
    wed = wednesday.isoformat()
    chip.focus()

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator(f'.cal-slot[data-slot="{wed}T12"] .cal-entry')).to_be_focused()
    expect(chip.locator(".cal-time")).to_have_text("12:30")
    expect(announce).to_contain_text("12:30. Enter to move it here, Escape to cancel.")
    screenshot(page, "dashboard-calendar-keyboard.png")
    page.keyboard.press("Escape")
    expect(page.locator(f'.cal-slot[data-slot="{wed}T10"] .cal-entry')).to_be_focused()
    expect(chip.locator(".cal-time")).to_have_text("10:30")
    expect(announce).to_have_text("Move cancelled.")
    assert scheduled_local(stack, post_id).startswith(f"{wed}T10:30")

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")  # back where it was: nothing to send
    expect(announce).to_have_text("Not moved: it is where it was.")
    expect(page.locator(f'.cal-slot[data-slot="{wed}T10"] .cal-entry')).to_be_focused()

    thursday = (wednesday + timedelta(days=1)).isoformat()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    expect(announce).to_contain_text("09:30")
    page.keyboard.press("Enter")  # confirms; does not follow the link
    expect(announce).to_contain_text("Moved to")
    expect(page.locator(f'.cal-slot[data-slot="{thursday}T09"] .cal-entry')).to_be_focused()
    assert page.url.endswith(f"/app/calendar?view=week&date={wed}")
    assert scheduled_local(stack, post_id).startswith(f"{thursday}T09:30")

    page.get_by_role("button", name="Month").click()
    chip = page.locator(f'.cal-entry[data-post="{post_id}"]')
    chip.focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator(f'.cal-day[data-day="{wed}"] .cal-entry')).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f'.cal-day[data-day="{wed}"] .cal-entry')).to_be_focused()
    assert scheduled_local(stack, post_id).startswith(f"{wed}T09:30")
    week_later = (wednesday + timedelta(days=7)).isoformat()
    page.keyboard.press("ArrowDown")  # a week on, in the month view
    expect(page.locator(f'.cal-day[data-day="{week_later}"] .cal-entry')).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Escape")
    expect(page.locator(f'.cal-day[data-day="{wed}"] .cal-entry')).to_be_focused()

    # The post is cancelled elsewhere meanwhile: the move is refused, in words, and undone.
    stack.call("POST", f"/api/posts/{post_id}/cancel")
    chip = page.locator(f'.cal-day[data-day="{wed}"] .cal-entry[data-status="SCHEDULED"]')
    chip.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Could not move the post")
    expect(announce).to_contain_text("Not moved")
    expect(page.locator(f'.cal-day[data-day="{wed}"] .cal-entry')).to_have_attribute(
        "data-status", "CANCELLED"
    )
    expect(page.locator(f'.cal-day[data-day="{thursday}"] .cal-entry')).to_have_count(0)


def test_calendar_feed_url_is_shown_copied_and_replaced(
    page: Page, stack: PlatformStack, browser: BrowserContext
) -> None:
    browser.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.base_url)
    connect(page, stack, "x", "X")
    active = stack.call("GET", "/api/calendar/feed")["active"]
    page.goto(stack.base_url + "/app/calendar")
    opener = page.get_by_role("button", name="Calendar feed")
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "true")
    panel = page.get_by_role("region", name="Calendar feed")
    make = panel.get_by_role("button", name="New URL" if active else "Get the feed URL")
    expect(make).to_be_focused()
    if not active:
        expect(panel.get_by_role("status")).to_have_text("No feed URL yet.")
        make.click()
    else:
        make.click()
        page.get_by_role("dialog").get_by_role("button", name="Make a new URL").click()
    field = panel.get_by_label("Feed URL")
    expect(field).to_have_value(re.compile(r"/api/calendar/feed/[\w-]+\.ics$"))
    first = field.input_value()
    assert _feed(first).status_code == 200
    panel.get_by_role("button", name="Copy").click()
    expect(panel.get_by_role("status")).to_have_text("Feed URL copied.")
    assert page.evaluate("navigator.clipboard.readText()") == first
    screenshot(page, "dashboard-calendar-feed.png")
    fits_a_phone(page)

    panel.get_by_role("button", name="New URL").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()  # changes nothing
    expect(field).to_have_value(first)
    assert _feed(first).status_code == 200
    panel.get_by_role("button", name="New URL").click()
    page.get_by_role("dialog").get_by_role("button", name="Make a new URL").click()
    expect(field).not_to_have_value(first)
    expect(panel.get_by_role("status")).to_contain_text("the previous one no longer works")
    second = field.input_value()
    assert _feed(first).status_code == 404
    feed = _feed(second)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")

    page.reload()  # the URL is not shown again, but the page knows one exists
    page.get_by_role("button", name="Calendar feed").click()
    expect(page.get_by_role("region", name="Calendar feed").get_by_role("status")).to_contain_text(
        "You have a feed URL"
    )


def _feed(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)


def test_mail_on_failure_switch_shows_and_saves_the_choice(
    page: Page, stack: PlatformStack
) -> None:
    connect(page, stack, "x", "X")
    stack.call("PUT", "/api/posts/preferences/email", params={"enabled": "true"})
    page.goto(stack.base_url + "/app/notifications")
    switch = page.get_by_role("switch", name="Email me when a post fails")
    expect(switch).to_be_checked()
    expect(switch).to_be_enabled()
    switch.press("Space")  # keyboard reachable
    expect(switch).not_to_be_checked()
    expect(page.get_by_text("Saved. Off: failures show here only.")).to_be_visible()
    assert stack.call("GET", "/api/posts/preferences/email") is False
    page.reload()
    expect(switch).not_to_be_checked()
    expect(switch).to_be_enabled()
    screenshot(page, "dashboard-notifications-settings.png")
    switch.click()
    expect(page.get_by_text("Saved. On: a failed post is also mailed to you.")).to_be_visible()
    assert stack.call("GET", "/api/posts/preferences/email") is True


def _fail_a_post(stack: PlatformStack, account: str, text: str) -> str:
    on_loop(stack, lambda: stack.x.faults.inject("tweets.create", "error", status=503))
    body: dict[str, Any] = {
        "content": text,
        "account_ids": [account],
        "schedule": {"mode": "now"},
    }
    post_id: str = stack.call("POST", "/api/posts", json=body)["id"]
    for _ in range(200):
        if stack.call("GET", f"/api/posts/{post_id}")["targets"][0]["status"] == "FAILED":
            return post_id
        time.sleep(0.05)
    raise AssertionError("the post never failed")


def test_unread_count_in_the_menu_follows_reading(page: Page, stack: PlatformStack) -> None:
    account = x_account(page, stack)
    for note in stack.call("GET", "/api/notifications", params={"unread": "true"}):
        stack.call("POST", f"/api/notifications/{note['id']}/read")
    page.reload()
    link = page.get_by_role("link", name="Notifications")
    badge = link.locator(".nav-badge")
    expect(badge).to_be_hidden()

    _fail_a_post(stack, account, f"First failure {time.monotonic_ns()}")
    _fail_a_post(stack, account, f"Second failure {time.monotonic_ns()}")
    page.get_by_role("link", name="Compose").click()  # any page change reads the count
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("data-unread", "2")
    expect(link).to_have_accessible_name(re.compile(r"Notifications \(2 unread\)"))
    screenshot(page, "dashboard-unread-badge.png")

    link.click()
    expect(page.get_by_role("button", name="Mark all as read")).to_be_visible()
    fits_a_phone(page)
    page.get_by_role("button", name=re.compile("^Mark as read")).first.click()
    expect(badge).to_have_attribute("data-unread", "1")
    expect(badge).to_have_text(re.compile("^1"))
    page.get_by_role("button", name="Mark all as read").click()
    expect(badge).to_be_hidden()
    expect(link).to_have_accessible_name("Notifications")
    expect(page.get_by_role("button", name=re.compile("^Mark as read"))).to_have_count(0)
    expect(page.get_by_role("button", name="Mark all as read")).to_be_hidden()
    assert stack.call("GET", "/api/notifications/unread-count") == {"unread": 0}
