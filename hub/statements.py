"""Settlement statements from the store: the shell around ``hub.clearing.settlement``."""

from __future__ import annotations

from datetime import datetime

from hub.clearing.settlement import SettlementLine, settle
from hub.services import Services


async def statement(services: Services, start: datetime, end: datetime) -> list[SettlementLine]:
    """Every CDR whose charging ended in [start, end), added up per CPO-eMSP pair and currency."""
    if end <= start:
        raise ValueError("the period ends before it starts")
    return settle(await services.store.clearing.ended_between(start, end))
