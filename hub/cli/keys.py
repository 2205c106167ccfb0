"""``python -m hub keys …``: the hub's signing keys (see ``hub.signing.keys``)."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
import typer
from rich.table import Table

from hub.cli.common import out, print_json, with_services
from hub.ocpi.types import format_datetime
from hub.services import Services
from hub.signing.keys import SigningKey
from hub.signing.signer import KEY_REFRESH_SECONDS

log = structlog.get_logger(__name__)

keys = typer.Typer(
    no_args_is_help=True,
    help=(
        "The keys the hub signs CDRs with (Hub-Signature). Every key stays published at "
        "/.well-known/jwks.json, so signatures made before a rotation still verify."
    ),
)


def describe(key: SigningKey, *, current: bool) -> dict[str, Any]:
    """A key as the commands show it: never its private half, sealed or not."""
    return {
        "kid": key.kid,
        "created_at": format_datetime(key.created_at),
        "generation": key.generation,
        "current": current,
    }


@keys.command("rotate")
def keys_rotate(
    as_json: Annotated[bool, typer.Option("--json", help="Print the new key as JSON.")] = False,
) -> None:
    """Add a new signing key; it becomes current. Running hubs sign with it within the refresh time."""

    async def work(services: Services) -> SigningKey:
        return await services.signer.rotate()

    added = with_services(work)
    log.info("signing_key_added", kid=added.kid, generation=added.generation)
    if as_json:
        print_json(describe(added, current=True))
        return
    out.print(f"Signing key {added.kid} is current.", highlight=False, soft_wrap=True)
    out.print(
        f"Running hubs and workers sign with it within {KEY_REFRESH_SECONDS:g} seconds; "
        "the previous keys stay published."
    )


@keys.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every signing key, oldest first, and which one is current."""

    async def work(services: Services) -> list[SigningKey]:
        return await services.store.keys.all()

    found = with_services(work)
    rows = [describe(key, current=index == len(found) - 1) for index, key in enumerate(found)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("No signing key yet: the hub makes one when it first signs, or run `keys rotate`.")
        return
    table = Table("kid", "created at", "current")
    for row in rows:
        table.add_row(row["kid"], row["created_at"], "yes" if row["current"] else "no")
    out.print(table)
