#!/usr/bin/env bash
# Run the project's production nginx config (docker/nginx.conf) with Debian's nginx, unprivileged,
# in front of a geoportal already serving on 127.0.0.1:${GP_PORT:-8000} — the "geoportal-nginx"
# bench target (cached tiles through the production stack); tests/tiles/test_nginx.py runs it too.
#
#   bench/nginx_local.sh start [WORKDIR]   # listens on 127.0.0.1:${NGINX_PORT:-8088}
#   bench/nginx_local.sh stop [WORKDIR]
#
# Only what cannot work outside the container is rewritten: user, pid/log/temp/cache paths, the
# listen address, the upstream address, the static root and the tile cache (TILE_ROOT: the
# geoportal's tile cache directory, whose public/ tree nginx serves). The tile rules stay as they
# are; without Debian's libnginx-mod-http-brotli-static the brotli_static lines are dropped.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ACTION="${1:-start}"
WORK="${2:-${BENCH_WORK:-/var/tmp/geoportal-bench}}/nginx"
PORT="${NGINX_PORT:-8088}"
GP_PORT="${GP_PORT:-8000}"

if [ "$ACTION" = stop ]; then
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  exit 0
fi
command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx-light libnginx-mod-http-brotli-static)" >&2; exit 2; }
django_setting() {
  "$ROOT/.venv/bin/python" -c "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'geoportal.settings'); django.setup(); $1"
}
STATIC_ROOT="${STATIC_ROOT:-$(django_setting 'from django.conf import settings; print(settings.STATIC_ROOT)')}"
TILE_ROOT="${TILE_ROOT:-$(django_setting 'from geoportal.tiles.cache import tile_cache_root; print(tile_cache_root())')}"
BROTLI=()
ls /etc/nginx/modules-enabled/*brotli-static* >/dev/null 2>&1 || BROTLI=(-e '/brotli_static/d')
mkdir -p "$WORK"/{tmp,cache}
ln -sfn /usr/lib/nginx/modules "$WORK/modules" # Debian's modules-enabled/*.conf load modules/… relative to the prefix (-p)
sed -e "s|^user .*|user $(id -un) $(id -gn);|" \
    -e "s|^pid .*|pid $WORK/nginx.pid;|" \
    -e "s|^error_log .*|error_log $WORK/error.log warn;|" \
    -e "s|access_log /dev/stdout;|access_log off; client_body_temp_path $WORK/tmp/body; proxy_temp_path $WORK/tmp/proxy; fastcgi_temp_path $WORK/tmp/fastcgi; uwsgi_temp_path $WORK/tmp/uwsgi; scgi_temp_path $WORK/tmp/scgi;|" \
    -e "s|/var/cache/nginx/tiles|$WORK/cache|" \
    -e "s|server app:8000;|server 127.0.0.1:$GP_PORT;|" \
    -e "s|listen 80 default_server;|listen 127.0.0.1:$PORT default_server;|" \
    -e '/listen \[::\]:80/d' \
    -e "s|alias /srv/static/;|alias $STATIC_ROOT/;|" \
    -e "s|root /srv/tiles/public;|root $TILE_ROOT/public;|" \
    -e "s|worker_processes auto;|worker_processes ${NGINX_WORKERS:-2};|" \
    "${BROTLI[@]}" \
    "$ROOT/docker/nginx.conf" > "$WORK/nginx.conf"
grep -q "root $TILE_ROOT/public;" "$WORK/nginx.conf" || { echo "docker/nginx.conf: the tile root was not rewritten" >&2; exit 2; }
nginx -t -q -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log"
nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
echo "nginx (docker/nginx.conf) on http://127.0.0.1:$PORT -> geoportal on :$GP_PORT, tiles from $TILE_ROOT/public (pid $(cat "$WORK/nginx.pid"))"
