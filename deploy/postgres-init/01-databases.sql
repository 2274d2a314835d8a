-- CERES - development database server (Docker Compose, optional k8s postgres-dev).
-- Run once by the postgres image on an empty data directory: one database per
-- service, all owned by the application role "ceres".
-- The password is a development placeholder; production uses managed PostgreSQL.

CREATE ROLE ceres WITH LOGIN PASSWORD 'ceres';

CREATE DATABASE ceres_establishments OWNER ceres;
CREATE DATABASE ceres_sessions OWNER ceres;
CREATE DATABASE ceres_candidates OWNER ceres;
CREATE DATABASE ceres_printing OWNER ceres;
CREATE DATABASE ceres_identity OWNER ceres;

-- Only the owner may connect: nothing else on this server should read service data.
REVOKE CONNECT, TEMPORARY ON DATABASE ceres_establishments FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE ceres_sessions FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE ceres_candidates FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE ceres_printing FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE ceres_identity FROM PUBLIC;
