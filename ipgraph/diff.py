"""What changed between two documents, two editions of a plan, or two builds.

Each side is a graph (a build folder, or policy files built on the spot). Measures are matched
by the similarity of their text (character-bigram overlap), not by number, so a renumbered
plan still lines up: identical text is unchanged, similar text is reworded, the rest are added
or dropped. For matched measures the lead agencies are compared; programmes are compared by
name and targets by indicator and unit.
"""
from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ipgraph.analysis.source import Source, as_engine, select
from ipgraph.analysis.targets import TARGETS, indicator_key
from ipgraph.errors import IpgraphError
from ipgraph.query import Term, bind, resolve_name

# Measures at least this similar (bigram Jaccard) are the same measure, reworded.
REWORDED = 0.5

MEASURES = """
SELECT ?measure ?number ?text ?document ?lead ?agency ?programme ?name ?place WHERE {
  # @bind ?document
  ?measure a ipg:Measure ; ipg:partOf ?document .
  ?document a ipg:PolicyDocument .
  OPTIONAL { ?measure ipg:number ?number }
  OPTIONAL { ?measure ipg:text ?text }
  OPTIONAL { ?measure ipg:leadAgency/rdfs:label ?lead }
  OPTIONAL { ?measure ipg:responsibleAgency/rdfs:label ?agency }
  OPTIONAL { ?measure ipg:leadAgency|ipg:responsibleAgency ?body . ?body rdfs:label|skos:altLabel ?name .
             OPTIONAL { ?body ipg:jurisdiction/rdfs:label ?place } }
  OPTIONAL { ?measure ipg:mentions/rdfs:label ?programme }
}
"""


@dataclass
class MeasureSide:
    number: str
    text: str
    leads: list[str]
    agencies: list[str]
    programmes: list[str]
    names: list[str] = field(default_factory=list)  # every name of its agencies, as the text may print them


@dataclass
class TargetSide:
    indicator: str
    comparator: str | None
    value: str | None
    unit: str
    year: int | None


@dataclass
class Diff:
    """The changes from edition A to edition B (JSON-ready: plain strings, numbers and lists)."""

    a: str
    b: str
    unchanged: int = 0
    added: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    reworded: list[dict[str, Any]] = field(default_factory=list)
    renumbered: list[dict[str, Any]] = field(default_factory=list)
    leads_reassigned: list[dict[str, Any]] = field(default_factory=list)
    agencies_changed: list[dict[str, Any]] = field(default_factory=list)  # bodies assigned added or removed
    programmes_added: list[str] = field(default_factory=list)
    programmes_dropped: list[str] = field(default_factory=list)
    targets_added: list[dict[str, Any]] = field(default_factory=list)
    targets_dropped: list[dict[str, Any]] = field(default_factory=list)
    targets_changed: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n"

    @property
    def changed(self) -> bool:
        return any(getattr(self, name) for name in ("added", "dropped", "reworded", "leads_reassigned",
                                                   "agencies_changed",
                                                   "programmes_added", "programmes_dropped", "targets_added",
                                                   "targets_dropped", "targets_changed"))


