"""All analyses at once, as named tables, and their text, CSV and JSON forms (for `ipgraph analyze`)."""
from __future__ import annotations

import csv
import io
import json
import math
from decimal import Decimal
from typing import Any

import pandas as pd

from ipgraph.analysis.chains import directive_chains, directive_reach
from ipgraph.analysis.diffusion import programme_diffusion, programme_spread
from ipgraph.analysis.network import bridges, coresponsibility, coresponsibility_graph, edges
from ipgraph.analysis.source import Source, as_engine
from ipgraph.analysis.targets import target_outliers, target_summary, targets
from ipgraph.analysis.workload import workload, workload_by_agency, workload_by_level

ANALYSES = ("workload", "network", "chains", "diffusion", "targets")
TITLES = {
    "workload": "Agency workload: measures led and assigned (per agency over all documents)",
    "workload-documents": "Agency workload per document",
    "workload-levels": "Workload by level of the document",
    "network": "Co-responsibility network: partners, betweenness, Louvain community",
    "network-bridges": "Bodies that bridge communities",
    "network-edges": "Heaviest co-responsibility links (shared measures)",
    "chains": "Directive reach: national directives, the places they reach and how deep",
    "chains-documents": "Directive chains: every document a national directive reaches",
    "diffusion": "Programme diffusion: places adopting each programme, first and last year",
    "diffusion-places": "Programme × place, first year seen",
    "targets": "Targets by indicator, unit and year: how many, in how many places, lowest and highest value",
    "targets-all": "Every target: indicator, unit, year, comparator, value, document",
    "targets-outliers": "Target outliers: same indicator and unit, very different values",
}


def run_analyses(source: Source, names: tuple[str, ...] | list[str] = ANALYSES) -> dict[str, pd.DataFrame]:
    """The tables of the named analyses (keys as in TITLES), computed once over one engine."""
    engine = as_engine(source)
    tables: dict[str, pd.DataFrame] = {}
    for name in names:
        if name == "workload":
            per_doc = workload(engine)
            tables["workload"] = workload_by_agency(per_doc)
            tables["workload-documents"] = per_doc.drop(columns=["document"])
            tables["workload-levels"] = workload_by_level(per_doc)
        elif name == "network":
            graph = coresponsibility_graph(engine)
            metrics = coresponsibility(graph)
            tables["network"] = metrics
            tables["network-bridges"] = bridges(metrics)
            tables["network-edges"] = edges(graph)
        elif name == "chains":
            rows = directive_chains(engine)
            tables["chains"] = directive_reach(rows)
            tables["chains-documents"] = rows
        elif name == "diffusion":
            rows = programme_diffusion(engine)
            tables["diffusion"] = programme_spread(rows)
            tables["diffusion-places"] = rows
        elif name == "targets":
            rows = targets(engine)
            tables["targets"] = target_summary(rows)
            tables["targets-all"] = rows
            tables["targets-outliers"] = target_outliers(rows)
        else:
            raise ValueError(f"unknown analysis {name!r}; choose from {', '.join(ANALYSES)}")
    return tables


def plain(value: Any) -> Any:
    """A cell as a JSON value: Decimals as numbers, pandas' missing values as null."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def to_json(tables: dict[str, pd.DataFrame]) -> str:
    return json.dumps({name: records(frame) for name, frame in tables.items()}, ensure_ascii=False, indent=1) + "\n"


def to_csv(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(frame.columns))
    for row in records(frame):
        writer.writerow(["" if v is None else v for v in row.values()])
    return out.getvalue()


def print_tables(tables: dict[str, pd.DataFrame], top: int | None = 15, console: Any = None) -> None:
    """Each table in the terminal with rich (CJK-aware widths), at most `top` rows each."""
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console()
        if not console.is_terminal:  # a pipe or a file: wide rows, no wrapping at 80 columns
            console = Console(width=220)
    for name, frame in tables.items():
        shown = frame if top is None else frame.head(top)
        more = f" — first {top} of {len(frame)}" if top is not None and len(frame) > top else f" — {len(frame)} rows"
        table = Table(title=f"{TITLES.get(name, name)}{more}", title_justify="left")
        for column in frame.columns:
            table.add_column(str(column), overflow="fold")
        for row in records(shown):
            table.add_row(*["" if v is None else str(v) for v in row.values()])
        console.print(table)
