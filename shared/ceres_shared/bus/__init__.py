"""The event bus: topology, publisher with confirms, outbox relay, idempotent consumer, dead letters."""
