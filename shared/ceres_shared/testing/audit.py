"""Test helper: the scope refusals a service lists for the national administration (GET /refus-de-perimetre)."""
from __future__ import annotations


def scope_refusals(client, headers: dict, **query) -> tuple[int, list[dict]]:
    """(X-Total-Count, the page) of the service's refusals, filtered like the endpoint (auteur=, du=, au=...)."""
    answer = client.get("/refus-de-perimetre", query_string=query, headers=headers)
    assert answer.status_code == 200, answer.json
    return int(answer.headers["X-Total-Count"]), answer.json
