"""The dashboard in a real browser (Debian's chromium) against the real app, capturing the
simulator's always-live `demo_streamer` through the real LIVE client."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from allin.live.schemas import normalise_username
from tests.dashboard.conftest import RequestLog, screenshot, sign_in
from tests.dashboard.support import ADMIN_EMAIL, ADMIN_PASSWORD, Stack, running_stack

DEMO = "demo_streamer"


def capture_demo(stack: Stack, min_events: int = 20) -> str:
    """Starts (or finds) a capture of the demo stream through the API; waits for events."""
    headers = {"Authorization": f"Bearer {stack.token()}"}
    with stack.api() as http:
        started = http.post("/api/sessions", json={"username": DEMO}, headers=headers)
        if started.status_code == 409:
            active = http.get("/api/sessions", params={"status": "active"}, headers=headers)
            session_id = str(active.json()["data"][0]["id"])
        else:
            assert started.status_code == 201, started.text
            session_id = str(started.json()["data"]["id"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            session = http.get(f"/api/sessions/{session_id}", headers=headers).json()["data"]
            if session["total_events"] >= min_events:
                return session_id
            time.sleep(0.1)
    raise AssertionError("the demo stream sent no events")


def end_capture(stack: Stack, session_id: str) -> None:
    with stack.api() as http:
        headers = {"Authorization": f"Bearer {stack.token()}"}
        http.delete(f"/api/sessions/{session_id}", headers=headers)


@pytest.fixture(scope="module")
def recorded(stack: Stack) -> str:
    """An ended session of the demo stream with a few dozen events."""
    session_id = capture_demo(stack, min_events=40)
    end_capture(stack, session_id)
    return session_id


def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def stat(page: Page, key: str) -> int:
    text = page.locator(f"#stat-{key} .stat-value").inner_text()
    return int(text.replace(",", "").replace(" ", "").replace("\u202f", ""))


def test_first_run_creates_the_admin_then_sign_in_works(
    browser: BrowserContext, tmp_path: Path
) -> None:
    with running_stack(tmp_path) as fresh:
        page = browser.new_page()
        requests = RequestLog(fresh.base_url)
        page.on("request", lambda request: requests.record(request.url))
        try:
            page.goto(fresh.base_url + "/")
            expect(page).to_have_url(fresh.base_url + "/app/setup")
            expect(page.get_by_role("heading", name="Welcome to AllIN")).to_be_visible()
            page.get_by_label("Your name").fill("Ada")
            page.get_by_label("Email").fill(ADMIN_EMAIL)
            page.get_by_label("Password", exact=True).fill("short")
            page.get_by_label("Repeat the password").fill("different")
            page.get_by_role("button", name="Create the administrator").click()
            expect(page.get_by_text("Use at least 10 characters")).to_be_visible()
            expect(page.get_by_label("Password", exact=True)).to_have_attribute(
                "aria-invalid", "true"
            )

            page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
            page.get_by_label("Repeat the password").fill(ADMIN_PASSWORD)
            page.get_by_label("Repeat the password").press("Enter")
            expect(page.get_by_role("heading", name="Connect to a LIVE")).to_be_visible()
            expect(page.locator("#account-name")).to_have_text("Ada")

            page.goto(fresh.base_url + "/app/setup")  # done once, never again
            expect(page).to_have_url(fresh.base_url + "/app")

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.get_by_label("Email").fill(ADMIN_EMAIL)
            page.get_by_label("Password").fill("not the password")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
            page.get_by_label("Password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("#account-name")).to_have_text("Ada")
        finally:
            page.evaluate("localStorage.clear(); indexedDB.deleteDatabase('allin')")
            browser.clear_cookies()
            page.close()
        assert not requests.foreign()


def test_signed_out_visitors_go_to_sign_in_and_come_back(page: Page, stack: Stack) -> None:
    page.goto(stack.base_url + "/app/watchlist")
    expect(page).to_have_url(stack.base_url + "/app/login?next=%2Fapp%2Fwatchlist")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(stack.base_url + "/app/watchlist")
    expect(page.get_by_role("link", name="Watchlist")).to_have_attribute("aria-current", "page")


def test_connect_watch_live_filter_and_export(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    box = page.get_by_label("TikTok username or LIVE link")
    page.get_by_role("button", name="@demo_streamer").click()  # the simulator's demo stream
    expect(box).to_have_value(DEMO)
    box.fill("x")
    box.blur()
    expect(box).to_have_attribute("aria-invalid", "true")
    box.fill("  https://www.tiktok.com/@Demo_Streamer/live ")
    expect(page.get_by_text("Will connect to @demo_streamer")).to_be_visible()
    box.press("Enter")

    expect(page.get_by_role("heading", name="@demo_streamer")).to_be_visible()
    expect(page.locator(".feed-list .event").nth(14)).to_be_attached()  # events arrive
    expect(page.locator(".connection")).to_have_text("Receiving events")
    expect(page.locator("#chart-viewers .main-svg").first).to_be_attached()
    expect(page.locator("#chart-rate .main-svg").first).to_be_attached()
    before = stat(page, "events")
    assert before > 0
    eventually(lambda: stat(page, "events") > before)  # the counters keep up with the stream
    assert stat(page, "viewers") > 0

    # Only chat, then chat and gifts, then everything again.
    page.get_by_role("button", name="Chat", exact=True).click()
    expect(page.get_by_role("button", name="Chat", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator(".feed-list .event").first).to_be_attached()
    kinds = page.locator(".feed-list .event").evaluate_all(
        "rows => rows.map(r => r.dataset.category)"
    )
    assert kinds and set(kinds) == {"chat"}
    page.get_by_role("button", name="Gifts", exact=True).click()
    expect(page.locator('.feed-list .event[data-category="gift"]').first).to_be_attached()
    kinds = page.locator(".feed-list .event").evaluate_all(
        "rows => rows.map(r => r.dataset.category)"
    )
    assert set(kinds) == {"chat", "gift"}
    page.get_by_role("button", name="All", exact=True).click()
    expect(page.locator('.feed-list .event[data-category="like"]').first).to_be_attached()

    # Text filter: one viewer's events only.
    who = page.locator(".feed-list .event .event-user", has_text="@").first.inner_text()
    page.get_by_label("Filter events by user or text").fill(who)
    users = page.locator(".feed-list .event .event-user").evaluate_all(
        "els => els.map(e => e.textContent)"
    )
    assert users and set(users) == {who}
    page.get_by_label("Filter events by user or text").fill("")

    screenshot(page, "dashboard-live.png")

    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Export as CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text("utf-8"))))
    assert len(rows) >= 15
    assert {"type", "timestamp"} <= set(rows[0])
    assert csv_download.value.suggested_filename.endswith(".csv")
    with page.expect_download() as json_download:
        page.get_by_role("button", name="Export as JSON").click()
    exported = json.loads(Path(json_download.value.path()).read_text("utf-8"))
    assert exported["session"]["streamer_username"] == DEMO
    assert len(exported["events"]) >= 15

    page.set_viewport_size({"width": 390, "height": 844})
    # Nothing wider than a phone once the charts have followed the resize.
    page.wait_for_function("() => document.documentElement.scrollWidth <= innerWidth", timeout=5000)
    screenshot(page, "dashboard-live-mobile.png")
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.get_by_role("button", name="End capture").click()
    page.get_by_role("dialog").get_by_role("button", name="End capture").click()
    expect(page.locator(".live-status .badge")).to_have_text("Ended")
    expect(page.get_by_text("This session has ended")).to_be_visible()
    # Once it has ended, the counters are exactly what was stored.
    session_id = page.url.rsplit("/", 1)[-1]
    with stack.api() as http:
        headers = {"Authorization": f"Bearer {stack.token()}"}
        stored = http.get(f"/api/sessions/{session_id}/analytics", headers=headers).json()["data"]
    expect(page.locator("#stat-events .stat-value")).to_have_text(f"{stored['total_events']:,}")
    expect(page.locator("#stat-likes .stat-value")).to_have_text(f"{stored['likes']:,}")


def test_history_search_and_session_detail(page: Page, stack: Stack, recorded: str) -> None:
    session_id = recorded
    sign_in(page, stack, "/app/sessions")
    page.get_by_label("Streamer").fill("nobody_like_this")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No session matches these filters.")).to_be_visible()
    expect(page).to_have_url(stack.base_url + "/app/sessions?q=nobody_like_this")
    page.get_by_label("Streamer").fill("demo")
    page.get_by_label("Status").select_option("ended")  # submits on change
    expect(page).to_have_url(stack.base_url + "/app/sessions?q=demo&status=ended")
    row = page.locator(f'tr[data-session="{session_id}"]')
    expect(row).to_be_visible()
    page.go_back()
    expect(page.get_by_text("No session matches these filters.")).to_be_visible()
    page.go_forward()
    row.get_by_role("link", name="Details").click()

    expect(page).to_have_url(f"{stack.base_url}/app/sessions/{session_id}")
    expect(page.get_by_role("heading", name="@demo_streamer")).to_be_visible()
    assert stat(page, "events") >= 40
    assert stat(page, "users") > 0
    expect(page.locator("#chart-types .main-svg").first).to_be_attached()
    expect(page.locator("#chart-rate .main-svg").first).to_be_attached()
    expect(
        page.get_by_role("region", name="Top gifters").locator(".ranking-item").first
    ).to_be_visible()

    events = page.locator(".table-events tbody tr")
    expect(events.first).to_be_visible()
    page.get_by_label("Event type").select_option(label="Gifts")
    expect(events.first).to_have_attribute("data-type", "gift")
    types = events.evaluate_all("rows => rows.map(r => r.dataset.type)")
    assert types and set(types) <= {"gift", "envelope"}
    screenshot(page, "dashboard-session.png")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export as NDJSON").click()
    lines = Path(download.value.path()).read_text("utf-8").splitlines()
    assert len(lines) >= 40
    json.loads(lines[-1])


def test_watchlist_add_and_remove(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "/app/watchlist")
    box = page.get_by_label("TikTok username or profile link")
    box.fill("a")
    page.get_by_role("button", name="Watch", exact=True).click()
    expect(box).to_have_attribute("aria-invalid", "true")
    box.fill("@Some.Creator")
    page.get_by_role("button", name="Watch", exact=True).click()
    item = page.locator('.watch-item[data-username="some.creator"]')
    expect(item).to_be_visible()
    expect(item.locator(".badge")).to_have_text("Offline")
    item.get_by_role("button", name="Stop watching @some.creator").click()
    page.get_by_role("dialog").get_by_role("button", name="Stop watching").click()
    expect(item).to_have_count(0)
    expect(page.get_by_text("Nobody is watched yet.")).to_be_visible()


def test_api_key_is_shown_once_works_and_can_be_revoked(
    page: Page, stack: Stack, browser: BrowserContext
) -> None:
    browser.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.base_url)
    sign_in(page, stack, "/app/keys")
    page.get_by_label("Name").fill("OBS overlay")
    expect(page.locator("#scope-sign")).to_be_checked()  # the defaults: sign and read
    expect(page.locator("#scope-account")).not_to_be_checked()
    page.locator("#scope-publish").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key")
    expect(secret).to_be_visible()
    key = secret.input_value()
    assert len(key) > 20
    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == key
    page.get_by_role("button", name="Done, I've saved it").click()
    expect(secret).to_have_count(0)
    row = page.locator("tr", has_text="OBS overlay")
    expect(row.locator(".badge")).to_have_text("active")
    expect(row.locator('[data-label="Scopes"]')).to_have_text("publish, read, sign")

    page.reload()
    expect(page.locator("tr", has_text="OBS overlay")).to_be_visible()
    assert key not in page.content()  # shown once, never again

    with stack.api() as http:
        assert (
            http.get("/api/user/profile", headers={"Authorization": f"Bearer {key}"}).status_code
            == 200
        )
        page.get_by_role("button", name="Revoke OBS overlay").click()
        page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
        expect(page.locator("tr", has_text="OBS overlay").locator(".badge")).to_have_text("revoked")
        assert (
            http.get("/api/user/profile", headers={"Authorization": f"Bearer {key}"}).status_code
            == 401
        )


def test_sign_usage_page(page: Page, stack: Stack) -> None:
    """Real usage: a key signs through the real sign service, the page charts it."""
    headers = {"Authorization": f"Bearer {stack.token()}"}
    with stack.api() as http:
        created = http.post("/api/auth/api-keys", json={"name": "TikTokLive bot"}, headers=headers)
        assert created.status_code in (200, 201), created.text
        key = created.json()["data"]
        for _ in range(3):
            signed = http.post(
                "/api/eulerstream",
                json={"url": "https://www.tiktok.com/@testuser/live"},
                headers={"x-api-key": key["key"]},
            )
            assert signed.status_code == 200, signed.text
    sign_in(page, stack, "/app/sign")
    expect(page.locator("#sign-unavailable")).to_have_count(0)
    chart = page.locator(f"#chart-key-{key['id']}")
    expect(chart.locator(".main-svg").first).to_be_attached()
    expect(page.locator(f'[data-key-totals="{key["id"]}"]')).to_have_text(
        "3 requests · 0 answered 429"
    )
    expect(page.get_by_role("figure").first).to_contain_text(f"TikTokLive bot ({key['prefix']}…)")
    limits = page.get_by_role("region", name="Your limits")
    expect(limits).to_contain_text("unlimited")
    expect(limits).to_contain_text("1000/hour per IP")
    expect(page.get_by_role("region", name="Right now, from this address")).to_contain_text(
        re.compile(r"[\d,]+ of 1,000 left")
    )
    screenshot(page, "dashboard-sign.png")


def test_every_request_stays_on_the_app(
    page: Page, stack: Stack, requests: RequestLog, recorded: str
) -> None:
    session_id = recorded
    sign_in(page, stack)
    for path in (
        "/app/sessions",
        f"/app/sessions/{session_id}",
        f"/app/live/{session_id}",
        "/app/watchlist",
        "/app/keys",
        "/app/sign",
    ):
        page.goto(stack.base_url + path)
        page.locator("main h1").first.wait_for()
        if "/live/" in path:
            page.locator("#chart-rate .main-svg").first.wait_for(state="attached")
    expect(page.locator("h1")).to_have_text("Sign usage")
    paths = {url.removeprefix(stack.base_url).split("?")[0] for url in requests.urls}
    assert "/assets/vendor/plotly.min.js" in paths  # charts came from the app itself
    assert f"/api/sessions/{session_id}/stream" in paths
    assert not requests.foreign(), requests.foreign()


def test_keyboard_and_labels(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "/app/live/00000000-0000-4000-8000-000000000000")
    expect(page.get_by_role("alert")).to_be_visible()  # a session that is not there
    page.goto(stack.base_url + "/app/no-such-page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.goto(stack.base_url + "/app/sessions")
    page.locator("main h1").wait_for()
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    for path in ("/app", "/app/sessions", "/app/watchlist", "/app/keys"):
        page.goto(stack.base_url + path)
        page.locator("main h1").first.wait_for()
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea, button')]
                .filter(el => !el.hidden && !(el.labels && el.labels.length)
                    && !el.getAttribute('aria-label') && !el.textContent.trim())
                .map(el => el.outerHTML)"""
        )
        assert not unlabelled, f"{path}: {unlabelled}"
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), path


