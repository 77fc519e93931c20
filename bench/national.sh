#!/usr/bin/env bash
# A national layer at scale: N (5M) synthetic buildings spread over Belarus, loaded through OUR ingest into
# one national layer (`belarus-national_buildings`), then uncached z14 tiles over Minsk at 8 clients with wrk.
#
#   bench/national.sh                          # 5M buildings; data kept between runs (ingest is then a no-op)
#   FORCE=1 bench/national.sh                  # re-import the layer (the ingest figure of a fresh run)
#   N=500000 RUNS=1 DURATION=5 bench/national.sh   # smoke test
#
# Data: ../shared/bench/gen_synthetic.py --buildings N --spread belarus (Minsk keeps its 200k-building
# density, the rest goes to 21 other cities) into the harness's PostGIS (copied to /var/tmp/geoportal-bench
# as bench/run.sh does, `./pg.sh start`), exported to a GeoPackage, imported with
# `geoportal ingest FILE --city belarus --theme buildings --layer national_buildings` into a database of
# its own in the embedded cluster (GEOPORTAL_DB_NAME=geoportal_national). The import's wall time and peak
# RSS are printed (/usr/bin/time). Then `geoportal serve` with GEOPORTAL_TILE_CACHE=0 on $PORT and, RUNS
# times, wrk -c 8 over every z14 tile of the Minsk box (27.40-27.70E, 53.80-54.00N), rotating through the
# list (../shared/bench/wrk_rotate.lua); printed: tiles/s and p50/p99 latency per run and their medians.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
WORK="${BENCH_WORK:-/var/tmp/geoportal-bench}"
N="${N:-5000000}"
if (( N % 1000000 == 0 )); then PREFIX="${PREFIX:-n$((N / 1000000))m_}"; else PREFIX="${PREFIX:-n$((N / 1000))k_}"; fi
PORT="${PORT:-8010}"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-20}"
LAYER=national_buildings
GP="$ROOT/.venv/bin/geoportal"
PY="$ROOT/.venv/bin/python"
export GEOPORTAL_DB_NAME="${GEOPORTAL_DB_NAME:-geoportal_national}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
. "$ROOT/bench/harness.sh"   # checks, and a fresh copy of the harness code in $WORK
cd "$WORK"
./pg.sh start
PG="host=127.0.0.1 port=55432 user=postgres dbname=bench"
if [ "$(./pg.sh psql -qAtc "select to_regclass('public.${PREFIX}buildings') is not null")" != "t" ]; then
  "$PY" gen_synthetic.py --buildings "$N" --spread belarus --prefix "$PREFIX"
fi
GPKG="$WORK/belarus-${PREFIX%_}.gpkg"
if [ ! -f "$GPKG" ]; then
  ogr2ogr -f GPKG "$GPKG.part" "PG:$PG" -sql "SELECT id AS ogc_fid, * FROM ${PREFIX}buildings ORDER BY id" \
    -nln buildings -preserve_fid -lco FID=fid
  mv "$GPKG.part" "$GPKG"
fi
ls -l "$GPKG"

"$GP" setup >/dev/null
/usr/bin/time -f "%e %M" -o "$WORK/national-ingest.time" "$GP" ingest "$GPKG" --city belarus --theme buildings \
  --layer "$LAYER" --no-progress ${FORCE:+--force} | tee "$WORK/national-ingest.log"
read -r secs rss < "$WORK/national-ingest.time"
rows=$(sed -n 's/.* \([0-9]*\) features written.*/\1/p' "$WORK/national-ingest.log")
if [ -n "$rows" ]; then
  "$PY" -c "import sys; s, r, n = map(float, sys.argv[1:]); print(f'ingest: {n:.0f} features in {s:.1f} s = {n / s:.0f} features/s, peak RSS {r / 1024:.0f} MiB')" "$secs" "$rss" "$rows"
else
  echo "ingest: unchanged file, nothing imported (FORCE=1 re-imports and measures it)"
fi

# Spatial order: what the task worker does after the import (serve runs here without it); timed on its own,
# as the layer is served — in file order — from the import's commit on. A no-op when done already.
"$GP" layer optimize "belarus-$LAYER"

GEOPORTAL_ACCESS_LOG=0 GEOPORTAL_TILE_CACHE=0 "$GP" serve --port "$PORT" --no-task-worker > "$WORK/national-serve.log" 2>&1 &
echo $! > "$WORK/national-serve.pid"
trap 'kill "$(cat "$WORK/national-serve.pid")" 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done

PATHS="$WORK/national-z14-paths.txt"
"$PY" - "$LAYER" > "$PATHS" <<'PYEOF'
import math, sys
def tile(lon, lat, z):
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
(x0, y0), (x1, y1) = tile(27.40, 54.00, 14), tile(27.70, 53.80, 14)
for x in range(x0, x1 + 1):
    for y in range(y0, y1 + 1):
        print(f"/tiles/belarus-{sys.argv[1]}/14/{x}/{y}.mvt")
PYEOF
# One pass first: every tile must answer 200 (or 204 empty), and it says what the tiles weigh.
"$PY" - "$PORT" "$PATHS" <<'PYEOF'
import sys, urllib.request
port, paths = sys.argv[1], open(sys.argv[2]).read().split()
sizes, statuses = [], {}
for p in paths:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{p}") as r:
        statuses[r.status] = statuses.get(r.status, 0) + 1
        sizes.append(len(r.read()))
print(f"{len(paths)} z14 tiles over Minsk: statuses {statuses}, {sum(sizes) / len(sizes) / 1024:.1f} KiB a tile on average")
PYEOF
for run in $(seq "$RUNS"); do
  WRK_PATHS="$PATHS" WRK_JSON="$WORK/national-wrk-$run.json" wrk -t 2 -c 8 -d "${DURATION}s" --timeout 10s \
    -s "$WORK/wrk_rotate.lua" "http://127.0.0.1:$PORT" > "$WORK/national-wrk-$run.txt"
done
"$PY" - "$WORK" "$RUNS" <<'PYEOF'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
rows = [json.load(open(f"{work}/national-wrk-{i}.json")) for i in range(1, runs + 1)]
rates, p50s, p99s = [], [], []
for i, r in enumerate(rows, 1):
    errors = sum(r["errors"].values())
    rate = r["requests"] / (r["duration_us"] / 1e6)
    rates.append(rate); p50s.append(r["latency_us"]["p50"] / 1000); p99s.append(r["latency_us"]["p99"] / 1000)
    print(f"run {i}: {rate:7.1f} tiles/s  p50 {p50s[-1]:6.1f} ms  p99 {p99s[-1]:6.1f} ms  errors {errors}")
print(f"median: {statistics.median(rates):.1f} tiles/s, p99 {statistics.median(p99s):.1f} ms (target < 150 ms) at 8 clients, uncached z14")
PYEOF
