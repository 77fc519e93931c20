#!/usr/bin/env bash
# Run the project's production nginx config (docker/nginx.conf) with Debian's nginx, unprivileged,
# in front of a geoportal already serving on 127.0.0.1:${GP_PORT:-8000} — the "geoportal-nginx"
# bench target (cached tiles through the production stack).
#
#   bench/nginx_local.sh start [WORKDIR]   # listens on 127.0.0.1:${NGINX_PORT:-8088}
#   bench/nginx_local.sh stop [WORKDIR]
#
# Only what cannot work outside the container is rewritten: user, pid/log/temp/cache paths, the
# listen address, the upstream address and the static root. The tile-cache rules stay as they are.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ACTION="${1:-start}"
WORK="${2:-${BENCH_WORK:-/var/tmp/geoportal-bench}}/nginx"
PORT="${NGINX_PORT:-8088}"
GP_PORT="${GP_PORT:-8000}"
STATIC_ROOT="${STATIC_ROOT:-$("$ROOT/.venv/bin/python" -c 'import django, os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geoportal.settings"); django.setup(); from django.conf import settings; print(settings.STATIC_ROOT)')}"

if [ "$ACTION" = stop ]; then
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  exit 0
fi
command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx-light)" >&2; exit 2; }
mkdir -p "$WORK"/{tmp,cache}
sed -e '/^user /d' \
    -e "s|^pid .*|pid $WORK/nginx.pid;|" \
    -e "s|^error_log .*|error_log $WORK/error.log warn;|" \
    -e "s|access_log /dev/stdout;|access_log off; client_body_temp_path $WORK/tmp/body; proxy_temp_path $WORK/tmp/proxy; fastcgi_temp_path $WORK/tmp/fastcgi; uwsgi_temp_path $WORK/tmp/uwsgi; scgi_temp_path $WORK/tmp/scgi;|" \
    -e "s|/var/cache/nginx/tiles|$WORK/cache|" \
    -e "s|server app:8000;|server 127.0.0.1:$GP_PORT;|" \
    -e "s|listen 80 default_server;|listen 127.0.0.1:$PORT default_server;|" \
    -e '/listen \[::\]:80/d' \
    -e "s|alias /srv/static/;|alias $STATIC_ROOT/;|" \
    -e "s|worker_processes auto;|worker_processes ${NGINX_WORKERS:-2};|" \
    "$ROOT/docker/nginx.conf" > "$WORK/nginx.conf"
nginx -t -q -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log"
nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log"
for _ in $(seq 30); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.5; done
echo "nginx (docker/nginx.conf) on http://127.0.0.1:$PORT -> geoportal on :$GP_PORT (pid $(cat "$WORK/nginx.pid"))"
