"""``python -m hub …``: run the hub and operate it.

Every command opens the store the settings name, so commands work while ``serve`` runs on the same
data directory: they share the store, not memory.
"""

from __future__ import annotations

import typer

from hub.cli.parties import parties
from hub.cli.serve import serve

app = typer.Typer(no_args_is_help=True, add_completion=False, help="The ocpi-hub command line.")
app.command()(serve)
app.add_typer(parties, name="parties")


def main() -> None:
    app()
