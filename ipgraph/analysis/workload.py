"""Agency workload: how many measures each agency leads and shares, per document and level."""
from __future__ import annotations

import pandas as pd

from ipgraph.analysis.source import LEVEL_RANK, Source, as_engine, documents, level_name, select

ASSIGNMENTS = """
SELECT DISTINCT ?measure ?document ?agency ?agencyLabel ?agencyLevel ?lead WHERE {
  ?measure a ipg:Measure ; ipg:partOf ?document ; ipg:responsibleAgency|ipg:leadAgency ?agency .
  ?document a ipg:PolicyDocument .
  ?agency rdfs:label ?agencyLabel .
  OPTIONAL { ?agency ipg:level ?agencyLevel }
  BIND (EXISTS { ?measure ipg:leadAgency ?agency } AS ?lead)
}
"""

COLUMNS = ["agency", "agencyLevel", "document", "title", "level", "led", "supporting", "shared", "assigned"]


def assignments(source: Source) -> pd.DataFrame:
    """One row per (measure, agency): the document, the agency's level and whether it leads."""
    engine = as_engine(source)
    rows = select(engine, ASSIGNMENTS)
    frame = pd.DataFrame(rows, columns=["measure", "document", "agency", "agencyLabel", "agencyLevel", "lead"])
    frame["agencyLevel"] = [level_name(v) for v in frame["agencyLevel"]]
    frame["lead"] = frame["lead"].astype(bool)
    frame["bodies"] = frame.groupby("measure")["agency"].transform("nunique")
    return frame


def workload(source: Source) -> pd.DataFrame:
    """Per agency and document: measures it leads (led), is assigned without leading
    (supporting), shares with at least one other body (shared) and is assigned in all (assigned).
    Sorted by measures led, then assigned, then name."""
    engine = as_engine(source)
    frame = assignments(engine)
    docs = documents(engine)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    grouped = frame.groupby(["agencyLabel", "document"], sort=True)
    out = pd.DataFrame(
        {
            "agencyLevel": grouped["agencyLevel"].first(),
            "led": grouped["lead"].sum().astype(int),
            "supporting": grouped["lead"].apply(lambda s: int((~s).sum())),
            "shared": grouped["bodies"].apply(lambda s: int((s > 1).sum())),
            "assigned": grouped["measure"].nunique().astype(int),
        }
    ).reset_index()
    out = out.rename(columns={"agencyLabel": "agency"})
    out["title"] = [docs.get(d, {}).get("title") for d in out["document"]]
    out["level"] = [docs.get(d, {}).get("level") for d in out["document"]]
    out = out.sort_values(["led", "assigned", "agency", "document"], ascending=[False, False, True, True])
    return out[COLUMNS].reset_index(drop=True)


def workload_by_agency(source: Source | pd.DataFrame) -> pd.DataFrame:
    """Per agency over all documents: led, supporting, shared, assigned and the documents it works in."""
    frame = source if isinstance(source, pd.DataFrame) else workload(source)
    grouped = frame.groupby("agency", sort=True)
    out = grouped[["led", "supporting", "shared", "assigned"]].sum()
    out["documents"] = grouped["document"].nunique()
    out["agencyLevel"] = grouped["agencyLevel"].first()
    out = out.reset_index().sort_values(["led", "assigned", "agency"], ascending=[False, False, True])
    return out[["agency", "agencyLevel", "documents", "led", "supporting", "shared", "assigned"]].reset_index(drop=True)


def workload_by_level(source: Source | pd.DataFrame) -> pd.DataFrame:
    """Per level of the document (national … district): agencies at work and measures led and assigned."""
    frame = source if isinstance(source, pd.DataFrame) else workload(source)
    frame = frame.assign(level=frame["level"].fillna("unknown"))
    grouped = frame.groupby("level", sort=True)
    out = grouped[["led", "assigned"]].sum()
    out["agencies"] = grouped["agency"].nunique()
    out["documents"] = grouped["document"].nunique()
    out = out.reset_index()
    out["rank"] = [LEVEL_RANK.get(v, len(LEVEL_RANK)) for v in out["level"]]
    out = out.sort_values(["rank", "level"]).drop(columns="rank")
    return out[["level", "documents", "agencies", "led", "assigned"]].reset_index(drop=True)
