"""Targets by indicator, unit and year, and the outliers: one indicator, very different values."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

import pandas as pd

from ipgraph.analysis.source import Source, as_engine, documents, select

# Every target with its document; ipgraph.diff binds ?document at the marker to take one document's.
TARGETS = """
SELECT DISTINCT ?target ?document ?indicator ?comparator ?value ?unit ?year WHERE {
  # @bind ?document
  { ?document ipg:hasTarget ?target } UNION { ?measure ipg:hasTarget ?target ; ipg:partOf ?document }
  ?document a ipg:PolicyDocument .
  ?target ipg:indicator ?indicator .
  OPTIONAL { ?target ipg:value ?value }
  OPTIONAL { ?target ipg:unit ?unit }
  OPTIONAL { ?target ipg:year ?year }
  OPTIONAL { ?target ipg:comparator ?comparator }
}
"""

COLUMNS = ["indicator", "unit", "year", "comparator", "value", "document", "place", "level"]
# A value this many times above or below the median of its indicator is an outlier.
OUTLIER_FACTOR = 5.0


def indicator_key(text: str) -> str:
    """Indicators compared loosely: NFKC, no spaces or punctuation."""
    return re.sub(r"[\s\W_]", "", unicodedata.normalize("NFKC", text))


def targets(source: Source) -> pd.DataFrame:
    """One row per target: indicator, unit, year, comparator, value (Decimal), the document and its place.
    Sorted by indicator, unit, year, value."""
    engine = as_engine(source)
    docs = documents(engine)
    rows = []
    for row in select(engine, TARGETS):
        doc = docs.get(row["document"], {})
        value = row["value"]
        if value is not None and not isinstance(value, Decimal):
            try:
                value = Decimal(str(value))
            except ArithmeticError:
                value = None
        rows.append({"indicator": row["indicator"], "unit": row["unit"] or "", "year": row["year"],
                     "comparator": row["comparator"], "value": value, "document": doc.get("title"),
                     "place": doc.get("place"), "level": doc.get("level")})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["year"] = pd.array([int(y) if pd.notna(y) else None for y in frame["year"]], dtype="Int64")
    frame = frame.sort_values(["indicator", "unit", "year", "value", "document"], na_position="last")
    return frame.reset_index(drop=True)


def target_outliers(source: Source | pd.DataFrame, factor: float = OUTLIER_FACTOR) -> pd.DataFrame:
    """Targets whose value is at least `factor` times above or below the median of the other
    targets with the same indicator and unit (groups of two or more, from any documents)."""
    frame = source if isinstance(source, pd.DataFrame) else targets(source)
    frame = frame[frame["value"].notna()].copy()
    frame["key"] = [indicator_key(i) + "\x00" + u for i, u in zip(frame["indicator"], frame["unit"], strict=True)]
    rows = []
    for _, group in frame.groupby("key", sort=True):
        if len(group) < 2:
            continue
        values = [float(v) for v in group["value"]]
        for i, ((_, row), value) in enumerate(zip(group.iterrows(), values, strict=True)):
            others = values[:i] + values[i + 1 :]
            median = float(pd.Series(others).median())
            if median <= 0 or value <= 0:
                ratio = float("inf") if (median > 0) != (value > 0) else 1.0
            else:
                ratio = max(value / median, median / value)
            if ratio >= factor:
                rows.append({**{c: row[c] for c in COLUMNS}, "median": median, "ratio": round(ratio, 2),
                             "group": len(group)})
    out = pd.DataFrame(rows, columns=[*COLUMNS, "median", "ratio", "group"])
    return out.sort_values(["ratio", "indicator"], ascending=[False, True]).reset_index(drop=True)


def target_summary(source: Source | pd.DataFrame) -> pd.DataFrame:
    """Per indicator (compared loosely), unit and year: how many targets, in how many places,
    the lowest and highest value. Sorted by targets, then indicator."""
    frame = source if isinstance(source, pd.DataFrame) else targets(source)
    frame = frame.assign(key=[indicator_key(i) for i in frame["indicator"]],
                         yearKey=[int(y) if pd.notna(y) else -1 for y in frame["year"]])
    rows = []
    for (_, unit, year), group in frame.groupby(["key", "unit", "yearKey"], sort=True):
        values = [v for v in group["value"] if v is not None and not pd.isna(v)]
        rows.append({"indicator": sorted(group["indicator"])[0], "unit": unit, "year": None if year < 0 else year,
                     "targets": len(group), "places": group["place"].nunique(),
                     "min": min(values) if values else None, "max": max(values) if values else None})
    out = pd.DataFrame(rows, columns=["indicator", "unit", "year", "targets", "places", "min", "max"])
    out["year"] = pd.array(list(out["year"]), dtype="Int64")
    return out.sort_values(["targets", "indicator", "unit"], ascending=[False, True, True]).reset_index(drop=True)
