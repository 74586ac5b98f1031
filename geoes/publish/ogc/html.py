"""HTML views of the OGC API resources: the package's one Jinja set-up (geoes.publish.templating:
autoescape on, so every entity text is shown as text; links to outside pages only ever http(s))."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment

from geoes.publish.templating import environment as templating_environment

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=4)
def environment(templates_dir: str = str(TEMPLATES_DIR)) -> Environment:
    return templating_environment(templates_dir)


def render(template: str, templates_dir: Path | str = TEMPLATES_DIR, **context) -> bytes:
    return environment(str(templates_dir)).get_template(template).render(**context).encode("utf-8")
