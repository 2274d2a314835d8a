"""Name search over HTTP, page after page: `limit` (at most 100) and `offset`, the answer telling `has_more` and
`total`; the pages of one search follow each other without gap or repeat, within the agent's scope (I4)."""
from __future__ import annotations

import pytest

PRENOMS = ["Adèle", "Basile", "Céleste", "Denis", "Elsa", "Fabien", "Gaëlle"]


@pytest.fixture(scope="module")
def pagines(client, tokens, h):
    ids = []
    for day, prenom in enumerate(PRENOMS, start=1):
        created = client.post("/candidates", json=h.person("Paginé", [prenom], f"1990-01-{day:02d}"),
                              headers=tokens["ud01"])
        assert created.status_code == 201, created.json
        ids.append(created.json["id"])
    return ids


def found(client, headers, **params):
    answer = client.get("/candidates", query_string={"q": "pagine", **params}, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_search_pages_follow_each_other(client, tokens, pagines):
    pages, offset = [], 0
    while True:
        page = found(client, tokens["ud01"], limit=3, offset=offset)
        assert (page["offset"], page["limit"], page["total"], page["capped"]) == (offset, 3, 7, False)
        pages.append([r["id"] for r in page["results"]])
        if not page["has_more"]:
            break
        offset += 3
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sorted(i for p in pages for i in p) == sorted(pagines)  # no gap, no repeat
    whole = found(client, tokens["ud01"])  # no offset: the first 20, as before
    assert [r["id"] for r in whole["results"]] == [i for p in pages for i in p] and whole["has_more"] is False
    assert found(client, tokens["ud01"], offset=7)["results"] == []
    assert found(client, tokens["ud69"], limit=3)["results"] == []  # another département's people (I4)


def test_search_page_bounds(client, tokens, pagines):
    for params, message in (({"limit": 101}, "Entre 1 et 100."), ({"offset": -1}, "Entre 0 et 199.")):
        answer = client.get("/candidates", query_string={"q": "pagine", **params}, headers=tokens["ud01"])
        assert answer.status_code == 422 and message in str(answer.json), answer.json
