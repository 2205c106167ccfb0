"""``python -m hub cdrs …`` and ``python -m hub settlement``: the CDRs the hub cleared."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any, Literal

import typer

from hub.cdr_intake import CdrIntake
from hub.clearing.records import ClearedCdr
from hub.clearing.settlement import to_csv
from hub.cli.common import CommandError, out, print_json, with_services
from hub.errors import HubError
from hub.ocpi.types import parse_datetime
from hub.services import Services
from hub.statements import statement

cdrs = typer.Typer(no_args_is_help=True, help="CDRs the hub accepted for clearing.")


def _key(reference: str) -> str:
    return reference.replace("/", "*").upper()


@cdrs.command("show")
def cdrs_show(
    key: Annotated[str, typer.Argument(help="The CDR as CC*PID*ID (or CC/PID/ID).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One CDR: who sent it to whom and when, its checks' verdict, its delivery, its signature."""

    async def work(services: Services) -> ClearedCdr:
        record = await services.store.clearing.get(_key(key))
        if record is None:
            raise CommandError(f"the hub holds no CDR {_key(key)}")
        return record

    record = with_services(work)
    if as_json:
        print_json(record.model_dump(mode="json"))
        return
    for name in (
        "key",
        "state",
        "verdict_status",
        "received_at",
        "end_date_time",
        "delivery_id",
        "kid",
        "sha256",
    ):
        out.print(f"[bold]{name}[/bold]: {getattr(record, name)}")
    out.print(f"[bold]from[/bold]: {record.owner_key} (platform {record.sender_platform_id})")
    out.print(f"[bold]to[/bold]: {record.receiver_key} (platform {record.receiver_platform_id})")
    if record.credit:
        out.print(f"[bold]credit for[/bold]: {record.credit_reference_id}")
    for finding in record.verdict.get("findings", []):
        out.print(f"  {finding['severity']:<7} {finding['code']}: {finding['message']}")


@cdrs.command("release")
def cdrs_release(key: Annotated[str, typer.Argument(help="The CDR as CC*PID*ID.")]) -> None:
    """Deliver a CDR held for review (HUB_HOLD_FAILED_CDRS); the running hub or workers send it."""

    async def nothing(_: Any) -> None:
        return None

    async def work(services: Services) -> ClearedCdr:
        try:
            return await CdrIntake(services, nothing).release(_key(key))
        except HubError as error:
            raise CommandError(str(error)) from None

    record = with_services(work)
    out.print(f"CDR {record.key} released: delivery {record.delivery_id} is in the outbox.")


def _moment(text: str) -> datetime:
    try:
        return parse_datetime(text if "T" in text else f"{text}T00:00:00Z")
    except ValueError:
        raise typer.BadParameter(f"not a date or date-time: {text!r}") from None


def settlement(
    start: Annotated[str, typer.Option("--from", help="First day (or date-time), inclusive.")],
    end: Annotated[str, typer.Option("--to", help="Day (or date-time) the period ends, exclusive.")],
    fmt: Annotated[Literal["csv", "json"], typer.Option("--format", help="csv or json.")] = "csv",
) -> None:
    """Settlement per CPO-eMSP pair and currency, for the CDRs whose charging ended in the period."""
    begins, ends = _moment(start), _moment(end)

    async def work(services: Services) -> list[Any]:
        try:
            return await statement(services, begins, ends)
        except ValueError as error:
            raise CommandError(str(error)) from None

    lines = with_services(work)
    if fmt == "json":
        rows = [line.to_json() for line in lines]
        sys.stdout.write(
            json.dumps({"from": begins.isoformat(), "to": ends.isoformat(), "lines": rows}, indent=2)
        )
        sys.stdout.write("\n")
        return
    sys.stdout.write(to_csv(lines))
