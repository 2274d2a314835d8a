"""CERES shared plumbing: event contracts, the bus (outbox/inbox), web and auth helpers."""
