"""The streaming build: per-document records become N-Triples lines directly (no rdflib Graph).

    triples.py  record → DocumentTriples (the document's own lines + claims on shared nodes)
    merge.py    the shared-node table, external merge of sorted runs, Turtle and store outputs
"""
