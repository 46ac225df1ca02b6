#!/usr/bin/env bash
# The test servers are started by the tests themselves (initdb/pg_ctl, mariadb-install-db/mariadbd)
# in temporary folders. Here we only make sure the binaries exist, installing them from Debian's
# packages when a fresh machine lacks them. The Pub/Sub emulator is never installed: the tests use
# it when present and the in-process stand-in otherwise.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || need+=(mariadb-server)
command -v mariadb-install-db >/dev/null 2>&1 || command -v mysql_install_db >/dev/null 2>&1 || need+=(mariadb-server)

if [ ${#need[@]} -gt 0 ]; then
  echo "== installing server binaries: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "== postgres: $(ls -d /usr/lib/postgresql/*/bin | tail -n1)"
echo "== mariadb: $(mariadbd --version 2>/dev/null || mysqld --version)"
if [ -x /usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator ] || command -v gcloud >/dev/null 2>&1; then
  echo "== pubsub: official emulator available"
else
  echo "== pubsub: official emulator not installed; tests use the in-process stand-in"
fi
