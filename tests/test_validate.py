"""Validation names the row, column and reason, and never loses a valid row."""
import pytest

from geoes.register.record import read_table
from geoes.register.validate import validate_frame

HEADER = "id;name;types;lat;lon;gmina_teryt;nip;regon;krs;postal_code;employees;status;website;sources\r\n"


def _validate(tmp_path, body, settings=None):
    path = tmp_path / "podmioty.csv"
    path.write_bytes((HEADER + body).encode("cp1250"))
    return validate_frame(read_table(path), settings, str(path))


def _reasons(rejects, row):
    return dict(zip(rejects.loc[rejects["row"] == row, "column"], rejects.loc[rejects["row"] == row, "reason"]))


def test_valid_rows_typed_and_normalised(tmp_path, fetched_settings):
    valid, rejects = _validate(tmp_path, (
        "a;Spółdzielnia A;spoldzielnia_socjalna;50,638;20,304;2602023;657-038-94-52;290505494;198087;28300;5;aktywny;https://a.pl;https://a.pl/o-nas\r\n"
    ), fetched_settings)
    assert rejects.empty, rejects.to_dict("records")
    row = valid.iloc[0]
    assert row["lat"] == pytest.approx(50.638) and row["lon"] == pytest.approx(20.304)
    assert row["nip"] == "6570389452" and row["krs"] == "0000198087"
    assert row["postal_code"] == "28-300" and row["status"] == "active" and row["employees"] == 5


def test_each_problem_named_with_row_and_column(tmp_path, fetched_settings):
    body = (
        "ok;Dobry;wtz;;;;;;;;;;;\r\n"                                   # row 2
        ";Bez id;wtz;;;;;;;;;;;\r\n"                                    # row 3
        "ok;Powtórzony;wtz;;;;;;;;;;;\r\n"                              # row 4
        "c;Zły typ;fundacja;;;;;;;;;;;\r\n"                             # row 5
        "d;Zamienione;wtz;20,63;50,64;;;;;;;;;\r\n"                     # row 6
        "e;Poza regionem;wtz;52,23;21,01;;;;;;;;;\r\n"                  # row 7 (Warszawa)
        "f;Zły NIP;wtz;;;;1234567890;;;;;;;\r\n"                        # row 8
        "g;Zły REGON i KRS;wtz;;;;;123456789;12345678901;;;;;\r\n"      # row 9
        "h;Zły kod;wtz;;;;;;;283-00;;;;\r\n"                            # row 10
        "i;Nieznana gmina;wtz;;;2699999;;;;;;;;\r\n"                    # row 11
        "j;Zła strona;wtz;;;;;;;;-3;zawieszony;javascript:alert(1);ftp://x\r\n"  # row 12
    )
    valid, rejects = _validate(tmp_path, body, fetched_settings)
    assert list(valid["id"]) == ["ok"]
    assert "id" in _reasons(rejects, 3)
    assert "pierwszy raz w wierszu 2" in _reasons(rejects, 4)["id"]
    assert "fundacja" in _reasons(rejects, 5)["types"]
    assert "zamienione" in _reasons(rejects, 6)["lat"]
    assert "poza regionem" in _reasons(rejects, 7)["lat"]
    assert "NIP" in _reasons(rejects, 8)["nip"]
    assert set(_reasons(rejects, 9)) == {"regon", "krs"}
    assert "postal_code" in _reasons(rejects, 10)
    assert "gmina_teryt" in _reasons(rejects, 11)
    assert set(_reasons(rejects, 12)) == {"employees", "status", "website", "sources"}
    # The rejects keep the original fields so the operator can fix and re-import them.
    assert rejects.loc[rejects["row"] == 8, "nip"].iloc[0] == "1234567890"
    assert rejects.loc[rejects["row"] == 6, "lat"].iloc[0] == "20,63"
    assert (rejects["file"] == str(tmp_path / "podmioty.csv")).all()


def test_outside_poland(tmp_path):
    _, rejects = _validate(tmp_path, "a;Berlin;wtz;52,52;13,40;;;;;;;;;\r\n")
    assert "poza Polską" in _reasons(rejects, 2)["lat"]


def test_committed_entities_are_all_valid(fetched_settings):
    from geoes.config import REPO_DIR

    path = REPO_DIR / "data" / "entities.csv"
    valid, rejects = validate_frame(read_table(path), fetched_settings, str(path))
    assert rejects.empty, rejects[["row", "column", "reason"]].to_dict("records")
    assert len(valid) == 49
    assert valid["sources"].str.startswith("http").all()


def test_powiat_precision_needs_a_powiat_and_no_point(tmp_path, fetched_settings):
    path = tmp_path / "powiat.csv"
    path.write_text(
        "id,name,types,locality,gmina_teryt,powiat_teryt,lat,lon,location_precision\n"
        "p1,ZAZ w Mieronicach,zaz,Mieronice,,2602,,,powiat\n"        # row 2: known only to the powiat
        "p2,Bez powiatu,wtz,,,,,,powiat\n"                            # row 3: no powiat to be placed in
        "p3,Z punktem,wtz,,,2602,50.6,20.3,powiat\n"                  # row 4: a point contradicts it
        "p4,Z gminą,wtz,,2602023,,,,powiat\n",                        # row 5: the gmina names the powiat
        encoding="utf-8")
    valid, rejects = validate_frame(read_table(path), fetched_settings, str(path))
    assert sorted(valid["id"]) == ["p1", "p4"]
    assert valid.set_index("id").loc["p1", ["location_precision", "powiat_teryt"]].tolist() == ["powiat", "2602"]
    assert valid.set_index("id").loc["p4", "powiat_teryt"] == "2602"
    assert "wymaga kodu powiatu" in _reasons(rejects, 3)["location_precision"]
    assert "bez punktu" in _reasons(rejects, 4)["location_precision"]
