"""Password hashing (argon2id) and the password policy.

Production parameters follow OWASP / ASVS 5.0 Appendix C: argon2id, m=19 MiB, t=2, p=1.
The "test" profile is the cheapest argon2id allowed, so suites stay fast; it is refused in
production (see `install_auth`).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 128  # argon2 copes with more; the cap bounds hashing work per request


@dataclass(frozen=True)
class Argon2Profile:
    time_cost: int
    memory_cost: int  # KiB
    parallelism: int


PROFILES: dict[str, Argon2Profile] = {
    "owasp": Argon2Profile(time_cost=2, memory_cost=19_456, parallelism=1),
    "test": Argon2Profile(time_cost=1, memory_cost=8, parallelism=1),
}


@dataclass
class Passwords:
    """Hash and verify with one profile. Hashing runs in a thread: it is CPU-bound."""

    profile: str = "owasp"
    _hasher: PasswordHasher = field(init=False, repr=False)
    _dummy_hash: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        p = PROFILES[self.profile]
        self._hasher = PasswordHasher(
            time_cost=p.time_cost,
            memory_cost=p.memory_cost,
            parallelism=p.parallelism,
            hash_len=32,
            salt_len=16,
        )

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify_sync, stored_hash, password)

    async def verify_dummy(self, password: str) -> None:
        """Spend the same time as a real check, for an account that does not exist."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters (profile changed)."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def _verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


@cache
def _common_passwords() -> tuple[frozenset[str], frozenset[str]]:
    text = resources.files("allin.auth").joinpath("common_passwords.txt").read_text("utf-8")
    exact: set[str] = set()
    bases: set[str] = set()
    for line in text.splitlines():
        word = line.strip().lower()
        if not word or word.startswith("#"):
            continue
        if word.startswith("*"):
            bases.add(word[1:])
        else:
            exact.add(word)
    return frozenset(exact), frozenset(bases)


_SEQUENCES = (
    "01234567890123456789",
    "98765432109876543210",
    "abcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcba",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
)


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """Why a password is weak (ASVS 6.2: length and a common-password list, no
    composition rules). Empty when acceptable."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    exact, bases = _common_passwords()
    core = lowered.strip("0123456789!@#$%^&*()-_=+.,?;:'\"~ ")
    if lowered in exact or core in bases:
        problems.append("is too common")
    elif len(set(lowered)) < 4 or any(lowered in seq for seq in _SEQUENCES):
        problems.append("is too predictable")
    if email:
        local = email.lower().split("@", 1)[0]
        if lowered == email.lower() or (len(local) >= 4 and local in lowered):
            problems.append("must not contain your email address")
    return problems
