"""Header matching as offices write headers; proposals that must be confirmed; saved layouts."""
from __future__ import annotations

import pytest

from geoes.common.excel import OfficeFile, Sheet
from geoes.common.text import fold
from geoes.register import normalise as norm
from geoes.register.mapping import (BadMapping, Mapping, MappingNeedsConfirmation, MissingColumn, confirm, field_for,
                                    fingerprint, likely_targets, load_mapping, mapping_csv, match_header, propose_mapping,
                                    save_mapping)
from geoes.common.reference import REFERENCE_DIR


@pytest.mark.parametrize("header,target,how", [
    ("Nazwa", "name", "exact"), ("NAZWA PODMIOTU", "name", "exact"), ("  nazwa_podmiotu: ", "name", "exact"),
    ("Forma prawna / typ", "legal_form/types", "combined"), ("Typ podmiotu (CIS/KIS/WTZ…)", "types", "exact"),
    ("Adres: ulica i nr", "street", "exact"), ("ulica_nr", "street", "exact"),
    ("prowadzacy_lub_zalozyciele", "operator", "exact"), ("Prowadzący / założyciele", "operator", "exact"),
    ("Nr KRS", "krs", "exact"), ("NIP/REGON", "identifiers", "combined"), ("KRS, NIP, REGON", "identifiers", "combined"),
    ("Kod pocztowy i miejscowość", "address", "combined"), ("Telefon / e-mail", "contacts", "combined"),
    ("E_MAIL", "email", "exact"), ("Miejscowość", "locality", "exact"), ("MIEJSCOWOSC", "locality", "exact"),
    ("Miejscowsc", "locality", "fuzzy"), ("teryt_gminy_wg_gazetteera", "gmina_teryt", "fuzzy"),
    ("Gmina", "gmina", "exact"), ("Powiat", "powiat", "exact"), ("gm.", "gmina", "exact"),
    ("Stan wg źródła", "as_of", "exact"), ("Lp.", "-", "exact"), ("Nazwa i adres", "", "unknown"),
    ("Ulubiony kolor", "", "unknown"), ("location_precision", "location_precision", "exact"),
    ("KRS prowadzącego", "operator_krs", "exact"), ("NIP podmiotu prowadzącego", "operator_nip", "exact"),
    ("krs_prowadzacego", "operator_krs", "exact"),
])
def test_header_matching(header, target, how):
    m = match_header(header)
    assert (m.target, m.how) == (target, how), m


def test_an_unsplittable_combined_header_must_be_mapped_by_hand():
    m = match_header("Nazwa i adres")
    assert m.uncertain and "name" in m.note and "address" in m.note


@pytest.mark.parametrize("header, first, also", [
    ("Gmina i powiat", {"gmina", "powiat"}, {"gmina", "powiat"}),
    ("Nazwa podmiotu / forma prawna", {"name"}, {"name"}),
    ("Miejscowosc", {"locality"}, {"locality"}),
    ("Uwagi do sprawdzenia", {"internal_notes"}, {"internal_notes"}),
])
def test_the_likely_fields_of_a_header_come_first_also_for_each_part_of_a_combined_one(header, first, also):
    found = likely_targets(header)
    assert set(found[:len(first)]) == first and also <= set(found), found


