"""The social, publishing and AI pages in a real browser (Debian's chromium) against the real
app, TikTok's Open API simulator standing in for TikTok and the OpenAI simulator for the AI."""

from __future__ import annotations

import asyncio
import re
import struct
import zlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from allin.simulator.open_api.state import SimVideo
from tests.dashboard.conftest import RequestLog, screenshot, sign_in
from tests.dashboard.platform_support import PlatformStack, running_platform_stack
from tests.dashboard.test_browser import capture_demo, end_capture


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformStack]:
    with running_platform_stack(tmp_path_factory.mktemp("platform")) as running:
        running.create_admin()
        yield running


class ConsentAllowed(RequestLog):
    """Connecting an account visits the platform's consent page: the one other origin."""

    def __init__(self, origin: str, *platforms: str) -> None:
        super().__init__(origin)
        self.platforms = tuple(
            f"{parts.scheme}://{parts.netloc}" for parts in map(urlsplit, platforms)
        )

    def foreign(self) -> list[str]:
        return [url for url in super().foreign() if not url.startswith(self.platforms)]


@pytest.fixture
def requests(stack: PlatformStack) -> RequestLog:
    return ConsentAllowed(stack.base_url, stack.tiktok_url, stack.x_url)


def on_loop(stack: PlatformStack, action: object) -> None:
    """Steers a simulator from the test thread, on the loop that serves it."""

    async def run() -> None:
        action()  # type: ignore[operator]

    asyncio.run_coroutine_threadsafe(run(), stack.loop).result(5)


def dark(page: Page, name: str) -> None:
    page.emulate_media(color_scheme="dark")
    screenshot(page, name)
    page.emulate_media(color_scheme="light")


def test_connect_refresh_reconnect_and_disconnect_an_account(
    page: Page, stack: PlatformStack
) -> None:
    sign_in(page, stack, "/app/accounts")  # type: ignore[arg-type]
    expect(page.get_by_role("link", name="Accounts")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("No account is connected yet.")).to_be_visible()
    expect(page.locator('.provider[data-platform="linkedin"]')).to_contain_text(
        "Not configured on this server"
    )

    page.get_by_role("button", name="Connect TikTok").click()  # the simulator consents at once
    expect(page).to_have_url(stack.base_url + "/app/accounts")
    expect(page.get_by_role("status").filter(has_text="TikTok connected.")).to_be_visible()
    item = page.locator('.account-item[data-platform="tiktok"]')
    expect(item.locator(".badge")).to_have_text("Connected")
    expect(item.locator(".countdown")).to_contain_text("expires in")
    name = item.locator("strong").inner_text()
    screenshot(page, "dashboard-accounts.png")
    dark(page, "dashboard-accounts-dark.png")

    show_tiktok_profile(page, stack, item)

    item.get_by_role("button", name="Refresh").click()
    expect(page.locator(".toast")).to_contain_text("Token refreshed")

    # The creator removes AllIN's access in TikTok: the next refresh finds out.
    open_id = stack.call("GET", "/api/social/accounts")[0]["platform_user_id"]
    on_loop(stack, lambda: stack.tiktok.remove_authorization(open_id))
    item.get_by_role("button", name="Refresh").click()
    expect(item).not_to_have_attribute("data-status", "ACTIVE")
    expect(item.locator(".badge")).not_to_have_text("Connected")
    expect(item.locator(".account-error")).not_to_be_empty()
    expect(item.get_by_role("button", name="Refresh")).to_have_count(0)
    screenshot(page, "dashboard-accounts-reconnect.png")

    item.get_by_role("button", name="Reconnect").click()
    expect(page.get_by_role("status").filter(has_text="TikTok connected.")).to_be_visible()
    expect(item.locator(".badge")).to_have_text("Connected")
    expect(item.locator(".account-error")).to_have_count(0)
    assert item.locator("strong").inner_text() == name

    item.get_by_role("button", name="Disconnect").click()
    page.get_by_role("dialog").get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("No account is connected yet.")).to_be_visible()
    assert stack.call("GET", "/api/social/accounts") == []


