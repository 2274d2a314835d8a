"""Publishing with confirms: a batch is sent, then we wait until the broker has taken every message.

On RabbitMQ the channel is in confirm mode and messages are persistent and mandatory (an unroutable event is
logged, since it means a queue is missing). A message the broker refuses (nack) or a lost connection raises, and
the outbox keeps the rows for the next attempt.
"""
from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass, field

from kombu import Connection

from ..config import BusSettings
from .amqp_transport import corked
from .topology import ServiceQueues, connect, declare_exchange

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    pass


@dataclass
class OutgoingMessage:
    event_id: str
    routing_key: str
    body: str
    headers: dict = field(default_factory=dict)
    exchange: str | None = None  # None: the events exchange; "" the default exchange (direct to a queue)
    expiration_ms: int | None = None  # RabbitMQ per-message TTL (the retry queue's delay)


class Publisher:
    def __init__(self, bus: BusSettings, subscriptions: dict[str, tuple[str, ...]], confirm_timeout: float = 10.0):
        self.bus = bus
        self.subscriptions = subscriptions
        self.confirm_timeout = confirm_timeout
        self._conn: Connection | None = None
        self._channel = None
        self._next_tag = 1
        self._acked_up_to = 0
        self._nacked: set[int] = set()
        self._acked: set[int] = set()

    # -- connection -------------------------------------------------------------------------------------------
    def _ensure(self):
        if self._channel is not None:
            return self._channel
        conn = connect(self.bus)
        conn.ensure_connection(max_retries=1)
        channel = conn.channel()
        declare_exchange(self.bus, channel)
        # Declaring every subscriber's queue and bindings here means an event published before its consumer
        # has ever started is queued, not dropped.
        for service, keys in self.subscriptions.items():
            ServiceQueues(self.bus, service, tuple(keys)).declare(channel)
        if self.bus.is_amqp:
            raw = channel  # kombu's pyamqp channel is amqp.Channel
            raw.confirm_select()
            raw.events["basic_ack"].add(self._on_ack)
            raw.events["basic_nack"].add(self._on_nack)
            raw.events["basic_return"].add(self._on_return)
            self._next_tag = 1
            self._acked_up_to = 0
            self._acked.clear()
            self._nacked.clear()
        self._conn, self._channel = conn, channel
        return channel

    def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - closing a broken connection must not mask the real error
                log.debug("error while closing publisher connection", exc_info=True)

    # -- confirms ---------------------------------------------------------------------------------------------
    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._acked_up_to = max(self._acked_up_to, delivery_tag)
        else:
            self._acked.add(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked.add(delivery_tag)
        if multiple:
            self._acked_up_to = max(self._acked_up_to, delivery_tag)

    def _on_return(self, exc, exchange, routing_key, message) -> None:
        log.warning("event returned unroutable: %s (%s)", routing_key, exc)

    def _confirmed(self, tag: int) -> bool:
        return tag <= self._acked_up_to or tag in self._acked or tag in self._nacked

    # -- publishing -------------------------------------------------------------------------------------------
    def publish(self, messages: list[OutgoingMessage]) -> None:
        """Publish a batch; returns once the broker confirmed all of it, raises otherwise."""
        if not messages:
            return
        try:
            channel = self._ensure()
            if self.bus.is_amqp:
                self._publish_amqp(channel, messages)
            else:
                self._publish_virtual(channel, messages)
        except PublishError:
            self.close()
            raise
        except Exception as exc:  # connection errors of any transport
            self.close()
            raise PublishError(f"publish failed: {exc}") from exc

    def _publish_amqp(self, channel, messages: list[OutgoingMessage]) -> None:
        first = self._next_tag
        conn = channel.connection
        transport = corked(conn)
        if transport is not None:
            transport.cork()  # the whole batch leaves in one send
        try:
            self._send_all(channel, messages)
        finally:
            if transport is not None:
                transport.uncork()
        last = self._next_tag - 1
        deadline = time.monotonic() + self.confirm_timeout
        while not self._all_confirmed(first, last):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError("broker did not confirm in time")
            try:
                conn.drain_events(timeout=min(remaining, 1.0))
            except socket.timeout:
                continue
        nacked = [t for t in range(first, last + 1) if t in self._nacked]
        self._acked.difference_update(range(first, last + 1))
        if nacked:
            self._nacked.difference_update(nacked)
            raise PublishError(f"broker refused {len(nacked)} message(s)")

    def _send_all(self, channel, messages: list[OutgoingMessage]) -> None:
        from amqp import Message

        for m in messages:
            properties = {"expiration": str(m.expiration_ms)} if m.expiration_ms is not None else {}
            msg = Message(
                m.body,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=m.event_id,
                application_headers=m.headers or {},
                **properties,
            )
            exchange = self.bus.exchange if m.exchange is None else m.exchange
            channel._basic_publish(msg, exchange=exchange, routing_key=m.routing_key, mandatory=True)
            self._next_tag += 1

    def _all_confirmed(self, first: int, last: int) -> bool:
        if last <= self._acked_up_to:
            return True
        return all(self._confirmed(t) for t in range(first, last + 1))

    def _publish_virtual(self, channel, messages: list[OutgoingMessage]) -> None:
        from kombu import Producer

        producer = Producer(channel)
        for m in messages:
            exchange = self.bus.exchange if m.exchange is None else m.exchange
            producer.publish(
                m.body,
                exchange=exchange,
                routing_key=m.routing_key,
                content_type="application/json",
                content_encoding="utf-8",
                serializer=None,
                headers={**(m.headers or {}), "message_id": m.event_id},
                delivery_mode=2,
                message_id=m.event_id,
            )
