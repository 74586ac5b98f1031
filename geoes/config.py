"""Settings: one table of every `GEOES_*` name, one reader, and the on-disk layout of the data directory.

`SETTINGS` is the only place a setting is declared (Datasette's rule): its name, default, type and help.
`Settings.from_env` is the only reader: defaults ← `instance/geoes.cfg` (the same keys without the
`GEOES_` prefix) ← environment `GEOES_*` ← explicit overrides (CLI options, the app factory's
`test_config`). The README's settings table is tested against `SETTINGS` (tests/test_docs.py).

Settings of scope `setup` are read by the shell scripts (scripts/setup.sh, test.sh) or by the test
suite; they are declared here too so that one table documents them all.

Everything region-specific is a setting (default: woj. świętokrzyskie, TERYT 26) so the same code
serves another voivodeship or the whole country given its data.
"""
from __future__ import annotations

import multiprocessing
import os
import runpy
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Mapping

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent

# Working CRS for areas, distances and buffers (PUWG 1992, metres) and the publishing CRS.
CRS_METRIC = "EPSG:2180"
CRS_PUBLISH = "EPSG:4326"

ACCESS_RADIUS_M = 10_000
ACTIVE_STATUSES = ("active", "unknown")

PREFIX = "GEOES_"
INSTANCE_FILE = REPO_DIR / "instance" / "geoes.cfg"


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("", "0", "false", "no", "nie", "off")


def parse_optional_bool(value) -> bool | None:
    return None if value is None or str(value).strip() == "" else parse_bool(value)


@dataclass(frozen=True)
class Setting:
    key: str                      # the field of `Settings`; the variable is GEOES_<KEY upper-cased>
    default: object               # a value, or a callable giving it (computed when read)
    help: str                     # Polish, as the README says it
    parse: Callable = str
    scope: str = "app"            # app: read through Settings; setup: read by the scripts or the tests

    @property
    def env(self) -> str:
        return PREFIX + self.key.upper()

    def default_value(self):
        return self.default() if callable(self.default) else self.default


