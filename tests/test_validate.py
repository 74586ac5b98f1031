"""Validation names the row, column and reason; a bad optional value costs that value, never the entity."""
import pandas as pd
import pytest

from geoes.register.record import read_table
from geoes.register.validate import Validation, validate_frame
from geoes.sources.territory import load_territory

HEADER = "id;name;types;lat;lon;gmina_teryt;nip;regon;krs;postal_code;employees;status;website;email;phone;sources\r\n"


@pytest.fixture(scope="module")
def units(fetched_settings):
    return load_territory(fetched_settings)


def _validate(tmp_path, body, units=None) -> Validation:
    path = tmp_path / "podmioty.csv"
    path.write_bytes((HEADER + body).encode("cp1250"))
    return validate_frame(read_table(path), units=units, source_name=str(path))


def _reasons(table, row):
    return dict(zip(table.loc[table["row"] == row, "column"], table.loc[table["row"] == row, "reason"]))


def test_valid_rows_typed_and_normalised(tmp_path, units):
    valid, rejects = checked = _validate(tmp_path, (
        "a;Spółdzielnia A;spoldzielnia_socjalna;50,638;20,304;2602023;657-038-94-52;290505494;198087;28300;5;aktywny;"
        "https://a.pl;Biuro@A.pl;41 386 00 00;https://a.pl/o-nas\r\n"), units)
    assert rejects.empty and checked.warnings.empty, (rejects.to_dict("records"), checked.warnings.to_dict("records"))
    row = valid.iloc[0]
    assert row["lat"] == pytest.approx(50.638) and row["lon"] == pytest.approx(20.304)
    assert row["nip"] == "6570389452" and row["krs"] == "0000198087"
    assert row["postal_code"] == "28-300" and row["status"] == "active" and row["employees"] == 5
    assert row["email"] == "biuro@a.pl" and row["phone"] == "+48 41 386 00 00"


def test_website_without_scheme_is_repaired_not_rejected(tmp_path, units):
    # Polish registers write websites as www.… — validate used to reject the whole entity for it.
    valid, rejects = checked = _validate(tmp_path, "b;WTZ w Busku;wtz;;;;;;;;;;www.wtz-busko.pl;;;\r\n", units)
    assert rejects.empty and checked.warnings.empty
    assert valid.loc[0, "website"] == "https://www.wtz-busko.pl"


def test_bad_optional_values_are_dropped_with_a_warning(tmp_path, units):
    body = (
        "ok;Dobry;wtz;;;;;;;;;;;;;\r\n"                                             # row 2
        "f;Zły NIP;wtz;;;;1234567890;;;;;;;;;\r\n"                                   # row 3
        "g;Zły REGON i KRS;wtz;;;;;123456789;12345678901;;;;;;;\r\n"                 # row 4
        "h;Zły kod;wtz;;;;;;;28-3OO;;;;;;\r\n"                                       # row 5
        "i;Nieznana gmina;wtz;;;2699999;;;;;;;;;;\r\n"                               # row 6
        "j;Złe wartości;wtz;;;;;;;;-3;zawieszony na chwilę;javascript:alert(1);to@nie;123;ftp://x | https://ok.pl\r\n"
        "k;Zamienione;wtz;20,63;50,64;;;;;;;;;;;\r\n"                                # row 8
        "l;Pół punktu;wtz;50,63;;;;;;;;;;;;\r\n"                                     # row 9
        "m;Nie liczba;wtz;pięćdziesiąt;20,6;;;;;;;;;;;\r\n"                         # row 10
    )
    valid, rejects = checked = _validate(tmp_path, body, units)
    assert rejects.empty, rejects.to_dict("records")
    assert list(valid["id"]) == ["ok", "f", "g", "h", "i", "j", "k", "l", "m"]       # every entity kept
    w = checked.warnings
    assert "NIP" in _reasons(w, 3)["nip"] and valid.set_index("id").loc["f", "nip"] == ""
    assert set(_reasons(w, 4)) == {"regon", "krs"}
    assert "postal_code" in _reasons(w, 5)
    assert "gmina_teryt" in _reasons(w, 6) and valid.set_index("id").loc["i", "gmina_teryt"] == ""
    assert set(_reasons(w, 7)) == {"employees", "status", "website", "email", "phone", "sources"}
    j = valid.set_index("id").loc["j"]
    assert (j["website"], j["email"], j["phone"], j["status"]) == ("", "", "", "unknown")
    assert j["sources"] == "https://ok.pl"                                          # the valid URL stays
    assert "zamienione" in _reasons(w, 8)["lat"] and valid.set_index("id").loc["k", "location_precision"] == "none"
    assert "jedną współrzędną" in _reasons(w, 9)["lat"]
    assert "nie jest liczbą" in _reasons(w, 10)["lat"]
    # The warning names the value that was dropped, and the file.
    assert w.loc[(w["row"] == 3) & (w["column"] == "nip"), "value"].iloc[0] == "1234567890"
    assert (w["file"] == str(tmp_path / "podmioty.csv")).all()


