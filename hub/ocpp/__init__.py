"""OCPP-J ingest: charging stations attached directly to the hub, run as a hosted CPO.

Pure parts: ``records`` (what the store keeps of a station), ``template`` (the operator's Location
file), ``mapping`` (OCPP statuses and reports → OCPI Location), ``passwords``, ``command_mapping`` and
``profile_mapping`` (OCPI commands and charging profiles ↔ OCPP calls), ``ocpp_ids`` (the hub's OCPP
ids). Shells: ``connection`` (the websocket adapter), ``charge_points`` (the ``ocpp`` library's classes),
``ingest`` (store, mirror, outbox), ``remote_control`` (commands and profiles for hosted CPOs),
``server`` (the aiohttp endpoint), ``operators`` (what the CLI does).
"""
