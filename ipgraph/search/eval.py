"""Measured, not assumed: search quality from gold files, echo precision from hand judgements.

Search. For each programme of ipgraph/data/search_eval_queries.csv with at least MIN_RELEVANT
relevant items, its short query is run by four methods and scored with recall@10 and MRR:
  jieba      the product: jieba words (user dictionary from the graph + domain terms) and the
             texts' character bigrams (with coordinated forms' readings), two BM25 fields, each
             query token scored once, in the field where it weighs more (ipgraph.search.rank)
  words      jieba words alone (cut_for_search), BM25
  bigram     character bigrams, BM25 (the dictionary-free baseline)
  substring  plain substring matching of the query's parts, ranked by how often they occur
With --variants, also the ranking variants of ipgraph.search.eval_variants (BM25F, proximity …),
each over the jieba index's own fields.
recall@10 is hits in the top 10 / |relevant|, which caps below 1 where |relevant| > 10; beside it,
the normalised form hits / min(10, |relevant|) ("nrecall@10"), never instead of it.
A second query set, "names", is made by a rule (written down here before it was first scored, and
reported separately; nothing in it is chosen by hand): for the same programmes, every name the
programme scheme knows for it (its canonical label and each form of ipgraph/data's programme list,
ipgraph.extract.programmes.scheme_aliases), each name one query. These are the whole compounds an
analyst who knows the programme types (知识产权质押融资, 专利导航, 贯标 …): the case the fragment
queries above leave out.
Relevant items come from gold files only:
  measures   (a build with gold, e.g. data/corpus + data/gold): the built measures whose gold
             measure (matched by its anchor) lists the programme
  passages   (texts with gold, e.g. shared/dev): the sentences of the texts that contain a surface
             form the gold file accepts for the programme (its "programmes" field); used where the
             gold lists few measures

Echoes. ipgraph/data/echo_judgements.csv holds hand-judged pairs; precision at a threshold is the
share of judged pairs at or above it (by today's scores, ipgraph.search.echoes: fixed weights, so a
pair's score never depends on the rest of the corpus) that were judged echoes. The weights' domain
table (ipgraph/data/echo_domain_words.csv) is made by echo_domain_table from reference_units.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ipgraph.knowledge import data_text
from ipgraph.search.index import Made, SearchIndex, index_docs
from ipgraph.search.rank import scores, top
from ipgraph.search.records import SearchDoc
from ipgraph.search.tokenise import normalise, query_terms

MIN_RELEVANT = 3
DOMAIN_CUT = 0.03  # the echo domain table lists the words in at least 3 % of the reference units
K = 10
METHODS = ("jieba", "words", "bigram", "substring")


def _rows(name: str) -> list[dict[str, str]]:
    text = "\n".join(line for line in data_text(name).splitlines() if line.strip() and not line.startswith("#"))
    return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(io.StringIO(text))]


def eval_queries() -> dict[str, str]:
    """programme → its evaluation query."""
    return {r["programme"]: r["query"] for r in _rows("search_eval_queries.csv")}


def name_queries(programmes: list[str]) -> list[tuple[str, str]]:
    """The "names" query set: (programme, name) for every name the scheme knows for each programme."""
    from ipgraph.extract.programmes import scheme_aliases

    out = []
    for programme in programmes:
        for name in dict.fromkeys((programme, *scheme_aliases(programme))):
            out.append((programme, name))
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", normalise(text))


# ------------------------------------------------------------------------------------- relevance


def measure_relevance(docs: list[SearchDoc], gold_dir: Path | str) -> dict[str, set[str]]:
    """programme → IRIs of the built measures whose gold measure names it (anchor-matched)."""
    by_file: dict[str, list[SearchDoc]] = {}
    for d in docs:
        by_file.setdefault(Path(d.source_file).stem, []).append(d)
    out: dict[str, set[str]] = {}
    for path in sorted(Path(gold_dir).glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        candidates = [(d, _squash(d.text), _squash(f"{d.title}{d.text}")) for d in by_file.get(path.stem, [])]
        for m in gold.get("measures", []):
            if not m.get("programmes"):
                continue
            anchor = _squash(m.get("anchor") or "")
            hit = next((d for d, text, titled in candidates if anchor and (anchor in text or anchor in titled)), None)
            if hit is None:
                continue  # the extractor missed the measure: nothing to find
            for p in m["programmes"]:
                out.setdefault(p, set()).add(hit.iri)
    return out


_SENTENCE = re.compile(r"[^。;;\n]+[。;;]?")


def passage_docs(text_dir: Path | str) -> list[SearchDoc]:
    """Every sentence of every .txt file in text_dir, as a SearchDoc (iri passage:<stem>/<n>)."""
    docs = []
    for path in sorted(Path(text_dir).glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for n, m in enumerate(_SENTENCE.finditer(text), 1):
            sentence = m.group(0).strip()
            if len(sentence) >= 8:
                docs.append(SearchDoc(iri=f"passage:{path.stem}/{n}", doc_iri=f"passage:{path.stem}",
                                      document=path.stem, source_file=path.name, doc_number="", level="",
                                      number=str(n), order=n, text=sentence))
    return docs


def passage_relevance(docs: list[SearchDoc], gold_dir: Path | str) -> dict[str, set[str]]:
    """programme → passages containing a surface form the file's gold accepts for it."""
    out: dict[str, set[str]] = {}
    for path in sorted(Path(gold_dir).glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        mine = [d for d in docs if Path(d.source_file).stem == path.stem]
        for programme, surfaces in (gold.get("programmes") or {}).items():
            forms = [_squash(s) for s in surfaces if s]
            for d in mine:
                if any(f and f in _squash(d.text) for f in forms):
                    out.setdefault(programme, set()).add(d.iri)
    return out


# ------------------------------------------------------------------------------------- ranking


def substring_ranking(docs: list[SearchDoc], query: str, k: int) -> list[int]:
    """Plain substring matching: a measure scores the occurrences of the query's parts in it."""
    parts = query_terms(query)
    texts = [normalise(d.gram_text()) for d in docs]  # with the readings the bigram fields read
    values = np.asarray([sum(t.count(p) for p in parts) for t in texts], dtype=np.float64)
    return top(values, k)


def rankers(docs: list[SearchDoc], names: list[str], made: Made | None = None,
            variants: bool = False) -> dict[str, Callable[[str, int], list[int]]]:
    # made: a build's tokens (SearchIndex.made()), so that the build's index is what is measured
    indexes: dict[str, SearchIndex] = {m: index_docs(docs, m, names, made=made) for m in ("jieba", "words", "bigram")}

    def bm25(index: SearchIndex) -> Callable[[str, int], list[int]]:
        return lambda q, k: top(scores(index, q), k)

    out: dict[str, Callable[[str, int], list[int]]] = {
        "jieba": bm25(indexes["jieba"]), "words": bm25(indexes["words"]), "bigram": bm25(indexes["bigram"]),
        "substring": lambda q, k: substring_ranking(docs, q, k)}
    if variants:  # the ranking variants of ipgraph.search.eval_variants, over the jieba index's fields
        from ipgraph.search.eval_variants import variant_scorers

        for name, scorer in variant_scorers(indexes["jieba"]).items():
            out[name] = _ranked(scorer)
    return out


def _ranked(scorer: Callable[[str], np.ndarray]) -> Callable[[str, int], list[int]]:
    return lambda q, k: top(scorer(q), k)


@dataclass
class QueryScore:
    programme: str
    query: str
    relevant: int
    scores: dict[str, tuple[float, float, float]]  # method → (recall@K, reciprocal rank, normalised recall@K)


def evaluate_search(docs: list[SearchDoc], relevance: dict[str, set[str]], names: list[str],
                    query_set: str = "fragments", made: Made | None = None, variants: bool = False) -> dict[str, Any]:
    """recall@K and MRR of each method over the queries whose programme has ≥ MIN_RELEVANT items;
    query_set "fragments" (search_eval_queries.csv) or "names" (name_queries, the rule above);
    variants: also the ranking variants of ipgraph.search.eval_variants."""
    fragments = list(eval_queries().items())
    queries = fragments if query_set == "fragments" else name_queries([p for p, _ in fragments])
    rank = rankers(docs, names, made, variants)
    methods = list(rank)
    iris = [d.iri for d in docs]
    rows: list[QueryScore] = []
    for programme, query in queries:
        relevant = relevance.get(programme, set())
        if len(relevant) < MIN_RELEVANT:
            continue
        per: dict[str, tuple[float, float, float]] = {}
        for method, ranker in rank.items():
            ranked = [iris[i] for i in ranker(query, max(K, 100))]
            hits = len(relevant & set(ranked[:K]))
            first = next((n for n, iri in enumerate(ranked, 1) if iri in relevant), None)
            per[method] = (hits / len(relevant), 1.0 / first if first else 0.0, hits / min(K, len(relevant)))
        rows.append(QueryScore(programme, query, len(relevant), per))
    summary = {
        m: {"recall@10": round(float(np.mean([r.scores[m][0] for r in rows])), 3) if rows else 0.0,
            "mrr": round(float(np.mean([r.scores[m][1] for r in rows])), 3) if rows else 0.0,
            "nrecall@10": round(float(np.mean([r.scores[m][2] for r in rows])), 3) if rows else 0.0}
        for m in methods
    }
    return {"queries": len(rows), "items": len(docs), "methods": summary,
            "largest_relevant": max((r.relevant for r in rows), default=0),
            "rows": [{"programme": r.programme, "query": r.query, "relevant": r.relevant,
                      **{f"{m}": [round(v, 3) for v in r.scores[m][:2]] for m in methods}} for r in rows]}


# ------------------------------------------------------------------------------------- echoes


@dataclass(frozen=True)
class Judgement:
    a: str
    b: str
    echo: bool
    score_when_judged: float
    reason: str


def echo_judgements() -> list[Judgement]:
    from ipgraph.vocab import DATA

    def iri(short: str) -> str:
        stem, _, number = short.partition("/")
        return f"{DATA}document/{stem}/measure/{number}"

    return [Judgement(iri(r["a"]), iri(r["b"]), r["echo"] == "yes", float(r["score"]), r["reason"])
            for r in _rows("echo_judgements.csv")]


def pair_scores(index: SearchIndex, pairs: list[tuple[str, str]]) -> list[float | None]:
    """Today's echo score of each pair (None where a measure is not in the index): the cosine of
    ipgraph.search.echoes, which depends on the two measures only."""
    from ipgraph.search.echoes import pair_score, weighted_rows

    row = {d.iri: i for i, d in enumerate(index.docs)}
    known = [(a, b) for a, b in pairs if a in row and b in row]
    full = weighted_rows(index.tokens)
    values = pair_score(full, np.asarray([row[a] for a, _ in known], dtype=np.int64),
                        np.asarray([row[b] for _, b in known], dtype=np.int64))
    scored = {pair: float(v) for pair, v in zip(known, values, strict=True)}
    return [scored.get((a, b)) for a, b in pairs]


def echo_domain_table(units: list[list[str]], cut: float = DOMAIN_CUT) -> list[tuple[str, float]]:
    """The words in at least `cut` of the reference `units` (token lists) with their share, most
    common first: the domain table of ipgraph/data/echo_domain_words.csv (see echoes.token_weight)."""
    from collections import Counter

    df = Counter(t for tokens in units for t in set(tokens))
    n = max(1, len(units))
    rows = [(t, round(c / n, 4)) for t, c in df.items() if c / n >= cut]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def reference_units(index: SearchIndex, passages: Path | str) -> list[list[str]]:
    """The reference units of the domain table: the words of each measure of `index` (the shipped
    corpus) and of each sentence of the texts in `passages` (shared/dev), segmented with the domain
    terms only."""
    from ipgraph.search.tokenise import jieba_tokeniser, user_words

    segment = jieba_tokeniser(user_words([]), grams=False)
    return list(index.tokens) + [segment(d.text) for d in passage_docs(passages)]


def echo_precision(index: SearchIndex, threshold: float) -> dict[str, Any]:
    """Precision at `threshold` over the judged pairs, and the threshold the judgements support."""
    judged = echo_judgements()
    current = pair_scores(index, [(j.a, j.b) for j in judged])
    scored = [(s, j) for s, j in zip(current, judged, strict=True) if s is not None]
    above = [j for s, j in scored if s >= threshold]
    correct = sum(j.echo for j in above)
    return {"judged": len(judged), "found": len(scored), "at_or_above": len(above), "echoes": correct,
            "precision": round(correct / len(above), 3) if above else None, "threshold": threshold,
            "calibrated": calibrate(scored)}


def calibrate(scored: list[tuple[float, Judgement]], floor: float = 0.8) -> float | None:
    """The lowest judged score s such that the judged pairs at or above s are echoes in at least
    `floor` of cases (None if no cut reaches it)."""
    best = None
    ordered = sorted(scored, key=lambda sj: -sj[0])
    hits = 0
    for n, (s, j) in enumerate(ordered, 1):
        hits += j.echo
        if hits / n >= floor and (n == len(ordered) or ordered[n][0] < s):
            best = s
    return best


def format_search_table(label: str, report: dict[str, Any]) -> str:
    lines = [f"{label}: {report['queries']} queries over {report['items']} items "
             f"(largest relevant set {report.get('largest_relevant', 0)})",
             "method         recall@10  MRR    nrecall@10"]
    for m, v in report["methods"].items():
        lines.append(f"{m:14s} {v['recall@10']:.3f}      {v['mrr']:.3f}  {v['nrecall@10']:.3f}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """python -m ipgraph.search.eval [--graph build] [--gold data/gold] [--passages ../shared/dev] [--variants]"""
    import argparse

    from ipgraph.search.echoes import THRESHOLD, echo_links
    from ipgraph.search.index import open_index
    from ipgraph.search.records import read_names

    parser = argparse.ArgumentParser(prog="python -m ipgraph.search.eval", description=main.__doc__)
    parser.add_argument("--graph", default="build", help="build folder of the corpus the gold describes")
    parser.add_argument("--gold", default="data/gold", help="gold folder for the built measures")
    parser.add_argument("--passages", help="a folder of .txt files with gold .json beside them (shared/dev)")
    parser.add_argument("--variants", action="store_true", help="also the ranking variants (ipgraph.search.eval_variants)")
    args = parser.parse_args(argv)
    index = open_index(args.graph)
    relevance = measure_relevance(index.docs, args.gold)
    for query_set in ("fragments", "names"):
        report = evaluate_search(index.docs, relevance, read_names(args.graph), query_set, made=index.made(),
                                 variants=args.variants)
        print(format_search_table(f"{query_set}: measures of {args.graph} (gold {args.gold})", report))
    if args.passages:
        docs = passage_docs(args.passages)
        for query_set in ("fragments", "names"):
            dev = evaluate_search(docs, passage_relevance(docs, args.passages), [], query_set, variants=args.variants)
            print(format_search_table(f"{query_set}: sentences of {args.passages}", dev))
    echoes = echo_precision(index, THRESHOLD)
    print(f"echoes: {echoes['echoes']} of {echoes['at_or_above']} judged pairs at score >= {THRESHOLD} are echoes "
          f"(precision {echoes['precision']}; {echoes['judged']} judged); lowest cut keeping 0.8: {echoes['calibrated']}")
    print(f"echoes stated in {args.graph}: {len(echo_links(index))}")
    if args.passages:  # the dev texts have few measures: their sentences, one "document" per file
        sentences = index_docs(passage_docs(args.passages), "jieba")
        print(f"echoes among the sentences of {args.passages}: {len(echo_links(sentences))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
