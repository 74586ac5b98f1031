"""Every setting is declared once (geoes/config.py SETTINGS) and documented in the README (Datasette's rule)."""
import re

from geoes.config import REPO_DIR, SETTINGS, Settings

README = (REPO_DIR / "README.md").read_text(encoding="utf-8")
SOURCES = [p for d in ("geoes", "scripts", "tests", "benchmarks", ".ci") for p in (REPO_DIR / d).rglob("*")
           if p.is_file() and p.suffix in (".py", ".sh", ".js", "") and "static/vendor" not in str(p)]
SOURCES += [REPO_DIR / "gunicorn.conf.py", REPO_DIR / "run.sh", REPO_DIR / "test.sh"]
# Names that are not settings: the browser global of the map page, and a variable the header tests set
# to prove that no such switch turns debug mode on.
NOT_SETTINGS = {"GEOES_MAP", "GEOES_DEBUG"}


def _mentioned_names() -> set[str]:
    names = set()
    for path in SOURCES:
        try:
            names |= set(re.findall(r"\bGEOES_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
    return names - NOT_SETTINGS


def test_every_setting_is_in_the_readme_table():
    for s in SETTINGS:
        assert re.search(rf"^\|[^\n]*`{s.env}`", README, re.M), f"{s.env} is not in the README's settings table"


def test_every_geoes_name_in_the_code_is_a_declared_setting():
    declared = {s.env for s in SETTINGS}
    undeclared = _mentioned_names() - declared
    assert not undeclared, f"declare these in geoes/config.py SETTINGS and the README: {sorted(undeclared)}"


def test_the_one_reader_layers_defaults_environment_and_overrides(tmp_path):
    cfg = tmp_path / "geoes.cfg"
    cfg.write_text("PAGE_SIZE = 50\nREGION = '12'\n")
    s = Settings.from_env(environ={"GEOES_REGION": "26", "GEOES_WARM_UP": "0"}, instance_file=cfg)
    assert (s.page_size, s.region, s.warm_up) == (50, "26", False)
    s = Settings.from_env({"GEOES_PAGE_SIZE": "7"}, environ={}, instance_file=cfg, region=None)
    assert (s.page_size, s.region) == (7, "12")
    assert Settings.from_env(environ={}, instance_file=None).max_page_size == 10_000


def test_readme_names_the_two_setup_commands():
    assert "./run.sh" in README and "./test.sh" in README
    ci = (REPO_DIR / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.strip().splitlines()[-1] == "./test.sh"
