"""Settlement statements: the totals of many CDRs, per CPO-eMSP pair and currency, equal a sum made
independently from the generated CDRs."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import rfc8785

from hub.clearing.records import ClearedCdr, cdr_key, digest
from hub.clearing.settlement import settle, to_csv
from tests.support import objects

CPOS = [("NL", "CPO"), ("NL", "TNM"), ("BE", "ALF")]
EMSPS = [("DE", "MSP"), ("FR", "EMP"), ("NL", "EMS")]
START = datetime(2025, 3, 1, tzinfo=UTC)


def money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)) / 100


def generated(count: int, seed: int = 7) -> list[tuple[dict[str, Any], str]]:
    """CDRs as dicts (numbers as Decimal, as a party might write them) and their verdict status."""
    rng = random.Random(seed)
    made = []
    for number in range(count):
        cpo, emsp = rng.choice(CPOS), rng.choice(EMSPS)
        document = objects.cdr(*cpo, f"CDR{number:05d}", emsp=emsp)
        ended = START + timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        document["start_date_time"] = (ended - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        document["end_date_time"] = ended.isoformat().replace("+00:00", "Z")
        document["charging_periods"][0]["start_date_time"] = document["start_date_time"]
        document["currency"] = rng.choice(["EUR", "EUR", "EUR", "CHF"])
        excl = money(rng, 50, 9_000)
        document["total_cost"] = {
            "excl_vat": excl,
            "incl_vat": (excl * Decimal("1.21")).quantize(Decimal("0.01")),
        }
        if rng.random() < 0.1:
            del document["total_cost"]["incl_vat"]  # incl. VAT is optional: counted as excl.
        document["total_energy"] = money(rng, 100, 8_000)
        document["total_time"] = money(rng, 10, 500)
        if rng.random() < 0.3:
            document["total_parking_time"] = money(rng, 0, 200)
        if rng.random() < 0.05:  # a credit CDR; some CPOs write its amounts negative, some positive
            document["credit"] = True
            document["credit_reference_id"] = f"CDR{max(number - 1, 0):05d}"
            if rng.random() < 0.5:
                document["total_cost"] = {k: -v for k, v in document["total_cost"].items()}
        status = rng.choice(["ok"] * 8 + ["warnings", "failed"])
        made.append((document, status))
    return made


def cleared(document: dict[str, Any], status: str) -> ClearedCdr:
    text = rfc8785.dumps(_floats(document)).decode()
    return ClearedCdr(
        key=cdr_key(document["country_code"], document["party_id"], document["id"]),
        country_code=document["country_code"],
        party_id=document["party_id"],
        cdr_id=document["id"],
        sender_platform_id="p-cpo",
        receiver_country_code=document["cdr_token"]["country_code"],
        receiver_party_id=document["cdr_token"]["party_id"],
        receiver_platform_id="p-emsp",
        received_at=START,
        document=text,
        sha256=digest(text),
        signature="x..y",
        kid="k1",
        verdict_status=status,
        credit=bool(document.get("credit")),
        end_date_time=datetime.fromisoformat(document["end_date_time"].replace("Z", "+00:00")),
    )


def _floats(value: Any) -> Any:
    """JSON as a party sends it: numbers are JSON numbers (the canonical form writes them its way)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return value


def test_totals_of_a_thousand_cdrs_equal_an_independent_sum() -> None:
    made = generated(1_000)
    lines = settle(cleared(document, status) for document, status in made)

    expected: dict[tuple[str, str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for document, status in made:
        key = (
            f"{document['country_code']}*{document['party_id']}",
            f"{document['cdr_token']['country_code']}*{document['cdr_token']['party_id']}",
            document["currency"],
        )
        sums = expected[key]
        credit = bool(document.get("credit"))
        sign = -1 if credit else 1
        excl = abs(document["total_cost"]["excl_vat"])
        incl = abs(document["total_cost"].get("incl_vat", document["total_cost"]["excl_vat"]))
        sums["cdrs"] += 0 if credit else 1
        sums["credits"] += 1 if credit else 0
        sums["excl"] += sign * excl
        sums["incl"] += sign * incl
        sums["credits_excl"] += excl if credit else 0
        sums["energy"] += sign * document["total_energy"]
        sums["time"] += sign * document["total_time"]
        sums["parking"] += sign * document.get("total_parking_time", Decimal(0))
        sums["failed"] += 1 if status == "failed" else 0
        sums["failed_excl"] += sign * excl if status == "failed" else 0

    assert [(line.cpo, line.emsp, line.currency) for line in lines] == sorted(expected)
    assert sum(line.cdrs + line.credits for line in lines) == 1_000
    for line in lines:
        sums = expected[(line.cpo, line.emsp, line.currency)]
        assert (line.cdrs, line.credits, line.failed_checks) == (
            sums["cdrs"],
            sums["credits"],
            sums["failed"],
        )
        assert line.total_excl_vat == sums["excl"]
        assert line.total_incl_vat == sums["incl"]
        assert line.credits_excl_vat == sums["credits_excl"]
        assert line.energy_kwh == sums["energy"]
        assert line.time_hours == sums["time"]
        assert line.parking_hours == sums["parking"]
        assert line.failed_checks_excl_vat == sums["failed_excl"]


def test_the_csv_has_one_row_per_line_with_exact_amounts() -> None:
    made = generated(50, seed=3)
    lines = settle(cleared(document, status) for document, status in made)
    rows = to_csv(lines).splitlines()
    assert rows[0].startswith("cpo,emsp,currency,cdrs,credits,energy_kwh")
    assert len(rows) == len(lines) + 1
    first = rows[1].split(",")
    assert first[:3] == [lines[0].cpo, lines[0].emsp, lines[0].currency]
    assert Decimal(first[8]) == lines[0].total_excl_vat
