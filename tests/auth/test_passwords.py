"""argon2id hashing profiles and the password policy."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from hypothesis import given, settings
from hypothesis import strategies as st

from allin.auth.passwords import MIN_LENGTH, Passwords, password_problems


async def test_owasp_profile_parameters() -> None:
    stored = await Passwords("owasp").hash("tangerine-orbit-42")
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert (params.time_cost, params.memory_cost, params.parallelism) == (2, 19_456, 1)


async def test_verify_and_rehash_across_profiles() -> None:
    owasp, fast = Passwords("owasp"), Passwords("test")
    stored = await fast.hash("tangerine-orbit-42")
    assert await fast.verify(stored, "tangerine-orbit-42")
    assert not await fast.verify(stored, "tangerine-orbit-43")
    assert not await fast.verify("not a hash", "tangerine-orbit-42")
    assert owasp.needs_rehash(stored) and not fast.needs_rehash(stored)
    assert owasp.needs_rehash("garbage")
    # Hashes verify whatever profile made them: parameters live in the hash.
    assert await owasp.verify(stored, "tangerine-orbit-42")


async def test_same_password_different_salts() -> None:
    fast = Passwords("test")
    assert await fast.hash("tangerine-orbit-42") != await fast.hash("tangerine-orbit-42")


@pytest.mark.parametrize(
    "password",
    [
        "short",
        "password123",
        "Password2024!",
        "qwertyuiop",
        "1234567890",
        "aaaaaaaaaaaa",
        "ababababababab",
        "abcdefghijklm",
        "iloveyou123",
        "!!Welcome2026",
        "0987654321",
    ],
)
def test_weak_passwords(password: str) -> None:
    assert password_problems(password)


def test_password_containing_the_email() -> None:
    assert password_problems("grace.hopper-1906", email="Grace.Hopper@example.com") == [
        "must not contain your email address"
    ]
    assert password_problems("grace@example.com", email="grace@example.com")
    # Short local parts are not matched (they would reject too much).
    assert password_problems("tangerine-bob-42", email="bob@example.com") == []


@pytest.mark.parametrize(
    "password", ["tangerine-orbit-42", "correct horse battery", "Zq8#vL2!pW", "x" * 3 + "yzw" * 3]
)
def test_acceptable_passwords(password: str) -> None:
    assert password_problems(password) == []


@given(st.text(max_size=MIN_LENGTH - 1))
def test_anything_shorter_than_minimum_is_refused(password: str) -> None:
    assert f"must be at least {MIN_LENGTH} characters" in password_problems(password)


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=MIN_LENGTH, max_size=128))
def test_policy_is_total(password: str) -> None:
    problems = password_problems(password, email="someone@example.com")
    assert isinstance(problems, list)
    assert all(isinstance(p, str) for p in problems)
    # Length alone never fails in this range.
    assert not any("characters" in p for p in problems)