def test_every_alias_is_written_folded():
    import csv

    with open(REFERENCE_DIR / "header_aliases.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            assert row["header"] == fold(row["header"]), row


def _office(*rows: list[str], name="rejestr.xlsx") -> OfficeFile:
    return OfficeFile(name, "xlsx", [Sheet("Arkusz1", [(n, r) for n, r in enumerate(rows, start=1)])])


def test_header_row_found_under_a_title_and_ordinal_column_left_out():
    office = _office(["Rejestr PES 2025"], ["Lp.", "Nazwa", "Forma prawna / typ", "Nr"],
                     ["1", "Fundacja A", "fundacja", "12"], ["2", "WTZ B", "WTZ", "3"])
    p = propose_mapping(office)
    assert p.header_row == 2 and not p.needs_confirmation and not p.missing
    assert [(c.header, c.target, c.how) for c in p.columns] == [
        ("Lp.", "-", "ordinal"), ("Nazwa", "name", "exact"), ("Forma prawna / typ", "legal_form/types", "combined"),
        ("Nr", "house_number", "exact")]      # 12, 3: not 1, 2, 3… — a house number, not an ordinal
    assert [n for n, _ in p.data] == [3, 4]


def test_nr_holding_one_two_three_is_an_ordinal():
    p = propose_mapping(_office(["Nr", "Nazwa", "Typ"], ["1", "A", "wtz"], ["2", "B", "cis"], ["3", "C", "kis"]))
    assert p.columns[0].how == "ordinal"


def test_conflicts_and_guesses_must_be_confirmed():
    office = _office(["Nazwa", "Nazwa podmiotu", "Miejscowsc", "Opis", "Uwagi", "Źródła", "source url"],
                     ["A", "A", "Kielce", "x", "y", "https://a.pl", "https://b.pl"])
    p = propose_mapping(office)
    assert [(k.field, k.chosen) for k in p.conflicts] == [("name", "Nazwa")]
    assert [c.header for c in p.uncertain] == ["Nazwa podmiotu", "Miejscowsc"]
    # Opis is the public description, Uwagi the internal notes; the two source columns are joined — not a conflict.
    assert {c.target for c in p.used} == {"name", "locality", "description", "internal_notes", "sources"}
    with pytest.raises(MappingNeedsConfirmation) as info:
        confirm(p)
    message = info.value.description
    assert "„Miejscowsc” → locality" in message and "pole name: kolumny „Nazwa”, „Nazwa podmiotu”" in message
    assert "--accept-mapping" in message and "--mapping" in message
    assert confirm(p, accept=True) is p


def test_missing_name_column_is_one_message_with_the_headers():
    p = propose_mapping(_office(["Lp.", "Podmiot", "Typ", "Miejscowość"], ["1", "A", "wtz", "Kielce"],
                                ["2", "B", "cis", "Kielce"]))
    assert p.missing == ["name"]
    with pytest.raises(MissingColumn) as info:
        confirm(p, accept=True)
    text = info.value.description
    assert text.count("\n") == 0 and "„Podmiot”" in text and "„Miejscowość”" in text and "nagłówek;name" in text


def test_a_mapping_file_decides_and_is_found_by_its_folded_headers(tmp_path):
    path = tmp_path / "mapowanie.csv"
    path.write_text("kolumna w pliku;pole rekordu\nPODMIOT;name\nZbędna;-\n", encoding="cp1250")
    mapping = load_mapping(path)
    p = propose_mapping(_office(["Podmiot", "Typ", "zbędna"], ["A", "wtz", "x"]), mapping)
    assert [(c.target, c.how) for c in p.columns] == [("name", "confirmed"), ("types", "exact"), ("-", "confirmed")]
    assert not p.missing and not p.needs_confirmation


def test_unknown_target_in_a_mapping_file(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("Podmiot,nazwa_podmiotu\n", encoding="utf-8")
    with pytest.raises(BadMapping, match="nieznana kolumna rekordu"):
        load_mapping(path)


def test_saved_mapping_is_reused_for_the_same_layout_in_another_order(tmp_path):
    first = propose_mapping(_office(["Nazwa", "Miejscowsc", "Typ"], ["A", "Kielce", "wtz"]))
    assert first.needs_confirmation
    saved = save_mapping(confirm(first, accept=True), tmp_path)
    assert saved.name == f"{first.fingerprint}.json"
    again = propose_mapping(_office(["Typ", "NAZWA", "miejscowsc"], ["cis", "B", "Kielce"]), mappings_dir=tmp_path)
    assert again.fingerprint == first.fingerprint and again.saved_from.endswith(saved.name)
    assert not again.needs_confirmation and {c.target for c in again.used} == {"name", "locality", "types"}
    assert fingerprint(["Nazwa", "x"]) != first.fingerprint


def test_mapping_template_reads_back(tmp_path):
    p = propose_mapping(_office(["Nazwa", "Miejscowsc"], ["A", "Kielce"]))
    path = tmp_path / "wzor.csv"
    path.write_text(mapping_csv(p), encoding="utf-8")
    assert load_mapping(path).columns == {"Nazwa": "name", "Miejscowsc": "locality"}
    assert isinstance(load_mapping(path), Mapping)


def test_field_names_of_a_corrections_layout():
    assert field_for("ulica_nr") == "street" and field_for("prowadzacy_lub_zalozyciele") == "operator"
    assert field_for("stan_wg_zrodla / fakty") == "description" and field_for("coś") == ""


@pytest.mark.parametrize("name,code", [
    ("Warsztat Terapii Zajęciowej w Busku-Zdroju", "wtz"), ("Spółdzielnia Socjalna „Ares”", "spoldzielnia_socjalna"),
    ("Koło Gospodyń Wiejskich „Betulanki” w Brzezinach", "kgw"), ("KGW w Smykowie", "kgw"),
    ("Centrum Integracji Społecznej w Chmielniku", "cis"), ("Klub Integracji Społecznej przy MOPS", "kis"),
    ("Powiatowy Zakład Aktywności Zawodowej w Stykowie", "zaz"), ("Fundacja „Anielskie Skrzydła”", "ngo"),
    ("Stowarzyszenie „Nadzieja Rodzinie”", "ngo"), ("Ośrodek Wsparcia Ekonomii Społecznej", "owes"),
    ("Warsztat Terapii Zajęciowej przy Stowarzyszeniu „RAZEM”", "wtz"),       # the unit, not its operator
    ("Stowarzyszenie na rzecz Warsztatu Terapii Zajęciowej", "ngo"),          # the operator, not the unit
    ("Caritas Diecezji Kieleckiej", ""), ("Lokalna Grupa Działania", ""),
])
def test_type_from_the_name(name, code):
    assert norm.name_type(name)[0] == code


@pytest.mark.parametrize("value,legal,codes", [
    ("stowarzyszenie", "stowarzyszenie", "ngo"), ("WTZ", "", "wtz"), ("Fundacja", "Fundacja", "ngo"),
    ("spółdzielnia socjalna (osób prawnych)", "spółdzielnia socjalna (osób prawnych)", "spoldzielnia_socjalna"),
    ("Koło Gospodyń Wiejskich", "Koło Gospodyń Wiejskich", "kgw"), ("kościelna osoba prawna", "kościelna osoba prawna", ""),
])
def test_legal_form_or_type_cell(value, legal, codes):
    assert norm.legal_form_type(value) == (legal, codes)


@pytest.mark.parametrize("value,expected", [
    ("657-038-94-52 / 290505494", {"nip": "6570389452", "regon": "290505494"}),
    ("NIP: 657 038 94 52, REGON 290505494", {"nip": "6570389452", "regon": "290505494"}),
    ("KRS 198087", {"krs": "0000198087"}), ("0000198087; 6570389452", {"krs": "0000198087", "nip": "6570389452"}),
])
def test_combined_identifiers_split_by_length_and_checksum(value, expected):
    assert norm.split_identifiers(value) == (expected, [])


def test_an_identifier_that_is_none_of_them():
    assert norm.split_identifiers("1234567890") == ({}, ["1234567890"])
