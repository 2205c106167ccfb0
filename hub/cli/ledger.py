"""``python -m hub ledger …``: read and check the evidence ledger (see ``hub.signing.ledger``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from hub.cli.common import CommandError, err, out, print_json, with_services
from hub.services import Services
from hub.signing.ledger import LedgerEntry, VerifyResult, moment_text, verify_chain
from hub.store import StoreError

ledger = typer.Typer(
    no_args_is_help=True,
    help="The evidence ledger: a hash chain of what the hub did with the CDRs it accepted.",
)


@dataclass(frozen=True)
class Walk:
    """A whole-chain check: how many entries held, the newest intact one, and the first break."""

    checked: int
    head: LedgerEntry | None
    broken_seq: int | None
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.broken_seq is None

    def to_json(self) -> dict[str, Any]:
        head = None if self.head is None else {"seq": self.head.seq, "hash": self.head.hash}
        return {
            "intact": self.intact,
            "checked": self.checked,
            "head": head,
            "broken_seq": self.broken_seq,
            "reason": self.reason,
        }


def describe(entry: LedgerEntry) -> dict[str, Any]:
    return {**entry.model_dump(mode="json"), "at": moment_text(entry.at)}


async def walk(services: Services, *, page_size: int) -> Walk:
    """Verify the chain from its first entry, one page at a time (the ledger may be large)."""
    checked = 0
    last: LedgerEntry | None = None
    while True:
        after = 0 if last is None else last.seq
        try:
            page = await services.store.ledger.entries(after_seq=after, limit=page_size)
        except StoreError as error:
            return Walk(checked, last, after + 1, str(error))
        result: VerifyResult = verify_chain(page, previous=last)
        checked += result.checked
        last = result.last
        if not result.intact:
            return Walk(checked, last, result.broken_seq, result.reason)
        if len(page) < page_size:
            return Walk(checked, last, None, None)


@ledger.command("verify")
def ledger_verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    page_size: Annotated[int, typer.Option("--page-size", min=1, help="Entries read at a time.")] = 1000,
) -> None:
    """Check every entry's hash and link from the first to the newest.

    Exits 0 when the chain is intact (and prints its head: note it elsewhere, since removing the
    newest entries leaves no trace in the chain itself), 1 naming the first broken entry.
    """

    async def work(services: Services) -> Walk:
        return await walk(services, page_size=page_size)

    result = with_services(work)
    if as_json:
        print_json(result.to_json())
    elif result.intact and result.head is None:
        out.print("The ledger is empty.")
    elif result.intact:
        assert result.head is not None
        out.print(
            f"Ledger intact: {result.checked} entries; head seq {result.head.seq}, hash {result.head.hash}.",
            highlight=False,
            soft_wrap=True,
        )
    else:
        err.print(
            f"Ledger broken at entry {result.broken_seq}: {result.reason}", highlight=False, soft_wrap=True
        )
        err.print(f"{result.checked} entries before it are intact.", highlight=False)
    if not result.intact:
        raise typer.Exit(1)


@ledger.command("show")
def ledger_show(
    seq: Annotated[int, typer.Argument(metavar="SEQ", min=1, help="The entry's sequence number.")],
) -> None:
    """One entry, as JSON: seq, at, kind, subject, data, prev_hash, hash."""

    async def work(services: Services) -> LedgerEntry:
        try:
            entry = await services.store.ledger.get(seq)
        except StoreError as error:
            raise CommandError(str(error)) from None
        if entry is None:
            raise CommandError(f"no ledger entry {seq}")
        return entry

    print_json(describe(with_services(work)))
