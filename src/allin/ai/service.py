"""The AI assistant's use cases: generate, improve, analyse (each also streamed), LIVE recaps,
drafts, credits. Every provider call is metered: reserve, then settle from the reported usage,
or refund when nothing usable came back."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.ai import prompts
from allin.ai.alerts import CreditAlerts
from allin.ai.chain import ProviderChain
from allin.ai.credits import Ledger, Reservation, estimate_credits
from allin.ai.drafts import Drafts
from allin.ai.errors import ContentTooLargeError, MalformedAnswerError
from allin.ai.models import AiUsage
from allin.ai.platforms import check, fit
from allin.ai.ports import PlatformRules
from allin.ai.providers.anthropic_messages import AnthropicMessagesProvider
from allin.ai.providers.base import ChatRequest, Completion, Delta, Provider, Usage
from allin.ai.providers.openai_chat import OpenAIChatProvider
from allin.ai.schemas import (
    AnalyzeIn,
    AnalyzeOut,
    Assessment,
    ChecksOut,
    CreditsOut,
    DraftIn,
    DraftOut,
    GenerateIn,
    GenerateOut,
    ImproveIn,
    ImproveOut,
    LiveRecapIn,
    LiveRecapOut,
    UsageOut,
    UsageRow,
    VariantOut,
)
from allin.auth.email import EmailBackend, create_email_backend
from allin.auth.models import User
from allin.core.breaker import BreakerConfig
from allin.core.config import Settings
from allin.core.errors import AppError, NotFoundError
from allin.core.logging import Category, get_logger
from allin.core.ssrf import SafeFetcher
from allin.core.tasks import run_in_background
from allin.live.analytics import owned_session_analytics
from allin.social.errors import PlatformUnavailableError
from allin.social.providers.base import ContentRules, Platform

log = get_logger(Category.AI)
Event = tuple[str, dict[str, Any]]
_TAGS = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


def build_providers(settings: Settings) -> list[Provider]:
    providers: list[Provider] = []
    for config in settings.ai_providers:
        if config.kind == "openai":
            providers.append(OpenAIChatProvider(config))
        else:
            providers.append(AnthropicMessagesProvider(config))
    return providers


@dataclass
class Meter:
    """The usage of one metered request, summed over its provider calls."""

    reservation: Reservation
    plan: str
    input_tokens: int = 0
    output_tokens: int = 0
    provider: str | None = None
    model: str | None = None
    closed: bool = False

    def add(self, completion: Completion) -> None:
        self.input_tokens += completion.usage.input_tokens
        self.output_tokens += completion.usage.output_tokens
        self.provider, self.model = completion.provider, completion.model


def _checks(platform: Platform, rules: ContentRules, text: str) -> ChecksOut:
    result = check(platform, rules, text)
    return ChecksOut(
        platform=platform,
        length=result.length,
        max_length=result.max_length,
        hashtags=result.hashtags,
        max_hashtags=result.max_hashtags,
        mentions=result.mentions,
        links=result.links,
        problems=result.problems,
        valid=result.valid,
    )


def _page_text(raw: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", raw))).strip()


def _changes(platform: Platform, rules: ContentRules, before: str, after: str) -> list[str]:
    old, new = check(platform, rules, before), check(platform, rules, after)
    changes = [f"Length {old.length} → {new.length} characters ({platform.value} counting)."]
    added = sorted(set(new.hashtags) - set(old.hashtags))
    removed = sorted(set(old.hashtags) - set(new.hashtags))
    if added:
        changes.append("Hashtags added: " + ", ".join(f"#{t}" for t in added))
    if removed:
        changes.append("Hashtags removed: " + ", ".join(f"#{t}" for t in removed))
    lost = sorted(set(old.mentions) - set(new.mentions))
    if lost:
        changes.append("Mentions dropped: " + ", ".join(f"@{m}" for m in lost))
    lost_links = sorted(set(old.links) - set(new.links))
    if lost_links:
        changes.append("Links dropped: " + ", ".join(lost_links))
    return changes


def _assessment(text: str) -> Assessment | None:
    try:
        return Assessment.model_validate(json.loads(text))
    except (ValueError, pydantic.ValidationError):
        return None


class AiService:
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        providers: list[Provider] | None = None,
        mailer: EmailBackend | None = None,
        platform_rules: PlatformRules | None = None,
    ) -> None:
        self.settings = settings
        self.platform_rules = platform_rules
        self.sessions = session_factory
        self.chain = ProviderChain(
            providers if providers is not None else build_providers(settings),
            breaker=BreakerConfig(
                failure_threshold=settings.ai_breaker_failure_threshold,
                reset_timeout=settings.ai_breaker_reset_timeout,
            ),
            retry_after_max=settings.ai_retry_after_max,
        )
        self.ledger = Ledger(settings, session_factory)
        self.drafts = Drafts(session_factory)
        self.alerts = CreditAlerts(
            settings, session_factory, self.ledger, mailer or create_email_backend(settings)
        )
        self.fetcher = SafeFetcher(
            allow=settings.ai_url_allow_networks,
            timeout=settings.ai_url_fetch_timeout,
            max_bytes=settings.ai_url_fetch_max_bytes,
        )

    async def aclose(self) -> None:
        await self.chain.aclose()

    def rules(self, platform: Platform) -> ContentRules:
        """The platform provider's content rules; PlatformUnavailable when none serves it."""
        found = self.platform_rules.content_rules(platform) if self.platform_rules else None
        if found is None:
            raise PlatformUnavailableError(details={"platform": platform.value})
        return found

    # -- metering ------------------------------------------------------------------------------

    def _bounded(self, text: str, field: str) -> str:
        if len(text) > self.settings.ai_max_content_chars:
            raise ContentTooLargeError(
                details={
                    "field": field,
                    "length": len(text),
                    "max_length": self.settings.ai_max_content_chars,
                }
            )
        return text

    async def _reserve(self, user: User, feature: str, requests: Sequence[ChatRequest]) -> Meter:
        credits = sum(estimate_credits(len(r.system) + len(r.user), r.max_tokens) for r in requests)
        reservation = await self.ledger.reserve(user.id, user.plan, feature, credits)
        return Meter(reservation, user.plan)

    async def _settle(self, user: User, meter: Meter) -> UsageOut:
        meter.closed = True
        usage = Usage(meter.input_tokens, meter.output_tokens)
        settled = await self.ledger.settle(
            meter.reservation, usage, meter.provider or "", meter.model or "", meter.plan
        )
        if settled.alert_due:
            run_in_background(
                self.alerts.send(user.id, meter.reservation.period_id), name="ai-credit-alert"
            )
        balance = await self.ledger.balance(user.id, user.plan)
        return UsageOut(
            provider=meter.provider,
            model=meter.model,
            input_tokens=meter.input_tokens,
            output_tokens=meter.output_tokens,
            credits_charged=settled.credits,
            credits_left=balance.left,
        )

    async def _refund(self, meter: Meter) -> None:
        if not meter.closed:
            meter.closed = True
            await self.ledger.refund(meter.reservation)

    # -- generate ------------------------------------------------------------------------------

    async def _source(self, body: GenerateIn) -> str | None:
        parts = []
        if body.source_text:
            parts.append(self._bounded(body.source_text, "source_text"))
        if body.source_url:
            page = await self.fetcher.fetch(body.source_url)
            parts.append(_page_text(page.text)[: self.settings.ai_max_content_chars])
        return "\n\n".join(parts) or None

    def _generate_requests(
        self, body: GenerateIn, source: str | None
    ) -> list[tuple[Platform, int, ChatRequest]]:
        jobs = []
        for platform in body.platforms:
            for index in range(1, body.variants + 1):
                system, user = prompts.generate(
                    platform=platform,
                    rules=self.rules(platform),
                    topic=body.topic,
                    source=source,
                    tone=body.tone,
                    audience=body.audience,
                    brand_voice=body.brand_voice,
                    hashtags=body.hashtags,
                    variant=index,
                    variants=body.variants,
                )
                request = ChatRequest(system, user, self.settings.ai_max_output_tokens)
                jobs.append((platform, index, request))
        return jobs

    async def _variant(
        self, user: User, platform: Platform, index: int, text: str, save: bool
    ) -> VariantOut:
        rules = self.rules(platform)
        fitted = fit(rules, text)
        draft_id = None
        if save:
            draft_id = await self._save_draft(user.id, platform, fitted, "generate", {})
        return VariantOut(
            platform=platform,
            index=index,
            text=fitted,
            trimmed=fitted != text.strip(),
            checks=_checks(platform, rules, fitted),
            draft_id=draft_id,
        )

    async def _answer(self, request: ChatRequest, feature: str, meter: Meter) -> str:
        """A non-empty answer; an empty one is asked for once more, then reported."""
        for _ in range(2):
            completion = await self.chain.complete(request, feature)
            meter.add(completion)
            if completion.text.strip():
                return completion.text.strip()
        raise MalformedAnswerError("The AI answer was empty (retried once)")

    async def generate(self, user: User, body: GenerateIn) -> GenerateOut:
        jobs = self._generate_requests(body, await self._source(body))
        meter = await self._reserve(user, "generate", [job[2] for job in jobs])
        try:
            variants = []
            for platform, index, request in jobs:
                text = await self._answer(request, "generate", meter)
                variants.append(
                    await self._variant(user, platform, index, text, body.save_as_draft)
                )
        except BaseException:
            await self._refund(meter)
            raise
        return GenerateOut(variants=variants, usage=await self._settle(user, meter))

    async def generate_stream(self, user: User, body: GenerateIn) -> AsyncIterator[Event]:
        jobs = self._generate_requests(body, await self._source(body))
        meter = await self._reserve(user, "generate", [job[2] for job in jobs])

        async def events() -> AsyncIterator[Event]:
            variants = []
            for platform, index, request in jobs:
                yield "variant", {"platform": platform.value, "index": index}
                completion = None
                async for item in self.chain.stream(request, "generate"):
                    if isinstance(item, Delta):
                        yield (
                            "delta",
                            {"index": index, "platform": platform.value, "text": item.text},
                        )
                    else:
                        completion = item
                assert completion is not None
                meter.add(completion)
                variant = await self._variant(
                    user, platform, index, completion.text, body.save_as_draft
                )
                variants.append(variant)
                yield "result", variant.model_dump(mode="json")
            usage = await self._settle(user, meter)
            result = GenerateOut(variants=variants, usage=usage)
            yield "done", result.model_dump(mode="json")

        return self._guarded(meter, events())

    async def _guarded(self, meter: Meter, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
        """A stream that ends in `done`, or in one clean `error` event with every credit
        refunded (provider failure mid-stream, a client that went away)."""
        try:
            async for event in events:
                yield event
        except AppError as exc:
            await self._refund(meter)
            yield "error", {"code": exc.code, "message": exc.message, "details": exc.details}
        finally:
            if not meter.closed:  # cancelled or abandoned: refund without blocking the close
                meter.closed = True
                run_in_background(self.ledger.refund(meter.reservation), name="ai-refund")

    # -- improve -------------------------------------------------------------------------------

    def _improve_request(self, body: ImproveIn) -> ChatRequest:
        self._bounded(body.content, "content")
        system, user = prompts.improve(
            content=body.content,
            goal=body.goal,
            platform=body.platform,
            rules=self.rules(body.platform),
        )
        return ChatRequest(system, user, self.settings.ai_max_output_tokens)

    async def _improved(
        self, user: User, body: ImproveIn, text: str, usage: UsageOut
    ) -> ImproveOut:
        rules = self.rules(body.platform)
        fitted = fit(rules, text)
        draft_id = None
        if body.save_as_draft:
            draft_id = await self._save_draft(
                user.id, body.platform, fitted, "improve", {"goal": body.goal}
            )
        return ImproveOut(
            platform=body.platform,
            original=body.content,
            text=fitted,
            trimmed=fitted != text.strip(),
            changes=_changes(body.platform, rules, body.content, fitted),
            checks=_checks(body.platform, rules, fitted),
            draft_id=draft_id,
            usage=usage,
        )

    async def improve(self, user: User, body: ImproveIn) -> ImproveOut:
        request = self._improve_request(body)
        meter = await self._reserve(user, "improve", [request])
        try:
            text = await self._answer(request, "improve", meter)
        except BaseException:
            await self._refund(meter)
            raise
        return await self._improved(user, body, text, await self._settle(user, meter))

    async def improve_stream(self, user: User, body: ImproveIn) -> AsyncIterator[Event]:
        request = self._improve_request(body)
        meter = await self._reserve(user, "improve", [request])

        async def events() -> AsyncIterator[Event]:
            completion = None
            async for item in self.chain.stream(request, "improve"):
                if isinstance(item, Delta):
                    yield "delta", {"text": item.text}
                else:
                    completion = item
            assert completion is not None
            meter.add(completion)
            usage = await self._settle(user, meter)
            result = await self._improved(user, body, completion.text, usage)
            yield "done", result.model_dump(mode="json")

        return self._guarded(meter, events())

    # -- analyse -------------------------------------------------------------------------------

    def _analyse_request(self, body: AnalyzeIn) -> tuple[ChecksOut, ChatRequest]:
        self._bounded(body.content, "content")
        checks = _checks(body.platform, self.rules(body.platform), body.content)
        system, user = prompts.analyse(
            content=body.content,
            platform=body.platform,
            checks=checks.model_dump(mode="json", exclude={"platform"}),
        )
        request = ChatRequest(
            system,
            user,
            self.settings.ai_max_output_tokens,
            json_schema=prompts.ASSESSMENT_SCHEMA,
            schema_name="post_assessment",
        )
        return checks, request

    async def _assess(self, request: ChatRequest, meter: Meter, first: str | None) -> Assessment:
        """The model's assessment, validated; a malformed answer is asked for once more."""
        if first is not None:
            parsed = _assessment(first)
            if parsed is not None:
                return parsed
            log.warning("malformed ai assessment, retrying once", provider=meter.provider)
        attempts = 1 if first is not None else 2
        for _ in range(attempts):
            completion = await self.chain.complete(request, "analyze")
            meter.add(completion)
            parsed = _assessment(completion.text)
            if parsed is not None:
                return parsed
            log.warning("malformed ai assessment", provider=completion.provider)
        raise MalformedAnswerError()

    async def analyze(self, user: User, body: AnalyzeIn) -> AnalyzeOut:
        checks, request = self._analyse_request(body)
        meter = await self._reserve(user, "analyze", [request, request])
        try:
            assessment = await self._assess(request, meter, None)
        except BaseException:
            await self._refund(meter)
            raise
        usage = await self._settle(user, meter)
        return AnalyzeOut(platform=body.platform, checks=checks, assessment=assessment, usage=usage)

    async def analyze_stream(self, user: User, body: AnalyzeIn) -> AsyncIterator[Event]:
        checks, request = self._analyse_request(body)
        meter = await self._reserve(user, "analyze", [request, request])

        async def events() -> AsyncIterator[Event]:
            yield "checks", checks.model_dump(mode="json")
            completion = None
            async for item in self.chain.stream(request, "analyze"):
                if isinstance(item, Delta):
                    yield "delta", {"text": item.text}
                else:
                    completion = item
            assert completion is not None
            meter.add(completion)
            assessment = await self._assess(request, meter, completion.text)
            usage = await self._settle(user, meter)
            result = AnalyzeOut(
                platform=body.platform, checks=checks, assessment=assessment, usage=usage
            )
            yield "done", result.model_dump(mode="json")

        return self._guarded(meter, events())

    # -- LIVE recap ----------------------------------------------------------------------------

    async def _recap_facts(self, user: User, session_id: uuid.UUID) -> dict[str, Any]:
        async with self.sessions() as db:
            stats = await owned_session_analytics(
                db, session_id, user.id, diamond_usd=self.settings.live_diamond_usd, top=5
            )
        if stats is None:
            raise NotFoundError("LIVE session not found")

        def handle(unique_id: str | None, nickname: str | None) -> str:
            return f"@{unique_id}" if unique_id else (nickname or "a viewer")

        return {
            "duration_minutes": round(stats.duration_seconds / 60),
            "peak_viewers": stats.peak_viewers,
            "unique_viewers": stats.unique_users,
            "likes": stats.likes,
            "diamonds": stats.diamonds,
            "top_gifters": [
                {"handle": handle(g.unique_id, g.nickname), "diamonds": g.diamonds}
                for g in stats.top_gifters
            ],
            "top_chatters": [
                {"handle": handle(c.unique_id, c.nickname), "messages": c.messages}
                for c in stats.top_chatters
            ],
            "highlights": [f"{g.gifts} x {g.gift_name or g.gift_id}" for g in stats.top_gifts[:3]],
        }

    async def live_recap(self, user: User, body: LiveRecapIn) -> LiveRecapOut:
        facts = await self._recap_facts(user, body.session_id)
        jobs = []
        for platform in body.platforms:
            system, prompt = prompts.recap(
                platform=platform,
                rules=self.rules(platform),
                facts=facts,
                tone=body.tone,
                hashtags=body.hashtags,
            )
            jobs.append((platform, ChatRequest(system, prompt, self.settings.ai_max_output_tokens)))
        meter = await self._reserve(user, "live_recap", [job[1] for job in jobs])
        try:
            texts = [(p, await self._answer(r, "live_recap", meter)) for p, r in jobs]
        except BaseException:
            await self._refund(meter)
            raise
        usage = await self._settle(user, meter)
        details = {"session_id": str(body.session_id)}
        drafts = []
        for platform, text in texts:
            draft_id = await self._save_draft(
                user.id, platform, fit(self.rules(platform), text), "live_recap", details
            )
            drafts.append(await self.drafts.get(user.id, draft_id))
        return LiveRecapOut(session_id=body.session_id, drafts=drafts, usage=usage)

    # -- drafts --------------------------------------------------------------------------------

    async def _save_draft(
        self,
        owner_id: uuid.UUID,
        platform: Platform,
        content: str,
        source: str,
        details: dict[str, Any],
    ) -> uuid.UUID:
        return await self.drafts.save(owner_id, platform.value, content, source, details)

    async def save_draft(self, user: User, body: DraftIn) -> DraftOut:
        self._bounded(body.content, "content")
        draft_id = await self.drafts.save(
            user.id, body.platform.value, body.content, body.source, body.details
        )
        return await self.drafts.get(user.id, draft_id)

    # -- credits -------------------------------------------------------------------------------

    async def credits(self, user: User) -> CreditsOut:
        balance = await self.ledger.balance(user.id, user.plan)
        return CreditsOut(
            plan=user.plan,
            unlimited=balance.allowance is None,
            allowance=balance.allowance,
            used=balance.used,
            reserved=balance.reserved,
            left=balance.left,
            period_start=balance.period_start,
            resets_at=balance.resets_at,
            time_zone=balance.time_zone,
        )

    async def usage_report(self, since: datetime) -> list[UsageRow]:
        u = AiUsage
        statement = (
            select(
                u.user_id,
                User.email,
                u.provider,
                func.count(),
                func.coalesce(func.sum(u.input_tokens), 0),
                func.coalesce(func.sum(u.output_tokens), 0),
                func.coalesce(func.sum(u.credits), 0),
            )
            .join(User, User.id == u.user_id, isouter=True)
            .where(u.status == "settled", u.created_at >= since)
            .group_by(u.user_id, User.email, u.provider)
            .order_by(func.sum(u.credits).desc(), u.user_id)
        )
        async with self.sessions() as db:
            rows = (await db.execute(statement)).all()
        return [
            UsageRow(
                user_id=row[0],
                email=row[1],
                provider=row[2],
                requests=int(row[3]),
                input_tokens=int(row[4]),
                output_tokens=int(row[5]),
                credits=int(row[6]),
            )
            for row in rows
        ]
