#!/bin/sh
# Selects the process the image runs: api (default), worker or migrate.
set -e
case "${1:-api}" in
  api) shift 2>/dev/null || true; exec node dist/src/server.js "$@" ;;
  worker) shift; exec node dist/workers/main.js "$@" ;;
  migrate) shift; exec node dist/src/db/migrate-cli.js "$@" ;;
  *) exec "$@" ;;
esac
