"""The hub's background work, whoever runs it: the embedded job runner inside ``serve``, or Celery
workers (``workers/``). Each method is one job; it takes ids, reads the truth from the store, and
asks the job-queue port for any follow-up work, so both modes run exactly this code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import ClientSession

from hub.cdr_intake import CdrIntake
from hub.liveness import Liveness, LivenessReport
from hub.outbox.deliver import Deliverer
from hub.outbox.records import Delivery, DeliveryState
from hub.pulls.puller import NotPullable, Puller, sender_modules
from hub.services import Services
from settings import Settings

if TYPE_CHECKING:
    from hub.jobs import Jobs

log = structlog.get_logger(__name__)

# Ids per job: small enough that one worker does not hoard a backlog, large enough to amortise a task.
CHUNK = 100
# How many due deliveries one sweep hands out; the next sweep takes the rest.
SWEEP_LIMIT = 2_000
# How many of a returning receiver's pending deliveries are handed out at once.
REDRIVE_LIMIT = 2_000


def chunks(ids: Sequence[str], size: int = CHUNK) -> list[list[str]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


@dataclass(frozen=True)
class Chore:
    """A job the scheduler starts every ``every`` seconds (one scheduler per cluster)."""

    name: str
    every: float


def chores(settings: Settings) -> list[Chore]:
    """The hub's schedule, the same for the embedded runner and Celery beat."""
    schedule = [
        Chore("sweep", settings.sweep_interval),
        Chore("liveness", settings.liveness_interval),
        Chore("purge_links", 3_600.0),
    ]
    if settings.pulls:
        # Finds what is due (never pulled, pull_interval passed, a pull whose run died): cheap, and
        # frequent, so a party that registered through another process is pulled within seconds.
        schedule.append(Chore("pulls", settings.sweep_interval))
    return schedule


class Tasks:
    """One process's background work; ``jobs`` is where it sends follow-up work."""

    def __init__(self, services: Services, http: ClientSession, jobs: Jobs) -> None:
        self.services = services
        self.http = http
        self.jobs = jobs
        self.deliverer = Deliverer(services, http)
        self.intake = CdrIntake(services, jobs.deliver)

    async def run_chore(self, name: str) -> object:
        """Run a scheduled job by its name in ``chores``."""
        match name:
            case "sweep":
                return await self.sweep()
            case "purge_links":
                return await self.purge_links()
            case "liveness":
                return await self.check_liveness()
            case "pulls":
                return await self.schedule_pulls()
        raise ValueError(f"no such chore: {name}")

    async def deliver(self, delivery_ids: Sequence[str]) -> list[Delivery | None]:
        """Attempt these deliveries once each. A receiver that takes a delivery after earlier
        failures is back: its other pending deliveries are handed out at once, not at their backoff."""
        done = await self.deliverer.attempt_many(delivery_ids)
        await self.intake.record_outcomes(done)
        back = {
            d.target_platform_id
            for d in done
            if d is not None and d.state is DeliveryState.DELIVERED and len(d.attempts) > 1
        }
        for platform_id in sorted(back):
            await self.redrive(platform_id)
        return done

    async def redrive(self, platform_id: str) -> int:
        """Hand out every pending delivery of one receiver now; returns how many."""
        pending = await self.services.store.outbox.for_target(
            platform_id, states=[DeliveryState.PENDING], limit=REDRIVE_LIMIT
        )
        ids = [d.id for d in pending]
        for chunk in chunks(ids):
            await self.jobs.deliver(chunk)
        if ids:
            log.info("outbox_redrive", platform=platform_id, deliveries=len(ids))
        return len(ids)

    async def sweep(self) -> int:
        """Hand out every delivery that is due: a retry whose time has come, or one whose job was
        lost (a crash, a broker restart). Claims keep a delivery in flight from being sent twice."""
        outbox, settings = self.services.store.outbox, self.services.settings
        now = self.services.clock()
        due = await outbox.due(now, limit=SWEEP_LIMIT)
        # Handed out: not due again until a job had time to attempt it, so a backlog that takes
        # longer than one sweep interval to drain is not handed out again and again.
        until = now + timedelta(seconds=settings.request_timeout + settings.claim_margin)
        handed = await outbox.update_many([d.model_copy(update={"next_attempt_at": until}) for d in due])
        ids = [d.id for d in handed if d is not None]
        for chunk in chunks(ids):
            await self.jobs.deliver(chunk)
        if ids:
            log.info("outbox_sweep", due=len(ids))
        return len(ids)

    async def pull(
        self, platform_id: str, modules: Sequence[str] | None = None, *, full: bool = False
    ) -> list[dict[str, Any]]:
        """Pull these Sender interfaces of a platform (None: every one it offers), one after the other."""
        platform = await self.services.store.platforms.get(platform_id)
        if platform is None:
            log.warning("pull_platform_unknown", platform=platform_id)
            return []
        puller = Puller(self.services, self.http, self.jobs.deliver)
        results = []
        for module in sender_modules(platform) if modules is None else modules:
            try:
                result = await puller.pull(platform_id, module, full=full)
            except NotPullable as error:
                log.info("pull_skipped", platform=platform_id, module=module, reason=str(error))
                continue
            results.append(result.to_json())
        return results

    async def schedule_pulls(self) -> int:
        """Hand out every pull that is due, one job per platform; returns how many pulls."""
        due = await Puller(self.services, self.http, self.jobs.deliver).pull_due()
        modules: dict[str, list[str]] = {}
        for platform_id, module in due:
            modules.setdefault(platform_id, []).append(module)
        for platform_id, wanted in modules.items():
            await self.jobs.pull(platform_id, wanted)
        return len(due)

    async def check_liveness(self) -> LivenessReport:
        """Read every connected platform's versions; push the status changes as Hub Client Info
        and hand out the pending deliveries of platforms that came back."""
        report = await Liveness(self.services, self.http).check_all()
        for chunk in chunks(report.deliveries):
            await self.jobs.deliver(chunk)
        return report

    async def purge_links(self) -> int:
        """Forget hub links (response_url, Location, Link stand-ins) that expired a day ago or more."""
        cutoff = self.services.clock() - timedelta(days=1)
        return await self.services.store.links.purge(cutoff)
