"""CERES — Identité: Comptes, codes d'activation, invitations, jetons (règles I1 à I4)."""
