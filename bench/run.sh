#!/usr/bin/env bash
# Measure the geoportal side by side with the anchors (TiPg, MapServer, static nginx) in ONE run,
# on the same synthetic city, with the shared harness in ../shared/bench (copied to a scratch dir so
# its data and virtualenvs stay out of the project).
#
#   bench/run.sh                      # tiles, tiles_z15-16, items, item, crawl; c = 1,8,32
#   TARGETS=tipg,geoportal TESTS=tiles DURATION=5 bench/run.sh
#   TARGETS=static,geoportal-nginx TESTS=tiles bench/run.sh   # cached tiles through docker/nginx.conf
# Uncached tiles: start the geoportal with GEOPORTAL_TILE_CACHE=0 (see the tiles notes) — the
# validation pass of each test would otherwise fill the tile cache before the measurement.
# Two ways the geoportal runs, two targets: `geoportal` is `geoportal serve` facing its clients itself
# (:8000, its default gthread workers, keep-alive); `geoportal-nginx` is the production stack of
# docker/compose.yml: docker/nginx.conf in front of `geoportal serve --worker-class sync` (:8001; see
# geoportal/management/commands/serve.py). GEOPORTAL_THREADS / GEOPORTAL_WORKERS apply to both.
#
# Steps: start the harness's PostGIS and generate the synthetic city (200k buildings); export the
# buildings tables to GeoPackage; load them into the geoportal through its own ingest (`minsk-bench`,
# `minsk-bench10k`); serve the geoportal on :8000; run bench.py; print the report.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
WORK="${BENCH_WORK:-/var/tmp/geoportal-bench}"
TARGETS="${TARGETS:-tipg,mapserver,static,geoportal}"
TESTS="${TESTS:-tiles,tiles_z15-16,items,item,crawl}"
NAME="${NAME:-compare}"
GP="$ROOT/.venv/bin/geoportal"
# A database of its own in the embedded cluster: the benchmark never touches the demo's data.
export GEOPORTAL_DB_NAME="${GEOPORTAL_DB_NAME:-geoportal_bench}"

. "$ROOT/bench/harness.sh"   # checks, and a fresh copy of the harness code in $WORK
cd "$WORK"
PY=.venv-tools/bin/python
[ -x "$PY" ] || { python3 -m venv .venv-tools; .venv-tools/bin/pip install -q numpy "psycopg[binary]" mapbox-vector-tile; }
./pg.sh start
./pg.sh psql -qc "ALTER DATABASE bench SET statement_timeout = '60s'"
[ "$(./pg.sh psql -qAtc "select to_regclass('public.buildings') is not null")" = "t" ] || $PY gen_synthetic.py

PG="PG:host=127.0.0.1 port=55432 user=postgres dbname=bench"
"$GP" setup >/dev/null   # migrations and the 17 cities in the bench database
for t in buildings:bench buildings_10k:bench10k; do
  table="${t%%:*}"; slug="${t##*:}"
  gpkg="$WORK/minsk-$slug.gpkg"
  [ -f "$gpkg" ] || ogr2ogr -f GPKG "$gpkg" "$PG" -sql "SELECT id AS ogc_fid, * FROM $table ORDER BY id" \
      -nln "$table" -preserve_fid -lco FID=fid
  "$GP" ingest "$gpkg" --city minsk --theme buildings --layer "$slug"   # a no-op when unchanged
  # What the task worker does after a large import (spatial order); a no-op when done already.
  "$GP" layer optimize "minsk-$slug"
done
mkdir -p results/raw && cp workload/ids.txt results/raw/ids-geoportal.txt   # our fid = the source id

# No per-request access log, as the anchors run (TiPg: uvicorn --no-access-log); nginx logs in production.
GEOPORTAL_WORKER_CLASS=gthread GEOPORTAL_ACCESS_LOG=0 "$GP" serve --port 8000 > "$WORK/geoportal-serve.log" 2>&1 &
echo $! > "$WORK/geoportal.pid"
trap 'kill "$(cat "$WORK/geoportal.pid")" 2>/dev/null || true; ./stop_all.sh || true' EXIT
wait_healthz() {  # PORT: until the server there answers /healthz (at most a minute)
  for _ in $(seq 60); do $PY -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$1/healthz')" 2>/dev/null && return; sleep 1; done
}
wait_healthz 8000

EXTRA=()
IFS=, read -ra T <<< "$TARGETS"
for t in "${T[@]}"; do
  case "$t" in
    geoportal-nginx) GEOPORTAL_WORKER_CLASS=sync GEOPORTAL_ACCESS_LOG=0 "$GP" serve --port 8001 --no-task-worker > "$WORK/geoportal-sync.log" 2>&1 &
                     echo $! > "$WORK/geoportal-sync.pid"
                     wait_healthz 8001
                     GP_PORT=8001 NGINX_PORT=8088 "$ROOT/bench/nginx_local.sh" start "$WORK"; EXTRA+=(--target-json "$ROOT/bench/targets-nginx.json")
                     trap 'kill "$(cat "$WORK/geoportal.pid")" "$(cat "$WORK/geoportal-sync.pid")" 2>/dev/null || true; "$ROOT/bench/nginx_local.sh" stop "$WORK"; ./stop_all.sh || true' EXIT ;;
    tipg) ./run_tipg.sh ;;
    mapserver) ./run_mapserver.sh ;;
    static) ./run_tipg.sh; [ -d tiles_static ] || $PY bench.py static-prep --source tipg; ./run_static.sh ;;
    pygeoapi) ./run_pygeoapi.sh ;;
  esac
done
$PY bench.py run --name "$NAME" "${EXTRA[@]}" --targets "$TARGETS" --tests "$TESTS" --duration "${DURATION:-10}" --conc "${CONC:-1,8,32}"
$PY bench.py report --name "$NAME"
echo "results: $WORK/results/$NAME.tables.md"
