"""CERES — Sessions: Catalogue des titres, sessions d'examen, jurys, résultats (règles S1 à S10)."""