def test_only_name_id_type_and_place_outside_the_region_reject(tmp_path, units):
    body = (
        "ok;Dobry;wtz;;;;;;;;;;;;;\r\n"                                  # row 2
        ";Bez id;wtz;;;;;;;;;;;;;\r\n"                                   # row 3
        "ok;Powtórzony;wtz;;;;;;;;;;;;;\r\n"                             # row 4
        "c;Zły typ;fundacja;;;;;;;;;;;;;\r\n"                            # row 5
        "d;;wtz;;;;;;;;;;;;;\r\n"                                        # row 6: no name
        "e;Poza regionem;wtz;52,23;21,01;;;;;;;;;;;\r\n"                 # row 7 (Warszawa)
        "f;Gmina spoza regionu;wtz;;;1465011;;;;;;;;;;\r\n"              # row 8 (Warszawa's TERYT)
        "g;Bez typu;;;;;;;;;;;;;;\r\n"                                   # row 9
        "h;Typ i śmieć;wtz, coś;;;;;;;;;;;;;\r\n"                       # row 10: the known type kept
    )
    valid, rejects = checked = _validate(tmp_path, body, units)
    assert list(valid["id"]) == ["ok", "h"]
    assert "id" in _reasons(rejects, 3)
    assert "pierwszy raz w wierszu 2" in _reasons(rejects, 4)["id"]
    assert "fundacja" in _reasons(rejects, 5)["types"]
    assert "nazwy" in _reasons(rejects, 6)["name"]
    assert "poza regionem" in _reasons(rejects, 7)["lat"]
    assert "spoza regionu" in _reasons(rejects, 8)["gmina_teryt"]
    assert "types" in _reasons(rejects, 9)
    assert valid.set_index("id").loc["h", "types"] == "wtz" and "coś" in _reasons(checked.warnings, 10)["types"]
    # The rejects keep the original fields so the operator can fix and re-import them.
    assert rejects.loc[rejects["row"] == 7, "lat"].iloc[0] == "52,23"


def test_outside_poland_without_region_data(tmp_path):
    valid, rejects = _validate(tmp_path, "a;Berlin;wtz;52,52;13,40;;;;;;;;;;;\r\n")
    assert "poza Polską" in _reasons(rejects, 2)["lat"] and valid.empty


def test_partial_rows_are_not_given_defaults(tmp_path):
    frame = read_table(_write(tmp_path, "id;name;types;status;social_enterprise\r\nx;;;;\r\n"))
    valid, rejects = validate_frame(frame, complete=False)
    assert rejects.empty and (valid.loc[0, "status"], valid.loc[0, "social_enterprise"]) == ("", "")


def _write(tmp_path, text):
    path = tmp_path / "czesciowe.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_committed_entities_are_all_valid(units):
    from geoes.config import REPO_DIR

    path = REPO_DIR / "data" / "entities.csv"
    valid, rejects = checked = validate_frame(read_table(path), units=units, source_name=str(path))
    assert rejects.empty, rejects[["row", "column", "reason"]].to_dict("records")
    assert checked.warnings.empty, checked.warnings.to_dict("records")
    assert len(valid) == 97
    assert valid["sources"].str.startswith("http").all()


def test_powiat_precision_needs_a_powiat_and_no_point(tmp_path, units):
    path = tmp_path / "powiat.csv"
    path.write_text(
        "id,name,types,locality,gmina_teryt,powiat_teryt,lat,lon,location_precision\n"
        "p1,ZAZ w Mieronicach,zaz,Mieronice,,2602,,,powiat\n"        # row 2: known only to the powiat
        "p2,Bez powiatu,wtz,,,,,,powiat\n"                            # row 3: no powiat to be placed in
        "p3,Z punktem,wtz,,,2602,50.6,20.3,powiat\n"                  # row 4: a point contradicts it
        "p4,Z gminą,wtz,,2602023,,,,powiat\n",                        # row 5: the gmina names the powiat
        encoding="utf-8")
    checked = validate_frame(read_table(path), units=units, source_name=str(path))
    valid = checked.valid.set_index("id")
    assert checked.rejects.empty  # a bad optional value costs that value, never the entity
    assert valid.loc["p1", ["location_precision", "powiat_teryt"]].tolist() == ["powiat", "2602"]
    assert valid.loc["p4", ["location_precision", "powiat_teryt"]].tolist() == ["powiat", "2602"]
    assert valid.loc["p2", "location_precision"] == "none"
    assert "wymaga kodu powiatu" in _reasons(checked.warnings, 3)["location_precision"]
    assert valid.loc["p3", "location_precision"] == "powiat" and pd.isna(valid.loc["p3", "lat"])
    assert "bez punktu" in _reasons(checked.warnings, 4)["lat"]
