# nginx for docker/compose.yml: Debian's nginx with the brotli_static module that docker/nginx.conf
# uses to send the tile cache's pre-compressed .br files (the official nginx image has no brotli).
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light libnginx-mod-http-brotli-static \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/cache/nginx
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
