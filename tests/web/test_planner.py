"""What a planner reads: the county page and report of powiat jędrzejowski (2602), the gmina and compare
pages, the trends page — completeness above the figures, no rank or relation on nothing, Polish plurals,
no English, powiat-level places, registered unemployment beside the supply, official counts by year."""
import csv
import html
import re

import pytest

from geoes.config import REPO_DIR
from geoes.dataset.reader import load_current
from tests.conftest import MIRROR

NBSP = "\u00a0"
PAGES = ["/", "/powiaty", "/powiaty/2602", "/gminy/2602023", "/gminy/2602093", "/compare?teryt=2602&teryt=2601",
         "/compare?teryt=2602023&teryt=2602033", "/about", "/trendy", "/entities", "/entities/swk-005",
         "/entities/swk-001", "/powiaty/2602/raport.html", "/ogc", "/ogc/collections",
         "/ogc/collections/powiaty/items?f=html&limit=3", "/ogc/collections/entities/items/swk-005?f=html"]
# English words and field names that must not reach a reader of the Polish interface.
ENGLISH = ["active", "inactive", "unknown", "exact", "gazetteer", "locality", "address", "street", "none",
           "true", "false", "grid", "rank", "ratio", "suppressed", "entities", "employees", "population",
           "precision", "location_precision", "entities_per_10k", "access_10km_pct", "unemployed", "powiat_teryt",
           "gmina_teryt", "area_km2", "null", "NaN", "None", "miles", "mi", "ft"]


