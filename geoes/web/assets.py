"""Static files as browsers get them: a name per content, compressed once, cached for a year.

`collect(static_dir, out_dir)` prepares what is served under /static/ and returns the `Manifest` (logical
name → content-hashed name):

* every file under geoes/web/static gets a content-hashed name (`css/geoes.3f9a0c1d2e4b.css`): a changed
  file is a new URL, so each one is served with `Cache-Control: public, max-age=31536000, immutable`;
* the map pages' libraries are two bundles, so a phone opens two connections instead of ten:
  `js/map-vendor.js` (Leaflet and its plugins, in load order) and `css/map.css` (their stylesheets, with
  `url(...)` references rewritten to the hashed image names); `css/site.css` is geoes.css plus the
  entity-type and class colours (from the reference data), the one stylesheet that blocks rendering;
* text files are stored with gzip (level 9) and brotli (quality 11) beside them, compressed once: the
  names are content hashes, so a file already there is already right; writes are atomic, so workers
  that collect at the same time never see half a file.

`install(app, manifest, ...)` puts WhiteNoise (serving precompressed files, br or gzip as the client asks)
in front of the app for /static/ and gives templates `asset(name)`, the URL of a logical name. The
unhashed names stay reachable (short cache) for anything that still asks for them.

`img/icons.svg` is the SVG sprite of the icons the pages use (Font Awesome Free SVGs, CC BY 4.0, vendored
by scripts/vendor_assets.sh): a dozen icons in one small file cached for a year, instead of a 159 KB font;
`icon(name)` draws one with `<use href="…/icons.<hash>.svg#i-NAME">`.
"""
from __future__ import annotations

import gzip
import hashlib
import posixpath
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from flask import Flask, current_app, request
from markupsafe import Markup
from whitenoise import WhiteNoise

from geoes.common.atomic import atomic_write_bytes
from geoes.common.reference import entity_types
from geoes.publish.classes import CLASS_COLORS, HIGHLIGHT_COLOR, NEED_COLORS, ZERO_COLOR

STATIC_DIR = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
MUTABLE_MAX_AGE = 300  # unhashed names: a deploy is visible within minutes
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".txt", ".md", ".map", ".html")
HASH_LEN = 12

# The map pages' libraries in load order (each plugin after Leaflet); their stylesheets likewise.
MAP_VENDOR_JS = ("vendor/leaflet/leaflet.js", "vendor/supercluster/supercluster.min.js",
                 "vendor/fullscreen/Control.FullScreen.js", "vendor/locatecontrol/L.Control.Locate.min.js",
                 "vendor/gesture-handling/leaflet-gesture-handling.min.js")
MAP_CSS = ("vendor/leaflet/leaflet.css", "vendor/markercluster/MarkerCluster.css",
           "vendor/markercluster/MarkerCluster.Default.css", "vendor/fullscreen/Control.FullScreen.css",
           "vendor/locatecontrol/L.Control.Locate.min.css",
           "vendor/gesture-handling/leaflet-gesture-handling.min.css")
ICONS_DIR = "vendor/fontawesome/svgs/solid"
UI_ICONS = ("share-nodes", "location-crosshairs", "sliders", "xmark")

