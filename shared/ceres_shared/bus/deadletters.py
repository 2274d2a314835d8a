"""Browse, show and replay a service's dead-letter queue (the `dead-letters` CLI).

Browsing takes messages without acknowledging them and closes the channel, which puts them back.
Replaying sends the chosen messages to the service's main queue with a fresh attempt count, then acks them.
"""
from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass

from .publisher import OutgoingMessage, Publisher
from .topology import ServiceQueues, connect


@dataclass
class DeadLetter:
    event_id: str
    event_type: str
    error: str
    failed_at: str
    attempts: int
    body: str

    def as_dict(self) -> dict:
        data = asdict(self)
        try:
            data["body"] = json.loads(self.body)
        except ValueError:
            pass
        return data


def _queues(rt) -> ServiceQueues:
    return ServiceQueues(rt.settings.bus, rt.service, tuple(rt.subscriptions.get(rt.service, ())))


def _take_all(rt, limit: int):
    """Yields (message, DeadLetter) until the queue is empty or limit reached; caller closes the connection."""
    queues = _queues(rt)
    conn = connect(rt.settings.bus)
    channel = conn.channel()
    queues.declare(channel)
    dead = queues.queues()[2](channel)
    taken = []
    while len(taken) < limit:
        message = dead.get(no_ack=False, accept=None)
        if message is None:
            break
        taken.append((message, _describe(message)))
    return conn, taken


def _describe(message) -> DeadLetter:
    headers = message.headers or {}
    body = message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else str(message.body)
    event_type = headers.get("x-ceres-routing-key") or ""
    try:
        event_type = json.loads(body).get("type", event_type)
    except (ValueError, AttributeError):
        pass
    return DeadLetter(
        event_id=str((message.properties or {}).get("message_id") or headers.get("message_id") or ""),
        event_type=str(event_type),
        error=str(headers.get("x-ceres-error", "")),
        failed_at=str(headers.get("x-ceres-failed-at", "")),
        attempts=int(headers.get("x-ceres-attempt", 1) or 1),
        body=body,
    )


def browse(rt, limit: int = 100) -> list[DeadLetter]:
    conn, taken = _take_all(rt, limit)
    conn.release()  # unacked messages return to the queue
    return [item for _, item in taken]


def find(rt, event_id: str) -> DeadLetter | None:
    return next((item for item in browse(rt, limit=100_000) if item.event_id == event_id), None)


def replay(rt, event_ids: set[str] | None) -> int:
    """Send dead letters back to the main queue (all of them when event_ids is None)."""
    queues = _queues(rt)
    conn, taken = _take_all(rt, limit=100_000)
    publisher = Publisher(rt.settings.bus, rt.subscriptions)
    replayed = 0
    try:
        for message, item in taken:
            if event_ids is not None and item.event_id not in event_ids:
                continue
            publisher.publish([OutgoingMessage(item.event_id, queues.main, item.body, {}, exchange="")])
            message.ack()
            replayed += 1
        # acks are asynchronous frames: make sure they left before the connection closes
        try:
            conn.drain_events(timeout=0.2)
        except socket.timeout:
            pass
    finally:
        publisher.close()
        conn.release()
    return replayed
