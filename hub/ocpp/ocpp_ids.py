"""The integer ids the hub hands out to a station, and the 1.6 idTag of a long token uid.

Pure. OCPP numbers reservations, remote starts and charging profiles with integers the central
system picks; OCPI names reservations with the eMSP's own strings. The hub never forwards those
(one eMSP could replace or cancel another's reservation, guide gotcha 15): it gives out numbers
from one sequence per station, kept on the station record, so they are never reused on that
station. The same OCPI reservation of the same eMSP, and the profile of the same session, keep
their number: OCPP replaces a reservation or profile sent again with the same id.
"""

from __future__ import annotations

import base64
import hashlib

from hub.ocpp.records import Station
from hub.platforms import party_key

# OCPP integers are 32-bit signed in practice; the sequence wraps below that.
_MAX_ID = 0x7FFFFFFF
# 1.6 ``idTag`` is CiString20Type; OCPI token uids go up to 36 characters.
ID_TAG_MAX = 20
ALIAS_PREFIX = "H"


def reservation_key(country_code: str, party_id: str, reservation_id: str) -> str:
    """``DE*MSP*RES-1``: an OCPI reservation id is the eMSP's, and a CiString."""
    return f"{party_key(country_code, party_id)}*{reservation_id.upper()}"


def next_id(station: Station) -> tuple[Station, int]:
    """A fresh number of the station's sequence, and the station that records it as given."""
    number = station.last_ocpp_id % _MAX_ID + 1
    return station.model_copy(update={"last_ocpp_id": number}), number


def reservation_id(station: Station, key: str) -> tuple[Station | None, int]:
    """The OCPP reservation id of ``key`` (``reservation_key``); the station to store when the
    number is new, None when the reservation already had one."""
    known = station.reservation_ids.get(key)
    if known is not None:
        return None, known
    changed, number = next_id(station)
    changed.reservation_ids = {**station.reservation_ids, key: number}
    return changed, number


def known_reservation_id(station: Station, key: str) -> int | None:
    return station.reservation_ids.get(key)


def profile_id(station: Station, session_id: str) -> tuple[Station | None, int]:
    """The OCPP charging profile id of the OCPI profile of ``session_id`` (one per session: a new
    OCPI profile replaces the previous one on the station)."""
    key = session_id.upper()
    known = station.profile_ids.get(key)
    if known is not None:
        return None, known
    changed, number = next_id(station)
    changed.profile_ids = {**station.profile_ids, key: number}
    return changed, number


def known_profile_id(station: Station, session_id: str) -> int | None:
    return station.profile_ids.get(session_id.upper())


def id_tag(country_code: str, party_id: str, uid: str) -> str:
    """The 1.6 ``idTag`` for a token: its uid when it fits in 20 characters, else an alias.

    The alias is derived from the token's party and uid, so every hub process and every restart
    makes the same one; ``H`` and 19 base32 characters (95 bits of a SHA-256) keep collisions out
    of reach. Whoever meets the alias again (StartTransaction) learns its token from the remote
    start the hub announced (``hub.ocpp.remote_control.RemoteStarts``).
    """
    if len(uid) <= ID_TAG_MAX:
        return uid
    digest = hashlib.sha256(f"{party_key(country_code, party_id)}*{uid}".encode()).digest()
    return ALIAS_PREFIX + base64.b32encode(digest).decode()[: ID_TAG_MAX - len(ALIAS_PREFIX)]
