"""OCPI 2.2.1 classes and enums shared by several modules (digest §7, §8.4)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import Url, ci_string, string


class Role(StrEnum):
    """OCPI 2.2.1 §16.5 (digest §7.7)."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class ImageCategory(StrEnum):
    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


class Image(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'Image class'."""

    url: Url
    thumbnail: Url | None = None
    category: ImageCategory
    type: Annotated[str, ci_string(4)]
    width: Annotated[int, Field(ge=0, le=99999)] | None = None
    height: Annotated[int, Field(ge=0, le=99999)] | None = None


class BusinessDetails(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'BusinessDetails class'."""

    name: Annotated[str, string(100), StringConstraints(min_length=1)]
    website: Url | None = None
    logo: Image | None = None
