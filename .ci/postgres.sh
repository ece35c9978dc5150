#!/usr/bin/env bash
# Installs (from Debian's packages) and starts a local PostgreSQL for the test
# suite, then prints the URL the tests use. Idempotent: safe to run again.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version main"; then
  pg_createcluster "$version" main >&2
fi
pg_ctlcluster "$version" main start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q" && break
  sleep 1
done
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname = 'lightsout'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create role lightsout login superuser password 'lightsout'\"" >&2
su postgres -c "psql -qtAc \"select 1 from pg_database where datname = 'lightsout_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O lightsout lightsout_test" >&2
echo "postgres://lightsout:lightsout@127.0.0.1:5432/lightsout_test"
