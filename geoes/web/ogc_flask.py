"""Thin Flask adapter of the OGC API – Features core (geoes.publish.ogc): routes under /ogc.

Each view builds an `OGCRequest` from the Flask request, calls the core and turns its
(headers, status, content) into a response with ETag/304, gzip, Cache-Control and CORS (web.http).
"""
from __future__ import annotations

from flask import Blueprint, current_app, request

from geoes.publish import ogc
from geoes.publish.ogc import core
from geoes.web.http import core_response, install_cors, json_error
from geoes.web.served import served_data

bp = Blueprint("ogc_flask", __name__, url_prefix="/ogc")
install_cors(bp)

GET = ["GET", "HEAD", "OPTIONS"]
OTHER_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


def _request() -> ogc.OGCRequest:
    root = request.url_root.rstrip("/")
    settings = current_app.extensions["geoes_settings"]
    return ogc.OGCRequest(
        base_url=root + "/ogc",
        args=request.args,
        accept=request.headers.get("Accept", ""),
        page_size=settings.page_size,
        max_page_size=settings.max_page_size,
        filter_time_limit=settings.filter_time_limit,
        site_root=root,
    )


@bp.route("", methods=GET, strict_slashes=False)
def landing():
    return core_response(core.landing(served_data(), _request()))


@bp.route("/conformance", methods=GET)
def conformance():
    return core_response(core.conformance(served_data(), _request()))


@bp.route("/api", methods=GET)
def api_document():
    return core_response(core.api_document(served_data(), _request()))


@bp.route("/collections", methods=GET)
def collections():
    return core_response(core.collections(served_data(), _request()))


@bp.route("/collections/<cid>", methods=GET)
def collection(cid: str):
    return core_response(core.collection(served_data(), _request(), cid))


@bp.route("/collections/<cid>/queryables", methods=GET)
def queryables(cid: str):
    return core_response(core.queryables(served_data(), _request(), cid))


@bp.route("/collections/<cid>/items", methods=GET)
def items(cid: str):
    return core_response(core.items(served_data(), _request(), cid))


@bp.route("/collections/<cid>/items/<path:fid>", methods=GET)
def item(cid: str, fid: str):
    return core_response(core.item(served_data(), _request(), cid, fid))


@bp.route("/<path:rest>", methods=GET)
def unknown(rest: str):
    return core_response(core.not_found_response(request.path))


@bp.route("", methods=OTHER_METHODS, strict_slashes=False)
@bp.route("/<path:rest>", methods=OTHER_METHODS)
def read_only(rest: str = ""):
    resp = json_error(405, "MethodNotAllowed", "API tylko do odczytu: dozwolone GET, HEAD, OPTIONS")
    resp.headers["Allow"] = "GET, HEAD, OPTIONS"
    return resp
