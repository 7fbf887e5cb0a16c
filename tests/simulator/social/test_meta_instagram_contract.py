"""The Meta simulator against Instagram content publishing, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from allin.simulator.social.sniff import jpeg, mp4, png
from tests.simulator.social.meta_support import (
    IG,
    Sim,
    V,
    error_of,
    long_token,
    page_token,
    running,
)
from tests.support.server import serve

IMG = "https://cdn.example/photo.jpg"
VID = "https://cdn.example/clip.mp4"


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async for value in running():
        value.state.media_library.update({IMG: jpeg(1080, 1080), VID: mp4()})
        yield value


async def container(sim: Sim, token: str, **params: str) -> httpx.Response:
    return await sim.http.post(f"{V}/{IG}/media", data={"access_token": token, **params})


async def status(sim: Sim, token: str, container_id: str) -> str:
    response = await sim.http.get(
        f"{V}/{container_id}", params={"fields": "status_code,status", "access_token": token}
    )
    return str(response.json()["status_code"])


async def publish(sim: Sim, token: str, creation_id: str) -> httpx.Response:
    return await sim.http.post(
        f"{V}/{IG}/media_publish", data={"access_token": token, "creation_id": creation_id}
    )


async def test_image_container_publish_and_read_back(sim: Sim) -> None:
    token = await long_token(sim.http)
    created = await container(sim, token, image_url=IMG, caption="hello #one")
    cid = created.json()["id"]
    assert await status(sim, token, cid) == "FINISHED"
    media_id = (await publish(sim, token, cid)).json()["id"]
    assert await status(sim, token, cid) == "PUBLISHED"
    listed = await sim.http.get(
        f"{V}/{IG}/media",
        params={
            "fields": "id,caption,timestamp,media_type,media_product_type,permalink",
            "access_token": token,
        },
    )
    row = listed.json()["data"][0]
    assert row["id"] == media_id and row["caption"] == "hello #one"
    assert row["media_type"] == "IMAGE" and row["media_product_type"] == "FEED"
    assert row["permalink"].startswith("https://www.instagram.com/p/")
    assert row["timestamp"].endswith("+0000")


async def test_reel_goes_in_progress_then_finished_and_early_publish_is_9007(sim: Sim) -> None:
    token = await long_token(sim.http)
    cid = (await container(sim, token, media_type="REELS", video_url=VID)).json()["id"]
    assert await status(sim, token, cid) == "IN_PROGRESS"
    early = await publish(sim, token, cid)
    assert error_of(early) == (9007, 2207027)
    assert early.json()["error"]["is_transient"] is False
    sim.clock.advance(3)
    assert await status(sim, token, cid) == "FINISHED"
    assert (await publish(sim, token, cid)).status_code == 200


async def test_bad_video_ends_in_error_with_the_subcode(sim: Sim) -> None:
    token = await long_token(sim.http)
    sim.state.media_library["https://cdn.example/bad.mp4"] = b"not a video at all"
    cid = (
        await container(sim, token, media_type="REELS", video_url="https://cdn.example/bad.mp4")
    ).json()["id"]
    sim.clock.advance(5)
    body = (
        await sim.http.get(
            f"{V}/{cid}", params={"fields": "status_code,status", "access_token": token}
        )
    ).json()
    assert body["status_code"] == "ERROR" and "2207026" in body["status"]
    assert error_of(await publish(sim, token, cid)) == (-1, 2207032)


async def test_container_expires_after_24_hours(sim: Sim) -> None:
    token = await long_token(sim.http)
    cid = (await container(sim, token, image_url=IMG)).json()["id"]
    sim.clock.advance(86_401)
    assert await status(sim, token, cid) == "EXPIRED"
    assert error_of(await publish(sim, token, cid)) == (24, 2207008)
    assert error_of(await publish(sim, token, "17800000000000000")) == (24, 2207008)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (None, (9004, 2207052)),
        (png(1080, 1080), (36001, 2207005)),
        (jpeg(1080, 1080, padding=8 * 1024 * 1024), (36000, 2207004)),
        (jpeg(1080, 400), (36003, 2207009)),
        (jpeg(600, 1000), (36003, 2207009)),
    ],
)
async def test_image_fetch_rules(sim: Sim, data: bytes | None, code: tuple[int, int]) -> None:
    token = await long_token(sim.http)
    sim.state.media_library["https://cdn.example/x.jpg"] = data
    response = await container(sim, token, image_url="https://cdn.example/x.jpg")
    assert response.status_code == 400 and error_of(response) == code


async def test_media_is_really_fetched_over_http(sim: Sim) -> None:
    files = FastAPI()

    async def photo(_: Request) -> Response:
        return Response(jpeg(1000, 1000), media_type="image/jpeg")

    files.router.add_route("/p.jpg", photo)
    token = await long_token(sim.http)
    async with serve(files) as url:
        ok = await container(sim, token, image_url=f"{url}/p.jpg")
        assert ok.status_code == 200
        gone = await container(sim, token, image_url=f"{url}/missing.jpg")
        assert error_of(gone) == (9004, 2207052)


async def test_caption_rules(sim: Sim) -> None:
    token = await long_token(sim.http)
    long_caption = await container(sim, token, image_url=IMG, caption="a" * 2201)
    assert error_of(long_caption) == (36004, 2207010)
    tags = " ".join(f"#t{i}" for i in range(31))
    assert error_of(await container(sim, token, image_url=IMG, caption=tags)) == (36004, 2207010)
    mentions = " ".join(f"@u{i}" for i in range(21))
    assert error_of(await container(sim, token, image_url=IMG, caption=mentions)) == (100, 2207040)
    assert (await container(sim, token, image_url=IMG, caption="a" * 2200)).status_code == 200


async def test_hashtag_cap_is_configurable() -> None:
    async for sim in running(hashtag_cap=5):
        sim.state.media_library[IMG] = jpeg(1080, 1080)
        token = await long_token(sim.http)
        six = " ".join(f"#t{i}" for i in range(6))
        assert error_of(await container(sim, token, image_url=IMG, caption=six))[1] == 2207010


async def test_carousel_rules(sim: Sim) -> None:
    token = await long_token(sim.http)
    items = [
        (await container(sim, token, image_url=IMG, is_carousel_item="true")).json()["id"]
        for _ in range(2)
    ]
    one = await container(sim, token, media_type="CAROUSEL", children=items[0])
    assert error_of(one) == (100, 2207028)
    plain = (await container(sim, token, image_url=IMG)).json()["id"]
    not_item = await container(sim, token, media_type="CAROUSEL", children=f"{items[0]},{plain}")
    assert error_of(not_item) == (100, 2207028)
    video_item = (
        await container(sim, token, media_type="VIDEO", video_url=VID, is_carousel_item="true")
    ).json()["id"]
    unfinished = await container(
        sim, token, media_type="CAROUSEL", children=f"{items[0]},{video_item}"
    )
    assert error_of(unfinished) == (100, 2207028)
    reel_child = await container(
        sim, token, media_type="REELS", video_url=VID, is_carousel_item="true"
    )
    assert reel_child.status_code == 400
    parent = await container(
        sim, token, media_type="CAROUSEL", children=",".join(items), caption="album"
    )
    media_id = (await publish(sim, token, parent.json()["id"])).json()["id"]
    got = await sim.http.get(
        f"{V}/{media_id}", params={"fields": "id,media_type,children", "access_token": token}
    )
    assert got.json()["media_type"] == "CAROUSEL_ALBUM"
    assert [c["id"] for c in got.json()["children"]["data"]] == items


async def test_republishing_does_not_create_a_second_post(sim: Sim) -> None:
    token = await long_token(sim.http)
    cid = (await container(sim, token, image_url=IMG)).json()["id"]
    assert (await publish(sim, token, cid)).status_code == 200
    again = await publish(sim, token, cid)
    assert again.status_code == 400
    assert len(sim.state.ig_media) == 1


async def test_quota_and_content_publishing_limit() -> None:
    async for sim in running(publish_quota=2):
        sim.state.media_library[IMG] = jpeg(1080, 1080)
        token = await long_token(sim.http)
        params = {"fields": "quota_usage,config", "access_token": token}
        limit = await sim.http.get(f"{V}/{IG}/content_publishing_limit", params=params)
        assert limit.json() == {
            "data": [{"quota_usage": 0, "config": {"quota_total": 2, "quota_duration": 86_400}}]
        }
        for _ in range(2):
            cid = (await container(sim, token, image_url=IMG)).json()["id"]
            assert (await publish(sim, token, cid)).status_code == 200
        limit = await sim.http.get(f"{V}/{IG}/content_publishing_limit", params=params)
        assert limit.json()["data"][0]["quota_usage"] == 2
        cid = (await container(sim, token, image_url=IMG)).json()["id"]
        assert error_of(await publish(sim, token, cid)) == (9, 2207042)
        sim.clock.advance(86_401)  # the window rolls; the 60-day token still works
        fresh = (await container(sim, token, image_url=IMG)).json()["id"]
        assert (await publish(sim, token, fresh)).status_code == 200


async def test_container_cap_of_400_per_day() -> None:
    async for sim in running(container_cap=2):
        sim.state.media_library[IMG] = jpeg(1080, 1080)
        token = await long_token(sim.http)
        for _ in range(2):
            assert (await container(sim, token, image_url=IMG)).status_code == 200
        assert (await container(sim, token, image_url=IMG)).status_code == 400


async def test_missing_publish_permission_is_code_10(sim: Sim) -> None:
    token = await long_token(sim.http, "pages_show_list,pages_read_engagement,instagram_basic")
    response = await container(sim, token, image_url=IMG)
    assert response.status_code == 403 and error_of(response)[0] == 10


async def test_buc_header_and_instagram_throttle() -> None:
    async for sim in running(buc_calls_per_day=2):
        sim.state.media_library[IMG] = jpeg(1080, 1080)
        token = await long_token(sim.http)
        first = await container(sim, token, image_url=IMG)
        usage = json.loads(first.headers["x-business-use-case-usage"])
        assert usage[IG][0]["type"] == "instagram"
        await container(sim, token, image_url=IMG)
        over = await container(sim, token, image_url=IMG)
        assert error_of(over)[0] == 80002


async def test_lost_response_and_phantom_error_on_media_publish(sim: Sim) -> None:
    token = await long_token(sim.http)
    cid = (await container(sim, token, image_url=IMG, caption="lost")).json()["id"]
    sim.state.faults.inject("ig.media_publish", "lost_response", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        await sim.http.post(
            f"{V}/{IG}/media_publish", timeout=0.1, data={"access_token": token, "creation_id": cid}
        )
    assert await status(sim, token, cid) == "PUBLISHED"  # reconciliation reads the container
    cid2 = (await container(sim, token, image_url=IMG, caption="phantom")).json()["id"]
    sim.state.faults.inject("ig.media_publish", "phantom_error")
    response = await publish(sim, token, cid2)
    assert response.status_code == 400 and error_of(response) == (-1, 2207001)
    listed = await sim.http.get(
        f"{V}/{IG}/media", params={"fields": "caption", "access_token": token}
    )
    assert sorted(m["caption"] for m in listed.json()["data"]) == ["lost", "phantom"]


async def test_page_token_also_publishes_and_account_fields(sim: Sim) -> None:
    token = await long_token(sim.http)
    page = await page_token(sim.http, token)
    cid = (await container(sim, page, image_url=IMG)).json()["id"]
    assert (await publish(sim, page, cid)).status_code == 200
    account = await sim.http.get(
        f"{V}/{IG}",
        params={"fields": "id,username,followers_count,media_count", "access_token": token},
    )
    assert account.json()["username"] == "allin.creator" and account.json()["media_count"] == 1


async def test_resumable_reel_upload(sim: Sim) -> None:
    token = await long_token(sim.http)
    created = await container(
        sim, token, media_type="REELS", upload_type="resumable", caption="reel"
    )
    cid, uri = created.json()["id"], created.json()["uri"]
    assert uri.endswith(f"/ig-api-upload/v25.0/{cid}")
    assert await status(sim, token, cid) == "IN_PROGRESS"
    data = mp4(500)
    upload = await sim.http.post(
        uri,
        content=data,
        headers={"Authorization": f"OAuth {token}", "offset": "0", "file_size": str(len(data))},
    )
    assert upload.json()["success"] is True
    sim.clock.advance(3)
    assert await status(sim, token, cid) == "FINISHED"
    media_id = (await publish(sim, token, cid)).json()["id"]
    got = await sim.http.get(
        f"{V}/{media_id}", params={"fields": "media_type,media_product_type", "access_token": token}
    )
    assert got.json()["media_product_type"] == "REELS"
