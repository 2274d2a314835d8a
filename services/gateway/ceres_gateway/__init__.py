"""CERES gateway: one entry for the internal frontends; routes /api/<service>/… to each service."""
