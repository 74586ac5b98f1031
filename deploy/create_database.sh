#!/usr/bin/env bash
# Create the database of several geoes instances on the PostgreSQL server (Debian: postgresql-15,
# postgresql-15-postgis-3), as the `postgres` superuser: a role `geoes` that owns the database, and the
# extensions the service needs (PostGIS needs a superuser; citext is trusted). Then, from any machine with
# the region's data and GEOES_DATABASE_URL set: `python -m geoes db init` (schema, region files, register,
# first version) and `python -m geoes users add LOGIN --password-stdin`.
#   sudo -u postgres deploy/create_database.sh 'HASŁO'
set -euo pipefail
PASSWORD=${1:?podaj hasło roli geoes}
psql -v ON_ERROR_STOP=1 --set=pw="$PASSWORD" <<'SQL'
CREATE ROLE geoes LOGIN PASSWORD :'pw';
CREATE DATABASE geoes OWNER geoes ENCODING 'UTF8' TEMPLATE template0;
\connect geoes
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS citext;
SQL
echo "Gotowe. Na instancjach: GEOES_DATABASE_URL=postgresql://geoes:HASŁO@$(hostname -f):5432/geoes"
