"""Request and response bodies of the AI API, and the schema a model's assessment must meet."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from allin.core.schemas import StrictModel
from allin.social.providers.base import Platform

Short = Field(default=None, max_length=300)


def _unique(platforms: list[Platform]) -> list[Platform]:
    return list(dict.fromkeys(platforms))


class GenerateIn(StrictModel):
    topic: str | None = Field(default=None, max_length=2000)
    source_text: str | None = None  # bounded by ai_max_content_chars (413)
    source_url: str | None = Field(default=None, max_length=2048)
    platforms: list[Platform] = Field(min_length=1, max_length=len(Platform))
    tone: str | None = Short
    audience: str | None = Short
    brand_voice: str | None = Short
    variants: StrictInt = Field(default=1, ge=1, le=5)
    hashtags: StrictBool = True
    save_as_draft: StrictBool = False

    _platforms = field_validator("platforms")(_unique)

    @model_validator(mode="after")
    def _needs_material(self) -> GenerateIn:
        if not (self.topic or self.source_text or self.source_url):
            raise ValueError("give a topic, a source_text or a source_url")
        return self


class ImproveIn(StrictModel):
    content: str = Field(min_length=1)
    goal: str = Field(min_length=1, max_length=300)
    platform: Platform
    save_as_draft: StrictBool = False


class AnalyzeIn(StrictModel):
    content: str = Field(min_length=1)
    platform: Platform


class LiveRecapIn(StrictModel):
    session_id: uuid.UUID
    platforms: list[Platform] = Field(default_factory=lambda: [Platform.TIKTOK], min_length=1)
    tone: str | None = Short
    hashtags: StrictBool = True

    _platforms = field_validator("platforms")(_unique)


class DraftIn(StrictModel):
    platform: Platform
    content: str = Field(min_length=1)
    source: Literal["generate", "improve", "live_recap", "manual"] = "manual"
    details: dict[str, Any] = Field(default_factory=dict)


class PreferencesIn(StrictModel):
    time_zone: str = Field(min_length=1, max_length=64)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as Europe/Paris") from None
        return value


class Assessment(BaseModel):
    """What the model must answer for an analysis; anything else is a malformed answer."""

    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=0, le=100)
    clarity: Literal["clear", "mixed", "unclear"]
    guideline_risks: list[str] = Field(max_length=20)
    suggestions: list[str] = Field(max_length=20)
    summary: str = Field(max_length=2000)


class UsageOut(BaseModel):
    provider: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    credits_charged: int
    credits_left: int | None  # None = unlimited


class ChecksOut(BaseModel):
    platform: Platform
    length: int
    max_length: int
    hashtags: list[str]
    max_hashtags: int | None
    mentions: list[str]
    links: list[str]
    problems: list[str]
    valid: bool


class VariantOut(BaseModel):
    platform: Platform
    index: int
    text: str
    trimmed: bool  # cut to fit the platform
    checks: ChecksOut
    draft_id: uuid.UUID | None = None


class GenerateOut(BaseModel):
    variants: list[VariantOut]
    usage: UsageOut


class ImproveOut(BaseModel):
    platform: Platform
    original: str
    text: str
    trimmed: bool
    changes: list[str]
    checks: ChecksOut
    draft_id: uuid.UUID | None = None
    usage: UsageOut


class AnalyzeOut(BaseModel):
    platform: Platform
    checks: ChecksOut
    assessment: Assessment
    usage: UsageOut


class DraftOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    platform: str
    content: str
    source: str
    details: dict[str, Any]
    created_at: datetime


class LiveRecapOut(BaseModel):
    session_id: uuid.UUID
    drafts: list[DraftOut]
    usage: UsageOut


class CreditsOut(BaseModel):
    plan: str
    unlimited: bool
    allowance: int | None
    used: int
    reserved: int
    left: int | None
    period_start: datetime
    resets_at: datetime
    time_zone: str


class UsageRow(BaseModel):
    user_id: uuid.UUID
    email: str | None
    provider: str | None
    requests: int
    input_tokens: int
    output_tokens: int
    credits: int
