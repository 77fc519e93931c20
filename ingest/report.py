"""What an import did: counts and warnings, grouped so a million-row file gives a readable list."""

from __future__ import annotations

from dataclasses import dataclass, field

EXAMPLES_PER_WARNING = 20  # feature numbers quoted per grouped warning


@dataclass
class _Group:
    message: str
    count: int = 0
    features: list[int] = field(default_factory=list)


class WarningLog:
    """Warnings grouped by kind: 'field "levels": 12 values not read as integer (features 3, 7, …)'.

    One line per kind keeps ImportRun.warnings small however many rows repeat
    the same problem, while the first feature numbers still point at the rows.
    """

    def __init__(self) -> None:
        self._groups: dict[str, _Group] = {}

    def add(self, key: str, message: str, feature: int | None = None) -> None:
        group = self._groups.setdefault(key, _Group(message))
        group.count += 1
        if feature is not None and len(group.features) < EXAMPLES_PER_WARNING:
            group.features.append(feature)

    def merge(self, other: WarningLog) -> None:
        """Add what `other` (the log of a later batch) recorded, as if it had been added here."""
        for key, theirs in other._groups.items():
            group = self._groups.setdefault(key, _Group(theirs.message))
            group.count += theirs.count
            group.features.extend(theirs.features[: EXAMPLES_PER_WARNING - len(group.features)])

    def lines(self) -> list[str]:
        out = []
        for group in self._groups.values():
            text = group.message
            if group.features:
                more = ", …" if group.count > len(group.features) else ""
                noun = "feature" if group.count == 1 else "features"
                numbers = ", ".join(map(str, group.features))
                text = f"{text} ({group.count} {noun}: {numbers}{more})" if group.count > 1 else f"feature {numbers}: {text}"
            elif group.count > 1:
                text = f"{text} (×{group.count})"
            out.append(text)
        return out

    def __len__(self) -> int:
        return len(self._groups)


@dataclass
class Counts:
    read: int = 0
    written: int = 0
    repaired: int = 0
    skipped: int = 0

    def add(self, other: Counts) -> None:
        self.read += other.read
        self.written += other.written
        self.repaired += other.repaired
        self.skipped += other.skipped