_URL_REF = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)""")
_SOURCE_MAP = re.compile(rb"^\s*(//|/\*)# sourceMappingURL=.*$", re.M)


@dataclass
class Manifest:
    """Logical name (`css/site.css`) → hashed name (`css/site.1a2b3c4d5e6f.css`), and where each is."""
    names: dict[str, str] = field(default_factory=dict)
    out_dir: Path | None = None

    def hashed(self, name: str) -> str:
        return self.names[name]


def hashed_name(name: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:HASH_LEN]
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{digest}.{ext}" if dot and "/" not in ext else f"{name}.{digest}"


def types_css() -> str:
    """Colours of the entity types and of the map classes as classes (no inline styles: CSP-friendly)."""
    lines = [f".geoes-type-{code}{{background-color:{t.color};}}" for code, t in entity_types().items()]
    lines += [f".geoes-color-{c[1:]}{{background-color:{c};}}" for c in [*CLASS_COLORS, *NEED_COLORS, ZERO_COLOR, HIGHLIGHT_COLOR]]
    return "\n".join(lines) + "\n"


def rewrite_css(css: str, css_name: str, target_dir: str, names: dict[str, str]) -> str:
    """Point the relative url(...) references of `css_name` (a logical name) at the hashed names, relative
    to `target_dir` (where the stylesheet is served from)."""
    base = posixpath.dirname(css_name)

    def repl(m):
        ref = m.group(2)
        if ref.startswith(("data:", "#", "/", "http:", "https:")):
            return m.group(0)
        logical = posixpath.normpath(posixpath.join(base, ref.split("?")[0].split("#")[0]))
        if logical not in names:
            return m.group(0)
        # Leaflet finds its default marker images by stripping "marker-icon.png" from this reference: it
        # keeps its name (served briefly cached, like every unhashed name).
        served = logical if logical.endswith("/marker-icon.png") else names[logical]
        return f'url("{posixpath.relpath(served, target_dir)}")'
    return _URL_REF.sub(repl, css)


def _bundle_js(paths: tuple[str, ...]) -> bytes:
    # Source-map comments would point at maps that are not served; ";" guards a file without one.
    return b"\n;\n".join(_SOURCE_MAP.sub(b"", (STATIC_DIR / p).read_bytes()).rstrip() for p in paths) + b"\n"


def _sources(static_dir: Path) -> dict[str, bytes]:
    """Every file under static_dir by logical name (the unhashed path below static/)."""
    return {p.relative_to(static_dir).as_posix(): p.read_bytes()
            for p in sorted(static_dir.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def build(static_dir: Path = STATIC_DIR) -> dict[str, bytes]:
    """Logical name → content of everything served: the sources (CSS with rewritten references) and the
    generated files (bundles, site.css). Hash names are assigned in `collect`."""
    files = _sources(static_dir)
    # Images and other referenced files first: stylesheets refer to their hashed names.
    names = {n: hashed_name(n, d) for n, d in files.items() if not n.endswith(".css")}
    out = {n: files[n] for n in names}
    for n, d in files.items():
        if n.endswith(".css"):
            out[n] = rewrite_css(d.decode("utf-8"), n, posixpath.dirname(hashed_name(n, d)), names).encode("utf-8")
    site = files.get("css/geoes.css", b"").decode("utf-8") + "\n/* entity types and map classes */\n" + types_css()
    out["css/site.css"] = site.encode("utf-8")
    out["css/map.css"] = "\n".join(
        f"/* {p} */\n" + rewrite_css(files[p].decode("utf-8"), p, "css", names) for p in MAP_CSS if p in files
    ).encode("utf-8")
    out["js/map-vendor.js"] = _bundle_js(tuple(p for p in MAP_VENDOR_JS if p in files))
    out["img/icons.svg"] = sprite(static_dir).encode("utf-8")
    return out


_compressed: dict[tuple[str, str], bytes] = {}  # (sha256, encoding) → bytes: once per process and content
_lock = threading.Lock()


def _compress(data: bytes, encoding: str) -> bytes:
    key = (hashlib.sha256(data).hexdigest(), encoding)
    with _lock:
        hit = _compressed.get(key)
    if hit is None:
        hit = brotli.compress(data, quality=11) if encoding == "br" else gzip.compress(data, 9, mtime=0)
        with _lock:
            _compressed[key] = hit
    return hit


def collect(out_dir: Path, static_dir: Path = STATIC_DIR) -> Manifest:
    """Write every served file under its hashed name into out_dir (with .gz and .br), skipping those
    already there."""
    manifest = Manifest(out_dir=out_dir)
    for name, data in build(static_dir).items():
        hashed = hashed_name(name, data)
        manifest.names[name] = hashed
        target = out_dir / hashed
        if not target.exists():
            atomic_write_bytes(target, data)
        if name.endswith(COMPRESSIBLE) and len(data) > 256:
            for encoding, suffix in (("gzip", ".gz"), ("br", ".br")):
                variant = target.with_name(target.name + suffix)
                if not variant.exists():
                    atomic_write_bytes(variant, _compress(data, encoding))
    return manifest


class StaticFiles(WhiteNoise):
    """WhiteNoise with the project's cache rule: hashed names for a year, immutable; others briefly."""

    def __init__(self, application, hashed: set[str], **kwargs):
        self.hashed_urls = hashed
        super().__init__(application, max_age=MUTABLE_MAX_AGE, **kwargs)

    def add_cache_headers(self, headers, path, url):
        if url in self.hashed_urls:
            headers["Cache-Control"] = IMMUTABLE
        else:
            headers["Cache-Control"] = f"public, max-age={MUTABLE_MAX_AGE}"
        headers["X-Content-Type-Options"] = "nosniff"


