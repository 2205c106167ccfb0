"""OCPI 2.2.1 classes and enums shared by several modules (digest §7, §8.4)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, Strict, StringConstraints, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import Number, Url, ci_string, string


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
    """OCPI 2.2.1, mod_locations, 'ImageCategory enum'."""

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
    width: Annotated[int, Strict(), Field(ge=0, le=99999)] | None = None
    height: Annotated[int, Strict(), Field(ge=0, le=99999)] | None = None


class BusinessDetails(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'BusinessDetails class'."""

    name: Annotated[str, string(100), StringConstraints(min_length=1)]
    website: Url | None = None
    logo: Image | None = None


# --- Shared classes and enums of the functional modules (digest §7.5, §7.6, §8.4, §9.4, §13.4) ---
#
# They live here because several modules use them; the module files re-export the ones they own in
# the spec (TokenType in tokens, ProfileType in sessions), so imports can follow the spec's layout.


def rule_broken(message: str, *location: str | int) -> ValidationError:
    """The error a cross-field rule raises, placed at the field it names.

    Raised from a model validator, pydantic prefixes the location of the object itself, so the
    2001 message reads ``publish_allowed_to[0].type: is required when uid is set``.
    """
    detail = InitErrorDetails(type=PydanticCustomError("ocpi_rule", message), loc=location, input=None)
    return ValidationError.from_exception_data("OCPI rule", [detail])


def text_matching(pattern: str, example: str) -> AfterValidator:
    """A whole-string regex check whose message shows the expected shape, e.g. ``HH:MM``."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(f"must match {pattern}, e.g. {example}")
        return value

    return AfterValidator(check)


# string(10) / string(11), WGS 84 decimal degrees, 5 to 7 decimals (digest §8.4).
Latitude = Annotated[str, string(10), text_matching(r"-?[0-9]{1,2}\.[0-9]{5,7}", "51.04759")]
Longitude = Annotated[str, string(11), text_matching(r"-?[0-9]{1,3}\.[0-9]{5,7}", "-3.72994")]
# string(5), a local time of day (RegularHours, TariffRestrictions).
HourMinute = Annotated[str, string(5), text_matching(r"([0-1][0-9]|2[0-3]):[0-5][0-9]", "08:30")]
# string(3), ISO 4217 currency / ISO 3166-1 alpha-3 country; string(2), ISO 639-1 language.
String2 = Annotated[str, string(2)]
String3 = Annotated[str, string(3)]
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]


class TokenType(StrEnum):
    """OCPI 2.2.1, mod_tokens, 'TokenType enum'."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class ProfileType(StrEnum):
    """OCPI 2.2.1, mod_sessions, 'ProfileType enum'."""

    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class DisplayText(OcpiModel):
    """OCPI 2.2.1, types, 'DisplayText class'."""

    language: String2
    text: Annotated[str, string(512)]


class Price(OcpiModel):
    """OCPI 2.2.1, types, 'Price class'."""

    excl_vat: Number
    incl_vat: Number | None = None


class GeoLocation(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'GeoLocation class'."""

    latitude: Latitude
    longitude: Longitude


class AdditionalGeoLocation(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'AdditionalGeoLocation class'."""

    latitude: Latitude
    longitude: Longitude
    name: DisplayText | None = None


class EnergySourceCategory(StrEnum):
    """OCPI 2.2.1, mod_locations, 'EnergySourceCategory enum'."""

    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(StrEnum):
    """OCPI 2.2.1, mod_locations, 'EnvironmentalImpactCategory enum'."""

    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


class EnergySource(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'EnergySource class'."""

    source: EnergySourceCategory
    percentage: Annotated[Number, Field(ge=0, le=100)]


class EnvironmentalImpact(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'EnvironmentalImpact class'."""

    category: EnvironmentalImpactCategory
    amount: Number


class EnergyMix(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'EnergyMix class'."""

    is_green_energy: StrictBool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: Annotated[str, string(64)] | None = None
    energy_product_name: Annotated[str, string(64)] | None = None
