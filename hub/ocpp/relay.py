"""Several hub processes, one set of stations: who holds which station, and calls between processes.

A station's websocket ends in exactly one hub process. That process records itself as the station's
holder in Redis (``ocpp:holder:<STATION>``, with a time to live it keeps refreshing, so the record of a
process that died runs out on its own). A process that must call a station it does not hold looks the
holder up and publishes the call on the holder's channel (``ocpp:calls:<process>``); the holder makes
the call through its ``StationLink`` and publishes the answer on the caller's channel
(``ocpp:answers:<process>``). Calls and answers travel as the ``ocpp`` library's dataclasses by module
and name; a CALLERROR travels as its code and comes back as the same ``OCPPError`` subclass.

When a station connects to a second process while the first still has its old connection (the
station noticed a dead connection before the hub did), the new holder tells the old one to drop it,
without the drop reading as a disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import json
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import structlog
from ocpp import exceptions as ocpp_errors
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from hub.ocpp.calls import Links
from hub.ocpp.connection import StationDisconnected

log = structlog.get_logger(__name__)

# Modules whose dataclasses may travel between processes (never an arbitrary import path).
_MESSAGE_MODULES = frozenset(
    {"ocpp.v16.call", "ocpp.v16.call_result", "ocpp.v201.call", "ocpp.v201.call_result"}
)
_ERRORS: dict[str, type[ocpp_errors.OCPPError]] = {
    str(getattr(cls, "code")): cls  # noqa: B009 - not every error class has a code
    for cls in vars(ocpp_errors).values()
    if isinstance(cls, type) and issubclass(cls, ocpp_errors.OCPPError) and getattr(cls, "code", None)
}
# Only the holder may delete or refresh its own record; a newer holder's record is left alone.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_REFRESH = """
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == false or holder == ARGV[1] then redis.call('SET', key, ARGV[1], 'EX', ARGV[2]) end
end
return 0
"""
_REFRESH_BATCH = 1_000


def holder_key(station_id: str) -> str:
    return f"ocpp:holder:{station_id.upper()}"


def calls_channel(process_id: str) -> str:
    return f"ocpp:calls:{process_id}"


def answers_channel(process_id: str) -> str:
    return f"ocpp:answers:{process_id}"


def encode_message(message: Any) -> dict[str, Any]:
    """An ``ocpp`` call or call result as JSON-ready data."""
    kind = type(message)
    if kind.__module__ not in _MESSAGE_MODULES or not dataclasses.is_dataclass(message):
        raise TypeError(f"{kind.__module__}.{kind.__name__} is not an OCPP message of the ocpp package")
    return {"module": kind.__module__, "name": kind.__name__, "fields": dataclasses.asdict(message)}  # type: ignore[arg-type]


def decode_message(data: dict[str, Any]) -> Any:
    module = str(data["module"])
    if module not in _MESSAGE_MODULES:
        raise ValueError(f"{module} is not a module of OCPP messages")
    kind: Any = getattr(importlib.import_module(module), str(data["name"]))
    if not (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
        raise ValueError(f"{module}.{data['name']} is not an OCPP message")
    return kind(**data["fields"])


def _json_default(value: Any) -> Any:
    # Charging limits are the only Decimals in OCPP messages; they carry one decimal at most.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, default=_json_default, separators=(",", ":"))


class RedisRelay:
    def __init__(
        self,
        url: str,
        links: Links,
        *,
        drop: Callable[[str], Awaitable[None]],
        answer_within: float,
        hold_for: int = 90,
        process_id: str | None = None,
    ) -> None:
        self.process_id = process_id or uuid.uuid4().hex
        # No CLIENT SETINFO: finding the library version reads package metadata from disk.
        # A pooled connection a restarted Redis closed is opened again instead of failing the command.
        self._redis = Redis.from_url(
            url,
            decode_responses=True,
            driver_info=None,
            retry=Retry(ExponentialBackoff(cap=1, base=0.05), 3),
            retry_on_error=[RedisConnectionError],
        )
        self._links = links
        self._drop = drop
        self._answer_within = answer_within
        self._hold_for = hold_for
        self._held: set[str] = set()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._subscribed = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None

    # --- lifetime ----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())
        self._refresher = asyncio.create_task(self._refresh_forever())
        # Calls for this process are not lost to a channel nobody listens to yet; a Redis that is
        # down at start-up does not stop the hub (stations then stay reachable from here only).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), 5)

    async def close(self) -> None:
        for task in (self._listener, self._refresher, *self._tasks):
            if task is not None:
                task.cancel()
        for task in (self._listener, self._refresher, *self._tasks):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for station_id in list(self._held):
            await self.release(station_id)
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_exception(StationDisconnected("the hub process is shutting down"))
        await self._redis.aclose()

    # --- who holds which station -----------------------------------------------------------------

    async def hold(self, station_id: str) -> None:
        """Record this process as the station's holder; an older holder drops its connection."""
        self._held.add(station_id.upper())
        try:
            previous = await self._redis.set(
                holder_key(station_id), self.process_id, ex=self._hold_for, get=True
            )
            if isinstance(previous, str) and previous != self.process_id:
                await self._redis.publish(calls_channel(previous), _dumps({"drop": station_id}))
        except RedisError as error:
            # The refresher records it once Redis answers again.
            log.warning("station_holder_not_recorded", station=station_id, error=str(error))

    async def release(self, station_id: str) -> None:
        self._held.discard(station_id.upper())
        try:
            await self._redis.eval(_RELEASE, 1, holder_key(station_id), self.process_id)
        except RedisError as error:
            log.warning("station_holder_not_released", station=station_id, error=str(error))

    async def holder(self, station_id: str) -> str | None:
        try:
            found = await self._redis.get(holder_key(station_id))
        except RedisError as error:
            log.warning("station_holder_unknown", station=station_id, error=str(error))
            return None
        return str(found) if found else None

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._hold_for / 3)
            try:
                await self.refresh()
            except RedisError as error:
                log.warning("station_holders_not_refreshed", error=str(error))

    async def refresh(self) -> None:
        """Extend this process's holder records (and write back any a Redis restart lost)."""
        held = sorted(self._held)
        for start in range(0, len(held), _REFRESH_BATCH):
            keys = [holder_key(s) for s in held[start : start + _REFRESH_BATCH]]
            await self._redis.eval(_REFRESH, len(keys), *keys, self.process_id, str(self._hold_for))

    # --- calls -----------------------------------------------------------------------------------

    async def call(self, station_id: str, request: Any) -> Any:
        """Call a station held by another process; raises as ``StationLink.call`` does."""
        if not self._subscribed.is_set():
            raise StationDisconnected(f"station {station_id}: the hub processes cannot reach each other now")
        holder = await self.holder(station_id)
        if holder is None:
            raise StationDisconnected(f"station {station_id} is not connected to any hub process")
        call_id = uuid.uuid4().hex
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = answer
        message = {
            "id": call_id,
            "station": station_id,
            "call": encode_message(request),
            "reply_to": self.process_id,
        }
        try:
            try:
                receivers = await self._redis.publish(calls_channel(holder), _dumps(message))
            except RedisError as error:
                raise StationDisconnected(
                    f"station {station_id}: the hub processes cannot reach each other"
                ) from error
            if receivers == 0:
                raise StationDisconnected(f"station {station_id}: its hub process is gone")
            try:
                data = await asyncio.wait_for(answer, self._answer_within)
            except TimeoutError:
                raise TimeoutError(f"station {station_id} did not answer in time") from None
        finally:
            self._waiting.pop(call_id, None)
        return _outcome(station_id, data)

    async def _serve(self, message: dict[str, Any]) -> None:
        """Make a call another process asked for, and send it the answer."""
        station_id = str(message["station"])
        answer: dict[str, Any] = {"id": message["id"]}
        link = self._links.get(station_id)
        try:
            if link is None:
                raise StationDisconnected(f"station {station_id} is no longer connected here")
            result = await link.call(decode_message(message["call"]))
            answer["result"] = encode_message(result)
        except StationDisconnected:
            answer["error"] = "disconnected"
        except TimeoutError:
            answer["error"] = "timeout"
        except ocpp_errors.OCPPError as error:
            answer["error"] = "callerror"
            answer["code"] = getattr(error, "code", "GenericError")
            answer["description"] = error.description
        except (ValueError, TypeError) as error:
            answer["error"] = "callerror"
            answer["code"] = "InternalError"
            answer["description"] = str(error)
        try:
            await self._redis.publish(answers_channel(str(message["reply_to"])), _dumps(answer))
        except RedisError as error:
            # The caller gives up at its own timeout.
            log.warning("station_relay_answer_lost", station=station_id, error=str(error))

    async def _listen(self) -> None:
        channels = (calls_channel(self.process_id), answers_channel(self.process_id))
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(*channels)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        kind = message.get("type")
                        if kind == "message":
                            self._dispatch(str(message["channel"]), str(message["data"]))
                        elif kind == "subscribe" and message.get("channel") == channels[0]:
                            # Also after the client reconnected on its own: a restarted Redis has
                            # lost the holder records, so write them back.
                            self._spawn(self.refresh())
            except RedisError as error:
                self._subscribed.clear()
                log.warning("station_relay_reconnecting", error=str(error))
                await asyncio.sleep(1)

    def _dispatch(self, channel: str, raw: str) -> None:
        try:
            data = json.loads(raw)
        except ValueError:
            log.warning("station_relay_bad_message", channel=channel)
            return
        if channel == answers_channel(self.process_id):
            waiting = self._waiting.get(str(data.get("id")))
            if waiting is not None and not waiting.done():
                waiting.set_result(data)
            return
        if "drop" in data:
            self._spawn(self._drop(str(data["drop"])))
        elif "call" in data:
            self._spawn(self._serve(data))

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except RedisError as error:
                log.warning("station_relay_failed", error=str(error))
            except Exception:
                log.exception("station_relay_failed")

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _outcome(station_id: str, data: dict[str, Any]) -> Any:
    error = data.get("error")
    if error is None:
        return decode_message(data["result"])
    if error == "disconnected":
        raise StationDisconnected(f"station {station_id} is not connected")
    if error == "timeout":
        raise TimeoutError(f"station {station_id} did not answer in time")
    kind = _ERRORS.get(str(data.get("code")), ocpp_errors.GenericError)
    raise kind(description=str(data.get("description", "")))