def visible_text(page: str) -> str:
    """The text a person sees: no scripts, styles, tags, attribute values or inline images."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)  # commands and paths shown as code
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def words(text: str) -> set[str]:
    text = re.sub(r"https?://\S+", " ", text)
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def county(client) -> str:
    return visible_text(client.get("/powiaty/2602").get_data(as_text=True))


@pytest.mark.parametrize("url", PAGES)
def test_no_english_words_on_polish_pages(client, url):
    resp = client.get(url, headers={"Accept": "text/html"})
    assert resp.status_code == 200, url
    found = words(visible_text(resp.get_data(as_text=True))) & set(ENGLISH)
    assert not found, f"{url}: {sorted(found)}"


def test_scale_bar_in_kilometres_only(client):
    page = client.get("/").get_data(as_text=True)
    assert "L.control.scale({imperial: false, metric: true})" in page
    assert "L.control.scale()" not in page


def test_completeness_stated_above_the_indicators(client):
    text = county(client)
    statement = text.index("w rejestrze 23 z 26 znanych (studylibpl.com, 2015)")
    assert statement < text.index("Wskaźniki na tle województwa")
    assert "ZAZ: w rejestrze" in text and "z 11 znanych (ckinfo.pl, 2026)" in text
    assert "KGW: w rejestrze 22" + NBSP + "podmioty (brak oficjalnej liczby)" in text
    assert "Inne: w rejestrze 3" + NBSP + "podmioty (brak oficjalnej liczby)" in text
    assert "Wskaźniki opisują znany rejestr" in text
    for url in ("/gminy/2602023", "/compare?teryt=2602&teryt=2601", "/trendy"):
        assert "w rejestrze 23 z 26 znanych" in visible_text(client.get(url).get_data(as_text=True)), url


def test_county_page_has_no_rank_or_relation_on_nothing(client):
    text = county(client)
    row = re.search(r"Zatrudnieni \(znani\) na 10 tys\. mieszkańców\s+(.*?)\s+Podmioty ze znanym", text, re.S)
    assert row and "za mało danych" in row.group(1) and "%" not in row.group(1)
    assert not re.search(r"Zatrudnieni[^\n]*\d+ z 1[34]", text)
    # the entity count ties with other powiaty: a shared place, among the powiaty with an entity
    assert re.search(r"Podmioty w rejestrze\s+4\s+\d+\s+\d+\s%\s+\d+(–\d+)? z 13 powiatów z wartością", text)


def test_correct_plural_forms_on_the_county_page_and_report(client):
    text = re.sub(r"[ \t\r\n]+", " ", county(client))
    assert "4 podmioty w rejestrze" in text
    assert f"7{NBSP}gmin bez podmiotu w rejestrze" in text
    assert f"1{NBSP}podmiot bez znanej gminy" in text
    assert "1 podmioty" not in text and "3 podmiotów" not in text
    report = visible_text(client.get("/powiaty/2602/raport.html").get_data(as_text=True))
    assert f"4{NBSP}podmioty ekonomii społecznej" in report
    assert f"1{NBSP}548{NBSP}osób" in report
    about = visible_text(client.get("/about").get_data(as_text=True))
    assert f"97{NBSP}podmiotów" in about  # 97: the many form


def test_mieronice_zaz_counts_in_powiat_2602(built_settings, client):
    ds = load_current(built_settings)
    e = ds.entities.set_index("id").loc["swk-005"]
    assert (e["location_precision"], e["powiat_teryt_computed"], e["gmina_teryt_computed"]) == ("powiat", "2602", "")
    assert e.geometry is None or e.geometry.is_empty  # no point: its gmina is not known
    p = ds.powiaty.set_index("teryt").loc["2602"]
    assert p["entities_zaz"] == 1 and p["entities_without_gmina"] == 1
    assert p["entities"] == ds.gminy.loc[ds.gminy["powiat_teryt"] == "2602", "entities"].sum() + 1
    # The voivodeship: the powiaty's sums and the register's entities with no location (in no powiat).
    v = ds.voivodeship
    assert v["entities"] == int(ds.powiaty["entities"].sum()) + v["entities_without_location"]
    assert v["entities_zaz"] >= int(ds.powiaty["entities_zaz"].sum())
    text = county(client)
    assert "Zakład Aktywności Zawodowej w Mieronicach" in text
    row = re.search(r"Zakład Aktywności Zawodowej w Mieronicach(.{0,200})", text, re.S).group(1)
    assert "tylko powiat" in row
    entity = visible_text(client.get("/entities/swk-005").get_data(as_text=True))
    assert "tylko z dokładnością do powiatu" in entity and "jędrzejowski" in entity


def test_no_powiat_point_on_the_map_layer(client):
    fc = client.get("/api/entities.geojson?powiat=2602").get_json()
    ids = {f["id"] if "id" in f else f["properties"]["id"]: f for f in fc["features"]}
    if "swk-005" in ids:
        assert ids["swk-005"]["geometry"] is None


def mirror_unemployment(teryt: str, year: str) -> int:
    with open(MIRROR / "needs" / "bezrobotni_zarejestrowani_26.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["teryt"] == teryt and row["reference_date"].startswith(year):
                return int(row["value"])
    raise AssertionError(f"no figure for {teryt} {year}")


def test_unemployment_of_2602_equals_the_mirror_file(built_settings, client):
    ds = load_current(built_settings)
    p = ds.powiaty.set_index("teryt").loc["2602"]
    assert p["unemployed"] == mirror_unemployment("2602", "2024") == 1548
    assert p["unemployed_2022"] == mirror_unemployment("2602", "2022")
    assert p["unemployed_per_10k"] == pytest.approx(1548 / p["population"] * 10_000, abs=1e-3)
    gminy = ds.gminy[ds.gminy["powiat_teryt"] == "2602"].set_index("teryt")
    for teryt in gminy.index:
        assert gminy.loc[teryt, "unemployed"] == mirror_unemployment(teryt, "2024")
    assert ds.voivodeship["unemployed"] == mirror_unemployment("26", "2024")
    text = county(client)
    card = re.search(r"1\s548\s+bezrobotnych zarejestrowanych \(2024\)(.{0,200})", text, re.S)
    assert card and "GUS BDL" in card.group(1)
    assert "Bezrobotni zarejestrowani na 10 tys. mieszkańców" in text and "RYNE/1944" in text


def test_white_spots_ranked_by_registered_unemployed(client):
    text = county(client)
    section = text[text.index("Gminy bez podmiotu w rejestrze (białe plamy) według liczby bezrobotnych"):]
    listed = re.findall(r"(\w+)\s+–\s+[\d\s\u00a0]+mieszkańców, ([\d\s\u00a0]+)bezrobotnych", section)[:3]
    numbers = [int(re.sub(r"\D", "", n)) for _, n in listed]
    assert numbers == sorted(numbers, reverse=True) and listed[0][0] == "Małogoszcz"


def test_unemployment_on_gmina_and_compare_pages(client):
    gmina = visible_text(client.get("/gminy/2602023").get_data(as_text=True))
    assert "Bezrobotni zarejestrowani" in gmina and "RYNE/1944" in gmina
    compare = visible_text(client.get("/compare?teryt=2602&teryt=2601").get_data(as_text=True))
    assert "Stopa bezrobocia rejestrowanego (%)" in compare and "Bezrobotni zarejestrowani na 10 tys." in compare


def test_need_choropleth_in_the_public_map_layers(client):
    import json

    page = client.get("/").get_data(as_text=True)
    name = "Bezrobotni zarejestrowani na 10 tys. mieszk. – gminy (GUS BDL)"
    assert name in page or json.dumps(name)[1:-1] in page  # folium writes layer names with tojson
    assert "Bezrobotni zarejestrowani na 10 tys. mieszkańców" in page  # its legend


def test_trends_page_shows_official_counts_2015_to_2026(client):
    page = client.get("/trendy").get_data(as_text=True)
    table = page[page.index('id="trend-table"'):page.index("</table>", page.index('id="trend-table"'))]
    header = re.findall(r'<th scope="col" class="num">(\d{4})</th>', table)
    assert header == [str(y) for y in range(2015, 2027)]
    with_data = sorted({int(y) for y in re.findall(r'data-year="(\d{4})"', table)})
    assert with_data == [2015, 2021, 2022, 2026]  # only years a source gives; nothing filled in between
    zaz = re.search(r"Zakłady aktywności zawodowej działające</td>(.*?)</tr>", table, re.S).group(1)
    assert 'data-year="2026">11<' in zaz and zaz.count("data-year") == 1
    assert client.get("/trendy/wykres.png").mimetype == "image/png"
    about = client.get("/about").get_data(as_text=True)
    assert 'href="/trendy"' in about
    assert 'href="/trendy"' in client.get("/powiaty/2602").get_data(as_text=True)


def test_register_history_csv(client):
    resp = client.get("/trendy/rejestr.csv")
    assert resp.status_code == 200
    rows = list(csv.DictReader(resp.get_data(as_text=True).lstrip("\ufeff").splitlines()))
    assert {"wersja_danych", "powiat_teryt", "typ", "podmioty_w_rejestrze"} <= set(rows[0])
    zaz_2602 = [r for r in rows if r["powiat_teryt"] == "2602" and r["typ"] == "zaz"]
    assert zaz_2602 and zaz_2602[-1]["podmioty_w_rejestrze"] == "1"
    excel = client.get("/trendy/rejestr.csv?dialect=excel-pl").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(excel.splitlines(), delimiter=";"))
    zaz = [r for r in rows if r["Powiat – kod TERYT"] == '="2602"' and r["Typ – kod"] == "zaz"]
    assert zaz and zaz[-1]["Podmioty w rejestrze"] == "1"
    assert client.get("/trendy/rejestr.csv?dialect=xls").status_code == 400


def test_report_completeness_and_needs(client):
    report = visible_text(client.get("/powiaty/2602/raport.html").get_data(as_text=True))
    # The table of contents lists the chapters first; the statement comes before the indicators' chapter.
    assert report.index("w rejestrze 23 z 26 znanych") < report.index("4. Wskaźniki na tle województwa")
    assert "Potrzeby obok podaży" in report and "1 548" in report.replace(NBSP, " ")
    assert "Oficjalne liczby w kolejnych latach" in report
    assert "Zakład Aktywności Zawodowej w Mieronicach" in report


def test_committed_register_places_mieronice_to_its_powiat():
    with open(REPO_DIR / "data" / "entities.csv", encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["id"] == "swk-005")
    assert (row["location_precision"], row["powiat_teryt"], row["lat"], row["lon"]) == ("powiat", "2602", "", "")


def test_indicator_downloads_carry_completeness_year_and_source(client):
    for url in ("/api/indicators?level=powiat&format=csv", "/powiaty/2602/gminy.csv"):
        text = client.get(url).get_data(as_text=True).lstrip("\ufeff")
        row = next(csv.DictReader(text.splitlines()))
        assert "WTZ: w rejestrze 23 z 26 znanych" in row["kompletnosc_rejestru"], url
        assert row["bezrobocie_rok"] == "2024" and "RYNE/1944" in row["bezrobocie_zrodlo"], url
    body = client.get("/api/indicators?level=powiat").get_json()
    assert "w rejestrze 23 z 26 znanych" in body["method"]["completeness"]
    assert body["method"]["needs"]["year"] == 2024


def test_a_chart_of_too_few_values_is_left_out_and_said_so(client):
    """Headcounts are known for too few entities: no employment chart of "za mało danych" rows, a sentence
    instead; charts of figures every powiat has are drawn."""
    from geoes.dataset.figures import MIN_RANKED_UNITS
    from geoes.publish.charts import chartable
    from geoes.web.served import served_data

    html = client.get("/powiaty/2602").get_data(as_text=True)
    with client.application.test_request_context():
        powiaty = served_data(client.application).current().powiaty
    drawn, left_out = chartable(powiaty)
    assert "employees_per_10k" in left_out and "entities_per_10k" in drawn
    assert (powiaty["rank_employees_per_10k"].notna().sum() < MIN_RANKED_UNITS)
    assert "/chart/employees_per_10k.png" not in html and "/chart/entities_per_10k.png" in html
    assert "Bez wykresu, bo za mało powiatów ma wartość" in html


def _links(page: str) -> list[tuple[str, str]]:
    """(href, visible text) of every link."""
    return [(html.unescape(h), visible_text(t).strip())
            for h, t in re.findall(r'<a\b[^>]*\bhref="([^"]*)"[^>]*>(.*?)</a>', page, re.S)]


@pytest.mark.parametrize("url", ["/powiaty/2602", "/gminy/2602023", "/compare?teryt=2602&teryt=2601", "/entities",
                                 "/"])
def test_planner_pages_offer_the_excel_files_first(client, url):
    """Beside the tables: XLSX and "CSV dla Excela" first; any other CSV link says it is for GIS."""
    page = client.get(url).get_data(as_text=True)
    links = _links(page)
    xlsx = [h for h, t in links if t == "XLSX"]
    excel = [h for h, t in links if t == "CSV dla Excela"]
    assert xlsx and excel and len(xlsx) == len(excel), url
    for href in xlsx:
        assert "format=xlsx" in href and client.get(href).status_code == 200, href
    for href in excel:
        r = client.get(href)
        assert "dialect=excel-pl" in href and r.status_code == 200, href
        assert r.data.decode("utf-8-sig").split(";")[0] in ("Kod TERYT", "Identyfikator")  # Polish headers
    for href, text in links:
        if ".csv" in href or "format=csv" in href:
            assert text in ("CSV dla Excela", "CSV dla GIS"), (url, href, text)
    # Every download line starts with the XLSX.
    for line in re.findall(r'<p class="downloads">(.*?)</p>', page, re.S):
        names = [visible_text(t).strip() for t in re.findall(r"<a\b[^>]*>(.*?)</a>", line, re.S)]
        if "CSV dla GIS" in names or "CSV dla Excela" in names:
            assert names[:2] == ["XLSX", "CSV dla Excela"], (url, names)


@pytest.mark.parametrize("url", ["/powiaty", "/about", "/trendy"])
def test_every_csv_link_says_who_it_is_for(client, url):
    for href, text in _links(client.get(url).get_data(as_text=True)):
        if "/api/essglobal.csv" in href:  # the one CSV for aggregators of social-economy data says so
            assert text == "CSV w standardzie ESSGlobal", (url, href, text)
        elif ".csv" in href or "format=csv" in href:
            assert text in ("CSV dla Excela", "CSV dla GIS"), (url, href, text)
            assert client.get(href).status_code == 200, href


def test_county_page_links_the_xlsx_and_excel_csv_of_its_tables(client):
    page = client.get("/powiaty/2602").get_data(as_text=True)
    hrefs = {h for h, _ in _links(page)}
    assert "/api/indicators?level=powiat&format=xlsx" in hrefs
    assert "/api/indicators?level=powiat&format=csv&dialect=excel-pl" in hrefs
    assert "/api/indicators?level=gmina&powiat=2602&format=xlsx" in hrefs
    assert "/api/entities.geojson?powiat=2602&format=csv&dialect=excel-pl" in hrefs


def test_compare_file_holds_the_compared_units(client):
    from openpyxl import load_workbook
    import io

    wb = load_workbook(io.BytesIO(client.get("/api/indicators?level=powiat&teryt=2602&teryt=2601&format=xlsx").data))
    codes = [r[0] for r in wb["Wskaźniki"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["2601", "2602", "26"]
    assert client.get("/api/indicators?level=powiat&teryt=9999").status_code == 400
    assert client.get("/api/indicators?level=powiat&teryt=26021").status_code == 400


def test_compare_puts_labels_and_reasons_in_separate_cells(client):
    """A place and the reason there is none are separate cells ("miejsce brak podmiotu w rejestrze" was
    a label glued to a reason)."""
    page = client.get("/compare?teryt=2602&teryt=2608").get_data(as_text=True)  # 2608 pińczowski: no entity
    text = re.sub(r"\s+", " ", visible_text(page))
    assert "miejsce brak" not in text and "miejsce za mało" not in text
    table = page[page.index('class="data compare-table"'):page.index("</table>", page.index("compare-table"))]
    header = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table, re.S)
    assert [visible_text(h).strip() for h in header[:5]] == [
        "Wskaźnik", "powiat jędrzejowski", "Miejsce: jędrzejowski", "powiat pińczowski", "Miejsce: pińczowski"]
    row = re.search(r"Podmioty w rejestrze na 10 tys\. mieszkańców</th>(.*?)</tr>", table, re.S).group(1)
    cells = [visible_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert re.fullmatch(r"\d+(–\d+)? z 13 powiatów z wartością", cells[1]) and cells[2] == "0,00"
    assert cells[3] == "brak podmiotu w rejestrze"  # the reason alone in the place's cell


def test_trends_in_the_main_menu(client):
    for url in ("/", "/powiaty/2602", "/entities", "/about"):
        page = client.get(url).get_data(as_text=True)
        menu = re.search(r'<nav aria-label="Główne menu">(.*?)</nav>', page, re.S).group(1)
        assert ("/trendy", "Trendy") in _links(menu), url


def test_voivodeship_rate_missing_from_the_local_copy_is_said_so(client):
    """The mirror has the counties' rates, not the voivodeship's: the benchmark cell says so."""
    text = re.sub(r"\s+", " ", county(client))
    row = re.search(r"Stopa bezrobocia rejestrowanego \(%\) (.*?) Zmiana liczby bezrobotnych", text)
    assert row and "6,0" in row.group(1) and "brak w danych lokalnych" in row.group(1)
    report = re.sub(r"\s+", " ", visible_text(client.get("/powiaty/2602/raport.html").get_data(as_text=True)))
    assert "brak w danych lokalnych" in report


@pytest.mark.parametrize("url", ["/trendy", "/about", "/powiaty/2602", "/powiaty/2602/raport.html"])
def test_every_count_of_entities_or_people_has_the_form_of_its_number(client, url):
    """"280 podmiotów", "3 podmioty", "242 osoby": a unit a data file writes in one form is inflected."""
    from geoes.common.polish import genitive, plural

    text = html.unescape(re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True))).replace("\u00a0", " ")
    found = re.findall(r"(\bz )?(?<![\d,.])(\d{1,3}(?: \d{3})*) (podmiot(?:y|ów|u)?|osob[ay]|osób)\b", text)
    assert found, url
    for after_z, digits, word in found:
        n = int(digits.replace(" ", ""))
        noun = "podmiot" if word.startswith("podmiot") else "osoba"
        # after "z" ("3 z 82 podmiotów") a count takes the genitive
        assert word == (genitive(n, noun) if after_z else plural(n, noun)), (url, after_z, digits, word)