def show_tiktok_profile(page: Page, stack: PlatformStack, item: Locator) -> None:
    """The card's disclosure reads the profile, the videos and the stored daily readings."""
    open_id = stack.call("GET", "/api/social/accounts")[0]["platform_user_id"]

    def grow() -> None:
        user = stack.tiktok.users[open_id]
        user.follower_count, user.following_count, user.likes_count = 1234, 56, 7890
        user.videos.append(
            SimVideo(7_123, 1_767_000_000, "Studio tour", view_count=4321, like_count=321)
        )

    on_loop(stack, grow)
    disclosure = item.get_by_role("button", name="Profile & analytics")
    expect(disclosure).to_have_attribute("aria-expanded", "false")
    disclosure.focus()
    page.keyboard.press("Enter")
    expect(disclosure).to_have_attribute("aria-expanded", "true")
    panel = item.get_by_role("region", name=re.compile("Profile and analytics"))
    expect(panel.locator('[data-stat="Followers"]')).to_have_text("1,234")
    expect(panel.locator('[data-stat="Following"]')).to_have_text("56")
    expect(panel.locator('[data-stat="Likes"]')).to_have_text("7,890")
    expect(panel.locator('[data-stat="Videos"]')).to_have_text("1")
    row = panel.locator(".tiktok-videos tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Studio tour")
    expect(row).to_contain_text("4,321")
    expect(row.get_by_role("link", name="Studio tour on TikTok")).to_have_attribute(
        "href", re.compile(r"^https://www\.tiktok\.com/@.+/video/7123")
    )
    # Reading the analytics stored today's reading: both history charts draw it.
    for title in ("Followers", "Total likes"):
        figure = panel.locator("figure", has=page.locator("figcaption", has_text=title))
        expect(figure.locator(".chart-plot .main-svg").first).to_be_visible()
    screenshot(page, "dashboard-accounts-tiktok-profile.png")
    # The open panel fits a phone once the charts have followed the window (Plotly resizes them).
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => document.documentElement.scrollWidth <= innerWidth")
    page.set_viewport_size({"width": 1400, "height": 1000})
    disclosure.click()
    expect(panel).to_be_hidden()


