"""Names and declarations of the exchange and of each service's queues.

One durable topic exchange carries every event (routing key = event type). Each service has a main queue bound to
the event types it handles, a retry queue whose expired messages dead-letter back into the main queue, and a
dead-letter queue that keeps what failed for good.
"""
from __future__ import annotations

from dataclasses import dataclass

from kombu import Connection, Exchange, Queue

from ..config import BusSettings, embedded_bus_options


def connect(bus: BusSettings, **kwargs) -> Connection:
    options = {} if bus.is_amqp else embedded_bus_options()
    options.update(kwargs.pop("transport_options", {}))
    if not bus.is_amqp:
        from .fs_transport import Transport

        kwargs.setdefault("transport", Transport)
    elif bus.url.startswith(("amqp://", "pyamqp://")):
        from .amqp_transport import KombuTransport

        kwargs.setdefault("transport", KombuTransport)
    return Connection(bus.url, transport_options=options, heartbeat=kwargs.pop("heartbeat", 0), **kwargs)


@dataclass(frozen=True)
class ServiceQueues:
    bus: BusSettings
    service: str
    routing_keys: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return self.bus.exchange.rsplit(".", 1)[0] if "." in self.bus.exchange else self.bus.exchange

    @property
    def main(self) -> str:
        return f"{self.prefix}.{self.service}"

    @property
    def retry(self) -> str:
        return f"{self.prefix}.{self.service}.retry"

    @property
    def dead(self) -> str:
        return f"{self.prefix}.{self.service}.dead"

    def exchange(self) -> Exchange:
        return events_exchange(self.bus)

    def _args(self) -> dict:
        return {"x-queue-type": self.bus.queue_type} if self.bus.is_amqp else {}

    def queues(self) -> list[Queue]:
        exchange = self.exchange()
        main = Queue(
            self.main,
            exchange=exchange,
            bindings=None,
            durable=True,
            queue_arguments=self._args(),
            no_declare=False,
        )
        retry_args = dict(self._args())
        if self.bus.is_amqp:
            # Expired retries go back to the main queue through the default exchange.
            retry_args.update({"x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.main})
        retry = Queue(self.retry, exchange=Exchange("", type="direct"), routing_key=self.retry, durable=True,
                      queue_arguments=retry_args)
        dead = Queue(self.dead, exchange=Exchange("", type="direct"), routing_key=self.dead, durable=True,
                     queue_arguments=self._args())
        return [main, retry, dead]

    def declare(self, channel) -> None:
        exchange = self.exchange()
        exchange.declare(channel=channel)
        main, retry, dead = self.queues()
        main.maybe_bind(channel)
        main.declare()
        for key in self.routing_keys:
            main.bind_to(exchange=exchange, routing_key=key)
        retry.maybe_bind(channel)
        retry.declare()
        dead.maybe_bind(channel)
        dead.declare()


def events_exchange(bus: BusSettings) -> Exchange:
    return Exchange(bus.exchange, type="topic", durable=True)


def declare_exchange(bus: BusSettings, channel) -> None:
    events_exchange(bus).declare(channel=channel)
