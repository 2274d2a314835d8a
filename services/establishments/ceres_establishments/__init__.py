"""CERES — Établissements: Centres agréés, sites, agréments, recherche (règles E1 à E7)."""
