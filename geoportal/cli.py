"""The `geoportal` console script.

`geoportal db start|stop|status|url` manages the embedded PostGIS cluster;
every other command is a Django management command (`setup`, `serve`,
`ingest`, `migrate`, `createsuperuser`, …) run against the configured database.
When no DATABASE_URL is set, commands that need the database start the
embedded cluster first, so `geoportal ingest …` just works.
"""

from __future__ import annotations

import argparse
import os
import sys

from django.core.exceptions import ImproperlyConfigured

NO_DATABASE_COMMANDS = {
    "help",
    "--help",
    "-h",
    "version",
    "--version",
    "check",
    "makemigrations",
    "compilemessages",
    "makemessages",
}


def _db_command(argv: list[str]) -> int:
    from geoportal import embedded_db
    from geoportal.env import get_env

    parser = argparse.ArgumentParser(prog="geoportal db", description="Manage the embedded PostGIS cluster.")
    parser.add_argument("action", choices=("start", "stop", "status", "url"))
    args = parser.parse_args(argv)
    env = get_env()
    if args.action == "url":
        db = env.database
        print(f"postgresql://{db.user}@/{db.name}?host={db.host}&port={db.port}" if db.embedded else "(DATABASE_URL)")
        return 0
    if not env.database.embedded:
        print("DATABASE_URL is set: the embedded database is not used.")
        return 0 if args.action == "status" else 1
    if args.action == "start":
        state = embedded_db.start(env)
    elif args.action == "stop":
        state = embedded_db.stop(env)
    else:
        state = embedded_db.status(env)
    word = "running" if state.running else "stopped"
    version = f", PostgreSQL {state.server_version}" if state.server_version else ""
    print(f"embedded PostGIS {word}{version}: data {state.data_dir}, port {state.port}, socket {state.socket_dir}")
    return 0 if (state.running or args.action == "stop") else 3


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geoportal.settings")
    from layers.errors import GeoportalError

    if argv[:1] == ["ingest-osm"]:
        argv[0] = "ingest_osm"  # the documented spelling; Django command names cannot hold '-'
    try:
        if argv[:1] == ["db"]:
            return _db_command(argv[1:])
        if argv and argv[0] not in NO_DATABASE_COMMANDS:
            from geoportal import embedded_db
            from geoportal.env import get_env

            env = get_env()
            if env.database.embedded:
                embedded_db.start(env)
        from django.core.management import execute_from_command_line

        execute_from_command_line(["geoportal", *argv])
        return 0
    except (GeoportalError, ImproperlyConfigured) as exc:
        print(f"geoportal: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # config errors and the like: a message, not a traceback
        from config.loader import ConfigError

        if isinstance(exc, ConfigError):
            print(f"geoportal: invalid configuration: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
