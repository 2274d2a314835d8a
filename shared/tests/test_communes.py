"""The communes referential (rule C3): Etalab's current communes fetched with npm, INSEE's history imported from
its published file, lookups by code (now or on a date), postcode and name."""
from __future__ import annotations

import io
import json
import shutil
import tarfile
from datetime import date
from pathlib import Path

import pytest

from ceres_shared.communes import (
    CommunesBuildError,
    CommunesMissingError,
    Referential,
    build,
    departement_of,
    import_insee,
    normalise,
    zone_of,
)
from ceres_shared.communes.__main__ import main as cli

INSEE_EXCERPT = Path(__file__).parent / "fixtures" / "insee_v_commune_depuis_1943.excerpt.csv"


@pytest.fixture(scope="module")
def etalab_dir() -> Path:
    # The real package from the npm registry, built once into var/communes and reused by later runs.
    return build().parent


@pytest.fixture(scope="module")
def ref(etalab_dir, tmp_path_factory) -> Referential:
    folder = tmp_path_factory.mktemp("communes")
    shutil.copy(etalab_dir / "etalab.json", folder / "etalab.json")
    assert cli(["import-insee", str(INSEE_EXCERPT), "--dest", str(folder)]) == 0
    return Referential.from_files(folder)


def test_c3_commune_that_no_longer_exists_is_known_with_its_dates(ref):
    arbignieu = ref.get("01015", on=date(2010, 6, 1))
    assert (arbignieu.name, arbignieu.type) == ("Arbignieu", "COM")
    assert arbignieu.valid_until == date(2016, 1, 1)
    assert (arbignieu.departement, arbignieu.region, arbignieu.zone) == ("01", "84", "metro")
    assert arbignieu.postcodes == ("01300",)  # from the commune that took its code
    now = ref.get("01015")
    assert (now.name, now.type, now.valid_from) == ("Arboys en Bugey", "COM", date(2016, 1, 1))


def test_c3_renamed_commune_on_each_date(ref):
    assert ref.get("01033", on=date(1950, 1, 1)).name == "Bellegarde"
    period = ref.get("01033", on=date(1990, 1, 1))
    assert period.name == "Bellegarde-sur-Valserine"
    assert (period.valid_from, period.valid_until) == (date(1956, 10, 19), date(2019, 1, 1))
    assert ref.get("01033", on=date(2019, 1, 1)).name == "Valserhône"  # the end date is exclusive
    assert ref.get("01033").name == "Valserhône"


def test_c3_merged_commune_and_its_commune_deleguee(ref):
    assert ref.get("01039", on=date(2020, 1, 1)).type == "COM"
    now = ref.get("01039")  # Béon lives on as a commune déléguée of Culoz-Béon
    assert (now.name, now.type, now.postcodes) == ("Béon", "COMD", ("01350",))
    assert ref.get("01003") is None  # Amareins, abolished in 1974
    assert ref.get("01003", on=date(1960, 1, 1)).name == "Amareins"
    assert ref.get("01003", on=date(1940, 1, 1)) is None  # before the file begins
    assert ref.get("01015", on=date(2016, 1, 1)).type == "COM"
    assert ref.search("arbignieu", on=date(2010, 1, 1))[0].valid_until == date(2016, 1, 1)
    assert ref.search("arbignieu")[0].valid_from == date(2016, 1, 1)  # déléguée since the merger


def test_c3_search_by_name_on_a_date(ref):
    assert ref.search("amareins") == []
    assert [c.code for c in ref.search("Amareins", on=date(1960, 1, 1))] == ["01003"]
    in_2000 = ref.search("bellegarde sur valserine", on=date(2000, 1, 1))
    assert in_2000[0].code == "01033" and in_2000[0].type == "COM"
    assert "01039" in [c.code for c in ref.search("BEON", on=date(2020, 1, 1)) if c.type == "COM"]


@pytest.mark.parametrize("text", ["saint-etienne", "ST ETIENNE", "Saint Étienne", "st-étienne"])
def test_search_ignores_accents_case_and_hyphens(ref, text):
    first = ref.search(text, limit=5)[0]
    assert (first.code, first.name) == ("42218", "Saint-Étienne")