SETTINGS: tuple[Setting, ...] = (
    Setting("region", "26", "kod TERYT województwa"),
    Setting("data_dir", lambda: REPO_DIR / "data", "katalog danych (pobranych i zbudowanych)", Path),
    Setting("page_size", 100, "domyślna liczba obiektów na stronę (`/ogc/.../items`, `/entities`)", int),
    Setting("max_page_size", 10_000, "górna granica `limit`", int),
    Setting("warm_up", None, "po starcie procesu i po każdej przebudowie danych przygotuj z góry odpowiedzi, "
            "o które mapa prosi najpierw (domyślnie tak, poza testami)", parse_optional_bool),
    Setting("filter_time_limit", 1.5, "najdłuższy czas obliczania jednego filtra CQL2 (`filter=`, s); dłuższe "
            "kończy się odpowiedzią 503 z opisem, zamiast zajmować proces serwisu", float),
    Setting("max_content_length", 1024 * 1024, "największe przyjmowane ciało żądania (B)", int),
    Setting("json_sort_keys", False, "kolejność kluczy JSON jak w danych (`False`) albo alfabetyczna", parse_bool),
    Setting("workers", lambda: max(2, multiprocessing.cpu_count()), "liczba procesów gunicorn", int),
    Setting("threads", 4, "wątki w procesie gunicorn", int),
    Setting("bind", "127.0.0.1:8000", "adres i port gunicorn (`serve --host/--port` ma pierwszeństwo)"),
    Setting("log_level", "info", "poziom dziennika gunicorn"),
    Setting("chromium", "", "ścieżka do Chromium dla raportu PDF (domyślnie szukany w PATH)"),
    Setting("contact", "", "adres kontaktowy w nagłówku User-Agent geokodera (zasady Nominatim)"),
    Setting("offline", False, "`geocode` bez usług sieciowych (tylko gazeter)", parse_bool),
    Setting("import_max_bytes", 50 * 1024 * 1024, "największy plik rejestru przyjmowany przez import (B)", int),
    Setting("import_max_unpacked", 100 * 1024 * 1024,
            "największy łączny rozmiar rozpakowanych części skoroszytu XLSX (B); większy to „bomba ZIP”", int),
    Setting("import_max_rows", 100_000, "najwięcej wierszy danych w importowanym pliku rejestru", int),
    # Verification against the Ministry of Justice's open KRS API (`python -m geoes verify`).
    Setting("krs_api", "https://api-krs.ms.gov.pl/api/krs",
            "adres bazowy otwartego API KRS (Ministerstwo Sprawiedliwości) dla `verify`"),
    Setting("krs_rate", 1.0, "`verify`: najwyżej tyle zapytań do API KRS na sekundę", float),
    Setting("krs_timeout", 20.0, "`verify`: limit czasu jednego zapytania do API KRS (s)", float),
    Setting("krs_cache_days", 7, "`verify`: odpisy KRS z pamięci podręcznej młodsze niż tyle dni nie są "
            "pobierane ponownie (0 = zawsze pobieraj)", int),
    # The operator console (/admin): sessions, sign-in throttling and upload limits.
    Setting("secret_key", "", "klucz podpisu ciasteczek sesji konsoli; pusty — generowany raz i trzymany w "
            "`data/console/secret_key` (prawa 0600)"),
    Setting("session_idle_minutes", 30, "sesja konsoli wygasa po tylu minutach bezczynności", int),
    Setting("secure_cookies", False, "ciasteczko sesji zawsze z atrybutem `Secure` (bez tego — gdy żądanie "
            "przyszło przez HTTPS)", parse_bool),
    Setting("proxy_count", 0, "liczba zaufanych serwerów pośredniczących przed serwisem, których nagłówki "
            "`X-Forwarded-For` i `X-Forwarded-Proto` są brane pod uwagę (0 — nagłówki ignorowane)", int),
    Setting("login_max_failures", 10, "tyle nieudanych logowań na konto lub na adres w oknie czasu blokuje "
            "kolejne próby (429)", int),
    Setting("login_window_minutes", 15, "okno czasu liczenia nieudanych logowań (minuty)", int),
    Setting("max_upload_bytes", 10 * 1024 * 1024, "największe żądanie z plikiem rejestru przyjmowane przez konsolę "
            "(B; tylko od zalogowanych; plik ogranicza też `GEOES_IMPORT_MAX_BYTES`)", int),
    # Public reports (/zglos/…): a burst from one address gets 429.
    Setting("report_max_per_window", 5, "tyle zgłoszeń z formularza publicznego przyjmuje serwis z jednego adresu "
            "w oknie czasu; kolejne dostają 429", int),
    Setting("report_window_minutes", 10, "okno czasu liczenia zgłoszeń z jednego adresu (minuty)", int),
    # Many addresses together must not fill the console's store either: past this the form answers 503.
    Setting("report_max_pending", 1000, "tyle zgłoszeń z formularza publicznego może naraz czekać na decyzję "
            "operatora; kolejne dostają 503, dopóki operator nie rozpatrzy części z nich", int),
    Setting("mirror", "", "katalog z kopią danych dla `scripts/setup.sh` (domyślnie ../shared/data, jeśli istnieje)",
            scope="setup"),
    Setting("online", False, "`scripts/setup.sh` pobiera dane z usług urzędowych mimo kopii lokalnej",
            parse_bool, scope="setup"),
    Setting("refetch", False, "`scripts/setup.sh` pobiera dane ponownie, choć już są", parse_bool, scope="setup"),
    Setting("no_apt", False, "`scripts/setup.sh` nie instaluje pakietów systemowych (Chromium, GDAL)",
            parse_bool, scope="setup"),
    Setting("network_tests", False, "testy wymagające internetu (oznaczone `network`) też są uruchamiane",
            parse_bool, scope="setup"),
    # Several instances behind a load balancer: every piece of state in one PostgreSQL + PostGIS database.
    Setting("database_url", "", "adres bazy PostgreSQL z PostGIS (np. `postgresql://geoes:HASŁO@10.0.0.5:5432/geoes`), "
            "w której jest cały stan serwisu: konta, sesje, dziennik, zestawy zmian, kolejka, rejestr i opublikowane "
            "wersje danych — kilka instancji z tym samym adresem serwuje to samo; puste — SQLite i pliki w "
            "`GEOES_DATA_DIR`"),
    # `W pobliżu` on the map: a typed address asks an address geocoder only where one is configured.
    Setting("places_geocoder", "", "adres geokodera adresowego GUGiK (UUG, np. `https://services.gugik.gov.pl/uug/`) "
            "dla pola „Miejscowość lub adres” w `W pobliżu`; puste — tylko gazeter miejscowości (offline), a odległości "
            "od adresu liczone są od jego miejscowości"),
    # Murmurations (`python -m geoes murmurations register`): opt-in, empty means no index is ever asked.
    Setting("murmurations_index", "", "adres API indeksu Murmurations, do którego `murmurations register` "
            "zgłasza profile podmiotów (np. `https://index.murmurations.network/v2`, testowy: "
            "`https://test-index.murmurations.network/v2`); pusty — nic nie jest zgłaszane"),
    # The public map above this many placed entities asks the server for each view's clusters.
    Setting("map_server_clusters", 200_000, "powyżej tylu podmiotów z punktem mapa nie pobiera wszystkich punktów, "
            "tylko skupiska bieżącego widoku liczone na serwerze (`/api/clusters`)", int),
    Setting("session_max_hours", 12, "sesja konsoli kończy się po tylu godzinach od zalogowania, nawet gdy operator "
            "cały czas z niej korzysta", int),
    Setting("reporter_email_days", 90, "e-mail zgłaszającego jest usuwany ze zgłoszenia tyle dni po decyzji "
            "operatora (przyjęciu lub odrzuceniu)", int),
    Setting("upload_job_seconds", 300, "najdłuższy czas odczytu, mapowania i podglądu jednego wczytanego pliku w tle "
            "(s); dłużej trwające zadanie jest przerywane z komunikatem", int),
    Setting("upload_job_memory_mb", 3072, "najwięcej pamięci (przestrzeni adresowej, MB) procesu, który w tle "
            "odczytuje i porównuje wczytany plik; więcej — zadanie kończy się komunikatem", int),
)
APP_SETTINGS = {s.key: s for s in SETTINGS if s.scope == "app"}


