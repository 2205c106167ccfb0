"""``python -m hub …``: run the hub and operate it.

Every command opens the store the settings name, so commands work while ``serve`` runs on the same
data directory: they share the store, not memory.
"""

from __future__ import annotations

import typer

from hub.cli.background import beat, worker
from hub.cli.clearing import cdrs, settlement
from hub.cli.keys import keys
from hub.cli.ledger import ledger
from hub.cli.outbox import outbox
from hub.cli.parties import parties
from hub.cli.pull import pull
from hub.cli.serve import serve
from hub.cli.stations import cpos, stations
from hub.cli.tariffs import tariffs

app = typer.Typer(no_args_is_help=True, add_completion=False, help="The ocpi-hub command line.")
app.command()(serve)
app.add_typer(parties, name="parties")
app.add_typer(outbox, name="outbox")
app.add_typer(keys, name="keys")
app.add_typer(ledger, name="ledger")
app.command()(worker)
app.command()(beat)
app.command()(pull)
app.add_typer(cdrs, name="cdrs")
app.command()(settlement)
app.add_typer(cpos, name="cpos")
app.add_typer(stations, name="stations")
app.add_typer(tariffs, name="tariffs")


def main() -> None:
    app()
