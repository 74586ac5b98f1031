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
