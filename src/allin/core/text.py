"""Small checks on text that several domains need the same way."""


def is_ascii_digits(value: str) -> bool:
    """Only 0-9. `str.isdigit()` alone is also true for "²" and other digits that `int()`
    refuses, which turned bad input into a 500."""
    return value.isascii() and value.isdigit()
