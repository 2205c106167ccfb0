"""The mirror service with two writers on one store, as two hub processes would be: what one process
remembers of a record never lets it overwrite a newer push the other one stored."""

from __future__ import annotations

import json

from hub.mirror.service import Mirror
from hub.routing.requests import ObjectUrl
from hub.routing.table import PartyRef
from hub.store import Store
from tests.support import objects

URL = ObjectUrl(PartyRef("NL", "CPO"), ("LOC1",))


def body(stamp: str, name: str) -> bytes:
    return json.dumps(objects.location(last_updated=stamp, name=name)).encode()


async def test_a_remembered_version_does_not_overwrite_what_another_writer_stored(store: Store) -> None:
    first, second = Mirror(store.mirror), Mirror(store.mirror)
    await first.push("locations", "PUT", URL, None, body("2025-01-01T00:00:00Z", "one"), strict=True)
    await second.push("locations", "PUT", URL, None, body("2025-03-01T00:00:00Z", "three"), strict=True)
    # ``first`` still remembers the January version; its February push is older than what is stored.
    outcome = await first.push(
        "locations", "PUT", URL, None, body("2025-02-01T00:00:00Z", "two"), strict=True
    )
    assert outcome is not None and not outcome.changed
    stored = await store.mirror.get("locations", "NL", "CPO", "LOC1")
    assert stored is not None and stored.document["name"] == "three"
    # A newer push from ``first`` lands on top of ``second``'s.
    await first.push("locations", "PUT", URL, None, body("2025-04-01T00:00:00Z", "four"), strict=True)
    stored = await store.mirror.get("locations", "NL", "CPO", "LOC1")
    assert stored is not None and stored.document["name"] == "four"


async def test_a_push_for_a_key_this_writer_never_saw_respects_the_stored_one(store: Store) -> None:
    await Mirror(store.mirror).push(
        "locations", "PUT", URL, None, body("2025-03-01T00:00:00Z", "new"), strict=True
    )
    newcomer = Mirror(store.mirror)
    outcome = await newcomer.push(
        "locations", "PUT", URL, None, body("2025-01-01T00:00:00Z", "old"), strict=True
    )
    assert outcome is not None and not outcome.changed
    stored = await store.mirror.get("locations", "NL", "CPO", "LOC1")
    assert stored is not None and stored.document["name"] == "new"