def test_feed_chips_work_from_the_keyboard(page: Page, stack: Stack, recorded: str) -> None:
    sign_in(page, stack, f"/app/live/{recorded}")
    chip = page.get_by_role("button", name="Likes", exact=True)
    chip.focus()
    page.keyboard.press("Space")
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="All", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    page.keyboard.press("Enter")
    expect(chip).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_role("button", name="All", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )


def _username_inputs() -> list[str]:
    fixed = [
        "demo_streamer",
        "@Demo_Streamer",
        "  @demo.streamer  ",
        "\tdemo\u3000",
        "https://www.tiktok.com/@Some.One/live",
        "http://m.tiktok.com/@abc?lang=en",
        "tiktok.com/@abc#x",
        "WWW.TIKTOK.COM/@UPPER",
        "https://vm.tiktok.com/@nope",
        "https://example.com/@abc",
        "@",
        "a",
        "ab",
        "a" * 24,
        "a" * 25,
        "na me",
        "name!",
        "@@name",
        "\u212aelvin",  # KELVIN SIGN lower-cases to an ASCII k in both languages
        "caf\u00e9",
        "\x1cname\x1f",  # whitespace to Python's strip(), not to JavaScript's trim()
        "",
        "   ",
    ]
    rng = random.Random(20261124)
    alphabet = "aZ9_.@ /:?#-\u00e9\u212a\t" + "tiktok.com/@" + "https://www."
    generated = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(300)
    ]
    prefixes = ["", "@", "https://www.tiktok.com/@", " tiktok.com/@"]
    generated += [rng.choice(prefixes) + s for s in generated[:100]]
    return fixed + generated