def png(width: int = 64, height: int = 48) -> bytes:
    """A real PNG image (a solid colour), built by hand per the PNG specification."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xe1\x1d\x48" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def connect(page: Page, stack: PlatformStack, platform: str, name: str) -> None:
    sign_in(page, stack, "/app/accounts")  # type: ignore[arg-type]
    item = page.locator(f'.account-item[data-platform="{platform}"]')
    page.locator("#accounts-title").wait_for()
    if item.count() == 0:
        page.get_by_role("button", name=f"Connect {name}").click()
    expect(item.locator(".badge")).to_have_text("Connected")


def test_compose_with_counters_previews_and_a_draft(page: Page, stack: PlatformStack) -> None:
    connect(page, stack, "tiktok", "TikTok")
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_role("heading", name="Compose")).to_be_visible()
    chip = page.locator(".target-chip").first
    chip.click()
    expect(chip).to_have_attribute("aria-pressed", "true")
    text = page.get_by_label("Post text")
    text.fill("x" * 2201)
    counter = page.locator('.counter[data-platform="tiktok"]')
    expect(counter).to_have_class(re.compile("counter-over"))
    expect(counter).to_contain_text("2201 / 2200")
    text.fill("New video tonight at 8 #behindthescenes")
    expect(counter).to_contain_text("39 / 2200")
    expect(counter.locator(".counter-problem", has_text="over the limit")).to_have_count(0)
    expect(page.locator('.preview[data-platform="tiktok"]')).to_contain_text("New video tonight")

    page.get_by_role("tab", name="TikTok").click()
    expect(page.get_by_label("Text for TikTok")).to_have_value(
        "New video tonight at 8 #behindthescenes"
    )
    page.get_by_label("Text for TikTok").fill("Only on TikTok: new video at 8")
    expect(page.locator('.preview[data-platform="tiktok"]')).to_contain_text("Only on TikTok")
    page.get_by_role("tab", name="All platforms").press("ArrowRight")  # tabs follow the arrows
    expect(page.get_by_role("tab", name="TikTok")).to_be_focused()

    page.get_by_label("Add photos or videos").set_input_files(
        files=[{"name": "studio.png", "mimeType": "image/png", "buffer": png()}]
    )
    uploaded = page.locator(".media-item[data-media]")
    expect(uploaded).to_have_count(1)
    expect(uploaded.locator("img.media-thumb")).to_be_visible()
    media_id = uploaded.get_attribute("data-media")
    screenshot(page, "dashboard-compose-media.png")

    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/app/posts/[0-9a-f-]{36}$"))
    expect(page.locator('.target-item[data-platform="tiktok"]')).to_have_attribute(
        "data-status", "DRAFT"
    )
    post_id = page.url.rsplit("/", 1)[-1]
    post = stack.call("GET", f"/api/posts/{post_id}")
    assert post["content"] == "New video tonight at 8 #behindthescenes"
    assert post["variants"]["tiktok"]["text"] == "Only on TikTok: new video at 8"
    assert post["media_ids"] == [media_id]

    page.get_by_role("link", name="Edit").click()  # the draft opens in the composer
    expect(page.get_by_label("Post text")).to_have_value("New video tonight at 8 #behindthescenes")
    expect(page.locator(".target-chip").first).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Post text").fill("New video tonight at 9")
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(f"{stack.base_url}/app/posts/{post_id}")
    expect(page.get_by_text("New video tonight at 9")).to_be_visible()


def test_ai_panel_streams_variants_improves_and_analyses(
    page: Page, stack: PlatformStack, requests: RequestLog
) -> None:
    sign_in(page, stack, "/app/compose")  # type: ignore[arg-type]
    panel = page.get_by_role("complementary", name="AI assistant")
    expect(panel.locator(".ai-credits")).to_contain_text("credits")
    panel.get_by_role("button", name="Generate").click()
    expect(panel.get_by_label("Topic")).to_have_attribute("aria-invalid", "true")
    panel.get_by_label("Topic").fill("A behind-the-scenes look at our studio")
    panel.get_by_role("button", name="Generate").click()
    results = panel.locator(".ai-result")
    expect(results).to_have_count(2)
    use = panel.get_by_role("button", name="Use TikTok variant 1")
    expect(use).to_be_visible()
    variant = results.first.locator(".ai-text").inner_text()
    assert variant.strip()
    use.click()
    editor = page.get_by_label("Post text")
    expect(editor).to_have_value(variant)
    screenshot(page, "dashboard-compose.png")
    dark(page, "dashboard-compose-dark.png")

    # Improve only the first word: the rest of the text stays as it was.
    editor.evaluate("el => { el.focus(); el.setSelectionRange(0, el.value.indexOf(' ')); }")
    rest = variant[variant.index(" ") :]
    panel.get_by_role("button", name="Improve selection").click()
    replace = panel.get_by_role("button", name="Replace the selection")
    expect(replace).to_be_visible()
    improved = panel.locator(".ai-result .ai-text").inner_text()
    replace.click()
    expect(editor).to_have_value(improved + rest)

    panel.get_by_role("button", name="Analyse").click()
    expect(panel.locator(".ai-score")).to_contain_text(re.compile(r"Score \d+/100"))
    paths = [url.removeprefix(stack.base_url).split("?")[0] for url in requests.urls]
    for path in ("/api/ai/generate/stream", "/api/ai/improve-content/stream"):
        assert path in paths
    assert "/api/ai/analyze-content/stream" in paths


def test_platform_pages_keyboard_and_labels(page: Page, stack: PlatformStack) -> None:
    sign_in(page, stack, "/app/accounts")  # type: ignore[arg-type]
    for path in (
        "/app/accounts",
        "/app/compose",
        "/app/posts",
        "/app/calendar",
        "/app/calendar?view=week",
        "/app/notifications",
        "/app/queue",
    ):
        page.goto(stack.base_url + path)
        page.locator("main h1").first.wait_for()
        page.wait_for_load_state("networkidle")
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea, button')]
                .filter(el => !el.hidden && !(el.labels && el.labels.length)
                    && !el.getAttribute('aria-label') && !el.textContent.trim())
                .map(el => el.outerHTML)"""
        )
        assert not unlabelled, f"{path}: {unlabelled}"
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), path
        page.set_viewport_size({"width": 1400, "height": 1000})


def test_a_recap_of_a_captured_live_opens_in_the_composer(page: Page, stack: PlatformStack) -> None:
    session_id = capture_demo(stack, min_events=20)  # type: ignore[arg-type]
    end_capture(stack, session_id)  # type: ignore[arg-type]
    sign_in(page, stack, f"/app/sessions/{session_id}")  # type: ignore[arg-type]
    page.get_by_role("button", name="Draft a recap").click()
    draft = page.locator(".recap-drafts .ai-result").first
    expect(draft).to_be_visible()
    text = draft.locator(".ai-text").inner_text()
    assert text.strip()
    screenshot(page, "dashboard-recap.png")
    draft.get_by_role("link", name="Open in the composer").click()
    expect(page.get_by_role("heading", name="Compose")).to_be_visible()
    expect(page.get_by_label("Post text")).to_have_value(text)


