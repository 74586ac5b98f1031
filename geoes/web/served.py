"""The app's served data (geoes.publish.served) with the dataset pinned once per request.

Every part of a response (headers, cached bodies, layer data) must come from one dataset version even
if a rebuild switches the version while the request runs: `current()` resolves the version once per
request and keeps it in `flask.g`.
"""
from __future__ import annotations

from flask import Flask, current_app, g, has_request_context

from geoes.dataset.reader import Dataset
from geoes.publish.served import ServedData

EXTENSION = "geoes_served"


class RequestServedData(ServedData):
    def current(self) -> Dataset:
        if not has_request_context():
            return self.resolve()
        pinned = g.setdefault("_geoes_datasets", {})
        dataset = pinned.get(id(self))
        if dataset is None:
            dataset = pinned[id(self)] = self.resolve()
        return dataset


def served_data(app: Flask | None = None) -> RequestServedData:
    """The served data of `app` (by default the app handling the request)."""
    return (app or current_app).extensions[EXTENSION]
