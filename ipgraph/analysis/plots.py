"""Pictures of the analyses (matplotlib, Agg backend): PNG and SVG, with a font that has Chinese glyphs.

The font is the first installed one whose character map covers the sample "知识产权局"
(WenQuanYi, Noto/Source Han, SimHei …, checked with fontTools, not guessed from its name);
without one, the bundled subset of WenQuanYi Micro Hei (ipgraph/data/fonts/, the GB 2312
characters); only if that is missing too, matplotlib's default, with a warning that the
Chinese labels will show as boxes.
"""
from __future__ import annotations

import io
import warnings
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import matplotlib
import networkx as nx
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from ipgraph.analysis import source
from ipgraph.analysis.diffusion import programme_matrix
from ipgraph.analysis.network import SEED, coresponsibility, coresponsibility_graph
from ipgraph.analysis.targets import targets
from ipgraph.analysis.workload import workload_by_agency

# Figures are made with matplotlib.figure.Figure, not pyplot: no backend, no window, no global
# figure list; the same code draws into files and into a notebook (show_png).

SAMPLE = "知识产权局"
PREFERRED = ("WenQuanYi", "Noto Sans CJK", "Noto Sans SC", "Source Han Sans", "SimHei", "Microsoft YaHei",
             "PingFang", "Heiti", "AR PL")
PLOTS = ("network", "heatmap", "timeline", "workload")


def _covers(path: str, text: str) -> bool:
    """Whether the font file's (first) character map has every character of `text`."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.lower().endswith(".ttc"):
            collection = TTCollection(path, lazy=True)
            try:
                cmap = collection.fonts[0].getBestCmap() or {}
            finally:
                collection.close()
        else:
            with TTFont(path, lazy=True) as font:
                cmap = font.getBestCmap() or {}
    except Exception:  # an unreadable font file is simply not a candidate
        return False
    return all(ord(ch) in cmap for ch in text)


BUNDLED = "wqy-microhei-gb2312.ttf"


@cache
def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs (registered with matplotlib), or None:
    an installed font of a known CJK family, else any installed font covering the sample, else
    the bundled WenQuanYi subset (ipgraph/data/fonts, GB 2312 characters)."""
    entries = sorted(font_manager.fontManager.ttflist,
                     key=lambda f: (not any(f.name.startswith(p) for p in PREFERRED), f.name, f.fname))
    for entry in entries:
        if any(entry.name.startswith(p) for p in PREFERRED) and _covers(entry.fname, SAMPLE):
            return entry.name
    for entry in entries:  # any other installed font that covers the sample
        if entry.fname.lower().endswith((".ttf", ".otf", ".ttc")) and _covers(entry.fname, SAMPLE):
            return entry.name
    bundled = files("ipgraph") / "data" / "fonts" / BUNDLED
    if bundled.is_file():
        path = str(bundled)
        font_manager.fontManager.addfont(path)
        return font_manager.FontProperties(fname=path).get_name()
    return None


