"""Realistic synthetic corpora for the build benchmark (`ipgraph bench corpus --docs N`).

Each generated plan keeps the frame of one shipped document (its headings and its layout) and
fills every measure slot with a measure drawn from the whole shipped corpus, with the shipped
document's place replaced by another place of data/places.csv and the figures changed. Measure
choice, place and figures come from a seeded random generator: the same seed gives the same corpus,
and two plans share few measures in the same order, so none is a (near-)duplicate of another.
Benchmark material only, never test truth: its extraction is not checked against any gold.
"""
from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass
from pathlib import Path

from ipgraph.read import read_document
from ipgraph.structure import parse_document

_FIGURE = re.compile(r"(?<![0-9])(?!20[0-9]{2}(?![0-9]))[0-9]+")  # any number but a year 20xx


@dataclass
class _Frame:
    name: str
    text: str
    place: str | None
    short: str | None
    slots: list[tuple[int, int, str]]  # each measure's span and printed number


def _places() -> list[tuple[str, str]]:
    path = Path(__file__).resolve().parents[1] / "data" / "places.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        return [(row["name"], row["short"] or row["name"]) for row in csv.DictReader(handle)
                if row["level"] in ("municipal", "provincial")]


def _frames(corpus: Path) -> tuple[list[_Frame], list[str]]:
    frames, pool = [], []
    for path in sorted(corpus.glob("*.txt")):
        source = read_document(path)
        parsed = parse_document(source)
        slots = []
        for measure in parsed.measures:
            body = source.text[measure.span.start:measure.span.end]
            body = body[len(measure.printed):] if body.startswith(measure.printed) else body
            pool.append(body)
            slots.append((measure.span.start, measure.span.end, measure.printed))
        place = parsed.meta.jurisdiction
        short = place[:-1] if place and place[-1] in "市省" else None
        frames.append(_Frame(path.stem, source.text, place, short, slots))
    return frames, pool


def generate_corpus(out_dir: Path | str, docs: int, corpus: Path | str, seed: int = 14) -> list[Path]:
    """Write `docs` synthetic plans into out_dir (syn-000001.txt …); returns their paths."""
    rng = random.Random(seed)
    frames, pool = _frames(Path(corpus))
    frames = [f for f in frames if f.slots]
    if not frames:  # e.g. run outside a checkout: data/corpus is relative to the working folder
        from ipgraph.errors import InputError

        raise InputError(corpus, "no plan with numbered measures here to recombine (the corpus is data/corpus "
                                 "of an ipgraph checkout: run from there)")
    places = _places()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(docs):
        frame = frames[i % len(frames)]
        name, short = rng.choice(places)
        parts, at = [], 0
        for start, end, printed in frame.slots:
            parts.append(frame.text[at:start])
            body = _FIGURE.sub(lambda m: str(rng.randint(2, 9) * 10 ** (len(m.group()) - 1)), rng.choice(pool))
            parts.append(printed + body)
            at = end
        parts.append(frame.text[at:])
        text = "".join(parts)
        if frame.place:
            text = text.replace(frame.place, name)
            if frame.short:
                text = text.replace(frame.short, short)
        path = out / f"syn-{i + 1:06d}.txt"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
