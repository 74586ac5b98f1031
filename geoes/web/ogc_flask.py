"""Placeholder blueprint, replaced by its issue's implementation."""
from flask import Blueprint

bp = Blueprint("ogc_flask", __name__)
