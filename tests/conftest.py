"""Cross-service tests use the `ceres` pytest plugin's fixtures: infra, amqp_url, new_database, issuer,
make_runtime (see shared/ceres_shared/testing/plugin.py)."""
