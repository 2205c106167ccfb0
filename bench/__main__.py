"""``make bench``: every benchmark, one after the other, printing its figures."""

from __future__ import annotations

import asyncio

from bench import clearing_bench, hub_bench, models_bench, routing_bench, stations_bench, workers_bench

models_bench.main()
print()
asyncio.run(hub_bench.main())
print()
asyncio.run(routing_bench.main())
print()
asyncio.run(workers_bench.main())
print()
asyncio.run(clearing_bench.main())
print()
asyncio.run(stations_bench.main())
