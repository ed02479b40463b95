"""The merge of sorted runs (ipgraph.stream.merge.merge_runs): the sorted union of every source's lines,
the copies of a line counted (what `ipgraph add` removes by), the classes counted as a count of the file."""
from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipgraph.stream import merge

_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def _line(n: int) -> str:
    if n % 5 == 0:
        return f"<http://x/{n:03d}> {_TYPE} <http://c/{n % 3}> ."
    if n % 11 == 0:  # a type line with a blank-node subject, and the type IRI inside a literal: no class
        return f"_:b{n} {_TYPE} <http://c/x> ."
    if n % 13 == 0:
        return f'<http://x/{n:03d}> <http://p> "{_TYPE} <http://c/y>" .'
    return f'<http://x/{n:03d}> <http://p> "值{n}" .'


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sources=st.lists(st.sets(st.integers(0, 150), max_size=40), max_size=12), run_lines=st.integers(1, 30))
def test_merge_runs_is_the_sorted_union_with_every_shared_line_counted(tmp_path_factory, sources, run_lines):
    folder = tmp_path_factory.mktemp("merge")
    writer = merge.RunWriter(folder / "runs", run_lines=run_lines)
    for source in sources:
        writer.add({_line(n) for n in source})
    writer.flush()  # runs of a few lines: a line's copies in several runs
    shared: dict[str, int] = {}
    total, classes = merge.merge_runs(writer.runs, folder / "out.nt", folder, shared=shared)
    held = Counter(_line(n) for source in sources for n in source)
    expected = sorted(held)
    assert (folder / "out.nt").read_text(encoding="utf-8").split("\n")[:-1] == expected
    assert total == len(expected)
    assert shared == {text: n for text, n in held.items() if n > 1}
    assert classes == Counter(c for c in map(merge._class_of, expected) if c is not None)
    assert not classes or set(classes) <= {"http://c/0", "http://c/1", "http://c/2"}