def test_publish_to_x_then_a_failure_in_words_and_a_retry(page: Page, stack: PlatformStack) -> None:
    connect(page, stack, "x", "X")
    page.goto(stack.base_url + "/app/compose")
    page.locator(".target-chip.platform-x").click()
    text = page.get_by_label("Post text")
    text.fill("y" * 300)
    counter = page.locator('.counter[data-platform="x"]')
    expect(counter).to_contain_text("300 / 280")  # the server's verdict
    expect(counter).to_have_class(re.compile("counter-over"))
    text.fill("Shipping the new studio tour today")
    expect(counter).to_contain_text("34 / 280")
    expect(counter).not_to_have_class(re.compile("counter-over"))
    page.get_by_role("button", name="Publish now").click()

    expect(page).to_have_url(re.compile(r"/app/posts/[0-9a-f-]{36}$"))
    first = page.url.rsplit("/", 1)[-1]
    target = page.locator('.target-item[data-platform="x"]')
    expect(target).to_have_attribute("data-status", "PUBLISHED")
    expect(target.get_by_role("link", name="View on X")).to_have_attribute(
        "href", re.compile(r"^https?://")
    )
    screenshot(page, "dashboard-post.png")

    # X answers 503 to the next post: the target fails, in words, and Retry sends it again.
    on_loop(stack, lambda: stack.x.faults.inject("tweets.create", "error", status=503))
    page.goto(stack.base_url + "/app/compose")
    page.locator(".target-chip.platform-x").click()
    page.get_by_label("Post text").fill("Second take on the studio tour")
    page.get_by_role("button", name="Publish now").click()
    expect(page).not_to_have_url(f"{stack.base_url}/app/posts/{first}")
    expect(page).to_have_url(re.compile(r"/app/posts/[0-9a-f-]{36}$"))
    second = page.url.rsplit("/", 1)[-1]
    target = page.locator('.target-item[data-platform="x"]')
    expect(target).to_have_attribute("data-status", "FAILED")
    expect(target.locator(".target-error")).not_to_be_empty()
    screenshot(page, "dashboard-post-failed.png")
    page.get_by_role("button", name="Retry the failed").click()
    expect(target).to_have_attribute("data-status", "PUBLISHED")

    page.get_by_role("link", name="Posts", exact=True).click()
    for post_id in (first, second):
        expect(page.locator(f'.post-item[data-post="{post_id}"] .badge')).to_have_text("Published")
    page.get_by_label("Status").select_option("FAILED")
    expect(page.get_by_text("No post has this status.")).to_be_visible()

    page.get_by_role("link", name="Notifications").click()
    expect(page.locator(".notification").first).to_be_visible()
    screenshot(page, "dashboard-notifications.png")


def test_schedule_then_drag_in_the_calendar(page: Page, stack: PlatformStack) -> None:
    connect(page, stack, "x", "X")
    page.goto(stack.base_url + "/app/compose")
    page.locator(".target-chip.platform-x").click()
    page.get_by_label("Post text").fill("Studio tour, part two")
    tomorrow = page.evaluate(
        """() => { const d = new Date(Date.now() + 86400000);
            const p = (n) => String(n).padStart(2, '0');
            return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`; }"""
    )
    page.get_by_label("Publish at").fill(f"{tomorrow}T10:30")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator('.target-item[data-platform="x"]')).to_have_attribute(
        "data-status", "SCHEDULED"
    )
    post_id = page.url.rsplit("/", 1)[-1]

    page.goto(f"{stack.base_url}/app/calendar?view=week&date={tomorrow}")
    entry = page.locator(f'.cal-entry[data-post="{post_id}"]')
    expect(entry).to_have_attribute("data-status", "SCHEDULED")
    assert entry.evaluate("el => el.closest('.cal-slot').dataset.slot") == f"{tomorrow}T10"
    screenshot(page, "dashboard-calendar-week.png")
    entry.drag_to(page.locator(f'.cal-slot[data-slot="{tomorrow}T14"]'))
    expect(page.locator(f'.cal-slot[data-slot="{tomorrow}T14"] .cal-entry')).to_have_count(1)
    post = stack.call("GET", f"/api/posts/{post_id}")
    assert post["targets"][0]["scheduled_local"].startswith(f"{tomorrow}T14:30")

    page.get_by_role("button", name="Month").click()
    expect(page.locator(f'.cal-day[data-day="{tomorrow}"] .cal-entry')).to_have_count(1)
    screenshot(page, "dashboard-calendar-month.png")
    dark(page, "dashboard-calendar-month-dark.png")


