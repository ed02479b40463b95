"""Score a graph against gold annotations (docs/GOLD_SPEC.md): precision, recall and F1.

The scoring rules are those of the project's shared scorer (shared/eval/score.py), kept
here so that `ipgraph eval GOLD_DIR` works on an installed package: a gold measure matches
the shortest system measure whose text holds its anchor; agencies match through any of
their labels; citations match by 文号 or title (with the 关于印发〈X〉的通知 wrapper and an
issuer before the title folded); targets match by value and indicator overlap.
tests/test_evaluate.py checks that both give the same figures.
"""
# ruff: noqa
# mypy: ignore-errors
import json
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

IPG = Namespace("https://w3id.org/ipgraph/ontology#")
ISSUER_PREFIX = re.compile(r".*(国务院|中共中央|办公厅|办公室|部|局|委员会|委|政府|院|厅|署|总局|中心)")
LEVELS = {"national": IPG.National, "provincial": IPG.Provincial, "municipal": IPG.Municipal,
          "district": IPG.District, "international": IPG.International}


def norm(s):
    """Compare-form of a Chinese string: NFKC, no whitespace, unified brackets/dashes/quotes."""
    s = unicodedata.normalize("NFKC", str(s))
    s = re.sub(r"\s+", "", s)
    s = s.replace("〔", "[").replace("〕", "]").replace("【", "[").replace("】", "]")
    s = re.sub(r"[—–―−-]+", "-", s)
    s = re.sub(r"[“”\"「」『』‘’']", "", s)
    s = s.replace("《", "").replace("》", "").replace("〈", "<").replace("〉", ">")
    return s


def labels(g, node):
    out = set()
    for p in (RDFS.label, SKOS.prefLabel, SKOS.altLabel):
        out.update(norm(o) for o in g.objects(node, p))
    return out


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def same_citation(gold, title, number):
    gn, gt = gold.get("doc_number"), gold.get("title")
    if gn and number and norm(gn) == norm(number):
        return True
    if gt and title:
        a, b = norm(gt), norm(title)
        if a == b:
            return True
        short, long_ = sorted((a, b), key=len)
        if len(short) >= 4 and (f"印发<{short}>" in long_ or f"转发<{short}>" in long_):  # 关于印发〈X〉的通知 is X
            return True
        if len(short) >= 6 and long_.endswith(short) and ISSUER_PREFIX.fullmatch(long_[: -len(short)]):
            return True  # an issuer written before the title
    return False


