"""Deterministic stand-in model output: plausible text from the prompt's own words, and JSON
that satisfies a requested schema. The same prompt always gives the same answer."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from typing import Any

SIMULATED_LABEL = "[simulated]"
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_STOP = frozenset(
    """about above after again against also always another because been before being below
    between both could does doing down during each every from further have having here into
    itself just more most much must only other over same should some such than that their
    theirs them then there these they this those through under until very were what when where
    which while with would your yours write post posts content text platform make give return
    using tone audience brand voice goal json schema respond answer user data instructions
    """.split()  # noqa: SIM905
)
_OPENERS = (
    "Here is a fresh take on {a}.",
    "Let's talk about {a} and why it matters.",
    "{A} is easier than it looks.",
    "Quick thought on {a}:",
    "Three things I learned about {a}.",
)
_MIDDLES = (
    "Start with {b}, then build around {c}.",
    "The secret is pairing {b} with a little {c}.",
    "Most people skip {b}; the ones who win never do.",
    "Keep {b} simple and let {c} do the heavy lifting.",
    "If {b} feels hard, try it for a week and watch {c} change.",
)
_CLOSERS = (
    "What would you add?",
    "Save this for later.",
    "Tell me in the comments.",
    "Follow for more like this.",
    "Share it with someone who needs it.",
)


def estimate_tokens(text: str) -> int:
    """The simulators' one counting rule, streamed and not: ceil(characters / 4)."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _rng(seed_text: str) -> random.Random:
    digest = hashlib.sha256(seed_text.encode("utf-8", "surrogatepass")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 (not security)


def keywords(prompt: str, limit: int = 6) -> list[str]:
    seen: dict[str, None] = {}
    for word in _WORD.findall(prompt):
        lowered = word.lower()
        if lowered not in _STOP:
            seen.setdefault(lowered, None)
    words = list(seen) or ["your idea", "consistency", "community"]
    return words[:limit]


def reply_text(prompt: str) -> str:
    """A short social-post-like paragraph built from the prompt's keywords."""
    rng = _rng(prompt)
    words = keywords(prompt)
    pick = [words[i % len(words)] for i in range(3)]
    rng.shuffle(pick)
    a, b, c = pick
    sentences = [
        rng.choice(_OPENERS).format(a=a, A=a.capitalize()),
        rng.choice(_MIDDLES).format(b=b, c=c),
        rng.choice(_CLOSERS),
    ]
    tags = " ".join(f"#{w.replace(' ', '').replace('-', '')}" for w in words[:2])
    return f"{SIMULATED_LABEL} {' '.join(sentences)} {tags}"


def json_for_schema(schema: dict[str, Any], prompt: str) -> str:
    return json.dumps(_instance(schema, _rng(prompt), keywords(prompt), "value"))


def _instance(schema: dict[str, Any], rng: random.Random, words: list[str], name: str) -> Any:
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props: dict[str, Any] = schema.get("properties", {})
        return {key: _instance(sub, rng, words, key) for key, sub in props.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 2)), 1)
        count = min(count, int(schema.get("maxItems", count)))
        item = schema.get("items", {"type": "string"})
        return [_instance(item, rng, words, name) for _ in range(count)]
    if kind == "integer":
        low, high = int(schema.get("minimum", 0)), int(schema.get("maximum", 100))
        return rng.randint(low, high) if low <= high else low
    if kind == "number":
        low_f, high_f = float(schema.get("minimum", 0)), float(schema.get("maximum", 1))
        return round(rng.uniform(low_f, high_f), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    word = rng.choice(words)
    text = f"{SIMULATED_LABEL} {name.replace('_', ' ')}: consider {word}"
    limit = schema.get("maxLength")
    return text[: int(limit)] if limit else text


def cap_text(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """The text cut to `max_tokens` by the counting rule, and whether it was cut."""
    if max_tokens is None or estimate_tokens(text) <= max_tokens:
        return text, False
    return text[: max_tokens * 4], True


def pieces(text: str) -> list[str]:
    """Stream deltas: one word (with its following space) at a time."""
    return re.findall(r"\S+\s*|\s+", text) or [text]
