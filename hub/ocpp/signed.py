"""Signed meter values (Eichrecht) as the CDR's OCPI ``signed_data`` (ingest guide §10): pure.

A record is kept exactly as the station sent it and never parsed back into something that is written
out again: the signature covers the bytes as transmitted. OCPP 1.6 carries it in a ``SampledValue``
with ``format="SignedData"`` whose ``value`` is a string: an OCMF text record (``OCMF|{…}|{…}``), hex,
or the 2.0.1 ``SignedMeterValue`` structure serialised as JSON (OCA application note). Text records
become base64 of their UTF-8 bytes, hex records base64 of the bytes the hex spells, and the JSON
structure gives its ``signedMeterData``, which is base64 already and passed through unchanged, as is
the 2.0.1 ``signedMeterValue.signedMeterData``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

# SampledValue ``context`` → OCPI SignedValue ``nature``; any other context is an intermediate reading.
_NATURE = {"Transaction.Begin": "Start", "Transaction.End": "End"}
_PLAIN_MAX = 512


class SignedRecord(BaseModel):
    """One signed reading as received, ready for an OCPI ``SignedValue``."""

    model_config = ConfigDict(frozen=True)

    nature: str  # Start, End or Intermediate
    encoding_method: str
    public_key: str | None = None
    signed_data: str  # base64
    plain_data: str = ""


def _nature(sample: Mapping[str, Any], default_context: str | None) -> str:
    return _NATURE.get(str(sample.get("context") or default_context or ""), "Intermediate")


def _plain(sample: Mapping[str, Any], unit: str | None) -> str:
    measurand = sample.get("measurand") or "Energy.Active.Import.Register"
    return f"{measurand} {unit or ''}".strip()[:_PLAIN_MAX]


def _from_v16_text(value: str) -> tuple[str, str, str | None]:
    """``(encoding_method, base64 record, public key)`` of a 1.6 signed value string."""
    text = value.strip()
    if text.startswith("{"):
        try:
            structure = json.loads(text)
        except ValueError:
            structure = None
        if isinstance(structure, dict) and isinstance(structure.get("signedMeterData"), str):
            key = structure.get("publicKey")
            return (
                str(structure.get("encodingMethod") or "OCMF"),
                structure["signedMeterData"],
                key if isinstance(key, str) and key else None,
            )
    if not text.startswith("OCMF|") and len(text) % 2 == 0:
        try:
            raw = binascii.unhexlify(text)
        except (binascii.Error, ValueError):
            raw = None
        if raw is not None:
            method = "OCMF" if raw.startswith(b"OCMF|") else "HEX"
            return method, base64.b64encode(raw).decode("ascii"), None
    method = "OCMF" if value.startswith("OCMF|") else "TEXT"
    return method, base64.b64encode(value.encode("utf-8")).decode("ascii"), None


def from_v16(
    meter_values: Sequence[Mapping[str, Any]], *, default_context: str | None = None
) -> list[SignedRecord]:
    """The signed records among 1.6 ``meterValue`` entries (snake_case keys); ``default_context`` for
    samples without a context (``Transaction.End`` in ``StopTransaction.transactionData``)."""
    found: list[SignedRecord] = []
    for entry in meter_values:
        for sample in entry.get("sampled_value") or []:
            value = sample.get("value")
            if sample.get("format") != "SignedData" or not isinstance(value, str) or not value:
                continue
            method, data, key = _from_v16_text(value)
            found.append(
                SignedRecord(
                    nature=_nature(sample, default_context),
                    encoding_method=method,
                    public_key=key,
                    signed_data=data,
                    plain_data=_plain(sample, sample.get("unit")),
                )
            )
    return found


def from_v201(meter_values: Sequence[Mapping[str, Any]]) -> list[SignedRecord]:
    """The ``signedMeterValue`` records among 2.0.1 ``meterValue`` entries (snake_case keys)."""
    found: list[SignedRecord] = []
    for entry in meter_values:
        for sample in entry.get("sampled_value") or []:
            signed = sample.get("signed_meter_value")
            if not isinstance(signed, Mapping) or not isinstance(signed.get("signed_meter_data"), str):
                continue
            key = signed.get("public_key")
            unit = (sample.get("unit_of_measure") or {}).get("unit", "Wh")
            found.append(
                SignedRecord(
                    nature=_nature(sample, None),
                    encoding_method=str(signed.get("encoding_method") or "OCMF"),
                    public_key=key if isinstance(key, str) and key else None,
                    signed_data=signed["signed_meter_data"],
                    plain_data=f"{sample.get('value', '')} {unit}".strip()[:_PLAIN_MAX],
                )
            )
    return found


def merged(kept: Iterable[SignedRecord], new: Iterable[SignedRecord]) -> tuple[SignedRecord, ...]:
    """``kept`` then the ``new`` records not among them (a message sent again adds nothing)."""
    records = list(kept)
    seen = {(r.nature, r.signed_data) for r in records}
    for record in new:
        if (record.nature, record.signed_data) not in seen:
            seen.add((record.nature, record.signed_data))
            records.append(record)
    return tuple(records)


def signed_data(records: Sequence[SignedRecord]) -> dict[str, Any] | None:
    """The OCPI ``SignedData`` of a transaction's records; None without any. The encoding method and
    public key are the first record's that names them."""
    if not records:
        return None
    document: dict[str, Any] = {"encoding_method": records[0].encoding_method[:36]}
    key = next((r.public_key for r in records if r.public_key), None)
    if key is not None:
        document["public_key"] = key
    document["signed_values"] = [
        {"nature": r.nature, "plain_data": r.plain_data, "signed_data": r.signed_data} for r in records
    ]
    return document
