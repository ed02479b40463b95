"""Issue 14: the duplicate check's fingerprint carries the shingles packed (what the build's process
keeps), so a worker's fingerprint costs the main process no set to unpickle and pack."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ipgraph.dedupe import DuplicateFinder, _bottom, band_keys, fingerprint, normalise, shingles

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def test_fingerprint_is_the_packed_form_of_the_shingle_set():
    text = (CORPUS / "001_e51e42527fa59d8a.txt").read_text(encoding="utf-8")
    found = shingles(normalise(text))
    digest, packed, sketch, keys = fingerprint(text)
    assert isinstance(packed, np.ndarray) and packed.dtype == np.uint32
    assert packed.tolist() == sorted(found)  # sorted and complete: what the finder compares exactly
    assert sketch == _bottom(found) and keys == band_keys(found)
    assert len(pickle.dumps(packed)) < 4 * len(found) + 1000 < len(pickle.dumps(found))  # 4 bytes a shingle


def test_a_worker_s_fingerprint_decides_as_the_text_does():
    text = (CORPUS / "001_e51e42527fa59d8a.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    near = "\n".join(lines[:-3])  # a copy with its last lines cut: a near-duplicate
    other = (CORPUS / "002_842afa8849cffd08.txt").read_text(encoding="utf-8")
    plain, packed = DuplicateFinder(), DuplicateFinder()
    plain.add("a.txt", text)
    packed.add("a.txt", text, fingerprint(text))
    for candidate in (near, other, text):
        assert plain.match(candidate) == packed.match(candidate, fingerprint(candidate))
    assert plain.match(near) is not None and plain.match(other) is None
