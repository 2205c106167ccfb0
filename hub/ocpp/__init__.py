"""OCPP-J ingest: charging stations attached directly to the hub, run as a hosted CPO.

Pure parts: ``records`` (what the store keeps of a station), ``template`` (the operator's Location
file), ``mapping`` (OCPP statuses and reports → OCPI Location), ``passwords``. Shells: ``connection``
(the websocket adapter), ``charge_points`` (the ``ocpp`` library's classes), ``ingest`` (store, mirror,
outbox), ``server`` (the aiohttp endpoint), ``operators`` (what the CLI does).
"""
