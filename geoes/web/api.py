"""Placeholder blueprint, replaced by its issue's implementation."""
from flask import Blueprint

bp = Blueprint("api", __name__)
