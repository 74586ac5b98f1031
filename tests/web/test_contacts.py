"""Contacts a resident can use (issue 20): the phone as a tel: link (+48), the e-mail as a mailto: link, the
website as a link (rel="noopener"), the address with its postal code — and a contact that belongs to the
operator shown as the operator's, never as the unit's own. The values are the real ones of the shared
contacts file, put in as an operator accepts them from the review queue; and the committed register holds
the second supplement and the contacts file's websites with their sources.
"""
from __future__ import annotations

import csv
import importlib.util
import re

import pandas as pd
import pytest

from conftest import MIRROR, REPO_DIR, clone_settings
from geoes.publish.escape import mailto_link, tel_href, tel_links

CONTACTS = MIRROR / "entities" / "pes_swietokrzyskie_kontakty.csv"
SUPPLEMENT_2 = MIRROR / "entities" / "pes_swietokrzyskie_uzupelnienie_2.csv"


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _script():
    spec = importlib.util.spec_from_file_location("contacts_corrections", REPO_DIR / "scripts" / "contacts_corrections.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _contact(entity_id: str, field: str) -> dict:
    return next(r for r in _rows(CONTACTS) if r["existing_id"] == entity_id and r["pole"] == field)


def test_the_compilers_mark_routes_exactly_the_operators_values():
    """SOURCES.md: for swk-007, 014, 016, 028, n001 and n004 every value belongs to the operator; swk-006's
    website is its operator's (the foundation's), its street its own."""
    script = _script()
    rows = _rows(CONTACTS)
    routed = {(r["existing_id"], r["pole"]) for r in rows if script.is_operators(r)}
    operator_only = {"swk-007", "swk-014", "swk-016", "swk-028", "swk-n001", "swk-n004"}
    for r in rows:
        if r["existing_id"] in operator_only:
            assert (r["existing_id"], r["pole"]) in routed, r
    assert {i for i, _ in routed} == operator_only | {"swk-006"}
    assert ("swk-006", "strona_www") in routed and ("swk-006", "ulica_nr") not in routed
    out = script.corrections(rows)
    [address] = [r for r in out if r["existing_id"] == "swk-014" and r["pole"] == "adres prowadzącego"]
    assert address["wartosc"] == "Gnojno 118, 28-114"               # street and postal code of one source
    assert len(out) == len(rows) - 1


def test_the_register_holds_the_new_entities_and_the_contacts_websites_with_their_sources():
    register = pd.read_csv(REPO_DIR / "data" / "entities.csv", dtype=str, keep_default_na=False).set_index("id")
    for row in _rows(SUPPLEMENT_2):
        e = register.loc[row["id"]]
        assert e["name"] == row["nazwa"] and e["status"] == "unknown", row["id"]
        assert all(u.strip() in e["sources"] for u in row["zrodla"].split("|")), row["id"]
    websites = [r for r in _rows(CONTACTS) if r["pole"] == "strona_www"]
    held = 0
    for r in websites:
        e = register.loc[r["existing_id"]]
        host = re.sub(r"^https?://", "", r["wartosc"].strip()).rstrip("/")
        where = "operator_website" if _script().is_operators(r) else "website"
        if host in e[where] and all(u.strip() in e["sources"] for u in r["source_url"].split("|")):
            held += 1
            other = "website" if where == "operator_website" else "operator_website"
            assert host not in e[other], r                          # never shown as the other's
    assert held / len(websites) >= 0.8, (held, len(websites))
    # No phone of the file is published before a person checks it: they wait in the review table.
    assert not register.loc[["swk-007", "swk-014", "swk-044", "swk-n001"], ["phone", "operator_phone"]].ne("").any().any()
    review = pd.read_csv(REPO_DIR / "data" / "import" / "pes_swietokrzyskie_kontakty.poprawki.do_przegladu.csv",
                         dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert {"phone", "operator_phone"} <= set(review["column"])


def test_link_helpers():
    assert tel_href("+48 41 344 52 82") == "tel:+48413445282"
    assert tel_href("+48 600 123 456 wew. 12") == "tel:+48600123456;ext=12"
    assert tel_href("41 344 52 82") is None and tel_href("javascript:alert(1)") is None
    assert str(tel_links("+48 41 344 52 82, +48 41 344 39 86")).count('href="tel:+48') == 2
    assert str(mailto_link("sekretariat@dpsjp2.pl")) == '<a href="mailto:sekretariat@dpsjp2.pl">sekretariat@dpsjp2.pl</a>'
    assert "href" not in str(mailto_link('x" onmouseover="alert(1)@a.pl'))
    assert "%2B" in str(mailto_link("a+b@example.org"))             # the address URL-encoded in the href


@pytest.fixture(scope="module")
def contacts_client(tmp_path_factory, built_settings):
    """The register with contacts an operator accepted from the review queue after checking them: Caritas's
    own phone (swk-044) and the DPS's phone and e-mail for its workshop (swk-n001) — the file's real values."""
    from geoes.dataset.build import build
    from geoes.register.normalise import phone
    from geoes.web import create_app

    settings = clone_settings(built_settings, tmp_path_factory.mktemp("contacts"))
    frame = pd.read_csv(settings.entities_path, dtype=str, keep_default_na=False)
    at = {v: i for i, v in frame["id"].items()}
    frame.at[at["swk-044"], "phone"] = phone(_contact("swk-044", "telefon")["wartosc"])
    frame.at[at["swk-n001"], "operator_phone"] = phone(_contact("swk-n001", "telefon")["wartosc"])
    frame.at[at["swk-n001"], "operator_email"] = _contact("swk-n001", "email")["wartosc"]
    frame.to_csv(settings.entities_path, index=False, lineterminator="\n")
    build(settings)
    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": "26"})
    return app.test_client()


def _contact_block(page: str) -> str:
    return re.search(r'<section class="contact".*?</section>', page, re.S).group(0)


def test_a_units_own_phone_and_website_are_links(contacts_client):
    block = _contact_block(contacts_client.get("/entities/swk-044").get_data(as_text=True))
    assert '<a href="tel:+48413445282">+48 41 344 52 82</a>' in block
    assert re.search(r'<a href="https://www.kielce.caritas.pl" rel="noopener[^"]*">', block)
    assert "Plac Najświętszej Maryi Panny 1, Kielce" in block and "bez kodu pocztowego w rejestrze" in block
    assert "Kontakt przez prowadzącego" not in block


def test_the_operators_contacts_are_shown_as_the_operators(contacts_client):
    page = contacts_client.get("/entities/swk-n001").get_data(as_text=True)
    block = _contact_block(page)
    own, _, theirs = block.partition("Kontakt przez prowadzącego")
    assert theirs, block
    # The workshop's own phone, e-mail and website: none in the register, so none is listed (a resident's page
    # leaves empty fields out rather than saying "brak").
    assert "tel:" not in own and "mailto:" not in own
    assert not any(label in own for label in ("Telefon:", "E-mail:", "Strona:")) and "brak" not in own
    assert "Dom Pomocy Społecznej im. Jana Pawła II" in theirs
    assert '<a href="tel:+48413676319">' in theirs and '<a href="mailto:sekretariat@dpsjp2.pl">' in theirs
    assert re.search(r'<a href="http://dpsjp2.pl/" rel="noopener', theirs)
    # schema.org: the operator's contacts are the parent organisation's, not the workshop's.
    jsonld = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S).group(1)
    assert '"parentOrganization":{' in jsonld and "telephone" not in jsonld.split('"parentOrganization"')[0]