def read_instance_file(path: Path = INSTANCE_FILE) -> dict:
    """Keys of `instance/geoes.cfg` (Python syntax, e.g. `PAGE_SIZE = 50`), without the GEOES_ prefix."""
    if not path.is_file():
        return {}
    return {k: v for k, v in runpy.run_path(str(path)).items() if k.isupper()}


def _key_of(name: str) -> str | None:
    key = name[len(PREFIX):] if name.startswith(PREFIX) else name
    key = key.lower()
    return key if key in APP_SETTINGS else None


@dataclass(frozen=True)
class Settings:
    region: str = "26"
    data_dir: Path = field(default_factory=lambda: REPO_DIR / "data")
    page_size: int = 100
    max_page_size: int = 10_000
    filter_time_limit: float = 1.5
    warm_up: bool | None = None
    max_content_length: int = 1024 * 1024
    json_sort_keys: bool = False
    workers: int = 2
    threads: int = 4
    bind: str = "127.0.0.1:8000"
    log_level: str = "info"
    chromium: str = ""
    contact: str = ""
    offline: bool = False
    import_max_bytes: int = 50 * 1024 * 1024
    import_max_unpacked: int = 100 * 1024 * 1024
    import_max_rows: int = 100_000
    krs_api: str = "https://api-krs.ms.gov.pl/api/krs"
    krs_rate: float = 1.0
    krs_timeout: float = 20.0
    krs_cache_days: int = 7
    secret_key: str = ""
    session_idle_minutes: int = 30
    secure_cookies: bool = False
    proxy_count: int = 0
    login_max_failures: int = 10
    login_window_minutes: int = 15
    max_upload_bytes: int = 10 * 1024 * 1024
    report_max_per_window: int = 5
    report_window_minutes: int = 10
    report_max_pending: int = 1000
    database_url: str = ""
    places_geocoder: str = ""
    murmurations_index: str = ""
    map_server_clusters: int = 200_000
    session_max_hours: int = 12
    reporter_email_days: int = 90
    upload_job_seconds: int = 300
    upload_job_memory_mb: int = 3072

    @property
    def uses_database(self) -> bool:
        """All state in PostgreSQL (GEOES_DATABASE_URL) rather than SQLite and files under the data directory."""
        return bool(self.database_url)

    @classmethod
    def from_env(cls, overrides: Mapping | None = None, *, environ: Mapping | None = None,
                 instance_file: Path | None = INSTANCE_FILE, **kwargs) -> "Settings":
        """The one reader. `overrides` and keyword arguments take `Settings` field names or `GEOES_*`
        names; None means "not given" so a CLI option left out does not hide the environment."""
        environ = os.environ if environ is None else environ
        values = {key: s.default_value() for key, s in APP_SETTINGS.items()}
        layers = [read_instance_file(instance_file) if instance_file else {},
                  {k: v for k, v in environ.items() if k.startswith(PREFIX)},
                  dict(overrides or {}), kwargs]
        for layer in layers:
            for name, value in layer.items():
                key = _key_of(name)
                if key is not None and value is not None:
                    values[key] = APP_SETTINGS[key].parse(value)
        return cls(**values)

    def flask_config(self) -> dict:
        """What Flask itself reads, derived from the settings (Flask's own names)."""
        return {"MAX_CONTENT_LENGTH": self.max_content_length}

    # Fetched third-party data (git-ignored).
    @property
    def boundaries_dir(self) -> Path:
        return self.data_dir / "boundaries"

    @property
    def gminy_path(self) -> Path:
        return self.boundaries_dir / "gminy.geojson"

    @property
    def powiaty_path(self) -> Path:
        return self.boundaries_dir / "powiaty.geojson"

    @property
    def region_path(self) -> Path:
        return self.boundaries_dir / "wojewodztwo.geojson"

    @property
    def population_dir(self) -> Path:
        return self.data_dir / "population"

    @property
    def gminy_population_path(self) -> Path:
        return self.population_dir / "gminy.csv"

    @property
    def powiaty_population_path(self) -> Path:
        return self.population_dir / "powiaty.csv"

    @property
    def gazetteer_dir(self) -> Path:
        return self.data_dir / "gazetteer"

    @property
    def localities_path(self) -> Path:
        return self.gazetteer_dir / "miejscowosci.csv"

    @property
    def gmina_points_path(self) -> Path:
        return self.gazetteer_dir / "gminy_punkty.csv"

    @property
    def terc_path(self) -> Path:
        return self.gazetteer_dir / "terc.csv"

    @property
    def official_counts_path(self) -> Path:
        return self.data_dir / "official" / "statystyki_pes.csv"

    @property
    def unemployment_path(self) -> Path:
        return self.data_dir / "needs" / "bezrobocie.csv"

    # The project's own curated file (committed).
    @property
    def entities_path(self) -> Path:
        return self.data_dir / "entities.csv"

    # Build outputs: one directory per dataset version, `current` names the served one.
    @property
    def build_dir(self) -> Path:
        return self.data_dir / "build"

    @property
    def mappings_dir(self) -> Path:
        """Confirmed column mappings of register layouts (the operator's, git-ignored)."""
        return self.data_dir / "mappings"

    @property
    def geocode_cache_path(self) -> Path:
        return self.data_dir / "cache" / "geocode.sqlite"

    @property
    def krs_cache_path(self) -> Path:
        return self.data_dir / "cache" / "krs.sqlite"

    # Proposed changes waiting for an operator's decision (git-ignored; never the register itself).
    @property
    def proposals_path(self) -> Path:
        return self.data_dir / "review" / "proposals.json"


assert {f.name for f in fields(Settings)} == set(APP_SETTINGS), "Settings fields and SETTINGS disagree"
