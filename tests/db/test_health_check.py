"""The database backend's health check: no round trip while the socket is quiet, a real check once the
server has closed the connection (restart, shutdown, pg_terminate_backend) — so the first request after a
database restart still succeeds."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections

from geoportal.db.base import DatabaseWrapper

pytestmark = pytest.mark.django_db


@pytest.fixture
def pooled() -> Iterator[DatabaseWrapper]:
    """A second connection to the test database, as a request thread holds it between requests."""
    wrapper = connections.create_connection("default")
    assert isinstance(wrapper, DatabaseWrapper)
    wrapper.ensure_connection()
    wrapper.health_check_enabled = True
    yield wrapper
    wrapper.close()


def _last_query(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row[0] if row else ""


def _wait_readable(wrapper: DatabaseWrapper) -> None:
    """Until the server's goodbye reaches the client's socket (pg_terminate_backend is asynchronous)."""
    assert wrapper.connection is not None
    poller = select.poll()
    poller.register(wrapper.connection.pgconn.socket, select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(50):
        assert time.monotonic() < deadline, "the terminated backend never closed its socket"


def test_quiet_connection_is_kept_without_a_round_trip(pooled: DatabaseWrapper) -> None:
    with pooled.cursor() as cursor:
        cursor.execute("SELECT 'health-check-marker'")
        pid = pooled.connection.info.backend_pid
    before = pooled.connection
    pooled.health_check_done = False  # what Django does when the next request starts

    pooled.close_if_health_check_failed()

    assert pooled.connection is before and pooled.health_check_done
    # The server saw no SELECT 1: its last statement on that connection is still ours.
    assert _last_query(pid) == "SELECT 'health-check-marker'"


def test_connection_closed_by_the_server_is_replaced(pooled: DatabaseWrapper) -> None:
    pid = pooled.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)
    _wait_readable(pooled)
    pooled.health_check_done = False

    pooled.close_if_health_check_failed()

    assert pooled.connection is None  # closed, so the next cursor connects afresh
    with pooled.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_connection_inside_a_transaction_gets_the_real_check(pooled: DatabaseWrapper) -> None:
    """Between requests a connection is idle; one left inside a transaction is checked with SELECT 1."""
    pooled.connection.execute("BEGIN")
    pooled.health_check_done = False

    assert not pooled.socket_is_quiet()
    pooled.close_if_health_check_failed()

    assert pooled.connection is not None and pooled.health_check_done
    assert _last_query(pooled.connection.info.backend_pid) == "SELECT 1"
    pooled.connection.execute("ROLLBACK")
