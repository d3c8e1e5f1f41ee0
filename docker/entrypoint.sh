#!/bin/sh
# The image's one command: runs an operator command on the compiled dist/, with source maps in
# stack traces (but the sync's processes, below) and ./.env loaded when one is mounted (the
# environment wins over it). exec: Node gets the signals itself and stops gracefully.
set -eu

run() {
  source_maps=--enable-source-maps
  case "$1" in
    dist/workers/*)
      # The sync's processes decode and drop a page of records many times a second. V8 sizes its
      # young generation and grows its old one from the machine's memory (up to four times the live
      # heap), and glibc keeps large freed buffers, in an arena per thread: a worker would sit at
      # ~450 MB. With these it stays under 250 MB for a little more CPU: the old generation grows
      # by at most half the live heap, a page's buffers (a few MB) are reused from glibc's heap,
      # larger ones are given back at once, and two arenas serve every thread (docs/performance.md).
      # No source maps: the first stack trace would parse the bundle's whole map and keep it, about
      # 80 MB for the life of the process; stacks name the bundle's functions at their dist/
      # positions (NODE_OPTIONS=--enable-source-maps maps them to src/ again).
      # package.json's start:worker and start:sync say the same.
      export MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=131072
      set -- --max-semi-space-size=4 --heap-growing-percent=50 "$@"
      source_maps=
      ;;
  esac
  # Unquoted: empty for the sync's processes, where it is no argument at all.
  exec node $source_maps --env-file-if-exists=.env "$@"
}

command="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$command" in
  api) run dist/src/server.js "$@" ;;
  worker) run dist/workers/main.js "$@" ;;
  migrate) run dist/src/cli/migrate.js "$@" ;;
  sync) run dist/workers/sync-cli.js "$@" ;;
  apikey) run dist/src/cli/apikey.js "$@" ;;
  healthcheck)
    # HEALTHCHECK runs beside the main process: read what PID 1 runs to pick its port.
    case "$(tr '\0' ' ' < /proc/1/cmdline)" in
      *dist/src/server.js*) url="http://127.0.0.1:${PORT:-3000}/health/live" ;;
      *dist/workers/main.js*) url="http://127.0.0.1:${WORKER_HTTP_PORT:-3001}/health/ready" ;;
      *) exit 0 ;; # one-shot commands (migrate, sync, apikey) have nothing to probe
    esac
    exec node -e "fetch('$url').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
    ;;
  *) exec "$command" "$@" ;;
esac
