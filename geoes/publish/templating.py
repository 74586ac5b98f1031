"""The one Jinja set-up of the package: autoescape on, and the same filters and globals in every template.

`environment(templates_dir)` builds the environment of the county report (geoes.publish.report) and of
the OGC API's HTML views (geoes.publish.ogc.html); `install(env)` puts the shared filters and globals on
any environment — the web factory calls it on Flask's, so the pages have exactly the same.

Filters:
* Polish numbers and words (geoes.common.polish): `num` (number), `percent`, `ratio`, `count`, `plural`,
  `count_genitive` ("z 82 podmiotów"), `date_text` ("6 grudnia 2026"); `in_voivodeship` ("w województwie
  świętokrzyskim", geoes.common.reference);
  `data_num` — `<data value="80370">80 370</data>`, the shown figure with its machine-readable value;
  `show` — a property value of unknown type (yes/no, a fraction the Polish way, anything else as text);
  `cap` — the first letter in upper case;
* escaping (geoes.publish.escape): `text`, `json_script`, `safe_url`, `link`, `split_sources`, and the
  contact links `tel_links`, `mailto_link`, `linkify`.

Globals: `attribution()` (the data sources and licences as a dict) and `attribution_text()`.
"""
from __future__ import annotations

import math
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined
from markupsafe import Markup

from geoes.common.labels import (PRECISION_PL, SOCIAL_ENTERPRISE_PL, STATUS_PL, field_label,
                                 geocoder_label)
from geoes.common.polish import MISSING, count, count_genitive, date_text, is_missing, number, percent, plural, ratio
from geoes.dataset.figures import reasons_text
from geoes.common.reference import attribution, attribution_text, in_voivodeship
from geoes.common.values import plain
from geoes.publish import escape
from geoes.publish.labels import capitalised


def data_num(value, decimals: int | None = None) -> Markup:
    """<data value="80370">80 370</data>: the shown figure (geoes.common.polish) and its machine-readable value."""
    value = plain(value)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return Markup(MISSING)
    raw = value
    try:
        f = float(value)
        raw = int(f) if f == int(f) else round(f, 6)
    except (TypeError, ValueError, OverflowError):
        pass
    return Markup('<data value="%s">%s</data>') % (escape.text(raw), number(value, decimals))


def show(value) -> str:
    """A value of unknown type as a table cell shows it: yes/no in Polish, fractional numbers the Polish way
    (up to 6 decimals), whole numbers as they are (years, codes), "–" if missing."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "tak" if value else "nie"
    if isinstance(value, float):
        return number(value, 6, trim=True)
    return str(value)


def cap(text):
    return capitalised(text) if text else text


def field_value(name: str, value):
    """A value as a Polish reader sees it: codes of status, precision, coordinates' source and the reasons
    of left-out figures in words (geoes.common.labels, geoes.dataset.figures); anything else unchanged."""
    if is_missing(value) or not isinstance(value, str):
        return value
    if name == "status":
        return STATUS_PL.get(value, value)
    if name == "location_precision":
        return PRECISION_PL.get(value, value)
    if name == "social_enterprise":
        return SOCIAL_ENTERPRISE_PL.get(value, value)
    if name == "geocoder":
        return geocoder_label(value)
    if name == "suppressed":
        return "; ".join(f"{field_label(k)}: {v}" for k, v in reasons_text({"suppressed": value}).items())
    return value


FILTERS = {
    "num": number, "percent": percent, "ratio": ratio, "count": count, "plural": plural,
    "count_genitive": count_genitive, "date_text": date_text, "in_voivodeship": in_voivodeship,
    "data_num": data_num, "show": show, "cap": cap,
    "text": escape.text, "json_script": escape.json_script, "safe_url": escape.safe_url, "link": escape.link,
    "link_with_host": escape.link_with_host, "mailto": escape.mailto,
    "split_sources": escape.split_sources, "field_label": field_label, "tel_links": escape.tel_links,
    "mailto_link": escape.mailto_link, "linkify": escape.linkify,
}
GLOBALS = {"attribution": attribution, "attribution_text": attribution_text, "field_value": field_value}


def install(env: Environment) -> None:
    """The shared filters and globals on `env` (Flask's environment or one from `environment`)."""
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)


def environment(templates_dir: Path | str, *, strict: bool = False) -> Environment:
    """An autoescaping environment over `templates_dir` with the shared filters and globals; `strict`
    makes an undefined name an error (the report: a missing figure must not print as nothing)."""
    env = Environment(loader=FileSystemLoader(str(templates_dir)), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined if strict else Undefined)
    install(env)
    return env
