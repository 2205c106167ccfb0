"""``python -m hub outbox …``: the deliveries the hub owes to parties."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from hub.cli.common import out, print_json, with_services
from hub.ocpi.types import format_datetime, parse_datetime
from hub.outbox import operators
from hub.outbox.records import Delivery, DeliveryState
from hub.services import Services

outbox = typer.Typer(
    no_args_is_help=True,
    help=(
        "Deliveries the hub owes to parties: look at them, re-drive dead letters, clear away "
        "finished ones. These commands only write the store: a retried delivery is attempted by the "
        "running hub's sweeper (embedded mode, within HUB_SWEEP_INTERVAL seconds) or by the workers."
    ),
)

# How much of a body the plain view of ``show`` prints; ``--json`` prints it whole.
BODY_SHOWN = 500

PartyOption = Annotated[
    str | None,
    typer.Option("--party", help="Only deliveries to this platform: its id (p-…), or a party as CC*PID."),
]


def _moment(value: str | None) -> str:
    return "-" if value is None else format_datetime(datetime.fromisoformat(value))


@outbox.command("list")
def outbox_list(
    state: Annotated[
        list[DeliveryState] | None,
        typer.Option(
            "--state", case_sensitive=False, help="Only this state (repeatable). Default: PENDING and DEAD."
        ),
    ] = None,
    party: PartyOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (bodies whole).")] = False,
) -> None:
    """Deliveries, oldest first."""

    async def work(services: Services) -> list[Delivery]:
        return await operators.listing(
            services, states=state or operators.OPEN_STATES, party=party, limit=limit
        )

    deliveries = with_services(work)
    if as_json:
        print_json([operators.describe(d) for d in deliveries])
        return
    table = Table("id", "state", "to", "module", "method", "object key", "attempts", "next attempt", "reason")
    for delivery in deliveries:
        row = operators.describe(delivery)
        table.add_row(
            row["id"],
            row["state"],
            f"{row['to']} ({row['target_platform_id']})",
            row["module"],
            row["method"],
            row["object_key"] or "-",
            str(len(row["attempts"])),
            _moment(row["next_attempt_at"]),
            row["reason"] or "-",
        )
    out.print(table)


@outbox.command("show")
def outbox_show(
    delivery_id: Annotated[str, typer.Argument(metavar="ID", help="A delivery id (d-…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the body whole).")] = False,
) -> None:
    """One delivery in detail, with every attempt."""

    async def work(services: Services) -> Delivery:
        return await operators.get(services, delivery_id)

    delivery = with_services(work)
    if as_json:
        print_json(operators.describe(delivery))
        return
    row = operators.describe(delivery, body_limit=BODY_SHOWN)
    for key in ("id", "state", "reason", "target_platform_id", "to", "from", "method", "url", "module"):
        out.print(f"[bold]{key}[/bold]: {row[key]}", highlight=False)
    for key in ("object_key", "object_version", "correlation_id"):
        out.print(f"[bold]{key}[/bold]: {row[key] or '-'}", highlight=False)
    for key in ("created_at", "next_attempt_at"):
        out.print(f"[bold]{key}[/bold]: {_moment(row[key])}", highlight=False)
    out.print(f"[bold]body[/bold]: {row['body'] if row['body'] is not None else '-'}", markup=False)
    table = Table("#", "at", "HTTP", "OCPI", "error", "ms", title="attempts")
    for number, attempt in enumerate(row["attempts"], start=1):
        table.add_row(*_attempt_cells(number, attempt))
    out.print(table)


def _attempt_cells(number: int, attempt: dict[str, Any]) -> list[str]:
    def shown(value: object) -> str:
        return "-" if value is None else str(value)

    return [
        str(number),
        _moment(attempt["at"]),
        shown(attempt["http_status"]),
        shown(attempt["ocpi_status"]),
        shown(attempt["error"]),
        shown(attempt["elapsed_ms"]),
    ]


@outbox.command("retry")
def outbox_retry(
    delivery_ids: Annotated[
        list[str] | None, typer.Argument(metavar="ID...", help="Dead letters to re-drive.")
    ] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Re-drive every dead letter.")] = False,
    party: PartyOption = None,
) -> None:
    """Make dead letters PENDING again, due now; their attempts are kept.

    Only DEAD deliveries can be retried. The running hub's sweeper (embedded mode) or the workers
    attempt them; a letter older than the retry horizon gets one attempt, and is dead again if
    that fails.
    """
    if all_dead == bool(delivery_ids):
        raise typer.BadParameter("name the deliveries to retry, or use --all-dead (not both)")
    if party is not None and not all_dead:
        raise typer.BadParameter("--party goes with --all-dead", param_hint="--party")

    async def work(services: Services) -> list[Delivery]:
        if all_dead:
            return await operators.retry_all_dead(services, party=party)
        return await operators.retry(services, delivery_ids or [])

    retried = with_services(work)
    for delivery in retried:
        out.print(f"Delivery {delivery.id} is PENDING again.", highlight=False)
    if all_dead:
        out.print(f"{len(retried)} dead letters re-driven.")
    if retried:
        out.print("The running hub (or the workers) will attempt them shortly.")


@outbox.command("purge")
def outbox_purge(
    state: Annotated[
        list[DeliveryState],
        typer.Option(
            "--state", case_sensitive=False, help="DEAD, DELIVERED or SUPERSEDED (repeatable); never PENDING."
        ),
    ],
    before: Annotated[
        str | None,
        typer.Option(help="Only deliveries created before this moment (RFC 3339; no zone is UTC)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete finished deliveries for good."""
    if DeliveryState.PENDING in state:
        raise typer.BadParameter(
            "PENDING deliveries are still owed and are never purged", param_hint="--state"
        )
    cutoff: datetime | None = None
    if before is not None:
        try:
            cutoff = parse_datetime(before)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--before") from None
    states = sorted({s.value for s in state})
    if not yes:
        which = " and ".join(states)
        when = "" if cutoff is None else f" created before {format_datetime(cutoff)}"
        typer.confirm(f"Delete every {which} delivery{when}? This cannot be undone.", abort=True)

    async def work(services: Services) -> int:
        return await operators.purge(services, [DeliveryState(s) for s in states], before=cutoff)

    deleted = with_services(work)
    out.print(f"{deleted} deliveries purged.")
