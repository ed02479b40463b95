"""An add's store and Turtle, made as soon as its whole change is known.

An incremental build knows the lines its graph loses and gains once the echoes are updated, before its
`ipgraph.nt` is written (one patch of the previous file) and before the summary, the report and the page.
The store and the Turtle need only the previous generation and that change: the store is the previous
one checkpointed with the lines deleted and inserted (ipgraph.store.update_store), the Turtle the previous
one with the slices the change falls into serialized again from the previous file with the change
(ipgraph.stream.turtle.update_turtle over a merge.PatchedFile). So both are made in one child process
(one interpreter, not two) while this process writes the rest, in a staging folder beside the
generations; write_outputs moves them into its generation (pipeline.EarlyOutputs) and stamps the store
with the graph's file once that is in place.
"""
from __future__ import annotations

from pathlib import Path

from ipgraph.stream.merge import PatchedFile


def store_and_turtle(previous: str, patched: PatchedFile, folder: str, prefixes: dict[str, str]) -> None:
    """folder/store and folder/ipgraph.ttl (with its slice map): the previous generation's, changed by the
    lines `patched` removes and adds. OSError when either cannot be made from the change alone (no usable
    previous store or slice map, too much changed): the caller then writes both the usual way."""
    from ipgraph.store import TURTLE_NAME, update_store
    from ipgraph.stream.turtle import update_turtle

    removed, added = list(patched.removed), list(patched.added)
    update_store(previous, None, folder, (removed, added))
    update_turtle(Path(previous) / TURTLE_NAME, patched, Path(folder) / TURTLE_NAME, prefixes, removed + added)