def score(graph, gold_dir):
    """Score `graph` (an rdflib Graph, or a path to an RDF file) against the gold files in gold_dir."""
    if isinstance(graph, Graph):
        g = graph
    else:
        g = Graph()
        g.parse(graph)
    golds = {}
    for p in Path(gold_dir).glob("*.json"):
        gold = json.loads(p.read_text(encoding="utf-8"))
        golds[gold.get("file") or p.stem] = gold
    docs = {}
    for d in g.subjects(RDF.type, IPG.PolicyDocument):
        for f in g.objects(d, IPG.sourceFile):
            name = Path(str(f)).name
            if name in golds:
                docs[name] = d
    c = defaultdict(lambda: [0, 0, 0])  # metric -> tp, fp, fn
    meta = defaultdict(lambda: [0, 0])  # field -> correct, total
    agency_iris = defaultdict(set)  # gold canonical agency -> system IRIs
    iri_gold = defaultdict(set)  # system agency IRI -> gold canonicals
    missing_docs = [n for n in golds if n not in docs]

    def add(key, tp, fp, fn):
        c[key][0] += tp
        c[key][1] += fp
        c[key][2] += fn

    for name, gold in golds.items():
        doc = docs.get(name)
        gms = gold.get("measures", [])
        alias = {canon: {norm(x) for x in [canon] + forms} for canon, forms in gold.get("agencies", {}).items()}
        palias = {canon: {norm(x) for x in [canon] + forms} for canon, forms in gold.get("programmes", {}).items()}

        def to_agency(node):
            ls = labels(g, node)
            hits = {canon for canon, forms in alias.items() if ls & forms}
            for h in hits:
                agency_iris[h].add(node)  # across documents: one body, one node
                iri_gold[(name, node)].add(h)  # within a document: two bodies never share a node
            return hits

        def to_programme(node):
            ls = labels(g, node)
            return {canon for canon, forms in palias.items() if ls & forms}

        if doc is None:
            for gm in gms:
                add("measures", 0, 0, 1)
                add("lead", 0, 0, len(gm["lead"]))
                add("responsible", 0, 0, len(set(gm["responsible"]) | set(gm["lead"])))
                add("programmes", 0, 0, len(gm.get("programmes", [])))
            for ct in gold.get("citations", []):
                add("citations" if ct["kind"] == "cites" else "drafts", 0, 0, 1)
                if ct["kind"] == "cites" and ct.get("level") == "national":
                    add("national_citations", 0, 0, 1)
            add("targets", 0, 0, len(gold.get("targets", [])))
            continue

        # measures: a gold measure matches the shortest system measure whose text holds its anchor
        sys_ms = []
        for m in g.subjects(IPG.partOf, doc):
            if (m, RDF.type, IPG.Measure) in g:
                text = "".join(norm(t) for t in g.objects(m, IPG.text))
                sys_ms.append((m, text))
        matched = {}
        for i, gm in enumerate(gms):
            a = norm(gm["anchor"])
            cands = [(len(t), str(m), m) for m, t in sys_ms if a in t]
            if cands:
                matched[i] = min(cands)[2]
        used = set(matched.values())
        add("measures", len(matched), len([m for m, _ in sys_ms if m not in used]), len(gms) - len(matched))

        for i, gm in enumerate(gms):
            m = matched.get(i)
            for key, prop, gold_set in (("lead", [IPG.leadAgency], set(gm["lead"])),
                                        ("responsible", [IPG.responsibleAgency, IPG.leadAgency],
                                         set(gm["responsible"]) | set(gm["lead"]))):
                if m is None:
                    add(key, 0, 0, len(gold_set))
                    continue
                nodes = {o for p in prop for o in g.objects(m, p)}
                got = set()
                fp = 0
                for node in nodes:
                    hits = to_agency(node)
                    if hits:
                        got |= hits
                    else:
                        fp += 1
                add(key, len(got & gold_set), fp + len(got - gold_set), len(gold_set - got))
            gp = set(gm.get("programmes", []))
            if m is None:
                add("programmes", 0, 0, len(gp))
            else:
                got, fp = set(), 0
                for node in g.objects(m, IPG.mentions):
                    hits = to_programme(node)
                    if hits:
                        got |= hits
                    else:
                        fp += 1
                add("programmes", len(got & gp), fp + len(got - gp), len(gp - got))
        # relations hanging on system measures that match no gold measure are false positives
        for m, _ in sys_ms:
            if m in used:
                continue
            add("lead", 0, len(set(g.objects(m, IPG.leadAgency))), 0)
            add("responsible", 0, len(set(g.objects(m, IPG.responsibleAgency)) | set(g.objects(m, IPG.leadAgency))), 0)

        # citations
        for key, prop, kind in (("citations", IPG.cites, "cites"), ("drafts", IPG.drafts, "drafts")):
            gcs = [ct for ct in gold.get("citations", []) if ct["kind"] == kind]
            scs = []
            for d in set(g.objects(doc, prop)):
                titles = [str(t) for t in g.objects(d, DCTERMS.title)] + [str(t) for t in g.objects(d, RDFS.label)]
                numbers = [str(n) for n in g.objects(d, IPG.docNumber)]
                scs.append((d, titles or [None], numbers or [None]))
            # one-to-one pairing: exact title/number matches first, then looser ones
            pair = {}
            for strict in (True, False):
                for i, gc in enumerate(gcs):
                    if i in pair:
                        continue
                    for j, (d, titles, numbers) in enumerate(scs):
                        if j in pair.values():
                            continue
                        if strict:
                            ok = any((gc.get("doc_number") and n and norm(gc["doc_number"]) == norm(n))
                                     or (gc.get("title") and t and norm(gc["title"]) == norm(t))
                                     for t in titles for n in numbers)
                        else:
                            ok = any(same_citation(gc, t, n) for t in titles for n in numbers)
                        if ok:
                            pair[i] = j
                            break
            add(key, len(pair), len(scs) - len(pair), len(gcs) - len(pair))
            if kind == "cites":
                gnat = [i for i, gc in enumerate(gcs) if gc.get("level") == "national"]
                snat = {j for j, (d, _, _) in enumerate(scs) if (d, IPG.level, IPG.National) in g}
                tp = len([i for i in gnat if pair.get(i) in snat])
                fp = len([j for j in snat if j not in {pair.get(i) for i in gnat}])
                add("national_citations", tp, fp, len(gnat) - tp)

        # document metadata
        gd = gold.get("document", {})
        checks = {
            "title": (gd.get("title"), [str(t) for t in g.objects(doc, DCTERMS.title)]),
            "doc_number": (gd.get("doc_number"), [str(t) for t in g.objects(doc, IPG.docNumber)]),
            "date_published": (gd.get("date_published"), [str(t) for t in g.objects(doc, IPG.datePublished)]),
            "date_signed": (gd.get("date_signed"), [str(t) for t in g.objects(doc, IPG.dateSigned)]),
        }
        for field, (want, got) in checks.items():
            if want is None:
                ok = not got
            else:
                ok = norm(want) in {norm(x) for x in got}
            meta[field][0] += ok
            meta[field][1] += 1
        want_issuers = set(gd.get("issuer", []))
        issuer_alias = {k: {norm(k)} | alias.get(k, set()) for k in want_issuers}
        got_issuers = [labels(g, a) for a in g.objects(doc, IPG.issuedBy)]
        ok = len(got_issuers) == len(want_issuers) and all(
            any(ls & forms for ls in got_issuers) for forms in issuer_alias.values())
        meta["issuer"][0] += ok
        meta["issuer"][1] += 1

        # targets: value equal and indicator overlapping
        gts = gold.get("targets", [])
        sts = []
        for x in [doc] + [m for m, _ in sys_ms]:
            for t in g.objects(x, IPG.hasTarget):
                vals = []
                for v in g.objects(t, IPG.value):
                    try:
                        vals.append(float(v))
                    except ValueError:
                        pass
                inds = [norm(i) for i in g.objects(t, IPG.indicator)]
                sts.append((t, vals, inds))
        sts = list({t: (t, v, i) for t, v, i in sts}.values())
        def sim(gi, i):
            if not i or not gi:
                return 0.0
            if i in gi or gi in i:
                return 1.0
            return len(set(i) & set(gi)) / len(set(gi))
        pairs = []
        for k, gt in enumerate(gts):
            want_v = float(gt["value"])
            gi = norm(gt.get("indicator") or gt.get("anchor", ""))
            ga = norm(gt.get("anchor", ""))
            for j, (t, vals, inds) in enumerate(sts):
                if not any(abs(v - want_v) < 1e-6 * max(1, abs(want_v)) for v in vals):
                    continue
                best = max([max(sim(gi, i), sim(ga, i)) for i in inds] or [0.0])
                if best >= 0.6:
                    pairs.append((best, k, j))
        hit_g, hit_s = set(), set()
        for best, k, j in sorted(pairs, reverse=True):  # best-matching pairs first
            if k not in hit_g and j not in hit_s:
                hit_g.add(k)
                hit_s.add(j)
        tp = len(hit_g)
        add("targets", tp, len(sts) - len(hit_s), len(gts) - tp)

    result = {k: prf(*v) for k, v in sorted(c.items())}
    result["metadata"] = {k: round(v[0] / v[1], 4) if v[1] else None for k, v in sorted(meta.items())}
    splits = {k: len(v) for k, v in agency_iris.items() if len(v) > 1}
    merges = {f"{d}:{n}": sorted(v) for (d, n), v in iri_gold.items() if len(v) > 1}
    result["agency_identity"] = {"split": splits, "merged": merges}
    result["missing_documents"] = missing_docs
    return result


METRICS = ("measures", "lead", "responsible", "citations", "national_citations", "drafts", "programmes", "targets")


def format_scores(result: dict) -> str:
    """The score table as text: one line per metric, then metadata and agency identity."""
    lines = []
    for k, v in result.items():
        if isinstance(v, dict) and "f1" in v:
            lines.append(f"{k:20s} P={v['p']:.3f} R={v['r']:.3f} F1={v['f1']:.3f}  (tp={v['tp']} fp={v['fp']} fn={v['fn']})")
    lines.append(f"metadata {result['metadata']}")
    lines.append(f"agency identity {result['agency_identity']}")
    if result["missing_documents"]:
        lines.append(f"missing documents {result['missing_documents']}")
    return "\n".join(lines)
