"""Shared fixtures. Paths are found from this file, so the suite runs from any folder."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "data" / "corpus"
GOLD = REPO / "data" / "gold"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def gold_dir() -> Path:
    return GOLD


@pytest.fixture(scope="session")
def corpus_build():
    """The shipped corpus built once per test session (a BuildResult)."""
    from ipgraph.pipeline import build_graph

    return build_graph([CORPUS])


@pytest.fixture(scope="session")
def corpus_graph(corpus_build):
    return corpus_build.graph


@pytest.fixture(scope="session")
def built_dir(tmp_path_factory, corpus_build) -> Path:
    """A build folder (ipgraph.ttl, ipgraph.nt, summary.json …) written from the corpus build."""
    from ipgraph.pipeline import write_outputs

    out = tmp_path_factory.mktemp("build")
    write_outputs(corpus_build, out)
    return out


def load_gold(name: str) -> dict:
    return json.loads((GOLD / f"{Path(name).stem}.json").read_text(encoding="utf-8"))


@pytest.fixture()
def four_documents(tmp_path, monkeypatch) -> Path:
    """A folder of the first four shipped documents, with incremental builds allowed for any share of
    changed documents (one document is a quarter of this corpus; the default would rebuild in full)."""
    import shutil

    from ipgraph.stream import delta

    monkeypatch.setattr(delta, "MAX_CHANGED", 1.0)
    src = tmp_path / "src"
    src.mkdir()
    for path in sorted(CORPUS.glob("*.txt"))[:4]:
        shutil.copy(path, src / path.name)
    return src


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian `chromium`) for one module's browser tests; skips them where it is absent.

    Module scope, as each browser file had it: one launch per file, and no Playwright loop left
    running while the rest of the suite runs its own event loops."""
    from ipgraph.view import CHROMIUM_PATH, headless_chromium

    if not Path(CHROMIUM_PATH).is_file():
        pytest.skip(f"{CHROMIUM_PATH} absent: install Debian `chromium` (bash scripts/test.sh does)")
    with headless_chromium() as launched:
        yield launched


@pytest.fixture()
def screenshot_dir(tmp_path) -> Path:
    """Where a test writes a screenshot: tmp, so that a run never modifies the checkout, unless
    UPDATE_SCREENSHOTS=1 asks to refresh the pictures in docs/."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        (REPO / "docs").mkdir(exist_ok=True)
        return REPO / "docs"
    return tmp_path
