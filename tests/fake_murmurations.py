"""A local stand-in for a Murmurations Index (API version 2), for offline tests.

One `ThreadingHTTPServer` on 127.0.0.1 (port 0) answers like the real Index
(MurmurationsNetwork/MurmurationsServices, services/index):

* `POST /v2/nodes` with `{"profile_url": …}` → 200 `{"data": {"node_id": sha256(url)}}`; a body that is not
  JSON → 400 "JSON Error"; no `profile_url` → 400 "Missing Required Property"; a URL that is not http(s)
  or whose host has no dot → 400 "Invalid Profile URL" (the real Index's own rule) — errors as
  `{"errors": [{"status", "title", "detail"}]}`. The node is `received`.
* `GET /v2/nodes/{node_id}` → the node: the first time after a POST, the fake does what the Index does in
  the background — fetches the profile and checks it (JSON object with `linked_schemas` and `name`):
  200 `{"data": {"node_id", "profile_url", "profile_hash", "status": "posted", "last_updated"}}`, or the
  failure as `{"errors": [...], "meta": {"node_id", "profile_url"}}` with the error's status (400 for a
  profile it cannot fetch or read); an unknown id → 404 "Node Not Found".

`down = True` answers 503 to everything. Every request is logged in `requests` as (method, path, body).
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def _error(status: int, title: str, detail: str) -> dict:
    return {"status": status, "title": title, "detail": detail}


class FakeIndex:
    def __init__(self):
        self.nodes: dict[str, dict] = {}
        self.requests: list[tuple[str, str, object]] = []
        self.down = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict):
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append(("POST", self.path, raw))
                if fake.down:
                    return self._send(503, {"errors": [_error(503, "Service Unavailable", "down")]})
                if self.path != "/v2/nodes":
                    return self._send(404, {"errors": [_error(404, "Not Found", self.path)]})
                try:
                    url = json.loads(raw).get("profile_url") or ""
                except (ValueError, AttributeError):
                    return self._send(400, {"errors": [_error(400, "JSON Error",
                                                              "The JSON document submitted could not be parsed.")]})
                if not url:
                    return self._send(400, {"errors": [_error(400, "Missing Required Property",
                                                              "The `profile_url` property is required.")]})
                parts = urlsplit(url)
                if parts.scheme not in ("http", "https") or "." not in (parts.hostname or ""):
                    return self._send(400, {"errors": [_error(400, "Invalid Profile URL",
                                                              "The `profile_url` is not a valid URL.")]})
                node_id = hashlib.sha256(url.encode("utf-8")).hexdigest()
                fake.nodes[node_id] = {"node_id": node_id, "profile_url": url, "status": "received"}
                self._send(200, {"data": {"node_id": node_id}})

            def do_GET(self):
                fake.requests.append(("GET", self.path, None))
                if fake.down:
                    return self._send(503, {"errors": [_error(503, "Service Unavailable", "down")]})
                node_id = self.path.rsplit("/", 1)[-1]
                node = fake.nodes.get(node_id) if self.path.startswith("/v2/nodes/") else None
                if node is None:
                    return self._send(404, {"errors": [_error(404, "Node Not Found",
                                                              f"Could not locate the following node_id in the Index: {node_id}")]})
                if node["status"] == "received":
                    fake.validate(node)
                if node["status"] == "validation_failed":
                    return self._send(node["errors"][0]["status"], {"errors": node["errors"], "meta": {
                        "node_id": node_id, "profile_url": node["profile_url"]}})
                self._send(200, {"data": {k: node[k] for k in ("node_id", "profile_url", "profile_hash", "status",
                                                               "last_updated")}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v2"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def validate(self, node: dict) -> None:
        """What the Index does after a POST: fetch the profile and check it."""
        try:
            with urllib.request.urlopen(node["profile_url"], timeout=30) as r:
                raw = r.read()
            profile = json.loads(raw)
        except Exception as exc:  # any failure to fetch or read is the profile's failure
            node.update(status="validation_failed",
                        errors=[_error(400, "Profile Not Found", f"Could not read the profile: {exc}")])
            return
        if not isinstance(profile, dict) or not profile.get("linked_schemas") or not profile.get("name"):
            node.update(status="validation_failed",
                        errors=[_error(422, "Failed to Validate Against Schema", "linked_schemas and name are required")])
            return
        node.update(status="posted", profile_hash=hashlib.sha256(raw).hexdigest(), last_updated=int(time.time()))

    def posted_urls(self) -> list[str]:
        return [json.loads(body)["profile_url"] for method, path, body in self.requests
                if method == "POST" and path == "/v2/nodes"]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
