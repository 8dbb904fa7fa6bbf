#!/usr/bin/env bash
# Start a local PostgreSQL server from Debian's packages for the API tests, and print the URL
# they use (GEOPRIO_TEST_DATABASE_URL). Idempotent; run as root (CI and the developers'
# machines are). Usage: export GEOPRIO_TEST_DATABASE_URL=$(bash scripts/start_postgres.sh)
# It also creates the database geoprio_gis (owner geoprio) with the PostGIS extension, for the
# PostGIS source and sink tests (tests/io/test_postgis*.py, tests/cli/test_cli_db.py), which
# use the same server and role with that database name.
set -euo pipefail
if ! command -v pg_lsclusters >/dev/null; then
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; } >&2
fi
read -r version cluster < <(pg_lsclusters --no-header | awk 'NR==1 {print $1, $2}')
if [ -z "${version:-}" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  cluster=main
  pg_createcluster "$version" "$cluster" >&2
fi
status=$(pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $4}')
[ "$status" = online ] || pg_ctlcluster "$version" "$cluster" start >&2
port=$(pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $3}')
runuser -u postgres -- psql -qtAc "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'geoprio') THEN
    CREATE ROLE geoprio LOGIN PASSWORD 'geoprio' CREATEDB;
  END IF;
END \$\$;" >&2
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'geoprio_test'" | grep -q 1 \
  || runuser -u postgres -- createdb -O geoprio geoprio_test >&2
# PostGIS: Debian's postgresql-<version>-postgis-3, for the server's version.
if [ ! -f "/usr/share/postgresql/${version}/extension/postgis.control" ]; then
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "postgresql-${version}-postgis-3"; } >&2
fi
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'geoprio_gis'" | grep -q 1 \
  || runuser -u postgres -- createdb -O geoprio geoprio_gis >&2
runuser -u postgres -- psql -d geoprio_gis -qtAc "CREATE EXTENSION IF NOT EXISTS postgis" >&2
echo "postgresql://geoprio:geoprio@127.0.0.1:${port}/geoprio_test"
