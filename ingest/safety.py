"""Checks made before GDAL sees a file: empty files, unsafe zip archives, XML with entities.

Archives are unpacked by us (not read through /vsizip/) so that every member's path and size
is checked first and the shapefile sidecars (.cpg, .dbf) are there for encoding detection.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from layers.errors import IngestError

MAX_UNPACKED_BYTES = 4 << 30  # 4 GiB in total
MAX_RATIO = 200  # uncompressed / compressed, per member and in total
RATIO_FLOOR_BYTES = 10 << 20  # small members may compress well without being bombs
MAX_MEMBERS = 10_000
XML_SUFFIXES = (".kml", ".gml", ".xml", ".gpx", ".osm")
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE_EXTERNAL = re.compile(rb"<!DOCTYPE[^>\[]*(SYSTEM|PUBLIC)", re.IGNORECASE)
_DATA_SUFFIXES: tuple[str, ...] = (".shp", ".gpkg", ".geojson", ".json", ".geojsonl", ".geojsons", ".csv", ".tsv")
_DATA_SUFFIXES += (".txt", ".kml", ".gml", ".fgb", ".gpx", ".dxf", ".tab", ".mif", ".sqlite", ".osm", ".pbf", ".xlsx", ".ods")


def refuse_empty(path: Path) -> None:
    if path.stat().st_size == 0:
        raise IngestError("the file is empty (0 bytes).", source=path.name, hint="Upload the file again; the copy is empty.")


def refuse_xml_entities(path: Path, *, name: str | None = None) -> None:
    """KML/GML/GPX may not declare entities or an external DTD (XXE, billion laughs)."""
    if path.suffix.lower() not in XML_SUFFIXES:
        return
    with path.open("rb") as handle:
        prolog = handle.read(1 << 16)
    if _ENTITY.search(prolog) or _DOCTYPE_EXTERNAL.search(prolog):
        raise IngestError(
            "the XML declares entities or an external DTD (<!ENTITY …> / <!DOCTYPE … SYSTEM>), which is refused.",
            source=name or path.name,
            hint="Export the file again without a DOCTYPE; KML and GML never need one.",
        )


def is_zip(path: Path) -> bool:
    suffix = path.suffix.lower()
    # content sniffing only for unknown extensions (a GeoPackage could end in bytes that look like a zip directory)
    return suffix in (".zip", ".kmz") or (suffix not in _DATA_SUFFIXES and zipfile.is_zipfile(path))


@contextmanager
def unpacked(archive: Path) -> Iterator[Path]:
    """Unpack a checked archive into a temporary directory that is removed afterwards."""
    members = check_zip(archive)
    target = Path(tempfile.mkdtemp(prefix="geoportal-unzip-"))
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in members:
                destination = target / info.filename
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as source, destination.open("wb") as out:
                    _copy_limited(source, out, info, archive)
        yield target
    finally:
        shutil.rmtree(target, ignore_errors=True)


def check_zip(archive: Path) -> list[zipfile.ZipInfo]:
    """The archive's file members, after refusing unsafe names and bomb-like sizes."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(f"is not a readable zip archive ({exc}).", source=archive.name) from None
    if len(infos) > MAX_MEMBERS:
        raise IngestError(f"the archive has {len(infos)} members (at most {MAX_MEMBERS}).", source=archive.name)
    total = compressed = 0
    for info in infos:
        _refuse_unsafe_name(info.filename, archive)
        total += info.file_size
        compressed += info.compress_size
        _refuse_bomb(info.filename, info.file_size, info.compress_size, archive)
    if total > MAX_UNPACKED_BYTES:
        raise IngestError(
            f"the archive unpacks to {total} bytes, more than the limit of {MAX_UNPACKED_BYTES}.",
            source=archive.name,
            hint="Split it, or upload the GeoPackage/shapefile uncompressed.",
        )
    _refuse_bomb("the archive", total, compressed, archive)
    return [info for info in infos if not info.is_dir()]


def _refuse_unsafe_name(name: str, archive: Path) -> None:
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in posix.parts:
        raise IngestError(
            f"member {name!r} has an absolute path or climbs out with '..'; such archives are refused.",
            source=archive.name,
            hint="Zip the files with relative paths inside one folder.",
        )


def _refuse_bomb(name: str, size: int, compressed: int, archive: Path) -> None:
    if size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(compressed, 1):
        raise IngestError(
            f"{name} expands {size / max(compressed, 1):.0f}× ({compressed} → {size} bytes), over the limit of "
            f"{MAX_RATIO}×; it looks like a zip bomb.",
            source=archive.name,
        )


def _copy_limited(source: object, out: object, info: zipfile.ZipInfo, archive: Path) -> None:
    """Copy, trusting no header: stop when more bytes come out than the member declared."""
    written = 0
    while chunk := source.read(1 << 20):  # type: ignore[attr-defined]
        written += len(chunk)
        if written > info.file_size:
            raise IngestError(f"member {info.filename!r} is larger than its header says; refused.", source=archive.name)
        out.write(chunk)  # type: ignore[attr-defined]


def data_file_in(directory: Path, archive: Path) -> Path:
    """The one data file inside an unpacked archive (a .shp beats its sidecars; doc.kml in a KMZ)."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in _DATA_SUFFIXES)
    files = [p for p in files if not p.name.startswith("._") and "__MACOSX" not in p.parts]
    shapefiles = [p for p in files if p.suffix.lower() == ".shp"]
    chosen = shapefiles or files
    if not chosen:
        raise IngestError(
            "the archive holds no file GDAL can read as vector data.",
            source=archive.name,
            hint="A zip should hold a shapefile (.shp + .shx + .dbf [+ .prj, .cpg]) or one GeoPackage/GeoJSON/KML.",
        )
    if len(chosen) > 1:
        names = ", ".join(p.relative_to(directory).as_posix() for p in chosen[:10])
        raise IngestError(
            f"the archive holds several data files: {names}.", source=archive.name, hint="Zip one layer per archive."
        )
    return chosen[0]