def _number_key(number: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", number))


def _only(query: str, document: str | None) -> str:
    """The query limited to one document (its IRI), or as it is for the whole graph."""
    return query if document is None else bind(query, {"document": [Term.iri(document)]})


def find_document(source: Source, name: str) -> str:
    """The IRI of the one document of `source` named `name` (title, file name or 文号, or part of one)."""
    nodes, _ = resolve_name(as_engine(source), "document", name)
    if len(nodes) > 1:
        raise IpgraphError(f"“{name}” names {len(nodes)} documents; give its file name or full title")
    return nodes[0].value


def measures(source: Source, document: str | None = None) -> list[MeasureSide]:
    """The measures of a graph (or of one document, by IRI), in order of number, each with its
    leads, agencies, programmes and the names its agencies may be printed with."""
    found: dict[str, dict[str, Any]] = {}
    for row in select(source, _only(MEASURES, document)):
        m = found.setdefault(row["measure"], {"number": str(row["number"] or ""), "text": row["text"] or "",
                                              "leads": set(), "agencies": set(), "programmes": set(),
                                              "names": set()})
        for key, column in (("leads", "lead"), ("agencies", "agency"), ("programmes", "programme")):
            if row[column]:
                m[key].add(row[column])
        if row["name"]:
            m["names"].update(printed_forms(row["name"], row["place"]))
    out = [MeasureSide(m["number"], m["text"], sorted(m["leads"]), sorted(m["agencies"] | m["leads"]),
                       sorted(m["programmes"]), sorted(m["names"])) for m in found.values()]
    return sorted(out, key=lambda m: (_number_key(m.number), m.text))


def target_list(source: Source, document: str | None = None) -> list[TargetSide]:
    """The targets of a graph (or of one document, by IRI)."""
    out = []
    for row in select(source, _only(TARGETS, document)):
        value = row["value"]
        text = None if value is None else format(Decimal(str(value)).normalize(), "f")
        out.append(TargetSide(row["indicator"], row["comparator"], text, row["unit"] or "",
                              row["year"] if isinstance(row["year"], int) else None))
    return sorted(out, key=lambda t: (t.indicator, t.unit, t.year or 0, t.value or ""))


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def similarity(a: str, b: str) -> float:
    """Jaccard overlap of the character bigrams of two texts (1.0 = same characters in the same pairs)."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x | y else 1.0


def match_measures(old: list[MeasureSide], new: list[MeasureSide], threshold: float = REWORDED
                   ) -> tuple[list[tuple[MeasureSide, MeasureSide, float]], list[MeasureSide], list[MeasureSide]]:
    """Pairs (old, new, similarity), most similar first, each measure used once; then the
    unmatched old (dropped) and new (added) measures."""
    grams_old = [_bigrams(m.text) for m in old]
    grams_new = [_bigrams(m.text) for m in new]
    scored = []
    for i, x in enumerate(grams_old):
        for j, y in enumerate(grams_new):
            union = len(x | y)
            score = len(x & y) / union if union else 1.0
            if score >= threshold:
                scored.append((-score, i, j))
    scored.sort()
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for negative, i, j in scored:
        if i in used_old or j in used_new:
            continue
        used_old.add(i)
        used_new.add(j)
        pairs.append((old[i], new[j], -negative))
    pairs.sort(key=lambda p: _number_key(p[1].number))
    dropped = [m for i, m in enumerate(old) if i not in used_old]
    added = [m for j, m in enumerate(new) if j not in used_new]
    return pairs, dropped, added


def printed_forms(name: str, place: str | None) -> set[str]:
    """A body's name and the forms a document of its own place prints it in: names are stored
    with the place resolved (沈阳市市场监督管理局 for 市市场监督管理局), so the place is taken off again."""
    forms = {name}
    if place and name.startswith(place) and len(name) > len(place):
        forms.add(name[len(place) :])
        forms.add(name[len(place) - 1 :])  # keeps the level character: 市… 区… 县…
    return forms


def wording(m: MeasureSide, names: set[str]) -> str:
    """The measure's text without its agencies' names (longest first), spaces or punctuation:
    what is left when only the assignment changed is the same on both sides."""
    text = "".join(unicodedata.normalize("NFKC", m.text).split())
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(unicodedata.normalize("NFKC", name), "")
    return re.sub(r"[\W_]", "", text)  # and without punctuation: a list separator is no rewording


def _brief(m: MeasureSide) -> dict[str, Any]:
    return {"number": m.number, "text": " ".join(m.text.split()), "leads": m.leads}


def clip(text: str, limit: int = 80) -> str:
    """A measure's text shortened for a terminal table."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _target(t: TargetSide) -> dict[str, Any]:
    return asdict(t)


def diff_graphs(a: Source, b: Source, name_a: str = "A", name_b: str = "B",
                doc_a: str | None = None, doc_b: str | None = None) -> Diff:
    """The changes from graph `a` to graph `b` (or from document doc_a of `a` to doc_b of `b`, by IRI)."""
    ea, eb = as_engine(a), as_engine(b)
    result = Diff(a=name_a, b=name_b)
    old, new = measures(ea, doc_a), measures(eb, doc_b)
    pairs, dropped, added = match_measures(old, new)
    result.dropped = [_brief(m) for m in dropped]
    result.added = [_brief(m) for m in added]
    for x, y, score in pairs:
        names = set(x.names) | set(y.names)
        if " ".join(x.text.split()) == " ".join(y.text.split()):
            result.unchanged += 1
        elif wording(x, names) == wording(y, names):
            result.unchanged += 1  # only the bodies named changed: reported as reassigned below
        else:
            result.reworded.append({"old": _brief(x), "new": _brief(y), "similarity": round(score, 3)})
        if x.agencies != y.agencies:
            result.agencies_changed.append({"old_number": x.number, "new_number": y.number,
                                            "text": _brief(y)["text"],
                                            "added": sorted(set(y.agencies) - set(x.agencies)),
                                            "removed": sorted(set(x.agencies) - set(y.agencies))})
        if x.number != y.number:
            result.renumbered.append({"old": x.number, "new": y.number, "text": _brief(y)["text"]})
        if x.leads != y.leads:
            result.leads_reassigned.append({"old_number": x.number, "new_number": y.number,
                                            "text": _brief(y)["text"], "old": x.leads, "new": y.leads})
    prog_old = {p for m in old for p in m.programmes}
    prog_new = {p for m in new for p in m.programmes}
    result.programmes_added = sorted(prog_new - prog_old)
    result.programmes_dropped = sorted(prog_old - prog_new)
    _diff_targets(target_list(ea, doc_a), target_list(eb, doc_b), result)
    return result


def _diff_targets(old: list[TargetSide], new: list[TargetSide], result: Diff) -> None:
    def key(t: TargetSide) -> tuple[str, str]:
        return indicator_key(t.indicator), t.unit

    remaining = list(new)
    for t in old:
        same = next((n for n in remaining if n == t), None)
        if same is not None:
            remaining.remove(same)
            continue
        alike = next((n for n in remaining if key(n) == key(t)), None)
        if alike is None:
            result.targets_dropped.append(_target(t))
            continue
        remaining.remove(alike)
        change = {"indicator": alike.indicator, "unit": alike.unit, "old": _target(t), "new": _target(alike)}
        if t.value is not None and alike.value is not None:
            change["direction"] = "raised" if Decimal(alike.value) > Decimal(t.value) else (
                "lowered" if Decimal(alike.value) < Decimal(t.value) else "same value")
        result.targets_changed.append(change)
    result.targets_added = [_target(t) for t in remaining]


def load_side(path: Path | str) -> Source:
    """A build folder (with ipgraph.nt or a store) as its engine, or files/folders of documents
    built on the spot (an rdflib Graph). Unusable input raises IpgraphError naming the file."""
    from ipgraph.pipeline import build_graph

    path = Path(path)
    if not path.exists():
        raise IpgraphError(f"{path}: no such file or folder")
    if path.is_dir() and ((path / "ipgraph.nt").exists() or (path / "store").is_dir()):
        return as_engine(path)
    problems: list[str] = []
    result = build_graph([path], on_skip=lambda exc: problems.append(str(exc)))
    if not result.records:
        raise IpgraphError(problems[0] if problems else f"{path}: no policy document found")
    return result.graph


def diff_paths(a: Path | str, b: Path | str) -> Diff:
    """The changes from A to B, each a document file, a folder of them or a build folder."""
    return diff_graphs(load_side(a), load_side(b), str(a), str(b))


def diff_documents(build: Source, a: str, b: str) -> Diff:
    """The changes from document `a` to document `b` of one build (each named by title, file name or 文号)."""
    engine = as_engine(build)
    doc_a, doc_b = find_document(engine, a), find_document(engine, b)
    return diff_graphs(engine, engine, a, b, doc_a, doc_b)


def format_diff(diff: Diff, console: Any = None) -> None:
    """The diff as tables in the terminal (rich)."""
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=220)
    console.print(f"{diff.a} → {diff.b}: {diff.unchanged} measures unchanged, {len(diff.reworded)} reworded, "
                  f"{len(diff.added)} added, {len(diff.dropped)} dropped, {len(diff.leads_reassigned)} lead(s) "
                  f"reassigned, {len(diff.targets_changed)} target(s) changed")

    def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
        if not rows:
            return
        t = Table(title=title, title_justify="left")
        for c in columns:
            t.add_column(c, overflow="fold")
        for r in rows:
            t.add_row(*["" if v is None else clip(str(v), 90) for v in r])
        console.print(t)

    table("Measures added", ["number", "text", "leads"], [[m["number"], m["text"], "、".join(m["leads"])]
                                                         for m in diff.added])
    table("Measures dropped", ["number", "text", "leads"], [[m["number"], m["text"], "、".join(m["leads"])]
                                                           for m in diff.dropped])
    table("Measures reworded", ["old", "new", "similarity", "new text"],
          [[r["old"]["number"], r["new"]["number"], r["similarity"], r["new"]["text"]] for r in diff.reworded])
    table("Lead agencies reassigned", ["old", "new", "text", "lead before", "lead after"],
          [[r["old_number"], r["new_number"], r["text"], "、".join(r["old"]), "、".join(r["new"])]
           for r in diff.leads_reassigned])
    table("Bodies assigned added or removed", ["old", "new", "text", "added", "removed"],
          [[r["old_number"], r["new_number"], r["text"], "、".join(r["added"]), "、".join(r["removed"])]
           for r in diff.agencies_changed])
    table("Programmes", ["change", "programme"], [["added", p] for p in diff.programmes_added]
          + [["dropped", p] for p in diff.programmes_dropped])
    table("Targets changed", ["indicator", "unit", "before", "after", "change"],
          [[c["indicator"], c["unit"], f"{c['old']['comparator'] or ''}{c['old']['value']} ({c['old']['year'] or ''})",
            f"{c['new']['comparator'] or ''}{c['new']['value']} ({c['new']['year'] or ''})", c.get("direction", "")]
           for c in diff.targets_changed])
    table("Targets added / dropped", ["change", "indicator", "value", "unit", "year"],
          [["added", t["indicator"], t["value"], t["unit"], t["year"]] for t in diff.targets_added]
          + [["dropped", t["indicator"], t["value"], t["unit"], t["year"]] for t in diff.targets_dropped])


