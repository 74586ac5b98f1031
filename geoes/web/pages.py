"""Placeholder blueprint, replaced by its issue's implementation."""
from flask import Blueprint

bp = Blueprint("pages", __name__)
