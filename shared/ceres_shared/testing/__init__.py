"""Test support: real PostgreSQL and RabbitMQ for every test run (env URLs, testcontainers, or local servers)."""
