"""``python -m hub pull``: pull one module of a party's Sender interface now, in this process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer
from aiohttp import ClientSession
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from hub import operators
from hub.cli.common import CommandError, err, out, print_json, with_services
from hub.pulls.plan import PULLABLE
from hub.pulls.puller import NotPullable, Puller, PullProgress, PullResult, PullStatus
from hub.services import Services


async def leave_pending(delivery_ids: Sequence[str]) -> None:
    """The deliveries a pull records stay PENDING in the outbox: this process ends with the pull, and
    the running hub's sweeper (or the workers) attempts due deliveries within HUB_SWEEP_INTERVAL."""


def pull(
    party: Annotated[str, typer.Argument(help="Platform id, or a party as CC*PID.")],
    module: Annotated[str, typer.Argument(help=f"One of {', '.join(PULLABLE)}.")],
    full: Annotated[
        bool, typer.Option("--full", help="From the beginning, not from the last checkpoint.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Pull a module from a party's Sender interface into the hub, page by page.

    Carries on a pull that stopped (failed, or was killed) from the page it had not finished; else
    asks for what changed since the last completed pull. Changed Locations, Tariffs and Tokens are
    recorded for the other parties; the running hub delivers them.
    """
    if module not in PULLABLE:
        raise typer.BadParameter(f"must be one of {', '.join(PULLABLE)}", param_hint="MODULE")

    async def work(services: Services) -> PullResult:
        platform = await operators.find(services, party)
        async with ClientSession() as http:
            puller = Puller(services, http, leave_pending)
            if as_json:
                return await _pull(puller, platform.id, module, full, None)
            with Progress(
                TextColumn(f"{module} from {platform.id}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[pages]} pages"),
                TimeElapsedColumn(),
                console=err,
            ) as bar:
                task = bar.add_task(module, total=None, pages=0)
                return await _pull(puller, platform.id, module, full, (bar, task))

    result = with_services(work)
    if as_json:
        print_json(result.to_json())
    else:
        _show(result)
    if result.status is not PullStatus.COMPLETED:
        raise typer.Exit(1)


async def _pull(
    puller: Puller, platform_id: str, module: str, full: bool, shown: tuple[Progress, TaskID] | None
) -> PullResult:
    def advance(progress: PullProgress) -> None:
        if shown is not None:
            bar, task = shown
            # X-Total-Count, when the party sends it; an open bar otherwise.
            bar.update(task, completed=progress.seen, total=progress.total, pages=progress.pages)

    try:
        return await puller.pull(platform_id, module, full=full, progress=advance)
    except NotPullable as error:
        raise CommandError(str(error)) from None


def _show(result: PullResult) -> None:
    counts = (
        f"{result.objects} objects ({result.changed} changed, {result.invalid} skipped as invalid) "
        f"in {result.pages} pages; {result.deliveries} deliveries recorded"
    )
    if result.resumed:
        counts += f"; carried on after page {result.pages_before}"
    if result.status is PullStatus.COMPLETED:
        out.print(f"Pulled {result.module} from {result.platform_id}: {counts}.")
    elif result.status is PullStatus.FAILED:
        err.print(f"[red]The pull stopped at page {result.pages + 1}: {result.error}[/red]")
        err.print(f"So far {counts}. Run the command again to carry on from there.")
    else:
        err.print(f"[red]{result.error}[/red]")
