"""Fan-out of events to WebSocket subscribers.

Every connection owns a `Subscription` (a bounded queue) on one or more
channels. `publish(channel, message)` delivers the message to the queues of
the channel's subscribers:

- `LocalBroadcaster` delivers in this process only (one worker, tests);
- `RedisBroadcaster` publishes through Redis pub/sub; every worker listens and
  delivers to its own subscribers, so a change made in one worker reaches
  sockets held by all of them.

A subscriber whose queue is full (a stalled client) is dropped rather than
allowed to slow everyone else down; its connection is then closed and the
client reconnects and reloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

from quart import current_app
from redis.asyncio import Redis

from app.config import Settings

log = logging.getLogger(__name__)

Message = dict[str, Any]


class Subscription:
    def __init__(self, channels: tuple[str, ...], maxsize: int) -> None:
        self.channels = channels
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=maxsize)
        self.dropped = False

    async def get(self) -> Message | None:
        """The next message, or None once the subscriber has been dropped."""
        return await self.queue.get()


class LocalFanout:
    """Channel → subscribers of this process."""

    def __init__(self) -> None:
        self._channels: dict[str, set[Subscription]] = {}

    def add(self, sub: Subscription) -> None:
        for channel in sub.channels:
            self._channels.setdefault(channel, set()).add(sub)

    def remove(self, sub: Subscription) -> None:
        for channel in sub.channels:
            subs = self._channels.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._channels[channel]

    def deliver(self, channel: str, message: Message) -> int:
        delivered = 0
        # Iterate over a copy: dropping a subscriber changes the set.
        for sub in list(self._channels.get(channel, ())):
            try:
                sub.queue.put_nowait(message)
                delivered += 1
            except asyncio.QueueFull:
                self._drop(sub)
        return delivered

    def _drop(self, sub: Subscription) -> None:
        log.warning("dropping a stalled subscriber of %s", ", ".join(sub.channels))
        self.remove(sub)
        sub.dropped = True
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)

    def subscriber_count(self, channel: str) -> int:
        return len(self._channels.get(channel, ()))


class Broadcaster(ABC):
    def __init__(self, queue_size: int = 100) -> None:
        self.fanout = LocalFanout()
        self.queue_size = queue_size

    async def start(self) -> None:  # noqa: B027  (optional hook)
        """Begin delivering (connect to Redis, ...)."""

    async def stop(self) -> None:  # noqa: B027  (optional hook)
        """Stop delivering and release resources."""

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscription]:
        sub = Subscription(channels, self.queue_size)
        self.fanout.add(sub)
        try:
            yield sub
        finally:
            self.fanout.remove(sub)

    @abstractmethod
    async def publish(self, channel: str, message: Message) -> None: ...


class LocalBroadcaster(Broadcaster):
    async def publish(self, channel: str, message: Message) -> None:
        self.fanout.deliver(channel, message)


class RedisBroadcaster(Broadcaster):
    def __init__(self, redis: Redis, prefix: str, queue_size: int = 100) -> None:
        super().__init__(queue_size)
        self.redis = redis
        self.prefix = f"{prefix}:events:"
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="redis-broadcast-listener")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=5)
        except TimeoutError:
            log.error("Redis pub/sub is not reachable yet; live updates resume once it is")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def publish(self, channel: str, message: Message) -> None:
        await self.redis.publish(self.prefix + channel, json.dumps(message))

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.psubscribe(self.prefix + "*")
                while True:
                    msg = await pubsub.get_message(timeout=None)
                    if msg is None:
                        continue
                    if msg["type"] == "psubscribe":
                        self._ready.set()
                        backoff = 0.5
                    elif msg["type"] == "pmessage":
                        channel = msg["channel"].removeprefix(self.prefix)
                        try:
                            data = json.loads(msg["data"])
                        except (TypeError, ValueError):
                            log.warning("ignoring a malformed event on %s", msg["channel"])
                            continue
                        self.fanout.deliver(channel, data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._ready.clear()
                log.warning("Redis pub/sub listener failed (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()


def create_broadcaster(settings: Settings, redis: Redis | None) -> Broadcaster:
    if redis is not None:
        return RedisBroadcaster(redis, settings.redis_prefix, settings.ws_queue_size)
    return LocalBroadcaster(settings.ws_queue_size)


def get_broadcaster() -> Broadcaster:
    """The current application's broadcaster."""
    return current_app.extensions["broadcaster"]
