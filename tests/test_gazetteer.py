"""The offline gazetteer on real PRNG names from data/gazetteer (fetched from the mirror before tests).

Homonyms are the norm in the region: a locality is placed only when the stated gmina / powiat single it
out, otherwise it is reported as ambiguous with its candidates.
"""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoes.config import Settings
from geoes.sources.gazetteer import LABEL_GMINA_POINT, LABEL_POWIAT, Gazetteer
from geoes.register.geocode import check_stated_units

SETTINGS: Settings   # the mirror fetched into a temp dir (conftest's fetched_settings)


@pytest.fixture(scope="module")
def gaz(fetched_settings) -> Gazetteer:
    global SETTINGS
    SETTINGS = fetched_settings
    return Gazetteer.load(SETTINGS)


def locate(gaz, *rows):
    frame = pd.DataFrame([{"locality": r[0], "gmina_teryt": r[1] if len(r) > 1 else "",
                           "powiat_teryt": r[2] if len(r) > 2 else ""} for r in rows])
    return gaz.locate(frame)


def test_real_homonyms_exist_in_the_gazetteer(gaz):
    counts = gaz.localities["name"].value_counts()
    assert counts["Brzeziny"] >= 2 and counts["Ostrów"] >= 4 and counts["Dąbrowa"] >= 4
    assert counts["Mieronice"] == 2 and counts["Jędrzejów"] == 2


def test_homonym_resolved_by_stated_gmina(gaz):
    out = locate(gaz, ("Brzeziny", "2612083"), ("Ostrów", "2613022"))
    assert out["status"].tolist() == ["placed", "placed"]
    assert out["precision"].tolist() == ["locality", "locality"]
    assert (out.loc[0, "lat"], out.loc[0, "lon"]) == (50.6156, 20.9628)     # Brzeziny, gm. Szydłów
    assert (out.loc[1, "lat"], out.loc[1, "lon"]) == (50.8553, 20.0883)     # Ostrów, gm. Krasocin
    assert out.loc[0, "geocoder"] == "gazetteer:PRNG 2021"


def test_homonym_resolved_by_stated_powiat(gaz):
    out = locate(gaz, ("Brzeziny", "", "2604"), ("Ostrów", "", "2606"), ("Dąbrowa", "", "2611"))
    assert out["status"].tolist() == ["placed"] * 3
    assert "2604123" in out.loc[0, "matched"] and "2606072" in out.loc[1, "matched"]
    assert "2611042" in out.loc[2, "matched"]


def test_homonym_without_area_is_ambiguous_with_candidates(gaz):
    out = locate(gaz, ("Brzeziny",), ("Ostrów",))
    assert out["status"].tolist() == ["ambiguous"] * 2
    assert out["lat"].isna().all() and out["precision"].eq("").all()
    assert out.loc[0, "candidates"] == ("Brzeziny (wieś, gm. Morawica 2604123); "
                                        "Brzeziny (wieś, gm. Szydłów 2612083)")
    assert out.loc[1, "candidates"].count("Ostrów (wieś") == 4


def test_homonym_lying_in_one_powiat_is_placed_to_that_powiat_without_a_point(gaz):
    # Both villages called Mieronice lie in powiat jędrzejowski; both Belno in powiat kielecki.
    out = locate(gaz, ("Mieronice",), ("Belno", "", "2604"), ("Mieronice", "", "2602"))
    assert out["status"].tolist() == ["placed"] * 3
    assert out["precision"].tolist() == ["powiat"] * 3
    assert out["powiat"].tolist() == ["2602", "2604", "2602"]
    assert out["lat"].isna().all() and out["lon"].isna().all()
    assert out.loc[0, "geocoder"] == LABEL_POWIAT
    assert "Mieronice (wieś, gm. Małogoszcz 2602033)" in out.loc[0, "candidates"]
    assert "gm. Bieliny 2604012" in out.loc[1, "note"] and "gm. Zagnańsk 2604192" in out.loc[1, "note"]


def test_a_bare_town_name_means_the_town(gaz):
    out = locate(gaz, ("Jędrzejów",), ("Jędrzejów", "", "2607"), ("Klimontów",))
    assert out.loc[0, "status"] == "placed" and "(miasto, gm. Jędrzejów 2602023)" in out.loc[0, "matched"]
    assert out.loc[0, "geocoder"] == "gazetteer:PRNG 2021 (miasto)"
    assert "Bodzechów" in out.loc[0, "note"]               # the other candidate is named
    assert "(wieś, gm. Bodzechów 2607032)" in out.loc[1, "matched"]   # the powiat picks the village
    assert out.loc[2, "status"] == "placed" and "miasto" in out.loc[2, "matched"]


def test_without_polish_letters(gaz):
    out = locate(gaz, ("Jedrzejow",), ("Skarzysko-Kamienna",), ("m. Kielce",))
    assert out["status"].tolist() == ["placed"] * 3
    assert "2602023" in out.loc[0, "matched"] and "2610011" in out.loc[1, "matched"]
    assert "2661011" in out.loc[2, "matched"]


