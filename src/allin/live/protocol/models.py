"""Small immutable value objects shared by events, and their JSON-safe rendering."""

from __future__ import annotations

import base64
from _json import encode_basestring_ascii, make_encoder
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar

# 64-bit identifiers are rendered as strings: JavaScript numbers lose precision above 2**53.
ID_FIELDS = frozenset(
    {
        "msg_id",
        "room_id",
        "user_id",
        "group_id",
        "battle_id",
        "poll_id",
        "question_id",
        "goal_id",
        "sub_goal_id",
        "delete_msg_ids",
        "delete_user_ids",
    }
)

# Rendered as they are (an int that is not an identifier too).
_PLAIN = frozenset({str, bool, float, int, type(None)})


def json_value(name: str, value: Any) -> Any:
    """Renders one attribute for JSON; `name` decides whether an int is an identifier."""
    if value is None or isinstance(value, str | bool | float):
        return value
    if isinstance(value, int):
        return str(value) if name in ID_FIELDS else value
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [json_value(name, item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_value(name, v) for k, v in value.items()}
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


@dataclass(frozen=True, slots=True)
class Record:
    """Base of every value object and event: a generic, compiled `to_dict()`."""

    # Class attributes rendered first (an event's `type`), attributes left out of to_dict()
    # (raw bytes) and computed properties added to it.
    _JSON_LEAD: ClassVar[tuple[str, ...]] = ()
    _JSON_EXCLUDE: ClassVar[frozenset[str]] = frozenset({"raw"})
    _JSON_EXTRA: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe processed data (ids as strings, bytes as base64)."""
        render = _RENDERERS.get(type(self))
        if render is None:
            render = _compile_renderer(type(self))
        return render(self)

    def to_json(self) -> str:
        """`to_dict()` as compact JSON text (`json_text(self.to_dict())`), without
        building the dict: what storage writes for every event."""
        write = _WRITERS.get(type(self))
        if write is None:
            write = _compile_writer(type(self))
        return write(self)


_RENDERERS: dict[type, Callable[[Any], dict[str, Any]]] = {}
_WRITERS: dict[type, Callable[[Any], str]] = {}


def _unserializable(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# Compact JSON as `json.dumps(value, separators=(",", ":"))` writes it (ASCII, NaN allowed),
# with one C encoder made once: json.dumps() builds a new one on every call. No check for
# circular references: the data are plain trees from `to_dict()`.
_ENCODER = make_encoder(
    None, _unserializable, encode_basestring_ascii, None, ":", ",", False, False, True
)


def json_text(value: Any) -> str:
    """`json.dumps(value, separators=(",", ":"))`, faster."""
    return "".join(_ENCODER(value, 0))


def _json_other(name: str, value: Any) -> str:
    """The JSON text of one attribute that is not a str (the generated writers' slow path)."""
    kind = value.__class__
    if kind is int:
        return f'"{value}"' if name in ID_FIELDS else int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, Record):
        return value.to_json()
    if kind is tuple and not value:
        return "[]"
    return json_text(json_value(name, value))


def _json_names(cls: type[Record]) -> tuple[str, ...]:
    names = cls._JSON_LEAD
    names += tuple(f.name for f in fields(cls) if f.name not in cls._JSON_EXCLUDE)
    return names + cls._JSON_EXTRA


def _compile_renderer(cls: type[Record]) -> Callable[[Any], dict[str, Any]]:
    """One function per class doing what `json_value` does for each attribute, with the
    common cases (str, bool, float, None, int) inline: rendering is on every event's path.
    Anything else (nested records, tuples, bytes, enums) goes through `json_value`."""
    lines = []
    for i, name in enumerate(_json_names(cls)):
        if not name.isidentifier():  # only attribute names reach the generated source
            raise ValueError(f"not an attribute name: {name!r}")
        lines.append(f"    v{i} = self.{name}")
    items = []
    for i, name in enumerate(_json_names(cls)):
        if name in ID_FIELDS:
            value = f"str(v{i}) if v{i}.__class__ is int else json_value({name!r}, v{i})"
        else:
            value = f"v{i} if v{i}.__class__ in plain else json_value({name!r}, v{i})"
        items.append(f"        {name!r}: {value},")
    source = "\n".join(["def render(self):", *lines, "    return {", *items, "    }"])
    scope: dict[str, Any] = {"json_value": json_value, "plain": _PLAIN}
    exec(compile(source, f"<to_dict of {cls.__qualname__}>", "exec"), scope)  # noqa: S102
    render: Callable[[Any], dict[str, Any]] = scope["render"]
    _RENDERERS[cls] = render
    return render


def _compile_writer(cls: type[Record]) -> Callable[[Any], str]:
    """One function per class writing `to_dict()`'s JSON text directly: str and int
    attributes inline, everything else through `_json_other` (None, bools, nested records,
    empty tuples) or, for the rest, `json_text(json_value(...))`, so the text is the same
    as the dict's."""
    names = _json_names(cls)
    lines = []
    for i, name in enumerate(names):
        if not name.isidentifier():  # only attribute names reach the generated source
            raise ValueError(f"not an attribute name: {name!r}")
        lines.append(f"    v{i} = self.{name}")
    parts = []
    for i, name in enumerate(names):
        key = encode_basestring_ascii(name) + ":"  # an identifier: no quote, brace or escape
        v = f"v{i}"
        if name in ID_FIELDS:  # as a string; an int's digits need no escaping
            value = f"""'"' + int_repr({v}) + '"' if {v}.__class__ is int else """
            value += f"other({name!r}, {v})"
        else:
            value = (
                f"esc({v}) if {v}.__class__ is str else "
                f"int_repr({v}) if {v}.__class__ is int else other({name!r}, {v})"
            )
        parts.append(("," if i else "{{") + key + "{" + value + "}")
    body = "".join(parts) + "}}" if names else "{{}}"
    source = "\n".join(["def write(self):", *lines, f"    return f'''{body}'''"])
    scope: dict[str, Any] = {
        "esc": encode_basestring_ascii,
        "int_repr": int.__repr__,
        "other": _json_other,
    }
    exec(compile(source, f"<to_json of {cls.__qualname__}>", "exec"), scope)  # noqa: S102
    write: Callable[[Any], str] = scope["write"]
    _WRITERS[cls] = write
    return write


@dataclass(frozen=True, slots=True)
class EventUser(Record):
    """The person behind an event. `unique_id` is the @handle (User field 38, display_id)."""

    user_id: int = 0
    unique_id: str = ""
    nickname: str = ""
    avatar_url: str = ""
    sec_uid: str = ""


@dataclass(frozen=True, slots=True)
class GiftInfo(Record):
    """A gift as described by TikTok (in a gift message or in the gift catalogue)."""

    id: int = 0
    name: str = ""
    diamond_count: int = 0
    type: int = 0
    combo: bool = False
    describe: str = ""
    image_uri: str = ""
    image_url: str = ""

    _JSON_EXTRA: ClassVar[tuple[str, ...]] = ("streakable",)

    @property
    def streakable(self) -> bool:
        """Only type-1 gifts arrive as streaks (repeated events closed by repeat_end)."""
        return self.type == 1


@dataclass(frozen=True, slots=True)
class Emote(Record):
    """A sticker in a chat (`index` = position in the comment) or an emote-chat message."""

    emote_id: str = ""
    image_url: str = ""
    index: int = 0


@dataclass(frozen=True, slots=True)
class TopViewer(Record):
    """One entry of the room's top-viewer ranking; `coins` is the ranking score."""

    user: EventUser | None = None
    coins: int = 0
    rank: int = 0


@dataclass(frozen=True, slots=True)
class PollOption(Record):
    index: int = 0
    text: str = ""
    votes: int = 0


@dataclass(frozen=True, slots=True)
class GoalProgress(Record):
    """One sub-goal of a LIVE goal, e.g. "100 Roses": progress towards target."""

    sub_goal_id: int = 0
    type: int = 0
    progress: int = 0
    target: int = 0
    gift_name: str = ""
    gift_diamond_count: int = 0
