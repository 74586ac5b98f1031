# gunicorn settings for geoes (`python -m geoes serve` uses this file).
import multiprocessing
import os

bind = os.environ.get("GEOES_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GEOES_WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GEOES_THREADS", 4))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
# Bound request sizes: the service takes no uploads through the web.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GEOES_LOG_LEVEL", "info")
# Load the app in each worker after fork: each keeps its own dataset store.
preload_app = False


def post_worker_init(worker):
    """Prepare the map's first responses in the background as soon as the worker has loaded the app."""
    from geoes.web import start_warm_up

    if getattr(worker, "wsgi", None) is not None and worker.wsgi.config.get("WARM_UP") is not False:
        start_warm_up(worker.wsgi)
