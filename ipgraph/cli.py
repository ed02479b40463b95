"""The ipgraph command line: a thin click layer over the library.

Each command parses its options, makes one library call and turns library errors into a
one-line message (click.ClickException); a traceback never reaches the user.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from ipgraph.errors import IpgraphError

DEFAULT_CORPUS = Path("data/corpus")
DEFAULT_BUILD = Path("build")


def graph_option(func):
    """--graph DIR: the build folder a command reads (default build/)."""
    return click.option(
        "--graph", "graph_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_BUILD,
        show_default=True, help="Build folder to read (made by `ipgraph build -o DIR`).",
    )(func)


def friendly_errors(func):
    """Library errors and unreadable files become one line on stderr and a non-zero exit."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except IpgraphError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            name = getattr(exc, "filename", None)
            raise click.ClickException(f"{name}: {exc.strerror}" if name else str(exc)) from exc
    return wrapper


def load_built_graph(graph_dir: Path):
    from ipgraph.store import load_graph

    return load_graph(graph_dir)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ipgraph")
def main() -> None:
    """ipgraph: Chinese IP-policy documents as a knowledge graph.

    Build the graph from the shipped corpus with `ipgraph build`, then query it
    (`ipgraph query leads`), browse it (build/graph.html) or export it.
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_BUILD,
              show_default=True, help="Folder to write ipgraph.ttl, ipgraph.nt, the store and graph.html into.")
@friendly_errors
def build(paths: tuple[Path, ...], out_dir: Path) -> None:
    """Build the graph from PATHS (files or folders; default data/corpus).

    Writes OUT/ipgraph.ttl, OUT/ipgraph.nt (sorted N-Triples) and OUT/summary.json,
    and prints what was found. Files that cannot be used are named on stderr with
    the cause; the others still build, and the exit status is 1.
    """
    from ipgraph.pipeline import build_graph, write_outputs

    sources = list(paths) or [DEFAULT_CORPUS]
    for source in sources:
        if not source.exists():
            raise click.ClickException(f"{source}: no such file or folder")
    result = build_graph(sources, on_skip=lambda exc: click.echo(f"skipped {exc}", err=True))
    written = write_outputs(result, out_dir)
    summary = result.summary()
    for key in ("documents", "measures", "agencies", "programmes", "directives", "targets", "triples"):
        click.echo(f"{key:11s} {summary[key]}")
    click.echo(f"wrote {written['turtle']}")
    if result.skipped:
        sys.exit(1)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["turtle", "nt", "jsonld"]), default="turtle", show_default=True,
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@graph_option
@friendly_errors
def export(fmt: str, output: Path | None, graph_dir: Path) -> None:
    """Export the built graph as Turtle, sorted N-Triples or JSON-LD."""
    from ipgraph.export import export_graph

    data = export_graph(load_built_graph(graph_dir), fmt)
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        from ipgraph.atomic import atomic_write_bytes

        atomic_write_bytes(output, data)
        click.echo(f"wrote {output}", err=True)


@main.command()
@graph_option
@friendly_errors
def validate(graph_dir: Path) -> None:
    """Check the built graph against the SHACL shapes (ontology/shapes.ttl); exit 1 on violations."""
    from ipgraph.validate import validate as run_validation

    report = run_validation(load_built_graph(graph_dir))
    if report.conforms:
        click.echo("conforms: the graph satisfies every shape")
        return
    click.echo(report.text, err=True)
    raise click.ClickException(f"{len(report.violations)} violation(s)")


@main.command(name="eval")
@click.argument("gold_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@graph_option
@friendly_errors
def eval_command(gold_dir: Path, as_json: bool, graph_dir: Path) -> None:
    """Score the built graph against gold annotations in GOLD_DIR (docs/GOLD_SPEC.md)."""
    import json

    from ipgraph.evaluate import format_scores, score

    result = score(load_built_graph(graph_dir), gold_dir)
    click.echo(json.dumps(result, ensure_ascii=False, indent=1) if as_json else format_scores(result))


@main.group()
def bench() -> None:
    """Benchmarks that print speed and memory figures (results are quoted in the README)."""


if __name__ == "__main__":  # pragma: no cover
    main()