def test_gmina_only_row_goes_to_the_inside_point(gaz):
    gminy = gpd.read_file(SETTINGS.gminy_path).set_index("teryt")
    out = locate(gaz, ("", "2609052"), ("", "2601063"))   # Łoniów; Stopnica (a MultiPolygon with an exclave)
    assert out["status"].tolist() == ["placed", "placed"]
    assert out["precision"].tolist() == ["gmina", "gmina"]
    assert out["geocoder"].tolist() == [LABEL_GMINA_POINT] * 2
    for i, teryt in enumerate(("2609052", "2601063")):
        assert gminy.loc[teryt].geometry.contains(shapely.Point(out.loc[i, "lon"], out.loc[i, "lat"]))


def test_locality_missing_from_prng_with_a_stated_gmina_falls_back_to_the_gmina(gaz):
    out = locate(gaz, ("Zgórsko", "2604172"), ("Zgórsko", "", "2604"), ("Zgórsko",))
    assert out.loc[0, ["status", "precision"]].tolist() == ["placed", "gmina"]
    assert "nie ma w PRNG" in out.loc[0, "note"]
    # Not in PRNG, but the source names the powiat: the powiat is what is known.
    assert out.loc[1, ["status", "precision", "powiat"]].tolist() == ["placed", "powiat", "2604"]
    assert "Zgórsko" in out.loc[1, "note"] and pd.isna(out.loc[1, "lat"])
    assert out.loc[2, "status"] == "not_found" and "Zgórsko" in out.loc[2, "reason"]


def test_locality_outside_the_stated_area(gaz):
    # Szczaworyż lies in gm. Busko-Zdrój: with another gmina stated, only the gmina is certain
    out = locate(gaz, ("Szczaworyż", "2604172"), ("Szczaworyż", "", "2604"))
    assert out.loc[0, ["status", "precision"]].tolist() == ["placed", "gmina"]
    assert "nie leży w podanej gminie" in out.loc[0, "note"] and "2601013" in out.loc[0, "note"]
    assert out.loc[1, "status"] == "not_found" and "2601013" in out.loc[1, "candidates"]


def test_compound_name_whose_parts_share_one_gmina(gaz):
    out = locate(gaz, ("Kałków-Godów",))
    assert out.loc[0, ["status", "precision", "geocoder"]].tolist() == ["placed", "gmina", LABEL_GMINA_POINT]
    assert "gm. Pawłów 2611042" in out.loc[0, "matched"]


def test_rows_without_a_place(gaz):
    out = locate(gaz, ("", "", "2605"), ("", "", ""), ("", "2699999"), ("", "", "2699"))
    assert out["status"].tolist() == ["placed", "no_location", "not_found", "not_found"]
    assert out.loc[0, ["precision", "powiat"]].tolist() == ["powiat", "2605"] and "tylko powiat" in out.loc[0, "note"]
    assert "nieznany kod TERYT gminy 2699999" in out.loc[2, "reason"]
    assert "nieznany kod TERYT powiatu 2699" in out.loc[3, "reason"]


def test_index_is_kept(gaz):
    frame = pd.DataFrame({"locality": ["Kielce", "Brzeziny"], "gmina_teryt": ["", ""], "powiat_teryt": ["", ""]},
                         index=[10, 3])
    out = gaz.locate(frame)
    assert list(out.index) == [10, 3]
    assert out.loc[10, "status"] == "placed" and out.loc[3, "status"] == "ambiguous"


def test_every_prng_locality_lies_in_its_gmina(gaz):
    """The whole gazetteer through the vectorised check used after geocoding."""
    loc = gaz.localities
    frame = pd.DataFrame({"row": range(2, len(loc) + 2), "id": loc["name"], "name": loc["name"],
                          "gmina_teryt": loc["gmina_teryt"], "powiat_teryt": "",
                          "lat": loc["lat"].map("{:.6f}".format), "lon": loc["lon"].map("{:.6f}".format)})
    outside = check_stated_units(frame, SETTINGS)
    assert len(frame) == 2304
    assert outside.empty, outside.head().to_string()


@pytest.mark.parametrize("name,powiat,expected", [
    ("Szydłów", "", "2612083"), ("Gmina Szydłów", "", "2612083"), ("gm. Szydlow", "", "2612083"),
    ("Miasto i Gmina Busko-Zdrój", "", "2601013"), ("Kielce", "", "2661011"), ("2602023", "", "2602023"),
])
def test_resolve_gmina(gaz, name, powiat, expected):
    assert gaz.resolve_gmina(name, powiat) == (expected, "")


def test_resolve_gmina_unknown(gaz):
    code, why = gaz.resolve_gmina("Nibylandia")
    assert code == "" and "Nibylandia" in why
    assert gaz.resolve_gmina("2699999")[0] == ""


@pytest.mark.parametrize("name,expected", [
    ("jędrzejowski", "2602"), ("Powiat jędrzejowski", "2602"), ("pow. jedrzejowski", "2602"),
    ("m. Kielce", "2661"), ("Kielce", "2661"), ("2613", "2613"),
])
def test_resolve_powiat(gaz, name, expected):
    assert gaz.resolve_powiat(name) == (expected, "")
