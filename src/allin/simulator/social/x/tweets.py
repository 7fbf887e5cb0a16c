"""POST/GET/DELETE /2/tweets, GET /2/users/me and GET /2/users/:id/tweets."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from allin.simulator.social.common import after_commit
from allin.simulator.social.x import text as xtext
from allin.simulator.social.x.responses import (
    Caller,
    answer,
    forbidden,
    guard,
    invalid_request,
    problem,
    state_of,
)
from allin.simulator.social.x.state import Tweet, XState

READ = ("tweet.read", "users.read")
WRITE = ("tweet.read", "tweet.write", "users.read")
_CREATE_KEYS = {
    "text",
    "media",
    "reply",
    "quote_tweet_id",
    "poll",
    "reply_settings",
    "community_id",
    "share_with_followers",
    "for_super_followers_only",
    "geo",
    "nullcast",
    "made_with_ai",
    "paid_partnership",
    "edit_options",
    "card_uri",
    "direct_message_deep_link",
}
_REPLY_SETTINGS = {"following", "mentionedUsers", "subscribers", "verified"}


def iso(ts: float) -> str:
    return (
        datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{int(ts * 1000) % 1000:03d}Z"
    )


def _parse_iso(value: str) -> float | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def render_user(state: XState, user_id: str, fields: set[str]) -> dict[str, Any]:
    user = state.users[user_id]
    body: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
    extra = {
        "created_at": user.created_at,
        "verified": user.verified,
        "protected": False,
        "description": "",
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{user.id}/normal.jpg",
        "public_metrics": {
            "followers_count": 0,
            "following_count": 0,
            "tweet_count": len(state.user_tweets(user.id)),
            "listed_count": 0,
        },
        "verified_type": "blue" if user.premium else "none",
    }
    body.update({k: v for k, v in extra.items() if k in fields})
    return body


def render_tweet(state: XState, tweet: Tweet, fields: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": tweet.id,
        "text": tweet.text,
        state.config.edit_history_key: [tweet.id],
    }
    extra: dict[str, Any] = {
        "created_at": iso(tweet.created_at),
        "author_id": tweet.author_id,
        "conversation_id": tweet.conversation_id,
        "reply_settings": tweet.reply_settings,
        "lang": "en",
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": 0,
            "like_count": 0,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 0,
        },
    }
    if tweet.media_ids:
        extra["attachments"] = {
            "media_keys": [
                state.media[m].key_prefix + m for m in tweet.media_ids if m in state.media
            ]
        }
    if tweet.in_reply_to:
        extra["in_reply_to_user_id"] = tweet.in_reply_to_user_id
        extra["referenced_tweets"] = [{"type": "replied_to", "id": tweet.in_reply_to}]
    elif tweet.quote_tweet_id:
        extra["referenced_tweets"] = [{"type": "quoted", "id": tweet.quote_tweet_id}]
    body.update({k: v for k, v in extra.items() if k in fields})
    return body


def _fields(request: Request, name: str) -> set[str]:
    return {f for f in request.query_params.get(name, "").split(",") if f}


async def users_me(request: Request) -> Response:
    caller, _ = await guard(request, "users.me", READ)
    state = state_of(request)
    return answer(
        caller, {"data": render_user(state, caller.user_id, _fields(request, "user.fields"))}
    )


async def get_tweet(request: Request) -> Response:
    caller, _ = await guard(request, "tweets.get", READ)
    state = state_of(request)
    tweet_id = request.path_params["id"]
    tweet = state.tweets.get(tweet_id)
    if tweet is None or tweet.deleted:
        # X answers 200 with a partial-error body for an id it cannot find.
        error = problem(
            state,
            0,
            "Not Found Error",
            f"Could not find tweet with id: [{tweet_id}].",
            "resource-not-found",
            value=tweet_id,
            resource_type="tweet",
            parameter="id",
            resource_id=tweet_id,
        )
        error.pop("status")
        return answer(caller, {"errors": [error]})
    return answer(caller, {"data": render_tweet(state, tweet, _fields(request, "tweet.fields"))})


async def user_tweets(request: Request) -> Response:
    caller, _ = await guard(request, "users.tweets", READ)
    state = state_of(request)
    q = request.query_params
    user_id = request.path_params["id"]
    if user_id not in state.users:
        raise invalid_request(
            state,
            f"The `id` query parameter value [{user_id}] is not valid",
            {"id": [user_id]},
            caller.headers,
        )
    try:
        max_results = int(q.get("max_results", "10"))
    except ValueError:
        max_results = -1
    if not 5 <= max_results <= 100:
        raise invalid_request(
            state,
            f"The `max_results` query parameter value [{q.get('max_results')}] is not between "
            "5 and 100",
            {"max_results": [q.get("max_results", "")]},
            caller.headers,
        )
    tweets = state.user_tweets(user_id)
    exclude = set(q.get("exclude", "").split(","))
    if "replies" in exclude:
        tweets = [t for t in tweets if t.in_reply_to is None]
    start_at, end_at = _bound(state, caller, q, "start_time"), _bound(state, caller, q, "end_time")
    tweets = [
        t
        for t in tweets
        if (start_at is None or t.created_at >= start_at)
        and (end_at is None or t.created_at < end_at)
        and (not q.get("since_id", "").isdigit() or int(t.id) > int(q["since_id"]))
        and (not q.get("until_id", "").isdigit() or int(t.id) < int(q["until_id"]))
    ]
    start = int(q["pagination_token"]) if q.get("pagination_token", "").isdigit() else 0
    page = tweets[start : start + max_results]
    fields = _fields(request, "tweet.fields")
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta |= {"newest_id": page[0].id, "oldest_id": page[-1].id}
    if start + max_results < len(tweets):
        meta["next_token"] = str(start + max_results)
    body: dict[str, Any] = {"meta": meta}
    if page:
        body = {"data": [render_tweet(state, t, fields) for t in page], "meta": meta}
    return answer(caller, body)


def _bound(state: XState, caller: Caller, q: Mapping[str, str], name: str) -> float | None:
    if not q.get(name):
        return None
    bound = _parse_iso(q[name])
    if bound is None:
        raise invalid_request(state, f"Invalid {name}", {name: [q[name]]}, caller.headers)
    return bound


async def delete_tweet(request: Request) -> Response:
    caller, _ = await guard(request, "tweets.delete", WRITE)
    state = state_of(request)
    tweet = state.tweets.get(request.path_params["id"])
    if tweet is not None and tweet.author_id != caller.user_id:
        raise forbidden(state, "You are not allowed to delete this Tweet.", caller.headers)
    deleted = tweet is not None and not tweet.deleted
    if tweet is not None:
        tweet.deleted = True
    return answer(caller, {"data": {"deleted": deleted}})


async def create_tweet(request: Request) -> Response:
    caller, fault = await guard(request, "tweets.create", WRITE)
    state = state_of(request)
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise invalid_request(state, "Request body must be a JSON object", {}, caller.headers)
    tweet = _validate_and_create(state, caller, body)
    await after_commit(fault)
    data = {"id": tweet.id, "text": tweet.text, state.config.edit_history_key: [tweet.id]}
    return JSONResponse({"data": data}, 201, headers=caller.headers)


def _validate_and_create(state: XState, caller: Caller, body: dict[str, Any]) -> Tweet:
    headers = caller.headers
    unknown = sorted(set(body) - _CREATE_KEYS)
    if unknown:
        raise invalid_request(
            state,
            f"The query parameter [{unknown[0]}] is not one of [{', '.join(sorted(_CREATE_KEYS))}]",
            {unknown[0]: []},
            headers,
        )
    text = body.get("text")
    media = body.get("media")
    if text is not None and not isinstance(text, str):
        raise invalid_request(state, "$.text: is not a string", {"text": [str(text)]}, headers)
    media_ids = _media_ids(state, caller, media)
    if not text and not media_ids and not body.get("poll"):
        raise invalid_request(state, "You must provide one of text or media.", {}, headers)
    text = text or ""
    _check_text(state, caller, text)
    reply = _reply_target(state, caller, body.get("reply"), text)
    quote = body.get("quote_tweet_id")
    if quote is not None and not (isinstance(quote, str) and quote.isdigit()):
        raise invalid_request(
            state,
            "$.quote_tweet_id: must be a numeric string",
            {"quote_tweet_id": [str(quote)]},
            headers,
        )
    if quote is not None and state.config.self_serve:
        # Quote posts are Enterprise-only since 2026-04 (create-post page warning).
        raise forbidden(state, "Quoting a post is not available on this access level.", headers)
    settings = body.get("reply_settings", "everyone")
    if not isinstance(settings, str) or (
        settings != "everyone" and settings not in _REPLY_SETTINGS
    ):
        raise invalid_request(
            state, "Invalid reply_settings", {"reply_settings": [str(settings)]}, headers
        )
    poll = _poll(state, caller, body.get("poll"))
    normalized = unicodedata.normalize("NFC", text)
    window = state.now() - state.config.duplicate_window
    for earlier in state.user_tweets(caller.user_id):
        if earlier.created_at >= window and earlier.text == normalized and normalized:
            raise forbidden(
                state, "You are not allowed to create a Tweet with duplicate content.", headers
            )
    tweet = state.new_tweet(caller.user_id, normalized)
    tweet.media_ids, tweet.poll, tweet.reply_settings = media_ids, poll, settings
    if reply is not None:
        tweet.in_reply_to, tweet.in_reply_to_user_id = reply.id, reply.author_id
        tweet.conversation_id = reply.conversation_id
    tweet.quote_tweet_id = body.get("quote_tweet_id")
    return tweet


def _check_text(state: XState, caller: Caller, text: str) -> None:
    user = state.users[caller.user_id]
    limit = state.config.premium_max_length if user.premium else state.config.max_length
    if xtext.weighted_length(text) > limit:
        if state.config.overlength_status == 403:
            raise forbidden(state, "You are not permitted to perform this action.", caller.headers)
        raise invalid_request(
            state,
            f"$.text: text is too long (max {limit} weighted characters)",
            {"text": [text]},
            caller.headers,
        )
    if state.config.self_serve and len(xtext.cashtags(text)) > 1:
        raise forbidden(state, "Posts may contain at most one cashtag.", caller.headers)


def _media_ids(state: XState, caller: Caller, media: object) -> list[str]:
    if media is None:
        return []
    ids = media.get("media_ids") if isinstance(media, dict) else None
    if (
        not isinstance(ids, list)
        or not 1 <= len(ids) <= 4
        or not all(isinstance(i, str) and i.isdigit() and len(i) <= 19 for i in ids)
    ):
        raise invalid_request(
            state,
            "$.media.media_ids: must be 1 to 4 numeric strings",
            {"media.media_ids": [json.dumps(ids)]},
            caller.headers,
        )
    for media_id in ids:
        found = state.media.get(media_id)
        if found is None or found.owner_id != caller.user_id or state.media_expired(found):
            raise invalid_request(
                state,
                f"Your media IDs are invalid. [{media_id}]",
                {"media.media_ids": [media_id]},
                caller.headers,
            )
        status, _ = state.media_state(found)
        if status != "succeeded":
            raise invalid_request(
                state,
                f"Your media IDs are invalid. [{media_id}] is not ready",
                {"media.media_ids": [media_id]},
                caller.headers,
            )
    return list(ids)


def _reply_target(state: XState, caller: Caller, reply: object, text: str) -> Tweet | None:
    if reply is None:
        return None
    target_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
    if not isinstance(target_id, str) or not target_id.isdigit():
        raise invalid_request(
            state,
            "$.reply.in_reply_to_tweet_id: must be a numeric string",
            {"reply.in_reply_to_tweet_id": [str(target_id)]},
            caller.headers,
        )
    target = state.tweets.get(target_id)
    if target is None or target.deleted:
        raise forbidden(
            state,
            "You attempted to reply to a Tweet that is deleted or not visible to you.",
            caller.headers,
        )
    summoned = state.users[caller.user_id].username.lower() in xtext.mentions(target.text)
    if state.config.self_serve and target.author_id != caller.user_id and not summoned:
        raise forbidden(
            state,
            "Reply to this conversation is not allowed because you have not "
            "been mentioned or otherwise engaged by the author of the post you "
            "are replying to.",
            caller.headers,
        )
    return target


def _poll(state: XState, caller: Caller, poll: object) -> dict[str, Any] | None:
    if poll is None:
        return None
    ok = (
        isinstance(poll, dict)
        and isinstance(poll.get("options"), list)
        and 2 <= len(poll["options"]) <= 4
        and all(isinstance(o, str) and 1 <= len(o) <= 25 for o in poll["options"])
        and isinstance(poll.get("duration_minutes"), int)
        and 5 <= poll["duration_minutes"] <= 10_080
    )
    if not ok:
        raise invalid_request(
            state,
            "$.poll: 2-4 options of 1-25 characters, duration 5-10080 minutes",
            {"poll": [json.dumps(poll)]},
            caller.headers,
        )
    assert isinstance(poll, dict)
    return poll
