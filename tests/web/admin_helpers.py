"""Helpers of the console's web tests: a private built data dir with one operator, signing in with the
form's own CSRF token."""
from __future__ import annotations

import re

PASSWORD = "kasztan-jedrzejow-2026"


def make_admin_app(built_settings, data_dir, operators=("anna",), **config):
    from conftest import clone_settings
    from geoes.console import accounts
    from geoes.console.db import connect
    from geoes.web import create_app
    from geoes.web.served import served_data

    data_dir.mkdir(exist_ok=True)
    settings = clone_settings(built_settings, data_dir, with_build=True)
    conn = connect(settings)
    for login in operators:
        accounts.add_user(conn, login, PASSWORD)
    conn.close()
    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": "26", **config})
    served_data(app).check_interval = 0  # the public site sees a publish at once
    return app, settings


def token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def sign_in(client, login="anna", password=PASSWORD, base_url=None, headers=None):
    """Sign in through the form. Over HTTPS Flask-WTF also wants a same-origin Referer, as browsers send."""
    kw = {"base_url": base_url} if base_url else {}
    headers = dict(headers or {})
    t = token(client.get("/admin/login", headers=headers, **kw).get_data(as_text=True))
    if (base_url or "").startswith("https://") or headers.get("X-Forwarded-Proto") == "https":
        headers.setdefault("Referer", "https://localhost/admin/login")
    return client.post("/admin/login", data={"login": login, "password": password, "csrf_token": t},
                       headers=headers, **kw)


def page_token(client, path="/admin/") -> str:
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return token(r.get_data(as_text=True))


def follow_job(client, response, timeout: float = 120):
    """After an upload or another step that makes a preview: follow the progress page (which refreshes
    itself while the job runs in the background) to its end — the redirect to the change set (or the
    page the job names), or the page that says why it failed."""
    import time

    deadline = time.time() + timeout
    while response.status_code in (302, 303) and "/admin/jobs/" in response.headers["Location"]:
        url = response.headers["Location"]
        while True:
            response = client.get(url)
            if response.status_code != 200 or 'data-job-open="1"' not in response.get_data(as_text=True):
                break
            assert time.time() < deadline, f"job {url} still running after {timeout} s"
            time.sleep(0.2)
    return response
