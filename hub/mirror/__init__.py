"""The mirror: the hub's copy of the Locations, Tariffs, Tokens, Sessions and CDRs parties push or
relay through it, as they were pushed (unknown fields included), merged the OCPI way."""
