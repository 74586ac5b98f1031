"""Flask application factory: pages, GeoJSON API and OGC API – Features over the built dataset."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify

from ..config import Settings
from .store import DatasetStore


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        GEOES_REGION=None,
        GEOES_DATA_DIR=None,
        MAX_CONTENT_LENGTH=1 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        PAGE_SIZE=100,
        MAX_PAGE_SIZE=10_000,
    )
    app.config.from_pyfile("geoes.cfg", silent=True)
    app.config.from_prefixed_env("GEOES")  # e.g. GEOES_PAGE_SIZE=50
    if test_config:
        app.config.update(test_config)
    settings = Settings.from_env(region=app.config.get("GEOES_REGION") or app.config.get("REGION"),
                                 data_dir=app.config.get("GEOES_DATA_DIR") or app.config.get("DATA_DIR"))
    app.extensions["geoes_settings"] = settings
    app.extensions["geoes_store"] = DatasetStore(settings)

    from . import api, ogc_flask, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ogc_flask.bp)

    @app.get("/healthz")
    def healthz():
        store: DatasetStore = app.extensions["geoes_store"]
        try:
            ds = store.current()
        except Exception as exc:  # report, don't crash: the health check must answer
            return jsonify(status="error", message=str(exc)), 503
        return jsonify(status="ok", version=ds.version, entities=int(len(ds.entities)))

    return app


def get_store(app: Flask | None = None) -> DatasetStore:
    from flask import current_app

    return (app or current_app).extensions["geoes_store"]
