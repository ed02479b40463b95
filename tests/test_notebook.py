"""notebooks/quickstart.ipynb runs top to bottom, so it never rots."""
from __future__ import annotations

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient


@pytest.mark.slow
def test_quickstart_notebook_runs(tmp_path):
    notebook = nbformat.read(REPO / "notebooks" / "quickstart.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "leads" in text and "measures" in text


@pytest.mark.slow
def test_explore_notebook_runs_and_is_committed_with_its_outputs():
    committed = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert all(cell.get("outputs") for cell in code), "commit explore.ipynb executed, so that it reads on GitHub"
    notebook = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    tables = [o for o in outputs if "<table" in o.get("data", {}).get("text/html", "")]
    frames = [o for o in outputs if "<iframe" in o.get("data", {}).get("text/html", "")]
    assert len(images) == 4 and len(tables) >= 8 and len(frames) == 1
    text = "".join(o.get("text", "") for o in outputs)
    assert "communities" in text and "nodes," in text
