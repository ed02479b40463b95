"""Programme diffusion: which jurisdictions adopt which programme (专利导航, 贯标 …), first seen when, by level."""
from __future__ import annotations

import pandas as pd

from ipgraph.analysis.source import LEVEL_RANK, Source, as_engine, documents, select, text

MENTIONS = """
SELECT DISTINCT ?programme ?label ?document ?measure WHERE {
  ?measure a ipg:Measure ; ipg:partOf ?document ; ipg:mentions ?programme .
  ?programme rdfs:label ?label .
}
"""

COLUMNS = ["programme", "place", "level", "documents", "measures", "firstYear", "firstDocument"]


def programme_diffusion(source: Source) -> pd.DataFrame:
    """One row per (programme, place): the documents and measures of that place naming it, the
    first year seen there (the earliest date of those documents) and that document.
    Sorted by programme, first year, level from the top down, place."""
    engine = as_engine(source)
    docs = documents(engine)
    rows = select(engine, MENTIONS)
    seen: dict[tuple[str, str], dict] = {}
    for row in rows:
        doc = docs.get(row["document"], {})
        place = doc.get("place") or "(unknown place)"
        entry = seen.setdefault((row["label"], place), {"programme": row["label"], "place": place,
                                                        "level": doc.get("level"), "docs": set(), "measures": set()})
        entry["docs"].add(row["document"])
        entry["measures"].add(row["measure"])
    out = []
    for entry in seen.values():
        dated = sorted((docs[d].get("year") or 9999, docs[d]["title"]) for d in entry["docs"])
        first_year, first_title = dated[0]
        out.append({"programme": entry["programme"], "place": entry["place"], "level": entry["level"],
                    "documents": len(entry["docs"]), "measures": len(entry["measures"]),
                    "firstYear": None if first_year == 9999 else first_year, "firstDocument": first_title})
    frame = pd.DataFrame(out, columns=COLUMNS)
    frame["firstYear"] = frame["firstYear"].astype("Int64")
    frame["rank"] = [LEVEL_RANK.get(text(v) or "", 9) for v in frame["level"]]
    frame = frame.sort_values(["programme", "firstYear", "rank", "place"], na_position="last").drop(columns="rank")
    return frame.reset_index(drop=True)


def programme_spread(source: Source | pd.DataFrame) -> pd.DataFrame:
    """Per programme: how many places adopt it, at which levels, first and last year seen."""
    frame = source if isinstance(source, pd.DataFrame) else programme_diffusion(source)
    rows = []
    for programme, group in frame.groupby("programme", sort=True):
        years = [int(y) for y in group["firstYear"].dropna()]
        levels = sorted({v for v in map(text, group["level"]) if v}, key=lambda v: LEVEL_RANK.get(v, 9))
        rows.append({"programme": programme, "places": group["place"].nunique(), "levels": ",".join(levels),
                     "measures": int(group["measures"].sum()), "firstYear": min(years) if years else None,
                     "lastYear": max(years) if years else None})
    out = pd.DataFrame(rows, columns=["programme", "places", "levels", "measures", "firstYear", "lastYear"])
    out = out.astype({"firstYear": "Int64", "lastYear": "Int64"})
    return out.sort_values(["places", "measures", "programme"], ascending=[False, False, True]).reset_index(drop=True)


def programme_matrix(source: Source | pd.DataFrame, top: int | None = 25) -> pd.DataFrame:
    """Programme × place: measures naming the programme in that place's documents (0 where none).
    With `top`, only the programmes adopted in the most places (ties by measures, then name)."""
    frame = source if isinstance(source, pd.DataFrame) else programme_diffusion(source)
    matrix = frame.pivot_table(index="programme", columns="place", values="measures", aggfunc="sum", fill_value=0)
    order = programme_spread(frame)["programme"].tolist()
    if top is not None:
        order = order[:top]
    return matrix.reindex(order).fillna(0).astype(int)