def diff_html(diff: Diff) -> str:
    """The diff as one self-contained HTML page (every text escaped)."""
    e = html.escape

    def section(title: str, head: list[str], rows: list[list[Any]]) -> str:
        if not rows:
            return f"<h2>{e(title)}</h2><p>none</p>"
        body = "".join("<tr>" + "".join(f"<td>{e('' if v is None else str(v))}</td>" for v in r) + "</tr>"
                       for r in rows)
        return (f"<h2>{e(title)} ({len(rows)})</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head)
                + f"</tr>{body}</table>")

    parts = [
        section("Measures added", ["number", "text", "leads"],
                [[m["number"], m["text"], "、".join(m["leads"])] for m in diff.added]),
        section("Measures dropped", ["number", "text", "leads"],
                [[m["number"], m["text"], "、".join(m["leads"])] for m in diff.dropped]),
        section("Measures reworded", ["old no.", "new no.", "similarity", "before", "after"],
                [[r["old"]["number"], r["new"]["number"], r["similarity"], r["old"]["text"], r["new"]["text"]]
                 for r in diff.reworded]),
        section("Lead agencies reassigned", ["old no.", "new no.", "measure", "before", "after"],
                [[r["old_number"], r["new_number"], r["text"], "、".join(r["old"]), "、".join(r["new"])]
                 for r in diff.leads_reassigned]),
        section("Bodies assigned added or removed", ["old no.", "new no.", "measure", "added", "removed"],
                [[r["old_number"], r["new_number"], r["text"], "、".join(r["added"]), "、".join(r["removed"])]
                 for r in diff.agencies_changed]),
        section("Programmes added", ["programme"], [[p] for p in diff.programmes_added]),
        section("Programmes dropped", ["programme"], [[p] for p in diff.programmes_dropped]),
        section("Targets changed", ["indicator", "unit", "before", "after", "change"],
                [[c["indicator"], c["unit"], c["old"]["value"], c["new"]["value"], c.get("direction", "")]
                 for c in diff.targets_changed]),
        section("Targets added", ["indicator", "value", "unit", "year"],
                [[t["indicator"], t["value"], t["unit"], t["year"]] for t in diff.targets_added]),
        section("Targets dropped", ["indicator", "value", "unit", "year"],
                [[t["indicator"], t["value"], t["unit"], t["year"]] for t in diff.targets_dropped]),
    ]
    style = ("body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin-bottom:1em}"
             "td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top}th{background:#f4f4f4}")
    return (f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>ipgraph diff</title>'
            f"<style>{style}</style></head><body><h1>{e(diff.a)} → {e(diff.b)}</h1>"
            f"<p>{diff.unchanged} measures unchanged, {len(diff.renumbered)} renumbered.</p>"
            + "".join(parts) + "</body></html>\n")
