"""Fan-out of events to Server-Sent Events subscribers.

Every stream owns a `Subscription` (a bounded queue) on one or more channels.
`publish(channel, message)` delivers the message to the queues of the channel's
subscribers:

- `LocalBroadcaster` delivers in this process only (one worker, tests);
- `RedisBroadcaster` publishes through Redis pub/sub; every worker listens (in a
  background thread, a greenlet under gevent) and delivers to its own subscribers,
  so a change made in one worker reaches streams held by all of them.

Every delivered message gets an id (`id:` of the SSE stream), and the last
`REPLAY_SIZE` messages of each channel are kept, so a client reconnecting with
`Last-Event-ID` gets what it missed, when the gap is that short (otherwise it re-fetches).

A subscriber whose queue is full (a stalled client) is dropped rather than
allowed to slow everyone else down; its stream then ends and the client reconnects.

`close_streams()` ends every stream of this process, and every stream opened after it,
at once: gunicorn.conf.py calls it when a worker is told to stop, so a graceful shutdown
(or restart) does not wait `graceful_timeout` for browser tabs; EventSource reconnects,
to a live worker.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from typing import Any

from flask import current_app
from redis import Redis

from app.config import Settings

log = logging.getLogger(__name__)

Message = dict[str, Any]
# Messages kept per channel for Last-Event-ID replays.
REPLAY_SIZE = 100


class Subscription:
    def __init__(self, channels: tuple[str, ...], maxsize: int) -> None:
        self.channels = channels
        self.queue: queue.Queue[Message | None] = queue.Queue(maxsize=maxsize)
        self.dropped = False

    def get(self, timeout: float) -> Message | None:
        """The next message; None once the subscriber has been dropped; queue.Empty on timeout."""
        return self.queue.get(timeout=timeout)


class LocalFanout:
    """Channel → subscribers of this process, and each channel's recent messages."""

    def __init__(self) -> None:
        self._channels: dict[str, set[Subscription]] = {}
        self._recent: dict[str, deque[Message]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def add(self, sub: Subscription) -> None:
        with self._lock:
            if self._closed:  # shutting down: the stream ends after its first line
                sub.queue.put_nowait(None)
                return
            for channel in sub.channels:
                self._channels.setdefault(channel, set()).add(sub)

    def close(self) -> int:
        """End every subscription, now and from now on (the process is stopping); their count."""
        with self._lock:
            self._closed = True
            subs = {sub for subs in self._channels.values() for sub in subs}
            self._channels.clear()
        for sub in subs:
            self._end(sub)
        return len(subs)

    def remove(self, sub: Subscription) -> None:
        with self._lock:
            for channel in sub.channels:
                subs = self._channels.get(channel)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._channels[channel]

    def deliver(self, channel: str, message: Message) -> int:
        delivered = 0
        with self._lock:
            if "id" in message:
                self._recent.setdefault(channel, deque(maxlen=REPLAY_SIZE)).append(message)
            subs = list(self._channels.get(channel, ()))
        for sub in subs:
            try:
                sub.queue.put_nowait(message)
                delivered += 1
            except queue.Full:
                self._drop(sub)
        return delivered

    def since(self, channels: tuple[str, ...], last_id: int) -> list[Message]:
        """The kept messages of `channels` newer than `last_id`, oldest first."""
        with self._lock:
            found = {
                m["id"]: m
                for channel in channels
                for m in self._recent.get(channel, ())
                if int(m["id"]) > last_id
            }
        return [found[key] for key in sorted(found, key=int)]

    def _drop(self, sub: Subscription) -> None:
        log.warning("dropping a stalled subscriber of %s", ", ".join(sub.channels))
        self.remove(sub)
        self._end(sub)

    @staticmethod
    def _end(sub: Subscription) -> None:
        """Empty the queue and put the end marker (None) in it."""
        sub.dropped = True
        with contextlib.suppress(queue.Empty):
            while True:
                sub.queue.get_nowait()
        sub.queue.put_nowait(None)

    def subscriber_count(self, channel: str) -> int:
        with self._lock:
            return len(self._channels.get(channel, ()))


_SEQUENCE = itertools.count()


def next_event_id() -> str:
    """Increasing across workers and restarts: microseconds since the epoch, made unique here."""
    return str(time.time_ns() // 1000 * 1000 + next(_SEQUENCE) % 1000)


class Broadcaster(ABC):
    def __init__(self, queue_size: int = 100) -> None:
        self.fanout = LocalFanout()
        self.queue_size = queue_size

    def start(self) -> None:  # noqa: B027  (optional hook)
        """Begin delivering (connect to Redis, ...)."""

    def stop(self) -> None:  # noqa: B027  (optional hook)
        """Stop delivering and release resources."""

    def close_streams(self) -> int:
        """End every open stream of this process (and refuse new ones): the worker is stopping."""
        return self.fanout.close()

    @contextlib.contextmanager
    def subscribe(self, *channels: str) -> Iterator[Subscription]:
        sub = Subscription(channels, self.queue_size)
        self.fanout.add(sub)
        try:
            yield sub
        finally:
            self.fanout.remove(sub)

    def publish(self, channel: str, message: Message) -> None:
        """Deliver `message` (given an `id` for events) to every subscriber of `channel`."""
        if "event" in message and "id" not in message:
            message = {**message, "id": next_event_id()}
        self._publish(channel, message)

    @abstractmethod
    def _publish(self, channel: str, message: Message) -> None: ...


class LocalBroadcaster(Broadcaster):
    def _publish(self, channel: str, message: Message) -> None:
        self.fanout.deliver(channel, message)


class RedisBroadcaster(Broadcaster):
    def __init__(self, redis: Redis, prefix: str, queue_size: int = 100) -> None:
        super().__init__(queue_size)
        self.redis = redis
        self.prefix = f"{prefix}:events:"
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._listen, name="redis-broadcast-listener", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=5):
            log.error("Redis pub/sub is not reachable yet; live updates resume once it is")

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _publish(self, channel: str, message: Message) -> None:
        self.redis.publish(self.prefix + channel, json.dumps(message))

    def _listen(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            pubsub = self.redis.pubsub()
            try:
                pubsub.psubscribe(self.prefix + "*")
                while not self._stopping.is_set():
                    # A short poll, so `stop()` returns quickly (each app of the tests stops one).
                    msg = pubsub.get_message(timeout=0.2)
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
            except Exception as exc:
                self._ready.clear()
                if self._stopping.is_set():
                    break
                log.warning("Redis pub/sub listener failed (%s); retrying in %.1fs", exc, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):
                    pubsub.close()


def create_broadcaster(settings: Settings, redis: Redis | None) -> Broadcaster:
    if redis is not None:
        return RedisBroadcaster(redis, settings.redis_prefix, settings.ws_queue_size)
    return LocalBroadcaster(settings.ws_queue_size)


def get_broadcaster() -> Broadcaster:
    """The current application's broadcaster."""
    return current_app.extensions["broadcaster"]
