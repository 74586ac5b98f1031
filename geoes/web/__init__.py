"""Flask application factory: pages, GeoJSON API and OGC API – Features over the built dataset.

`create_app` is the one place that puts the app together: settings, the served data (the dataset and
every cache, one object per app), the blueprints, the template environment, the static files
(content-hashed, precompressed: web.assets), compression (web.compression), the error handlers and the
security headers.
"""
from __future__ import annotations

import threading

from flask import Flask, jsonify

from geoes.config import Settings
from geoes.dataset.indicators import LABELS_PL
from geoes.errors import DataMissing, GeoesError
from geoes.publish import templating
from geoes.publish.layers import layer_data
from geoes.web import admin, api, assets, compression, errors, ogc_flask, security
from geoes.web.pagecache import render_nonce
from geoes.web.pages import BLUEPRINTS
from geoes.web.served import EXTENSION, RequestServedData, served_data


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    # One reader of settings (geoes.config): defaults ← instance/geoes.cfg ← GEOES_* ← test_config.
    settings = Settings.from_env(test_config)
    app.config.update(settings.flask_config())
    if test_config:  # Flask's own keys (TESTING…) pass through
        app.config.update({k: v for k, v in test_config.items() if k.isupper()})
    app.json.sort_keys = settings.json_sort_keys
    app.extensions["geoes_settings"] = settings
    # Everything the app caches belongs to this one object: two apps never share cached bytes.
    app.extensions[EXTENSION] = RequestServedData(settings)

    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ogc_flask.bp)
    admin.init_admin(app)  # the operator console under /admin: sessions, CSRF, its blueprint
    install_templates(app)
    assets.install(app, settings.data_dir / "cache" / "static")
    compression.install(app)
    errors.install(app)
    security.install(app)
    if (not app.testing) if settings.warm_up is None else settings.warm_up:
        install_warm_up(app)

    @app.get("/healthz")
    def healthz():
        try:
            ds = served_data(app).current()
        except GeoesError:
            raise  # no dataset: 503 in the one error shape (web.errors)
        except Exception as exc:  # report, don't crash: the health check must answer
            raise DataMissing(f"danych nie da się wczytać: {exc}") from exc
        warm = app.extensions.get("geoes_warm_version") == ds.version
        return jsonify(status="ok", version=ds.version, entities=int(len(ds.entities)), warm=warm)

    return app


def install_templates(app: Flask) -> None:
    """The package's template filters and globals (geoes.publish.templating) on Flask's environment."""
    templating.install(app.jinja_env)

    @app.context_processor
    def _context():
        # The per-request CSP nonce (geoes.web.security): templates put it on every inline <script> (the
        # folium map set-up, the JSON blocks). A page rendered for the page cache gets a placeholder that
        # each request replaces with its own nonce (geoes.web.pagecache).
        return {"csp_nonce": render_nonce(), "labels": LABELS_PL}


# What the public map asks for first: serialised (and gzipped) once per worker and dataset version
# before visitors ask, so the first visitor after a start or a rebuild does not pay for it.
WARM_UP_URLS = ("/api/entities.geojson?view=map", "/api/powiaty.geojson?view=map", "/api/gminy.geojson?view=map",
                "/")


# The zoom the public map's clusters are first asked for (the region fills the view about there).
WARM_UP_CLUSTER_ZOOM = 8


def warm_up_urls(app: Flask) -> list[str]:
    """WARM_UP_URLS for the served version, and its light payload and first clusters; the entity layer's
    map view only where the register is small enough for the map to take every point (above
    GEOES_MAP_SERVER_CLUSTERS it would be a million features serialised for nobody)."""
    urls = list(WARM_UP_URLS)
    try:
        ds = served_data(app).current()
    except Exception:  # no dataset yet: the pages answer 503 anyway
        return urls
    west, south, east, north = (round(float(v), 6) for v in ds.powiaty.total_bounds)
    urls += [f"/api/points.json?v={ds.version}",
             f"/api/clusters?bbox={west},{south},{east},{north}&zoom={WARM_UP_CLUSTER_ZOOM}"]
    placed = int(ds.summary.get("entities_placed", len(ds.entities)))
    if placed > app.extensions["geoes_settings"].map_server_clusters:
        urls.remove("/api/entities.geojson?view=map")
    return urls


def warm_up(app: Flask) -> None:
    with app.test_client() as client:
        for url in warm_up_urls(app):
            try:
                client.get(url, headers={"Accept-Encoding": "gzip"})
            except Exception:  # a warm-up must never take the worker down
                app.logger.exception("rozgrzewanie pamięci podręcznej nie powiodło się: %s", url)
    try:
        # The entity layer's published frame and id index (not its features: those are made as asked):
        # an entity's details for a popup then cost that entity (at 1M the frame takes ~30 s to make).
        with app.app_context():
            layer_data(served_data(app), "entities")
    except Exception:
        app.logger.exception("rozgrzewanie warstwy podmiotów nie powiodło się")
    try:
        app.extensions["geoes_warm_version"] = served_data(app).current().version
    except Exception:
        pass


def start_warm_up(app: Flask) -> None:
    """Warm up in the background (gunicorn calls this in each worker: see gunicorn.conf.py)."""
    threading.Thread(target=warm_up, args=(app,), name="geoes-warm-up", daemon=True).start()


def install_warm_up(app: Flask) -> None:
    # After a rebuild is picked up; the start-up warm-up is the server's (post_worker_init), so that
    # creating an app never fires requests by itself.
    served_data(app).on_new_version.append(lambda _version: start_warm_up(app))
