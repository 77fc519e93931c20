"""Preparing a large file's batches in worker processes, handed back in file order.

Why: reading a batch through GDAL and turning it into COPY lines (reproject, validate, map,
JSON-encode) is pure Python/GDAL work under one GIL — 1M buildings kept one core busy for
~17 s while the database, parsing the COPY, needed a third of that. Forked workers do that
work side by side; the main process only writes their bytes into the one COPY of the import's
transaction, in file order, so the result (rows, counts, warnings) is the same as reading
serially. Workers never touch the database: the job is a closure the fork inherits, and the
pool is created before the COPY's writer thread starts.

At most `workers * 2` batches are in flight, so memory stays bounded however large the file.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any, TypeVar

T = TypeVar("T")

# Below this many features a pool costs more than it saves (forking, pickling the results).
PARALLEL_FROM = 100_000
WORKERS = max(1, min(4, os.cpu_count() or 1))

_JOB: Callable[[int], Any] | None = None  # set before the fork: the workers inherit it


def _run(start: int) -> Any:
    assert _JOB is not None
    return _JOB(start)


@contextmanager
def in_order(job: Callable[[int], T], starts: Sequence[int], *, parallel: bool) -> Iterator[Iterator[T]]:
    """job(start) for every start, in order: computed by forked workers when `parallel` (and worth it)."""
    global _JOB
    if not parallel or WORKERS < 2 or len(starts) < 2:
        yield map(job, starts)
        return
    _JOB = job
    pool = multiprocessing.get_context("fork").Pool(WORKERS)
    try:
        yield _results(pool, starts)
    finally:
        pool.terminate()  # SIGTERM: the workers exit without running cleanup that could touch shared sockets
        pool.join()
        _JOB = None


def _results(pool: Any, starts: Sequence[int]) -> Iterator[Any]:
    queued = iter(starts)
    pending: deque[AsyncResult[Any]] = deque(pool.apply_async(_run, (s,)) for s in islice(queued, WORKERS * 2))
    while pending:
        result = pending.popleft().get()
        following = next(queued, None)
        if following is not None:
            pending.append(pool.apply_async(_run, (following,)))
        yield result
