"""Hub URLs that stand in for a party's URL (digest §19 items 18 and 19): a pagination ``Link``, a CDR
``Location`` and a command or charging-profile ``response_url`` point at the hub, which forwards to
the original with the right token, so no party ever needs another party's token.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class LinkKind(StrEnum):
    RESPONSE_URL = "RESPONSE_URL"  # async results (CommandResult, charging profile results) go here
    LOCATION = "LOCATION"  # a CDR's Location on the receiving eMSP
    PAGE = "PAGE"  # a party's next page that is not under its module URL


def new_link_id() -> str:
    return secrets.token_urlsafe(18)


class ProxyLink(BaseModel):
    id: str = Field(default_factory=new_link_id)
    kind: LinkKind
    module: str
    # The original URL, and the platform it belongs to (whose token the hub presents there).
    url: str
    target_platform_id: str
    # The only platform that may use the hub URL.
    user_platform_id: str
    # Routing headers of the forwarded request.
    to_country_code: str
    to_party_id: str
    from_country_code: str
    from_party_id: str
    methods: list[str]
    # For RESPONSE_URL links: the method of the request that handed out the response_url, which
    # decides the result object expected (e.g. a charging profile GET → ActiveChargingProfileResult).
    origin_method: str | None = None
    expires_at: datetime


def link_url(public_url: str, link_id: str) -> str:
    return f"{public_url}/ocpi/2.2.1/links/{link_id}"
