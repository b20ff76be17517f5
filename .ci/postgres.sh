#!/usr/bin/env bash
# Postgres for the durable-execution tests (tests/durable): Debian's postgresql, one cluster on
# 127.0.0.1, a role that may create databases (each test makes its own and drops it). Idempotent.
# Prints the DSN on its last line; .ci/run exports it as AGENTCORE_TEST_PG_DSN.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_lsclusters >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then echo "run as root to install postgresql" >&2; exit 1; fi
    apt-get update -q -o DPkg::Lock::Timeout=600 >&2
    apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 postgresql >&2
fi
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {found=1} END {exit !found}'; then
    pg_createcluster "$ver" main >&2
fi
port=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $3}')
if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" && $4 ~ /online/ {found=1} END {exit !found}'; then
    # no systemd on CI: pg_ctlcluster runs the server as the cluster's owner (postgres)
    pg_ctlcluster "$ver" main start -- -o "-c listen_addresses=127.0.0.1" >&2
fi
psql_pg() { runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -tAc "$1"; }
for _ in $(seq 1 60); do psql_pg "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
if [ "$(psql_pg "SELECT 1 FROM pg_roles WHERE rolname = 'agentcore'")" != 1 ]; then
    psql_pg "CREATE ROLE agentcore LOGIN CREATEDB PASSWORD 'agentcore'" >&2
fi
# tests drop their databases WITH (FORCE): that may end backends of other roles (autovacuum)
psql_pg "GRANT pg_signal_backend TO agentcore" >/dev/null
if [ "$(psql_pg "SELECT 1 FROM pg_database WHERE datname = 'agentcore_test'")" != 1 ]; then
    psql_pg "CREATE DATABASE agentcore_test OWNER agentcore" >&2
fi
echo "postgresql://agentcore:agentcore@127.0.0.1:$port/agentcore_test"
