"""Signing in and out of the console."""
from __future__ import annotations

from flask import redirect, request, url_for

from geoes.console import accounts, audit
from geoes.console.db import transaction
from geoes.web.admin.core import (actor, bp, client_address, current_user, db, flash_ok, form_text, render,
                                  safe_next, settings, sign_in, sign_out)


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url)
        return render("login.html", next=next_url)
    login_name = form_text("login", 64)
    password = (request.form.get("password") or "")[:accounts.MAX_PASSWORD]
    try:
        user = accounts.authenticate(db(), settings(), login_name, password, client_address())
    except accounts.Throttled as exc:
        resp, status = render("login.html", 429, next=next_url, login=login_name, error=exc.description)
        return resp, status, {"Retry-After": str(exc.retry_after)}
    if user is None:
        return render("login.html", 200, next=next_url, login=login_name,
                      error="Nieprawidłowa nazwa użytkownika lub hasło.")
    sign_in(user)
    flash_ok(f"Zalogowano jako {user.login}.")
    return redirect(next_url)


@bp.post("/logout")
def logout():
    who = actor()
    with transaction(db()):
        audit.record(db(), who, "sign_out", who)
    sign_out()
    flash_ok("Wylogowano.")
    return redirect(url_for("admin.login"))
