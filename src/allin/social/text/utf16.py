"""Length in UTF-16 code units, as platforms implemented in JavaScript or Java count text: a
character outside the Basic Multilingual Plane (most emoji) counts 2."""

from __future__ import annotations


def utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