def test_admin_queue_page(page: Page, stack: PlatformStack) -> None:
    sign_in(page, stack, "/app/queue")  # type: ignore[arg-type]
    expect(page.get_by_role("heading", name="Publishing queue")).to_be_visible()
    expect(page.get_by_role("link", name="Queue")).to_have_attribute("aria-current", "page")
    expect(page.locator('[data-count="PUBLISHED"] dd')).not_to_have_text("")
    expect(page.locator("#stat-due .stat-value")).to_be_visible()
    expect(page.get_by_role("heading", name="Rate limits")).to_be_visible()
    page.get_by_role("button", name="Close failures older than a day").click()
    expect(page.locator(".toast")).to_contain_text("closed")
    screenshot(page, "dashboard-queue.png")


def test_tiktok_direct_post_rules(page: Page, stack: PlatformStack) -> None:
    connect(page, stack, "tiktok", "TikTok")
    open_id = next(
        a["platform_user_id"]
        for a in stack.call("GET", "/api/social/accounts")
        if a["platform"] == "tiktok"
    )
    user = stack.tiktok.users[open_id]
    on_loop(stack, lambda: setattr(user, "duet_disabled", True))  # the creator's own setting
    page.goto(stack.base_url + "/app/compose")
    page.locator(".target-chip.platform-tiktok").click()
    panel = page.get_by_role("region", name="TikTok")
    expect(panel.locator(".tiktok-creator")).to_contain_text(f"Posting as {user.display_name}")
    privacy = panel.get_by_label("Who can see this video")
    expect(privacy).to_have_value("")  # none preselected
    offered = privacy.locator("option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")
    assert offered == user.privacy_level_options
    for name in ("Allow comments", "Allow stitches"):
        expect(panel.get_by_label(name)).not_to_be_checked()
        expect(panel.get_by_label(name)).to_be_enabled()
    expect(panel.get_by_label("Allow duets")).to_be_disabled()
    expect(panel.get_by_text("Videos up to 600 seconds.")).to_be_visible()

    page.get_by_label("Post text").fill("Behind the scenes")
    page.get_by_role("button", name="Publish now").click()
    expect(page.locator(".toast").last).to_have_text("Choose who can see the TikTok video.")
    privacy.select_option("SELF_ONLY")
    page.get_by_role("button", name="Publish now").click()
    expect(page.locator(".toast").last).to_have_text(
        "Agree to TikTok's Music Usage Confirmation first."
    )
    panel.get_by_label("Disclose commercial content").check()
    panel.get_by_label("Branded content").check()
    expect(privacy).to_have_value("")  # branded content cannot be private
    expect(privacy.locator('option[value="SELF_ONLY"]')).to_be_disabled()
    expect(panel.locator(".tiktok-policy")).to_contain_text("Branded Content Policy")
    privacy.select_option("MUTUAL_FOLLOW_FRIENDS")
    panel.get_by_label("Allow comments").check()
    panel.get_by_label("I agree to TikTok's Music Usage Confirmation").check()
    screenshot(page, "dashboard-compose-tiktok.png")
    dark(page, "dashboard-compose-tiktok-dark.png")

    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/app/posts/[0-9a-f-]{36}$"))
    post = stack.call("GET", f"/api/posts/{page.url.rsplit('/', 1)[-1]}")
    assert post["variants"]["tiktok"]["options"] == {
        "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
        "disable_comment": False,
        "disable_duet": True,
        "disable_stitch": True,
        "brand_organic_toggle": False,
        "brand_content_toggle": True,
    }

    # Editing the draft shows the choices again, as they were.
    page.get_by_role("link", name="Edit").click()
    panel = page.get_by_role("region", name="TikTok")
    expect(panel.get_by_label("Who can see this video")).to_have_value("MUTUAL_FOLLOW_FRIENDS")
    expect(panel.get_by_label("Allow comments")).to_be_checked()
    expect(panel.get_by_label("Allow stitches")).not_to_be_checked()
    expect(panel.get_by_label("Branded content")).to_be_checked()
    expect(panel.get_by_label("I agree to TikTok's Music Usage Confirmation")).not_to_be_checked()
