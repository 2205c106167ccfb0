"""Hosted CPOs: parties the hub itself operates for stations attached to it over OCPP.

Pure. A hosted CPO is a ``Platform`` marked ``hosted``: registered and CONNECTED with one CPO role,
so routing, broadcasts and Hub Client Info treat it as any CPO; it has no endpoints and no token,
so nothing ever calls it or delivers to it. Its Locations are built by the hub (``hub.ocpp.mapping``)
and pushed from it like a CPO's broadcast.
"""

from __future__ import annotations

import re
from datetime import datetime

from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.platforms import PartyRole, Platform

COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
PARTY_ID = re.compile(r"^[A-Za-z0-9]{3}$")


def hosted_cpo(country_code: str, party_id: str, name: str, *, now: datetime) -> Platform:
    """A new hosted CPO; ``ValueError`` if the codes are not OCPI's (ISO 3166 alpha-2, three characters)."""
    if not COUNTRY_CODE.match(country_code):
        raise ValueError(f"country code {country_code!r}: two letters (ISO 3166-1 alpha-2)")
    if not PARTY_ID.match(party_id):
        raise ValueError(f"party id {party_id!r}: three letters or digits")
    return Platform(
        name=name,
        hosted=True,
        registered=True,
        status=ConnectionStatus.CONNECTED,
        roles=[
            PartyRole(
                role=Role.CPO,
                country_code=country_code.upper(),
                party_id=party_id.upper(),
                business_details={"name": name},
            )
        ],
        created_at=now,
        status_changed_at=now,
    )