def install(app: Flask, out_dir: Path) -> Manifest:
    """Collect the static files, serve them with WhiteNoise and give templates `asset()` and `icons`."""
    try:
        manifest = collect(out_dir)
    except OSError as exc:  # a read-only data directory: this process keeps its own copy
        out_dir = Path(tempfile.mkdtemp(prefix="geoes-static-"))
        app.logger.warning("pliki statyczne w %s (nie da się pisać do katalogu danych: %s)", out_dir, exc)
        manifest = collect(out_dir)
    prefix = "/" + (app.static_url_path or "/static").strip("/") + "/"
    hashed_urls = {prefix + h for h in manifest.names.values()}
    static = StaticFiles(app.wsgi_app, hashed_urls)
    static.add_files(str(STATIC_DIR), prefix=prefix)  # unhashed names (short cache)
    static.add_files(str(out_dir), prefix=prefix)  # hashed names, with their .gz/.br
    app.wsgi_app = static
    app.extensions["geoes_assets"] = manifest

    def asset(name: str) -> str:
        return request.script_root + prefix + manifest.hashed(name)

    app.jinja_env.globals.update(asset=asset, icon=icon)
    return manifest


def asset_url(app: Flask, name: str) -> str:
    """The URL of a logical static name in a request of `app` (for code outside templates)."""
    return app.jinja_env.globals["asset"](name)


def icon_names() -> list[str]:
    return sorted({t.icon for t in entity_types().values()} | set(UI_ICONS))


def sprite(static_dir: Path = STATIC_DIR) -> str:
    """The SVG sprite: a <symbol id="i-NAME"> per icon (served as img/icons.svg)."""
    symbols = []
    for name in icon_names():
        svg = (static_dir / ICONS_DIR / f"{name}.svg").read_text(encoding="utf-8")
        view_box = re.search(r'viewBox="([^"]+)"', svg).group(1)
        paths = "".join(re.findall(r"<path [^>]*/>", svg))
        symbols.append(f'<symbol id="i-{name}" viewBox="{view_box}">{paths}</symbol>')
    return ('<svg xmlns="http://www.w3.org/2000/svg">'
            "<!-- Font Awesome Free 6.7.2, icons CC BY 4.0: https://fontawesome.com/license/free -->"
            + "".join(symbols) + "</svg>\n")


def sprite_url() -> str:
    """The sprite's URL in this request (the app's path prefix included)."""
    return current_app.jinja_env.globals["asset"]("img/icons.svg")


def icon(name: str, cls: str = "icon") -> Markup:
    """An icon from the sprite (decorative: hidden from assistive technology)."""
    safe = name if re.fullmatch(r"[a-z0-9-]+", name or "") else "circle"
    return Markup(f'<svg class="{cls}" aria-hidden="true" focusable="false">'
                  f'<use href="{sprite_url()}#i-{safe}"></use></svg>')
