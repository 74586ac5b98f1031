# gunicorn settings for geoes (`python -m geoes serve` uses this file).
# Values come from the one settings table (geoes/config.py): GEOES_BIND, GEOES_WORKERS, GEOES_THREADS,
# GEOES_LOG_LEVEL.
from geoes.config import Settings

_settings = Settings.from_env()
bind = _settings.bind
workers = _settings.workers
threads = _settings.threads
worker_class = "gthread"
# A worker's heartbeat, not a request's limit (gthread): loading a national register's version (1M
# entities: ~45 s and 2 GB per worker on a busy 2-core machine) starves the heartbeat of a worker that is
# alive, and at 60 s gunicorn killed it over and over before it ever answered.
timeout = 300
graceful_timeout = 30
keepalive = 5
# Bound the request line and headers (bodies: GEOES_MAX_CONTENT_LENGTH, GEOES_MAX_UPLOAD_BYTES in the app).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
# Client addresses in the access log truncated (/24, /48): geoes.web.gunicorn_support.
logger_class = "geoes.web.gunicorn_support.TruncatedAddressLogger"
loglevel = _settings.log_level
# Load the app in each worker after fork: each keeps its own served data (dataset and caches).
preload_app = False


def post_worker_init(worker):
    """Prepare the map's first responses in the background as soon as the worker has loaded the app."""
    from geoes.web import start_warm_up

    if getattr(worker, "wsgi", None) is not None and worker.wsgi.extensions["geoes_settings"].warm_up is not False:
        start_warm_up(worker.wsgi)


def on_starting(server):
    """A control socket of this instance under the data directory (or none), not the one every gunicorn of
    the user shares (~/.gunicorn/gunicorn.ctl). The bind is known here, after the command line."""
    from geoes.web.gunicorn_support import control_socket_path

    path = control_socket_path(_settings.data_dir, list(server.cfg.bind))
    if path is None:
        server.cfg.set("control_socket_disable", True)
    else:
        server.cfg.set("control_socket", str(path))
