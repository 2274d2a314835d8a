"""CERES — Candidats: Dossiers candidats, doublons, parcours de certification (règles C1 à C5)."""
