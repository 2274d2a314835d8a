"""GET /communes over HTTP: the communes referential (C3) by name or INSEE code, as it is now or as it was on a
date — a commune since merged or renamed is found under its name of the time (people were born in it); for the
platform's users only, a few at a time."""
from __future__ import annotations


def communes(client, headers, **params):
    answer = client.get("/communes", query_string=params, headers=headers)
    assert answer.status_code == 200, answer.json
    return [(c["code"], c["name"]) for c in answer.json["communes"]], answer.json["communes"]


def test_c3_communes_now_and_on_a_date(client, tokens):
    found, full = communes(client, tokens["centre"], q="bourg en bresse")
    assert found[0] == ("01053", "Bourg-en-Bresse")
    assert (full[0]["departement"], full[0]["current"], full[0]["valid_until"]) == ("01", True, None)
    # before 31 March 1955 the commune was « Bourg »: a birth of 1950 finds it under that name
    assert communes(client, tokens["centre"], q="bourg", on="1950-06-01")[0][0] == ("01053", "Bourg")
    assert ("01053", "Bourg") not in communes(client, tokens["centre"], q="bourg")[0]
    # merged into Valserhône in 2019: found on a date before, not today
    then, _ = communes(client, tokens["ud01"], q="Bellegarde-sur-Valserine", on="1990-05-05")
    assert then == [("01033", "Bellegarde-sur-Valserine")]
    assert communes(client, tokens["ud01"], q="bellegarde sur valserine")[0] == []
    assert communes(client, tokens["ud01"], q="01033")[0] == [("01033", "Valserhône")]  # by its INSEE code


def test_c3_communes_limited_and_checked(client, tokens):
    assert len(communes(client, tokens["dgefp"], q="sur")[0]) >= 3  # Ars-sur-Formans, Valromey-sur-Séran, …
    assert len(communes(client, tokens["dgefp"], q="sur", limit=2)[0]) == 2
    short = client.get("/communes", query_string={"q": "b"}, headers=tokens["centre"])
    assert short.status_code == 422 and short.json["errors"]["q"] == ["Entre 2 et 100 caractères."]
    too_many = client.get("/communes", query_string={"q": "bourg", "limit": 51}, headers=tokens["centre"])
    assert too_many.status_code == 422 and too_many.json["errors"]["limit"] == ["Entre 1 et 50."]
    assert client.get("/communes", query_string={"q": "bourg"}).status_code == 401
    assert client.get("/communes", query_string={"q": "bourg"}, headers=tokens["afpa"]).status_code == 403
