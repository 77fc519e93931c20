"""The one helper for SQL identifiers. Values are always passed as parameters."""

from __future__ import annotations

import re

_SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_ident(name: str) -> str:
    """Quote an identifier for PostgreSQL (doubling embedded quotes, rejecting NULs)."""
    if "\x00" in name:
        raise ValueError("identifier contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def is_plain_ident(name: str) -> bool:
    return bool(_SAFE.match(name))
