"""Check that an ontology is in OWL 2 DL and that a reasoner loads it.

    python scripts/owl_dl_check.py ontology/ipgraph.ttl

Uses the OWL API's OWL 2 DL profile checker and the HermiT reasoner, both in the HermiT jar
that owlready2 bundles, run in a JVM through JPype (the `test` extra installs both; the JVM is
Debian's default-jre-headless, which scripts/test.sh installs). The Turtle file is handed to
the OWL API as RDF/XML written by rdflib, so both read the same triples.

Prints one line per profile violation, then the reasoner's verdict, and a JSON summary on the
last line; exits 0 only when there is no violation, the ontology is consistent and no named
class is unsatisfiable. A missing JVM or jar is one line on stderr and exit 2.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def hermit_jar() -> Path:
    import owlready2

    return Path(owlready2.__file__).parent / "hermit" / "HermiT.jar"


def check(path: Path) -> dict[str, object]:
    import jpype
    import jpype.imports  # noqa: F401  (enables Java imports)
    from rdflib import Graph

    rdfxml = Graph().parse(path, format="turtle").serialize(format="xml")
    if not jpype.isJVMStarted():
        jpype.startJVM(classpath=[str(hermit_jar())], convertStrings=True)
    from org.semanticweb.HermiT import Reasoner  # type: ignore[import-not-found]
    from org.semanticweb.owlapi.apibinding import OWLManager  # type: ignore[import-not-found]
    from org.semanticweb.owlapi.io import StringDocumentSource  # type: ignore[import-not-found]
    from org.semanticweb.owlapi.profiles import OWL2DLProfile  # type: ignore[import-not-found]
    from org.semanticweb.owlapi.reasoner import InferenceType  # type: ignore[import-not-found]
    from org.semanticweb.owlapi.vocab import OWL2Datatype  # type: ignore[import-not-found]

    manager = OWLManager.createOWLOntologyManager()
    ontology = manager.loadOntologyFromOntologyDocument(StringDocumentSource(rdfxml))
    violations = [str(v) for v in OWL2DLProfile().checkOntology(ontology).getViolations()]
    # OWL API 3's profile checker lets datatypes outside the OWL 2 datatype map through (HermiT
    # then refuses them): check the signature against the map as well
    violations += [f"Use of a datatype outside the OWL 2 datatype map: {d.getIRI()}"
                   for d in ontology.getDatatypesInSignature() if not OWL2Datatype.isBuiltIn(d.getIRI())]
    violations.sort()
    reasoner = Reasoner.ReasonerFactory().createReasoner(ontology)
    consistent = bool(reasoner.isConsistent())
    unsatisfiable: list[str] = []
    if consistent:
        reasoner.precomputeInferences([InferenceType.CLASS_HIERARCHY])
        unsatisfiable = sorted(str(c.getIRI()) for c in reasoner.getUnsatisfiableClasses().getEntitiesMinusBottom())
    return {
        "axioms": int(ontology.getAxiomCount()),
        "violations": violations,
        "consistent": consistent,
        "unsatisfiable": unsatisfiable,
        "reasoner": str(reasoner.getReasonerName()),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: owl_dl_check.py ONTOLOGY.ttl", file=sys.stderr)
        return 2
    path = Path(argv[0])
    try:
        import jpype

        jpype.getDefaultJVMPath()
        if not hermit_jar().is_file():
            raise FileNotFoundError(f"{hermit_jar()}: no such file")
    except Exception as exc:  # no JPype, no owlready2 or no JVM: say which, once
        print(f"owl_dl_check: cannot run the OWL API: {exc}", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"owl_dl_check: {path}: no such file", file=sys.stderr)
        return 2
    result = check(path)
    for violation in result["violations"]:  # type: ignore[attr-defined]
        print(f"violation: {violation}")
    print(f"{result['reasoner']}: {'consistent' if result['consistent'] else 'INCONSISTENT'}, "
          f"unsatisfiable classes: {result['unsatisfiable'] or 'none'}")
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    ok = not result["violations"] and result["consistent"] and not result["unsatisfiable"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
