"""WSGI entry point: `gunicorn app:app` (see gunicorn.conf.py) or `python -m geoes serve`."""
from geoes.web import create_app

app = create_app()
