"""Plain values out of pandas and numpy: the one NaN → None rule.

Frames carry numpy scalars, NaN, pd.NA and NaT for "no value"; JSON, templates, spreadsheets and the
console want plain Python values and None. Everything that leaves a frame goes through `plain`.
"""
from __future__ import annotations

from geoes.common.polish import is_missing


def plain(value):
    """numpy/pandas scalar → plain Python value; a missing value (None, NaN, pd.NA, NaT) → None."""
    if is_missing(value):
        return None
    return value.item() if hasattr(value, "item") else value


def plain_record(row, drop=("geometry",)) -> dict:
    """A frame row (Series or mapping) as a dict of plain values, without the geometry."""
    return {k: plain(v) for k, v in row.items() if k not in drop}
