#!/bin/sh
# Container start: wait for PostGIS, bring the schema and cities up to date, collect static files
# into the volume nginx serves, then run the command (default: geoportal serve).
set -eu

: "${DATABASE_URL:?DATABASE_URL is not set: expected postgresql://user:password@host:5432/dbname}"
: "${GEOPORTAL_SECRET_KEY:?GEOPORTAL_SECRET_KEY is not set: put at least 32 random characters into docker/.env}"

if [ "${1:-}" = "geoportal" ] && [ "${2:-}" = "serve" ]; then
    tries=0
    until pg_isready --quiet --dbname="$DATABASE_URL" --timeout=5; do
        tries=$((tries + 1))
        if [ "$tries" -ge 60 ]; then
            echo "entrypoint: the database in DATABASE_URL did not answer within two minutes" >&2
            exit 1
        fi
        sleep 2
    done
    if [ "${GEOPORTAL_SAMPLE_DATA:-0}" = "1" ]; then
        geoportal setup --collectstatic
    else
        geoportal setup --collectstatic --no-sample
    fi
fi

exec "$@"
