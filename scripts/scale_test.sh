#!/usr/bin/env bash
# Several instances on one PostgreSQL behind nginx, on this machine (loopback only): a bounded load while an
# operator publishes and one instance is killed. Prints one line (requests, errors, versions seen, p50/p99)
# and exits 0 only with 0 errors and every version complete. Needs postgresql-15, postgresql-15-postgis-3
# and nginx (scripts/setup.sh installs them). Options: --seconds N --threads N --max-requests N --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/scale_test.py "$@"
