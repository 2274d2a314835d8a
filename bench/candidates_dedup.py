"""Benchmark of the candidates service's duplicate check (C1) and search by name, on the real PostgreSQL.

Generates candidates with a French-looking name distribution (common surnames weighted like the real ones, plus a
long tail of rarer names; first names skewed; birth dates over 1950–2008) straight in SQL (INSERT … SELECT over
generate_series, the keys computed by the service's own functions for each name of the lists), then times the
service's own `find_duplicates` (with a typo, swapped first names or a changed case) and `ranked_search` on
existing people. Goal: p95 ≤ 30 ms. Prints the generation time and a table, then one JSON line.

    .venv/bin/python bench/candidates_dedup.py            # 2,500,000 candidates
    .venv/bin/python bench/candidates_dedup.py --quick    # 200,000 candidates, about a minute
    .venv/bin/python bench/candidates_dedup.py --smoke    # 2,000 candidates, 30 queries: seconds (make test)
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT / "services" / "candidates"))

from sqlalchemy import text, true  # noqa: E402

from ceres_shared.config import BusSettings, Settings  # noqa: E402
from ceres_shared.testing.infra import discover  # noqa: E402
from ceres_candidates.bootstrap import bootstrap  # noqa: E402
from ceres_candidates.domain.names import given_names_key, name_key, phonetic  # noqa: E402
from ceres_candidates.service_layer.duplicates import find_duplicates, ranked_search  # noqa: E402

# The most frequent surnames in France, most frequent first (their weight decreases along the list).
COMMON = """MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL LEFEBVRE LEROY
ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE ROUSSEAU VINCENT MULLER LEFEVRE FAURE
ANDRE MERCIER BLANC GUERIN BOYER GARNIER CHEVALIER FRANCOIS LEGRAND GAUTHIER GARCIA PERRIN ROBIN CLEMENT MORIN
NICOLAS HENRY ROUSSEL MATHIEU GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE LEMAIRE NOEL MEYER DUFOUR MEUNIER
BRUN BLANCHARD GIRAUD JOLY RIVIERE LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ GERARD ROCHE RENARD SCHMITT ROY
LEROUX COLIN VIDAL CARON PICARD ROGER FABRE AUBERT LEMOINE RENAUD DUMAS LACROIX OLIVIER PHILIPPE BOURGEOIS PIERRE
BENOIT REY LECLERC PAYET ROLLAND LECLERCQ GUILLAUME LECOMTE LOPEZ JEAN DUPUY GUILLOT HUBERT BERGER CARPENTIER
SANCHEZ DUPUIS MOULIN LOUIS DESCHAMPS HUET VASSEUR PEREZ BOUCHER FLEURY ROYER KLEIN JACQUET ADAM PARIS POIRIER
MARTY AUBRY GUYOT CARRE CHARLES RENAULT CHARPENTIER MENARD MAILLARD BARON BERTIN BAILLY HERVE SCHNEIDER FERNANDEZ
LE_GALL COLLET LEGER BOUVIER JULIEN PREVOST MILLET PERROT DANIEL LE_ROUX COUSIN GERMAIN BRETON BESSON LANGLOIS
REMY LE_GOFF PELLETIER LEVEQUE PERRIER LEBLANC BARRE LEBRUN MARCHAL WEBER MALLET HAMON BOULANGER JACOB MONNIER
MICHAUD RODRIGUEZ GUICHARD GILLET ETIENNE GRONDIN POULAIN TESSIER CHEVALLIER COLLIN CHAUVIN DA_SILVA BOUCHET GAY
LEMAITRE BENARD MARECHAL HUMBERT REYNAUD ANTOINE HOARAU PERRET BARTHELEMY CORDIER PICHON LEJEUNE GILBERT LAMY
DELAUNAY PASQUIER CARLIER LAPORTE""".replace("_", " ").split()
SYLLABLES = """BA BE BO BOU CA CHA CO DA DE DU FA FE FO GA GE GI GO LA LE LI LO MA ME MI MO NA NE NO PA PE PI PO
RA RE RI RO SA SE SI TA TE TO VA VE VI""".split()
ENDINGS = ["", "T", "N", "L", "RD", "UX", "AU", "Y", "S", "LLE", "RT", "NT"]
FEMALE = """MARIE NATHALIE ISABELLE SYLVIE CATHERINE SANDRINE CHRISTINE VERONIQUE VALERIE STEPHANIE CELINE
CHRISTELLE AURELIE EMILIE JULIE LAURA CAMILLE MANON SARAH PAULINE MARINE LEA CHLOE EMMA INES JADE LOUISE ALICE
ANNE FRANCOISE MONIQUE NICOLE SOPHIE SANDRA AUDREY ELODIE MELANIE CAROLINE CLAIRE LUCIE ZOE""".split()
MALE = """JEAN PIERRE MICHEL ANDRE PHILIPPE ALAIN NICOLAS CHRISTOPHE DAVID STEPHANE FREDERIC LAURENT SEBASTIEN
JULIEN THOMAS KEVIN ANTHONY MAXIME ALEXANDRE QUENTIN LUCAS HUGO LOUIS GABRIEL ARTHUR PAUL HENRI FRANCOIS PATRICK
ERIC OLIVIER THIERRY PASCAL BRUNO YANNICK VINCENT GUILLAUME JEROME MATHIEU ROMAIN""".split()


FIRST_PAGE = 20  # the API's default page: a person is found when on it


def tail_names(count: int, rng: random.Random) -> list[str]:
    names = ["".join(p) for p in itertools.product(SYLLABLES, SYLLABLES, ENDINGS)]
    rng.shuffle(names)
    return names[:count]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def generate(engine, n: int, rng: random.Random) -> None:
    surnames = COMMON + tail_names(min(20_000, n // 10), rng)  # 20,000 rarer names from 200,000 people
    firsts = [(p, "F") for p in FEMALE] + [(p, "M") for p in MALE]
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS _n (i int PRIMARY KEY, nom text, k text, ph text)"))
        conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS _p (i int PRIMARY KEY, p text, g text, k text, ph text)"))
        conn.execute(text("INSERT INTO _n VALUES (:i, :nom, :k, :ph)"),
                     [{"i": i, "nom": s, "k": name_key(s), "ph": phonetic(s)} for i, s in enumerate(surnames)])
        conn.execute(text("INSERT INTO _p VALUES (:i, :p, :g, :k, :ph)"),
                     [{"i": i, "p": p.capitalize(), "g": g, "k": name_key(p), "ph": phonetic(p)}
                      for i, (p, g) in enumerate(firsts)])
        conn.execute(text("SELECT setseed(0.42)"))
        # Common surnames: 40 % of people, the first of the list the most frequent (power law); the rest spread
        # over the tail. First name 1 skewed; a second first name for 40 %, of the same genre.
        conn.execute(text("""
            INSERT INTO candidates (status, genre, nom_naissance, prenoms, birth_date, birth_country_code,
                birth_country_label, birth_commune_code, birth_commune_label, vae, nom_key, prenoms_key, nom_phon,
                dedup_key, created_by, created_at, updated_at, address_departement)
            SELECT 'valide', p1.g, n.nom, CASE WHEN p2.p IS NULL THEN json_build_array(p1.p)
                                          ELSE json_build_array(p1.p, p2.p) END,
                   r.born, '99100', 'FRANCE', lpad(r.dep::text, 2, '0') || '001', 'Commune', false,
                   n.k, CASE WHEN p2.k IS NULL THEN p1.k ELSE p1.k || ' ' || p2.k END, n.ph,
                   n.ph || '|' || CASE WHEN p2.ph IS NULL THEN p1.ph
                                       ELSE least(p1.ph, p2.ph) || ' ' || greatest(p1.ph, p2.ph) END,
                   'bench', now(), now(), lpad(r.dep::text, 2, '0')
            FROM generate_series(1, :n) AS g(i)
            CROSS JOIN LATERAL (
                SELECT CASE WHEN random() < 0.4 THEN floor(power(random(), 2.5) * :nc)::int
                            ELSE :nc + floor(random() * :nt)::int END AS ni,
                       floor(power(random(), 1.7) * :nf)::int AS f1,
                       random() < 0.4 AS has_second, random() AS f2r,
                       date '1950-01-01' + floor(random() * 21550)::int + (g.i * 0) AS born,
                       1 + floor(random() * 95)::int AS dep
            ) AS r
            JOIN _n AS n ON n.i = r.ni
            JOIN _p AS p1 ON p1.i = r.f1
            LEFT JOIN _p AS p2 ON r.has_second AND p2.g = p1.g
                 AND p2.i = (CASE WHEN p1.g = 'F' THEN 0 ELSE :nfem END)
                            + floor(r.f2r * (CASE WHEN p1.g = 'F' THEN :nfem ELSE :nmale END))::int
                 AND p2.i <> p1.i
        """), {"n": n, "nc": len(COMMON), "nt": len(surnames) - len(COMMON), "nf": len(firsts),
               "nfem": len(FEMALE), "nmale": len(MALE)})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE candidates"))


def variant(row, rng: random.Random) -> tuple[str, list[str]]:
    """How a second registration of the same person is typed: case, swapped first names, one letter off."""
    nom, prenoms = row.nom_naissance, list(row.prenoms)
    kind = rng.randrange(3)
    if kind == 0:
        return nom.lower(), prenoms
    if kind == 1:
        return nom, list(reversed(prenoms))
    pos = rng.randrange(len(nom))
    return nom[:pos] + nom[pos] + nom[pos:], prenoms  # a doubled letter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 candidates (about a minute)")
    parser.add_argument("--rows", type=int, help="number of candidates (default 2,500,000)")
    parser.add_argument("--queries", type=int)
    parser.add_argument("--smoke", action="store_true", help="2,000 candidates, 30 queries: seconds (make test)")
    args = parser.parse_args()
    n = args.rows or (2_000 if args.smoke else 200_000 if args.quick else 2_500_000)
    queries = args.queries or (30 if args.smoke else 1000)
    # 1 % of the pages holds enough people from 100,000 on; a small table is read whole.
    sample_percent = 1 if n >= 100_000 else 100
    rng = random.Random(7)
    infra = discover()
    try:
        url = infra.new_database("bench_candidates")
        rt = bootstrap(Settings(service="candidates", database_url=url, bus=BusSettings(url="memory://"),
                                jwks_url=None, log_level="WARNING"))
        rt.upgrade_database()
        started = time.perf_counter()
        generate(rt.engine, n, rng)
        generation_s = time.perf_counter() - started
        with rt.session_factory() as session:
            count = session.scalar(text("SELECT count(*) FROM candidates"))
            sample = session.execute(text(
                "SELECT id, nom_naissance, prenoms, birth_date, birth_country_code, birth_commune_code "
                "FROM candidates TABLESAMPLE SYSTEM (:pct) LIMIT :q"), {"pct": sample_percent, "q": queries}).all()
            dedup_ms, search_ms, found_dup, found_search = [], [], 0, 0
            for row in sample[:50]:  # warm the caches as a running service would be
                find_duplicates(session, nom_naissance=row.nom_naissance, nom_usage=None, prenoms=list(row.prenoms),
                                birth_date=row.birth_date)
            for row in sample:
                nom, prenoms = variant(row, rng)
                t0 = time.perf_counter()
                matches = find_duplicates(session, nom_naissance=nom, nom_usage=None, prenoms=prenoms,
                                          birth_date=row.birth_date, birth_country_code=row.birth_country_code,
                                          birth_commune_code=row.birth_commune_code)
                dedup_ms.append((time.perf_counter() - t0) * 1000)
                found_dup += any(m.row.id == row.id for m in matches)
                query = f"{row.nom_naissance} {row.prenoms[0]}" if rng.random() < 0.5 else \
                    f"{row.prenoms[0]} {row.nom_naissance.lower()}"
                t0 = time.perf_counter()
                results, _ = ranked_search(session, query, visible_clause=true(), birth_date=None)
                search_ms.append((time.perf_counter() - t0) * 1000)
                found_search += any(m.row.id == row.id for m in results[:FIRST_PAGE])
        rt.engine.dispose()
    finally:
        infra.drop_databases()
        infra.close()

    figures = {
        "rows": count, "generation_s": round(generation_s, 1), "queries": len(sample),
        "dedup_p50_ms": round(statistics.median(dedup_ms), 2), "dedup_p95_ms": round(pct(dedup_ms, 0.95), 2),
        "search_p50_ms": round(statistics.median(search_ms), 2), "search_p95_ms": round(pct(search_ms, 0.95), 2),
        "dedup_recall": round(found_dup / len(sample), 3), "search_recall": round(found_search / len(sample), 3),
    }
    figures["p95_ms"] = max(figures["dedup_p95_ms"], figures["search_p95_ms"])
    print(f"generated {count:,} candidates in {generation_s:.1f} s")
    print(f"{'operation':<22}{'p50 ms':>10}{'p95 ms':>10}{'found':>10}")
    print(f"{'duplicate check':<22}{figures['dedup_p50_ms']:>10}{figures['dedup_p95_ms']:>10}"
          f"{figures['dedup_recall']:>10.1%}")
    print(f"{'search by name':<22}{figures['search_p50_ms']:>10}{figures['search_p95_ms']:>10}"
          f"{figures['search_recall']:>10.1%}")
    print(f"goal p95 <= 30 ms: {'met' if figures['p95_ms'] <= 30 else 'NOT met'}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
