"""HTML views of the OGC API resources: Jinja templates with autoescape on, so every entity text is
shown as text. Links to outside pages are only ever http(s)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from geoes.common.polish import MISSING, is_missing, number
from geoes.publish.escape import safe_url  # the one escaping helper, shared with the pages and maps
from geoes.common.reference import attribution_text

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def show(value) -> str:
    """A property value as the HTML views show it: yes/no in Polish, fractional numbers the Polish way
    (geoes.common.polish, up to 6 decimals); whole numbers as they are (years, codes)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "tak" if value else "nie"
    if isinstance(value, float):
        return number(value, 6, trim=True)
    return str(value)


@lru_cache(maxsize=4)
def environment(templates_dir: str = str(TEMPLATES_DIR)) -> Environment:
    env = Environment(loader=FileSystemLoader(templates_dir), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_url"] = safe_url
    env.filters["show"] = show
    env.globals["attribution"] = attribution_text()
    return env


def render(template: str, templates_dir: Path | str = TEMPLATES_DIR, **context) -> bytes:
    return environment(str(templates_dir)).get_template(template).render(**context).encode("utf-8")
