"""The Celery app of the workers and the scheduler: ``python -m hub worker`` and ``python -m hub beat``
(or ``celery -A workers.app worker|beat``), configured from the same ``HUB_*`` settings as the hub.

The schedule is ``hub.tasks.chores``. Several schedulers may run for safety: they share one lock in
Redis (redbeat), and only the holder sends, so each chore runs once per interval across the
cluster; when the holder dies another takes over after ``HUB_SCHEDULER_LOCK_TIMEOUT``.
"""

from __future__ import annotations

from celery import Celery

from hub.queue import CHORE, celery_config
from hub.tasks import chores
from settings import Settings, SettingsError, load_settings


def create_app(settings: Settings) -> Celery:
    if settings.broker_url is None:
        raise SettingsError("HUB_BROKER_URL: workers need a redis:// broker URL")
    app = Celery("hub", set_as_current=True, include=["workers.tasks"])
    app.conf.update(celery_config(settings))
    max_loop = min(5.0, settings.scheduler_lock_timeout / 3)
    app.conf.update(
        beat_scheduler="redbeat.RedBeatScheduler",
        beat_max_loop_interval=max_loop,
        redbeat_redis_url=settings.broker_url,
        redbeat_key_prefix="hub:schedule:",
        redbeat_lock_key="hub:schedule:lock",
        redbeat_lock_timeout=settings.scheduler_lock_timeout,
        beat_schedule={
            f"hub.{chore.name}": {"task": CHORE, "schedule": chore.every, "args": [chore.name]}
            for chore in chores(settings)
        },
    )
    return app


settings = load_settings()
app = create_app(settings)
