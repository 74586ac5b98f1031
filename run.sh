#!/usr/bin/env bash
# Install, get the data, build and start the service on http://127.0.0.1:${PORT:-8000}/
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/python -m geoes serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
