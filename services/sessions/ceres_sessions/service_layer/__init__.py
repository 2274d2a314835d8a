"""Use cases of the sessions service: each takes a Session and a Principal, checks, changes rows, and records the
audit entry and the outbox events in the same transaction."""