def test_username_rules_match_the_api(page: Page, stack: Stack) -> None:
    """The connect form's validation (JavaScript) agrees with the API's (Python)."""
    page.goto(stack.base_url + "/app/login")
    inputs = _username_inputs()
    answers = page.evaluate(
        """async (inputs) => {
            const { normaliseUsername } = await import("/assets/js/username.js");
            return inputs.map((value) => normaliseUsername(value));
        }""",
        inputs,
    )
    for value, answer in zip(inputs, answers, strict=True):
        try:
            expected: str | None = normalise_username(value)
        except ValueError:
            expected = None
        got = answer["username"] if answer["ok"] else None
        assert got == expected, f"{value!r}: browser {got!r}, API {expected!r}"


EXPIRE_ACCESS_TOKEN = """() => {
    const auth = JSON.parse(localStorage.getItem("allin.auth"));
    auth.expires_at = 0;
    localStorage.setItem("allin.auth", JSON.stringify(auth));
    return auth.access_token;
}"""


def test_expired_access_tokens_are_renewed_once_across_tabs(
    page: Page, stack: Stack, browser: BrowserContext, requests: RequestLog
) -> None:
    """Two tabs renew at once: the refresh token rotates and a reused one would end the
    session, so the tabs must take turns (Web Locks) and share the result."""
    sign_in(page, stack, "/app/sessions")
    other = browser.new_page()
    other.on("request", lambda request: requests.record(request.url))
    try:
        other.goto(stack.base_url + "/app/sessions")
        expect(other.get_by_role("heading", name="Sessions")).to_be_visible()
        old = page.evaluate(EXPIRE_ACCESS_TOKEN)
        for tab in (page, other):  # both navigate at once, neither waits for the other
            tab.evaluate("() => { location.href = '/app/watchlist'; }")
        for tab in (page, other):
            expect(tab.get_by_role("heading", name="Watchlist")).to_be_visible()
            expect(tab.get_by_text("Nobody is watched yet.")).to_be_visible()
        new = page.evaluate("() => JSON.parse(localStorage.getItem('allin.auth')).access_token")
        assert new != old
        refreshes = [url for url in requests.urls if url.endswith("/api/auth/refresh")]
        assert len(refreshes) == 1, refreshes
    finally:
        other.close()


