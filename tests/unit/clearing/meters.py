"""A test meter: an EC key pair that signs OCMF records the way a calibrated meter does."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

_ALGORITHMS = {"secp256r1": "ECDSA-secp256r1-SHA256", "secp384r1": "ECDSA-secp384r1-SHA256"}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass
class Meter:
    curve: ec.EllipticCurve = field(default_factory=ec.SECP256R1)
    serial: str = "MTR-0001"

    def __post_init__(self) -> None:
        self._key = ec.generate_private_key(self.curve)

    @property
    def public_key_der(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def public_key_hex(self) -> str:
        return self.public_key_der.hex()

    @property
    def public_key_base64(self) -> str:
        return base64.b64encode(self.public_key_der).decode()

    def payload(self, reason: str, kwh: str, time: str) -> str:
        # The reading value is written as given ("1021.18"), as a meter writes its register.
        reading = (
            f'{{"TM":"{time},000+0000 S","TX":"{reason}","RV":{kwh},"RI":"01-00:B2.08.00*FF",'
            f'"RU":"kWh","RT":"AC","EF":"","ST":"G"}}'
        )
        header = {
            "FV": "1.0",
            "GI": "HUB-TEST-GATEWAY",
            "GS": "GW-0001",
            "GV": "1.0",
            "PG": "T1" if reason == "B" else "T2",
            "MV": "Test Meters",
            "MM": "TM-1",
            "MS": self.serial,
            "MF": "1.0",
            "IS": True,
            "IL": "VERIFIED",
            "IF": ["RFID_PLAIN"],
            "IT": "ISO14443",
            "ID": "1F2D3A4B",
        }
        return _compact(header)[:-1] + f',"RD":[{reading}]}}'

    def sign(self, payload: str) -> str:
        signature = self._key.sign(payload.encode(), ec.ECDSA(hashes.SHA256())).hex()
        algorithm = _ALGORITHMS[self.curve.name]
        return f"OCMF|{payload}|{_compact({'SA': algorithm, 'SD': signature})}"

    def record(self, reason: str = "B", kwh: str = "1021.18", time: str = "2025-01-15T09:00:00") -> str:
        return self.sign(self.payload(reason, kwh, time))


def signed_data(
    start: str, end: str, *, public_key: str | None, encoding_method: str = "OCMF"
) -> dict[str, Any]:
    """OCPI SignedData holding a begin and an end record."""
    document: dict[str, Any] = {
        "encoding_method": encoding_method,
        "signed_values": [
            {"nature": "Start", "plain_data": "", "signed_data": start},
            {"nature": "End", "plain_data": "", "signed_data": end},
        ],
    }
    if public_key is not None:
        document["public_key"] = public_key
    return document
