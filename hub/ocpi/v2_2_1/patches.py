"""Partial objects for PATCH bodies (digest §1.8, §8.2, §9.2, §13.2).

A PATCH carries only the fields that changed, plus ``last_updated``, which Locations, EVSEs,
Connectors, Sessions and Tokens SHALL always send. ``patch_model(Location)`` derives that shape from
the full model:

* every field becomes optional, but a field that is present must be valid exactly as in the full
  object (a required field sent as ``null`` is refused; nested objects and list items are full
  objects, since a list in a PATCH replaces or, for Session ``charging_periods``, extends the stored
  one);
* ``last_updated`` stays required;
* unknown fields are kept, and ``to_json()`` writes only what the body contained.

Rules that span several fields of the full object (e.g. Location ``publish`` vs
``publish_allowed_to``) cannot be judged on a fragment: validate the merged object with the full
model for those. Tariffs have no PATCH in 2.2.1, CDRs are immutable.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import create_model
from pydantic.fields import FieldInfo

from hub.ocpi.base import OcpiModel
from hub.ocpi.v2_2_1.locations import EVSE, Connector, Location
from hub.ocpi.v2_2_1.sessions import Session
from hub.ocpi.v2_2_1.tokens import Token

ALWAYS_REQUIRED = frozenset({"last_updated"})


@cache
def patch_model(model: type[OcpiModel]) -> type[OcpiModel]:
    """The PATCH variant of ``model``: all fields optional except ``last_updated``."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in ALWAYS_REQUIRED:
            fields[name] = (info.annotation, info)
            continue
        # Same type and constraints; only the default changes, so "absent" is fine but an explicit
        # value, null included, is validated as the full model would.
        optional = FieldInfo.merge_field_infos(info, default=None)
        fields[name] = (info.annotation, optional)
    return create_model(
        f"{model.__name__}Patch",
        __base__=OcpiModel,
        __module__=__name__,
        __doc__=f"A PATCH body for {model.__name__}: {(model.__doc__ or '').strip()}",
        **fields,
    )


LocationPatch = patch_model(Location)
EvsePatch = patch_model(EVSE)
ConnectorPatch = patch_model(Connector)
SessionPatch = patch_model(Session)
TokenPatch = patch_model(Token)
