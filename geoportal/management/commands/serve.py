"""`geoportal serve`: the production HTTP server (gunicorn) in the foreground.

Two worker models (GEOPORTAL_WORKER_CLASS / --worker-class):

- `gthread` (default), for a server that faces its clients itself (`make demo`,
  a small installation): a few threads per process (GEOPORTAL_THREADS, default 4)
  keep HTTP keep-alive connections open, and a slow client or a long request does
  not hold up a whole process.
- `sync`, for a server behind nginx (docker/compose.yml): each process takes one
  request at a time and accepts the next connection only when it is free, so
  requests queue once, in the kernel's first-come-first-served backlog, and go to
  whichever process frees up first (MapServer's FastCGI model behind nginx). With
  gthread a worker keeps every keep-alive connection it accepted, so at 32 busy
  clients some workers queue twice as many requests as others and that shows as
  the p99. Measured on 2 cores (4 workers, 32 clients, interleaved runs): p99 of
  z15-16 tiles 128-150 ms against 210-270 with gthread, bbox pages 90-120 against
  175-277 ms, single items 44-64 against 75-140 ms, at about the same throughput.
  It needs nginx in front: nginx buffers uploads and slow clients, which would
  otherwise hold a process each, and a request longer than the timeout (60 s) is
  cut off.

The master's pid goes to a file under the data directory, so scripts stop the
server with `kill "$(cat …)"` — bare Debian has no ps/pkill.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from geoportal.env import THREADS_RANGE, WORKER_CLASSES, WORKERS_RANGE, get_env

WSGI_APP = "geoportal.wsgi:application"


def pid_file(port: int) -> Path:
    """Where the master writes its pid: one file per port, so two servers do not clash."""
    return get_env().data_dir / f"serve-{port}.pid"


def _check_port_free(host: str, port: int) -> None:
    # gunicorn would retry for five seconds and then print a terse error; say what to do instead.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {host}:{port}: {exc.strerror}. "
                f"Another server may be running there: stop it, or choose another port (--port, PORT=… for make, GEOPORTAL_PORT)."
            ) from None


def gunicorn_options(*, host: str, port: int, workers: int, threads: int, pidfile: Path, worker_class: str) -> dict[str, Any]:
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "worker_class": worker_class,
        # gunicorn turns a sync worker with threads > 1 into a gthread one: sync means one thread.
        "threads": threads if worker_class == "gthread" else 1,
        "keepalive": 5,  # gthread only: sync workers close each connection after its response
        "timeout": 60,
        "graceful_timeout": 20,
        # One line per request: useful for a demo, redundant behind nginx (which logs), and a cost per
        # request on the hot paths — GEOPORTAL_ACCESS_LOG=0 turns it off.
        "accesslog": "-" if get_env().access_log else None,
        "errorlog": "-",
        "pidfile": str(pidfile),
        "proc_name": "geoportal",
        # gunicorn >= 24 opens a control socket under ~/.gunicorn by default; the geoportal does not use it.
        "control_socket_disable": True,
    }


class Command(BaseCommand):
    help = "Serve the geoportal over HTTP with gunicorn (foreground; Ctrl+C or SIGTERM to stop)."

    def add_arguments(self, parser: CommandParser) -> None:
        env = get_env()
        parser.add_argument(
            "--host", default=env.http_host, help=f"address to listen on (GEOPORTAL_HOST; default {env.http_host})"
        )
        parser.add_argument("--port", type=int, default=env.http_port, help=f"TCP port (GEOPORTAL_PORT; default {env.http_port})")
        parser.add_argument(
            "--workers", type=int, default=env.workers, help=f"worker processes (GEOPORTAL_WORKERS; default {env.workers})"
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=env.threads,
            help=f"threads per gthread worker (GEOPORTAL_THREADS; default {env.threads})",
        )
        parser.add_argument(
            "--worker-class",
            choices=WORKER_CLASSES,
            default=env.worker_class,
            help=f"gthread: clients connect directly; sync: behind nginx (GEOPORTAL_WORKER_CLASS; default {env.worker_class})",
        )
        parser.add_argument("--no-task-worker", action="store_true", help="do not start the background import worker")

    def handle(self, *args: Any, host: str, port: int, workers: int, threads: int, worker_class: str, **options: Any) -> None:
        if not 1 <= port <= 65535:
            raise CommandError(f"--port {port}: expected a TCP port between 1 and 65535")
        for option, value, (low, high) in (("--workers", workers, WORKERS_RANGE), ("--threads", threads, THREADS_RANGE)):
            if not low <= value <= high:
                raise CommandError(f"{option} {value}: expected between {low} and {high}")
        _check_port_free(host, port)
        _check_migrated()
        _sync_tile_tree(self.stderr)
        pidfile = pid_file(port)
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        # WhiteNoise warns on every worker start when STATIC_ROOT is missing (nothing collected yet).
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        shown = f"[{host}]" if ":" in host else host
        sizes = f"{workers} worker{'s' if workers != 1 else ''} x {threads} thread{'s' if threads != 1 else ''}"
        if worker_class == "sync":
            sizes = f"{workers} sync worker{'s' if workers != 1 else ''}, behind a proxy"
        self.stdout.write(f"Serving the geoportal at http://{shown}:{port}/ ({sizes}; pid file {pidfile}; Ctrl+C to stop)")
        self.stdout.flush()
        # The checks above opened a database connection: forked workers must not inherit it. A sync
        # worker serves on its main thread, where it would find that one socket, shared by all workers.
        connections.close_all()
        task_worker = None if options.get("no_task_worker") else start_task_worker()
        try:
            _run_gunicorn(
                gunicorn_options(
                    host=host, port=port, workers=workers, threads=threads, pidfile=pidfile, worker_class=worker_class
                )
            )
        finally:
            if task_worker is not None:
                stop_task_worker(task_worker)


def _check_migrated() -> None:
    """Refuse to serve a database that lacks migrations (after an upgrade): every request would fail."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise CommandError(f"the database cannot be reached: {exc}".strip()) from None
    if pending:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending[:5])
        more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
        raise CommandError(
            f"the database {connection.settings_dict['NAME']!r} lacks {len(pending)} migration(s) ({names}{more}): "
            "run `geoportal setup` (or `geoportal migrate`) first"
        )


def _sync_tile_tree(stderr: Any) -> None:
    """nginx serves the tile cache's public tree: bring it in line with the database and settings first."""
    # Imported here: `make stop` imports this module (for pid_file) without Django being set up.
    from geoportal.tiles.public import sync_public_tree

    try:
        sync_public_tree()
    except (DatabaseError, OSError) as exc:
        stderr.write(f"warning: the tile cache's public tree was not synced ({exc}); nginx sends those tiles on to us")


def start_task_worker() -> subprocess.Popen[bytes]:
    """django-tasks-db's `db_worker` beside gunicorn: uploads (/api/imports, admin) are imported there, never in a request."""
    command = [sys.executable, "-c", "import sys; from geoportal.cli import main; sys.exit(main(sys.argv[1:]))"]
    return subprocess.Popen([*command, "db_worker", "--queue-name", "*", "--interval", "1", "--no-reload"])


def stop_task_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()  # the worker finishes its current task's transaction or rolls it back
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


def _run_gunicorn(options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class GeoportalServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            known = self.cfg.settings
            for key, value in options.items():
                if key in known:  # older gunicorn releases lack some settings (control_socket_disable)
                    self.cfg.set(key, value)

        def load(self) -> Any:
            from geoportal.wsgi import application

            return application

    GeoportalServer().run()
