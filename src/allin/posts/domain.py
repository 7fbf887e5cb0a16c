"""The posts domain: composing, scheduling, the media library, and the publishing queue's
executor in `allin serve`: the embedded dispatcher, or (ALLIN_QUEUE=procrastinate) the
procrastinate app that defers jobs for the `allin worker`s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from procrastinate import App

from allin.auth.runtime import AuthRuntime
from allin.core.domain import AppState, Domain
from allin.posts.dispatcher import Dispatcher, worker_id
from allin.posts.media import MediaStore
from allin.posts.notify import Notifier
from allin.posts.ports import NoAccounts, PublishingAccounts, QueueWaker
from allin.posts.publisher import Publisher
from allin.posts.router import admin_router, router
from allin.posts.service import PostsService
from allin.posts.tasks import JobWaker, create_queue_app


def media_store(state: AppState) -> MediaStore:
    settings = state.settings
    return MediaStore(settings.data_dir / "media", settings.posts_max_upload_bytes)


def posts_domain(state: AppState) -> Domain:
    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        settings = state.settings
        # The accounts service (social domain) registers itself under the port's type.
        accounts: PublishingAccounts = state.find(PublishingAccounts) or NoAccounts()  # type: ignore[type-abstract]
        media = media_store(state)
        runtime = state.find(AuthRuntime)
        notifier = Notifier(settings, runtime.mailer if runtime else None)
        dispatcher: Dispatcher | None = None
        jobs: App | None = None
        waker: QueueWaker | None = None
        if settings.queue == "procrastinate":
            # Refused at start-up on SQLite; `allin worker`s publish, this process defers.
            jobs = create_queue_app(settings, pool_size=2)
            await jobs.open_async()
            waker = JobWaker(jobs)
        elif settings.posts_dispatcher:
            publisher = Publisher(
                settings, state.session_factory, accounts, media, notifier, worker_id("serve")
            )
            waker = dispatcher = Dispatcher(settings, state.session_factory, publisher)
        service = state.provide(PostsService(settings, accounts, media, waker))
        if dispatcher is not None:
            state.provide(dispatcher)
            await dispatcher.start()
        try:
            yield
        finally:
            if dispatcher is not None:
                await dispatcher.stop()
                state.withdraw(Dispatcher)
            if jobs is not None:
                await jobs.close_async()
            state.withdraw(type(service))

    return Domain(name="posts", routers=(router, admin_router), lifespan=lifespan)
