"""The collector is tuned once the app has started, except in test runs."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest

from allin.app import create_app
from allin.core.config import Settings
from allin.core.gc import GC_YOUNG_THRESHOLD


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def started(settings: Settings) -> tuple[int, int]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        return gc.get_threshold()[0], gc.get_freeze_count()


@pytest.mark.usefixtures("restored_gc")
async def test_a_deployed_app_tunes_the_collector_after_start_up(
    make_settings: Callable[..., Settings],
) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    young, frozen = await started(make_settings(env="development"))
    assert young == GC_YOUNG_THRESHOLD
    assert frozen > 0


@pytest.mark.usefixtures("restored_gc")
async def test_a_test_run_leaves_it_alone(make_settings: Callable[..., Settings]) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    young, frozen = await started(make_settings(env="test"))
    assert (young, frozen) == (700, 0)
