"""French words the project reads and writes in several places: the months."""

from __future__ import annotations

MONTH_NAMES = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
    "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
# A month's number from its name, accented or not ("fevrier", "aout", "decembre").
MONTHS = {
    **{name: number for number, name in enumerate(MONTH_NAMES, start=1)},
    "fevrier": 2, "aout": 8, "decembre": 12,
}  # fmt: skip
