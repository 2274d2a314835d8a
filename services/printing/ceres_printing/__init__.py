"""CERES — Impression: Parchemins, demandes d'impression, lots Afpa (règles P1 à P10)."""