def _setup() -> None:
    family = cjk_font()
    if family is None:
        warnings.warn("no font with Chinese glyphs found (install fonts-wqy-microhei); labels will show as boxes",
                      stacklevel=3)
    else:
        matplotlib.rcParams["font.family"] = [family, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["svg.hashsalt"] = "ipgraph"  # stable ids inside SVG files
    matplotlib.rcParams["svg.fonttype"] = "path"  # the SVG shows the glyphs without the font installed


def save(fig: Any, path: Path | str, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Write the figure as PATH.png and PATH.svg (no timestamps inside: same picture, same bytes)."""
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        target = base.with_suffix(f".{fmt}")
        metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        fig.savefig(target, format=fmt, dpi=110, bbox_inches="tight", metadata=metadata)
        written.append(target)
    return written


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes (for IPython.display.Image in a notebook)."""
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return out.getvalue()


def component_layout(graph: nx.Graph) -> dict[Any, Any]:
    """Each connected component laid out on its own (spring layout, fixed seed) and the
    components placed on a grid, largest first, each scaled by its size: one document's
    agencies do not pile onto another's."""
    import math

    import numpy as np

    parts = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0]))
    columns = max(1, math.ceil(math.sqrt(len(parts))))
    pos: dict[Any, Any] = {}
    for i, part in enumerate(parts):
        sub = graph.subgraph(part)
        local = nx.spring_layout(sub, weight="weight", seed=SEED, k=1.5 / math.sqrt(len(part))) if len(part) > 1 \
            else {part[0]: np.zeros(2)}
        scale = 0.45 * min(1.0, math.sqrt(len(part) / len(parts[0])) + 0.2)
        centre = np.array([i % columns, -(i // columns)], dtype=float)
        for node, xy in local.items():
            pos[node] = centre + scale * np.asarray(xy)
    return pos


def plot_network(graph: nx.Graph, metrics: pd.DataFrame | None = None, labels: int = 12) -> Any:
    """The co-responsibility network: node size = shared measures, colour = community, the
    `labels` most central agencies named; edge width = shared measures."""
    _setup()
    metrics = metrics if metrics is not None else coresponsibility(graph)
    community = dict(zip(metrics["agency"], metrics["community"], strict=True))
    fig = Figure(figsize=(12, 9))
    ax = fig.subplots()
    if graph.number_of_nodes():
        pos = component_layout(graph)
        cmap = matplotlib.colormaps["tab10"]
        nodes = sorted(graph)
        strength = {n: graph.degree(n, weight="weight") for n in nodes}
        nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.25, edge_color="#777777",
                               width=[0.4 + 0.6 * d["weight"] for _, _, d in graph.edges(data=True)])
        nx.draw_networkx_nodes(graph, pos, nodelist=nodes, ax=ax, node_size=[30 + 8 * strength[n] for n in nodes],
                               node_color=[cmap(community.get(n, 0) % 10) for n in nodes], linewidths=0.5,
                               edgecolors="white")
        # Name the strongest bodies of each community (a few each), so every cluster is labelled.
        ranked = metrics.sort_values(["strength", "betweenness", "agency"], ascending=[False, False, True])
        per_community = max(1, labels // max(1, ranked["community"].nunique()))
        named = ranked.groupby("community", sort=False).head(per_community).head(labels)["agency"]
        text = nx.draw_networkx_labels(graph, pos, labels={n: n for n in named}, font_size=8, ax=ax,
                                       font_family=matplotlib.rcParams["font.family"], verticalalignment="bottom")
        for label in text.values():
            label.set_bbox({"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1})
    ax.set_title(f"机构协同网络 co-responsibility network: {graph.number_of_nodes()} agencies, "
                 f"{graph.number_of_edges()} links; colour = Louvain community")
    ax.axis("off")
    return fig


def plot_heatmap(matrix: pd.DataFrame) -> Any:
    """Programme × place heat map: measures naming the programme in each place's documents."""
    _setup()
    rows, cols = matrix.shape
    fig = Figure(figsize=(max(6, 1.2 * cols + 4), max(4, 0.35 * rows + 2)))
    ax = fig.subplots()
    if matrix.empty:  # nothing to colour: say so instead of an empty axis
        ax.text(0.5, 0.5, "no programme is named in a measure", ha="center", va="center", transform=ax.transAxes)
        ax.axis("off")
        return fig
    image = ax.imshow(matrix.to_numpy(), cmap="YlOrRd", aspect="auto", vmin=0)
    ax.set_xticks(range(cols), labels=list(matrix.columns), rotation=30, ha="right")
    ax.set_yticks(range(rows), labels=list(matrix.index))
    for i in range(rows):
        for j in range(cols):
            value = int(matrix.iat[i, j])
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax, label="measures")
    ax.set_title("项目扩散 programmes × places (measures naming the programme)")
    return fig


def plot_timeline(docs: pd.DataFrame, target_rows: pd.DataFrame) -> Any:
    """Documents (circles, by year of their date) and targets (crosses, by target year) per place."""
    _setup()
    places = sorted({p for p in list(docs["place"]) + list(target_rows["place"]) if isinstance(p, str)})
    y = {p: i for i, p in enumerate(places)}
    fig = Figure(figsize=(11, max(3, 0.6 * len(places) + 1.5)))
    ax = fig.subplots()
    dated = docs[docs["year"].notna() & docs["place"].isin(places)]
    ax.scatter(dated["year"].astype(int), [y[p] for p in dated["place"]], s=120, marker="o", label="document",
               zorder=3)
    for _, row in dated.iterrows():
        ax.annotate(str(row["title"])[:18], (int(row["year"]), y[row["place"]]), textcoords="offset points",
                    xytext=(6, 6), fontsize=7)
    aimed = target_rows[target_rows["year"].notna() & target_rows["place"].isin(places)]
    counts = aimed.groupby(["place", "year"]).size().reset_index(name="n")
    ax.scatter(counts["year"].astype(int), [y[p] for p in counts["place"]], s=30 + 15 * counts["n"], marker="X",
               label="targets for that year (size = count)", zorder=3)
    ax.set_yticks(range(len(places)), labels=places)
    ax.set_xlabel("year")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("时间线 documents and target years")
    return fig


def plot_workload(per_agency: pd.DataFrame, top: int = 20) -> Any:
    """Horizontal bars for the `top` agencies by measures led: led and supporting, stacked."""
    _setup()
    shown = per_agency.head(top).iloc[::-1]
    fig = Figure(figsize=(10, max(3, 0.35 * len(shown) + 1.5)))
    ax = fig.subplots()
    ax.barh(shown["agency"], shown["led"], label="led 牵头", color="#c0392b")
    ax.barh(shown["agency"], shown["supporting"], left=shown["led"], label="assigned, not leading 参与",
            color="#95a5a6")
    ax.set_xlabel("measures")
    ax.legend(loc="lower right")
    ax.set_title(f"机构工作量 workload: top {len(shown)} agencies by measures led")
    return fig


def write_plots(src: source.Source, folder: Path | str, which: tuple[str, ...] = PLOTS) -> list[Path]:
    """Draw the plots of `which` for the graph `src` into `folder` (NAME.png and NAME.svg each)."""
    engine = source.as_engine(src)
    folder = Path(folder)
    written: list[Path] = []
    if "network" in which:
        graph = coresponsibility_graph(engine)
        written += save(plot_network(graph), folder / "network")
    if "heatmap" in which:
        written += save(plot_heatmap(programme_matrix(engine)), folder / "heatmap")
    if "timeline" in which:
        docs = pd.DataFrame(list(source.documents(engine).values()), columns=["title", "place", "year"])
        written += save(plot_timeline(docs, targets(engine)), folder / "timeline")
    if "workload" in which:
        written += save(plot_workload(workload_by_agency(engine)), folder / "workload")
    return written