def test_search_by_postcode_and_code(ref):
    assert [c.name for c in ref.search("97400")] == ["Saint-Denis"]
    both = ref.search("01200")  # a commune code and a postcode: the code first
    assert both[0].code == "01200" and "Valserhône" in [c.name for c in both]
    assert ref.search("2A004")[0].name == "Ajaccio"
    assert all(any(cp.startswith("974") for cp in c.postcodes) for c in ref.search("974", limit=50))
    assert len(ref.search("evry", limit=3)) == 3
    assert ref.search("") == [] and ref.search("zzzzqq") == []


def test_postcodes_arrondissements_and_deleguees(ref):
    paris = {(c.code, c.type) for c in ref.by_postcode("75001")}
    assert {("75056", "COM"), ("75101", "ARM")} <= paris
    assert ref.get("75101").departement == "75"
    assert "01039" in {c.code for c in ref.by_postcode("01350")}
    assert ref.by_postcode("00000") == []


@pytest.mark.parametrize(
    "code, departement, region, zone",
    [
        ("97411", "974", "04", "drom"),  # Saint-Denis, La Réunion
        ("97611", "976", "06", "drom"),  # Mamoudzou, Mayotte
        ("97105", "971", "01", "drom"),
        ("97502", "975", "975", "com"),  # Saint-Pierre-et-Miquelon
        ("98735", "987", "987", "com"),  # Papeete
        ("2A004", "2A", "94", "metro"),
        ("69123", "69", "84", "metro"),
    ],
)
def test_departement_region_zone_of_a_commune(ref, code, departement, region, zone):
    commune = ref.get(code)
    assert (commune.departement, commune.region, commune.zone) == (departement, region, zone)
    assert departement_of(code) == departement and zone_of(departement) == zone
    assert ref.departement_name(departement)


def test_normalise():
    assert normalise("L'Abergement-Clémenciat") == "l abergement clemenciat"
    assert normalise("  STE-FOY   lès-Lyon ") == "sainte foy les lyon"
    assert normalise("Œuvre") == "oeuvre"


def test_import_refuses_a_file_that_is_not_insee_s(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("COM,LIBELLE\n01001,X\n", encoding="utf-8")
    with pytest.raises(CommunesBuildError, match="colonnes absentes"):
        import_insee(bad, tmp_path)
    header = INSEE_EXCERPT.read_text(encoding="utf-8").splitlines()[0]
    bad.write_text(header + '\n"COM","01001","5","X","X","X","1943-13-01",""\n', encoding="utf-8")
    with pytest.raises(CommunesBuildError, match="ligne 2 : DATE_DEBUT"):
        import_insee(bad, tmp_path)
    assert not (tmp_path / "insee.json").exists()  # nothing half-imported
    assert cli(["import-insee", str(bad), "--dest", str(tmp_path)]) == 1


def test_build_from_a_package_tarball_inherits_postcodes(tmp_path):
    data = {
        "communes": [
            {"code": "01138", "nom": "Culoz-Béon", "type": "commune-actuelle", "departement": "01", "region": "84",
             "zone": "metro", "codesPostaux": ["01350"], "population": 3453},
            {"code": "01039", "nom": "Béon", "type": "commune-deleguee", "chefLieu": "01138", "departement": "01",
             "region": "84", "zone": "metro"},
        ],
        "departements": [{"code": "01", "region": "84", "nom": "Ain", "zone": "metro"}],
        "regions": [{"code": "84", "nom": "Auvergne-Rhône-Alpes", "zone": "metro"}],
    }
    tarball = tmp_path / "pkg.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name, content in data.items():
            raw = json.dumps(content).encode()
            info = tarfile.TarInfo(f"package/data/{name}.json")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    build(tmp_path / "out", tarball=tarball)
    ref = Referential.from_files(tmp_path / "out")
    assert ref.get("01039").postcodes == ("01350",)
    assert ref.region_name("84") == "Auvergne-Rhône-Alpes" and len(ref) == 2


def test_load_is_cached_and_refreshed_after_an_import(etalab_dir, tmp_path):
    with pytest.raises(CommunesMissingError, match="python -m ceres_shared.communes build"):
        Referential.load(tmp_path)
    shutil.copy(etalab_dir / "etalab.json", tmp_path / "etalab.json")
    first = Referential.load(tmp_path)
    assert Referential.load(tmp_path) is first
    assert first.get("01003", on=date(1960, 1, 1)) is None
    import_insee(INSEE_EXCERPT, tmp_path)
    again = Referential.load(tmp_path)
    assert again is not first and again.get("01003", on=date(1960, 1, 1)).name == "Amareins"