def test_the_live_view_resumes_after_a_drop_and_an_expired_token(page: Page, stack: Stack) -> None:
    """A stream that ends makes the browser reconnect; a 401 then (the access token in the URL
    expired) makes the page renew it and reopen with `last_event_id`, and the feed continues
    after the last event it showed, with no duplicate."""
    session_id = capture_demo(stack, min_events=10)
    headers = {"Authorization": f"Bearer {stack.token()}"}
    with stack.api() as http:
        summary = http.get(f"/api/sessions/{session_id}", headers=headers).json()["data"]
        params = {"order": "desc", "limit": 1}
        last = http.get(f"/api/sessions/{session_id}/events", params=params, headers=headers)
    event = last.json()["data"][0]
    calls: list[str] = []

    def stream(route: Route) -> None:
        calls.append(route.request.url)
        if len(calls) == 1:  # one event, then the connection ends
            body = (
                "retry: 100\n\n"
                f"event: session\ndata: {json.dumps(summary)}\n\n"
                f"id: {event['id']}\ndata: {json.dumps(event)}\n\n"
            )
            route.fulfill(status=200, body=body, headers={"Content-Type": "text/event-stream"})
        elif len(calls) == 2:  # the token in the URL has expired
            route.fulfill(status=401, json={"success": False, "error": {"code": "AUTH_004"}})
        else:
            route.continue_()

    page.route(f"**/api/sessions/{session_id}/stream**", stream)
    try:
        sign_in(page, stack, f"/app/live/{session_id}")
        expect(page.locator(f'.feed-list .event[data-id="{event["id"]}"]')).to_be_attached()
        newer = page.locator(".feed-list .event").first
        expect(newer).not_to_have_attribute("data-id", str(event["id"]), timeout=5000)
        expect(page.locator(".connection")).to_have_text("Receiving events")
    finally:
        end_capture(stack, session_id)
    assert len(calls) >= 3, calls
    assert f"last_event_id={event['id']}" in calls[2]  # the page's own reopening, after the 401
    ids = page.locator(".feed-list .event").evaluate_all("rows => rows.map(r => +r.dataset.id)")
    assert len(ids) == len(set(ids)), "an event was shown twice"
    assert max(ids) > event["id"]
