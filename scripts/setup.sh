#!/usr/bin/env bash
# Install everything geoes needs and prepare its data. Idempotent: quick when already done.
#   GEOES_MIRROR=DIR   take boundaries/population from a local mirror (default: ../shared/data if present)
#   GEOES_ONLINE=1     ignore any mirror and fetch from GUGiK ULDK / GUS BDL
#   GEOES_NO_APT=1     do not install system packages (Chromium, GDAL tools, LibreOffice Calc, PostgreSQL+PostGIS,
#                      nginx)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! cmp -s requirements-dev.txt .venv/.installed-dev 2>/dev/null || ! cmp -s requirements.txt .venv/.installed 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
  cp requirements.txt .venv/.installed
  cp requirements-dev.txt .venv/.installed-dev
fi

# ogctests (the OGC API – Features test suite) pins pytest<9: it gets its own environment inside .venv.
if ! cmp -s requirements-ogctests.txt .venv/ogctests/.installed 2>/dev/null; then
  "$PY" -m venv .venv/ogctests
  .venv/ogctests/bin/python -m pip install --quiet -r requirements-ogctests.txt
  cp requirements-ogctests.txt .venv/ogctests/.installed
fi

# System packages: headless Chromium for the browser tests, GDAL's ogrinfo/ogr2ogr and its GeoPackage
# validator (python3-gdal) for the OGC API and download checks, LibreOffice Calc for the office files;
# PostgreSQL 15 with PostGIS and nginx for the several-instances deployment (GEOES_DATABASE_URL): its tests
# and scripts/scale_test.sh start them in temporary directories (Debian's packages start no service here).
PG_BIN=/usr/lib/postgresql/15/bin
if [ -z "${GEOES_NO_APT:-}" ] && { ! command -v chromium >/dev/null || ! command -v ogrinfo >/dev/null \
     || ! command -v soffice >/dev/null || [ ! -x "$PG_BIN/initdb" ] || ! command -v nginx >/dev/null \
     || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; }; then
  if [ "$(id -u)" = 0 ]; then
    # Wait for another apt or dpkg (unattended upgrades, a parallel set-up) instead of failing on its lock.
    APT_WAIT=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
    for attempt in 1 2 3 4 5 6; do
      apt-get "${APT_WAIT[@]}" update -qq && break
      echo "apt-get update: próba $attempt nieudana (blokada lub sieć), ponawiam za 20 s" >&2
      sleep 20
    done
    DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -qq chromium gdal-bin python3-gdal \
      libreoffice-calc-nogui fonts-dejavu-core postgresql-15 postgresql-15-postgis-3 nginx >/dev/null
  else
    echo "Uwaga: brak chromium/ogrinfo/soffice/PostgreSQL/nginx; zainstaluj: sudo apt-get install chromium gdal-bin" \
         "python3-gdal libreoffice-calc-nogui postgresql-15 postgresql-15-postgis-3 nginx" >&2
  fi
fi

# Browser-side test tools (axe-core) from package-lock.json.
if command -v npm >/dev/null && ! cmp -s package-lock.json node_modules/.package-lock.json.installed 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.json.installed
fi

MIRROR=${GEOES_MIRROR:-}
if [ -z "$MIRROR" ] && [ -z "${GEOES_ONLINE:-}" ] && [ -d ../shared/data ]; then
  MIRROR=../shared/data
fi
if [ ! -f data/boundaries/gminy.geojson ] || [ -n "${GEOES_REFETCH:-}" ]; then
  if [ -n "$MIRROR" ]; then
    .venv/bin/python -m geoes fetch --mirror "$MIRROR"
  else
    .venv/bin/python -m geoes fetch
  fi
fi
if [ ! -L data/build/current ] || [ data/entities.csv -nt data/build/current ]; then
  .venv/bin/python -m geoes build
fi
