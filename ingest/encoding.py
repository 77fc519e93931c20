"""Text encoding of a source: honour what the file declares, otherwise detect it from the bytes.

Belarusian municipal files are usually UTF-8 or windows-1251; DOS-era dBase files are cp866 and
some Unix exports KOI8-R. GDAL assumes ISO-8859-1 for a shapefile without `.cpg` or code page
byte, which turns Cyrillic into mojibake, so for those we look at the bytes ourselves.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import BinaryIO

from layers.errors import InvalidParameter

SAMPLE_BYTES = 1 << 20
CANDIDATES = ("cp1251", "cp866", "koi8_r", "iso8859_5")
_CYRILLIC = range(0x0400, 0x0500)


def parse_encoding_option(text: str) -> str:
    """--encoding NAME: any codec Python knows (cp1251, windows-1251, utf-8, cp866, koi8-r …)."""
    try:
        return codecs.lookup(text.strip()).name
    except LookupError:
        raise InvalidParameter(
            "encoding", f"--encoding {text!r} is not a known text encoding.", hint="For example utf-8, cp1251 or cp866."
        ) from None


def detect(data: bytes) -> str:
    """'utf-8' when the bytes decode as UTF-8 (plain ASCII included), else the likeliest Cyrillic code page."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # the sample cut a multi-byte character in two
            return "utf-8"
    return max(CANDIDATES, key=lambda codec: _score(data.decode(codec, errors="replace")))


def _score(text: str) -> float:
    """Real Cyrillic text is mostly lower-case letters; a wrong code page gives box drawing or upper case."""
    letters = [c for c in text if ord(c) in _CYRILLIC]
    high = sum(1 for c in text if ord(c) > 0x7F)
    if not high:
        return 0.0
    lower = sum(1 for c in letters if c.islower())
    return len(letters) / high + lower / high


def _dbf_header_length(handle: BinaryIO) -> int | None:
    """Bytes 8-9 of the 32-byte .dbf header: where the records start (None for a truncated header)."""
    header = handle.read(32)
    return int.from_bytes(header[8:10], "little") if len(header) == 32 else None


def dbf_text_sample(dbf: Path) -> bytes:
    """The record bytes of a .dbf (header skipped): what the string fields hold."""
    with dbf.open("rb") as handle:
        header_length = _dbf_header_length(handle)
        if header_length is None:
            return b""
        handle.seek(header_length)
        return handle.read(SAMPLE_BYTES)


def dbf_field_names(dbf: Path) -> bytes:
    """The raw field-name bytes of a .dbf header (Cyrillic field names need the encoding too)."""
    with dbf.open("rb") as handle:
        header_length = _dbf_header_length(handle)
        if header_length is None:
            return b""
        descriptors = handle.read(max(0, header_length - 32))
    names = [descriptors[i : i + 11].split(b"\x00")[0] for i in range(0, len(descriptors) - 31, 32)]
    return b" ".join(names)


def dbf_declares_code_page(dbf: Path) -> bool:
    """Byte 29 of the header is the dBase language driver id; GDAL honours it when set."""
    with dbf.open("rb") as handle:
        header = handle.read(32)
    return len(header) >= 30 and header[29] != 0


def shapefile_encoding(shp: Path) -> tuple[str | None, str | None]:
    """(encoding to force or None to let GDAL decide, how to report it or None for GDAL's name) for a shapefile."""
    if _sidecar(shp, ".cpg") is not None:
        return None, None  # GDAL honours the .cpg
    dbf = _sidecar(shp, ".dbf")
    if dbf is None or dbf_declares_code_page(dbf):
        return None, None
    detected = detect(dbf_field_names(dbf) + b" " + dbf_text_sample(dbf))
    return detected, f"{detected} (detected)"


def text_file_encoding(path: Path) -> tuple[str | None, str | None]:
    """For CSV-like files: UTF-8 (with or without BOM) is read natively, anything else is decoded by us."""
    with path.open("rb") as handle:
        data = handle.read(SAMPLE_BYTES)
    detected = detect(data.removeprefix(codecs.BOM_UTF8))
    if detected == "utf-8":
        return None, None
    return detected, f"{detected} (detected)"


def _sidecar(shp: Path, extension: str) -> Path | None:
    for candidate in (shp.with_suffix(extension), shp.with_suffix(extension.upper())):
        if candidate.is_file():
            return candidate
    return None
