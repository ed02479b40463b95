"""The wheel carries the package data: ontology (through the ipgraph/ontology symlink), shapes,
py.typed, the data files and the shipped queries; and an unpacked wheel finds them through
importlib.resources, away from the checkout.

The wheel is built from a copy of the checkout, so the build's own folders (build/, *.egg-info)
never land in the working tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "ipgraph"

# Not part of a source tree: version control, caches and build outputs.
IGNORED = shutil.ignore_patterns(
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    ".benchmarks",
    ".venv",
    ".ipynb_checkpoints",
    "node_modules",
)

pytestmark = pytest.mark.slow


def package_files(folder: str) -> list[str]:
    """Paths, relative to the repository, of every file under ipgraph/<folder> in the checkout."""
    root = PACKAGE / folder
    if not root.is_dir():
        return []
    return sorted(
        str(p.relative_to(REPO).as_posix())
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source") / "ipgraph-src"
    shutil.copytree(REPO, source, symlinks=True, ignore=IGNORED)
    assert (source / "ipgraph" / "ontology").is_symlink(), "the copy must keep ipgraph/ontology as a symlink"
    out = tmp_path_factory.mktemp("wheel")
    # pip, not `python -m build`: pip is always there, and a build/ output folder in the
    # current directory would shadow the `build` package anyway.
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    wheels = list(out.glob("ipgraph-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.parametrize(
    "name",
    [
        "ipgraph/ontology/ipgraph.ttl",
        "ipgraph/ontology/shapes.ttl",
        "ipgraph/py.typed",
        "ipgraph/validate.py",
        "ipgraph/vocab.py",
    ],
)
def test_wheel_has_file(wheel_names: set[str], name: str) -> None:
    assert name in wheel_names


def test_wheel_ontology_is_the_file_not_a_link(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for name in ("ontology/ipgraph.ttl", "ontology/shapes.ttl"):
            assert archive.read(f"ipgraph/{name}") == (REPO / name).read_bytes()


@pytest.mark.parametrize("folder", ["data", "queries", "templates", "static"])
def test_wheel_has_every_data_and_query_file(wheel_names: set[str], folder: str) -> None:
    files = package_files(folder)
    missing = [name for name in files if name not in wheel_names]
    assert not missing, f"not packaged (see [options.package_data] in setup.cfg): {missing}"


def test_unpacked_wheel_finds_its_resources(wheel: Path, tmp_path: Path) -> None:
    """Import ipgraph from the unpacked wheel only, in a fresh interpreter run outside the checkout."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    script = textwrap.dedent("""
        import sys
        from importlib.resources import files
        from pathlib import Path

        import ipgraph
        from rdflib import Graph, Literal, RDF, RDFS
        from ipgraph.validate import load_ontology, load_shapes, validate
        from ipgraph.vocab import DATA, IPG

        site = Path(sys.argv[1]).resolve()
        assert Path(ipgraph.__file__).resolve().is_relative_to(site), ipgraph.__file__
        assert len(load_ontology()) > 300 and len(load_shapes()) > 100
        root = files("ipgraph")
        for folder in ("data", "queries"):
            if root.joinpath(folder).is_dir():
                print(folder, sorted(p.name for p in root.joinpath(folder).iterdir() if p.is_file()))
        agency = DATA["agency/x"]
        graph = Graph()
        graph.add((agency, RDF.type, IPG.Agency))
        report = validate(graph)
        assert not report.conforms and "rdfs:label" in report.violations[0].message, report.text
        graph.add((agency, RDFS.label, Literal("天津市知识产权局", lang="zh")))
        assert validate(graph).conforms
        print("ok")
    """)
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(site)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("ok")
    for folder in ("data", "queries"):
        names = sorted(
            Path(p).name for p in package_files(folder) if Path(p).parent == Path("ipgraph", folder)
        )
        if names:
            assert f"{folder} {names}" in done.stdout


# ---------------------------------------------------------------- the sample corpus (issue 11, item 4)


def test_wheel_ships_the_sample_corpus_as_data_corpus(wheel: Path) -> None:
    """ipgraph/data/sample is a link to data/corpus in the checkout and the files in the wheel."""
    corpus = sorted((REPO / "data" / "corpus").glob("*.txt"))
    assert len(corpus) == 5
    with zipfile.ZipFile(wheel) as archive:
        for path in corpus:
            assert archive.read(f"ipgraph/data/sample/{path.name}") == path.read_bytes(), path.name


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the wheel installed; its dependencies come from this interpreter's site-packages."""
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root)], check=True, timeout=300)
    done = subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                           "--disable-pip-version-check", str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return root


def run_installed(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only what the venv installed
    return subprocess.run([str(venv / "bin" / "ipgraph"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_installed_ipgraph_builds_the_sample_outside_the_checkout(venv: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import ipgraph; print(ipgraph.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), where.stdout + where.stderr

    # no checkout here: plain `ipgraph build` and a query say what to do instead
    bare = run_installed(venv, tmp_path, "build")
    assert bare.returncode == 3
    assert "data/corpus: no such file or folder" in bare.stderr and "ipgraph build --sample" in bare.stderr
    query = run_installed(venv, tmp_path, "query", "leads")
    assert query.returncode == 1 and "ipgraph build --sample" in query.stderr

    done = run_installed(venv, tmp_path, "build", "--sample", "-o", "out")
    assert done.returncode == 0, done.stderr
    assert "documents   5" in done.stdout and "measures    184" in done.stdout
    assert (tmp_path / "out" / "ipgraph.ttl").is_file()
    leads = run_installed(venv, tmp_path, "query", "--graph", "out", "leads", "--agency", "天津市知识产权局")
    assert leads.returncode == 0, leads.stderr
    assert "23 29 48 49 58 63" in leads.stdout
