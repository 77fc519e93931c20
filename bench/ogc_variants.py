#!/usr/bin/env python3
"""Throughput of OGC API item pages under Part 2/3 options, next to the plain bbox page.

Each variant requests random bbox pages (limit 100) of one collection from N client threads for
a few seconds and reports pages/s and p50/p99 latency, so the cost of `crs`, `bbox-crs`, `filter`
and `sortby` can be read against the plain page that bench/run.sh compares with the anchors.

    .venv/bin/python bench/ogc_variants.py --base http://127.0.0.1:8000 --collection minsk-bench \
        --bbox 27.40,53.83,27.70,53.97 --clients 8 --seconds 10
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import urllib.parse
import urllib.request

VARIANTS = {
    "plain": {},
    "crs=EPSG:28405": {"crs": "http://www.opengis.net/def/crs/EPSG/0/28405"},
    "crs=EPSG:4326": {"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
    "filter levels>2": {"filter": "levels > 2"},
    "filter casei like": {"filter": "CASEI(name) LIKE '%a%'"},
    "sortby=-levels": {"sortby": "-levels"},
    "skipGeometry": {"skipGeometry": "true"},
}


def random_box(extent: list[float], fraction: float) -> str:
    minx, miny, maxx, maxy = extent
    w, h = (maxx - minx) * fraction, (maxy - miny) * fraction
    x, y = random.uniform(minx, maxx - w), random.uniform(miny, maxy - h)
    return f"{x:.6f},{y:.6f},{x + w:.6f},{y + h:.6f}"


def run(url_for, clients: int, seconds: float) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url_for(), timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except OSError:
                ok = False
            with lock:
                latencies.append(time.perf_counter() - started)
                errors += not ok

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--collection", required=True)
    parser.add_argument("--bbox", required=True, help="extent to draw random boxes from: minLon,minLat,maxLon,maxLat")
    parser.add_argument("--fraction", type=float, default=0.05, help="box size as a fraction of the extent")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--only", help="comma-separated variant names")
    args = parser.parse_args()
    extent = [float(v) for v in args.bbox.split(",")]
    names = args.only.split(",") if args.only else list(VARIANTS)
    print(f"{'variant':22} {'pages/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name in names:
        extra = VARIANTS[name]

        def url_for(extra: dict[str, str] = extra) -> str:
            query = {"limit": 100, "bbox": random_box(extent, args.fraction), "f": "json", **extra}
            return f"{args.base}/ogc/collections/{args.collection}/items?{urllib.parse.urlencode(query)}"

        count, latencies, errors = run(url_for, args.clients, args.seconds)
        ordered = sorted(latencies) or [0.0]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(f"{name:22} {count / args.seconds:9.1f} {statistics.median(ordered) * 1000:8.1f} {p99 * 1000:8.1f} {errors:7d}")


if __name__ == "__main__":
    main()
