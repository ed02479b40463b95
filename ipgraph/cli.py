"""The ipgraph command line: a thin click layer over the library.

Each command parses its options, makes one library call and turns library errors into a
one-line message (click.ClickException); a traceback never reaches the user.
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from ipgraph.errors import GraphNotFoundError, IpgraphError

DEFAULT_CORPUS = Path("data/corpus")
DEFAULT_BUILD = Path("build")
# data/corpus exists only in a checkout; the package carries the same five documents
SAMPLE_HINT = "outside a checkout, `ipgraph build --sample` builds the sample corpus shipped with ipgraph"


def sample_corpus() -> Path:
    """The sample corpus shipped as package data (ipgraph/data/sample: the five documents of data/corpus)."""
    from importlib.resources import files

    return Path(str(files("ipgraph") / "data" / "sample"))


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
        except GraphNotFoundError as exc:
            hint = f"; {SAMPLE_HINT}" if not DEFAULT_CORPUS.is_dir() else ""
            raise click.ClickException(f"{exc}{hint}") from exc
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

    \b
    Shell completion of commands, options and query names (add the line to the shell's startup file):
      bash (~/.bashrc):  eval "$(_IPGRAPH_COMPLETE=bash_source ipgraph)"
      zsh (~/.zshrc):    eval "$(_IPGRAPH_COMPLETE=zsh_source ipgraph)"
      fish (~/.config/fish/completions/ipgraph.fish):  _IPGRAPH_COMPLETE=fish_source ipgraph | source
    """


class ByteSize(click.ParamType):
    """A size in bytes: 1048576, 512K, 10M, 1G (powers of 1024)."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        import re

        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)i?B?\s*", str(value), re.IGNORECASE)
        if not m or float(m.group(1)) <= 0:
            self.fail(f"{value!r} is not a size such as 500K, 10M or 1G", param, ctx)
        return int(float(m.group(1)) * 1024 ** " KMG".index(m.group(2).upper() or " "))


class StrictFailure(click.ClickException):
    """--strict and a file was skipped: nothing was written."""

    exit_code = 2


class BuildFailed(click.ClickException):
    """Nothing could be built or written."""

    exit_code = 3


@main.command(short_help="Build the graph from files or folders (default data/corpus).")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_BUILD,
              show_default=True, help="Folder to write ipgraph.ttl, ipgraph.nt, store/, summary.json, report.json and graph.html into.")
@click.option("--strict", is_flag=True,
              help="Fail (exit 2) when any file is skipped; OUT is then left as it was.")
@click.option("--max-size", type=ByteSize(), default="10M", show_default=True,
              help="Refuse files larger than this, or whose text is (e.g. 500K, 10M, 1G).")
@click.option("--file-timeout", type=click.FloatRange(min=0), default=30.0, show_default=True, metavar="SECONDS",
              help="Skip a file whose reading and extraction take longer (0: no limit, in this process).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes reading and extracting files  [default: all cores].")
@click.option("--no-cache", is_flag=True, help="Extract every file again (ignore and replace OUT/.ipgraph/cache).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
              help="Run the per-document work on this Dask cluster (shards in a folder its workers share).")
@click.option("--dask", "dask_local", type=click.Choice(["local"]), default=None,
              help="local: a Dask LocalCluster of -j worker processes on loopback.")
@click.option("--sample", is_flag=True,
              help="Also build the sample corpus shipped with ipgraph (the five documents of data/corpus); "
                   "works outside a checkout.")
@friendly_errors
def build(paths: tuple[Path, ...], out_dir: Path, strict: bool, max_size: int, file_timeout: float,
          jobs: int | None, no_cache: bool, quiet: bool, scheduler: str | None, dask_local: str | None,
          sample: bool) -> None:
    """Build the graph from PATHS (files or folders; default data/corpus, or with --sample the
    sample corpus shipped with ipgraph).

    Reads .txt (UTF-8, UTF-16, GB18030/GBK, Big5: detected from the content), .html pages,
    .docx and text-layer .pdf files. Writes OUT/ipgraph.ttl (Turtle), OUT/ipgraph.nt (sorted
    N-Triples), OUT/store (the Oxigraph store), OUT/summary.json (the counts), OUT/report.json
    (what each document may be missing) and OUT/graph.html (the graph page), publishing them
    all at once only when everything is written, and prints what was found and each output. Each file that cannot be used (empty, binary,
    undecodable, too large, not a policy document, a duplicate) is named on stderr with
    the cause; the others still build.

    Each file is read and extracted in a worker process and skipped when it takes longer than
    --file-timeout. OUT's other files are left alone; an output name (ipgraph.ttl, store …)
    taken by a file that is not ipgraph's is never replaced: the build is refused (exit 3).

    Exit status: 0 all built; 1 built, some files skipped; 2 --strict and some files
    skipped (nothing written); 3 nothing built (no usable document, OUT not writable).
    """
    sources = list(paths) + ([sample_corpus()] if sample else [])
    if not sources:
        if not DEFAULT_CORPUS.is_dir():
            raise BuildFailed(f"{DEFAULT_CORPUS}: no such file or folder; {SAMPLE_HINT}")
        sources = [DEFAULT_CORPUS]
    _run_build(sources, out_dir, strict=strict, max_size=max_size,
               file_timeout=file_timeout, jobs=jobs, cache=not no_cache, quiet=quiet,
               scheduler=scheduler or dask_local)


@main.command(short_help="Add files to a build; only they are extracted again.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_BUILD,
              show_default=True, help="The build folder to add to (made by ipgraph build).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes  [default: all cores].")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@friendly_errors
def add(files: tuple[Path, ...], out_dir: Path, jobs: int | None, quiet: bool) -> None:
    """Add FILES (or folders) to the build in OUT: the earlier inputs come from its cache, only FILES are extracted.

    Same outputs and exit status as `ipgraph build` over the earlier inputs and FILES.
    """
    from ipgraph.pipeline import previous_inputs

    earlier = previous_inputs(out_dir)
    if earlier is None:
        raise BuildFailed(f"{out_dir}: no ipgraph build here to add to (run `ipgraph build -o {out_dir}` first)")
    known = set(earlier)
    sources = earlier + [f for f in files if f.absolute() not in known]
    _run_build(sources, out_dir, strict=False, max_size=10 * 1024 ** 2, file_timeout=30.0, jobs=jobs,
               cache=True, quiet=quiet)


def _run_build(sources: list[Path], out_dir: Path, *, strict: bool, max_size: int, file_timeout: float,
               jobs: int | None, cache: bool, quiet: bool, scheduler: str | None = None) -> None:
    import os

    from ipgraph.errors import OutputError
    from ipgraph.pipeline import build_graph, cache_folder, default_jobs, write_outputs
    from ipgraph.read import describe_error, display_path, printable
    from ipgraph.stream.progress import Progress

    for source in sources:
        if not os.path.lexists(source):  # a dangling link or a loop is read, and named with its cause
            raise BuildFailed(f"{display_path(source)}: no such file or folder")
    with Progress(enabled=not quiet) as progress:
        result = build_graph(sources, on_skip=lambda exc: progress.echo(f"skipped {describe_error(exc)}"),
                             max_bytes=max_size, file_timeout=file_timeout or None, jobs=jobs or default_jobs(),
                             cache=cache, cache_dir=cache_folder(out_dir) if cache else None, progress=progress.update,
                             scheduler=scheduler, keep_records=False, stage_store=True)
    tried = len(result.names) + len(result.skipped)
    if not result.names:
        reason = f"none of the {tried} file(s) could be used" if tried else "no .txt/.html/.htm/.docx/.pdf files found"
        raise BuildFailed(f"nothing built: {reason}; {out_dir} left as it was")
    if strict and result.skipped:
        raise StrictFailure(f"{len(result.skipped)} of {tried} file(s) skipped and --strict is set; "
                            f"{out_dir} left as it was")
    try:
        written = write_outputs(result, out_dir)
    except (OutputError, OSError) as exc:
        name = getattr(exc, "filename", None)
        detail = f"{name}: {exc.strerror}" if isinstance(exc, OSError) and name else str(exc)
        raise BuildFailed(f"cannot write the build: {printable(detail)}") from exc
    summary = result.summary()
    for key in ("documents", "measures", "agencies", "programmes", "directives", "targets", "triples"):
        click.echo(f"{key:11s} {summary[key]}")
    for i, path in enumerate(written.values()):  # every output, one a line, not only the Turtle file
        click.echo(f"{'wrote' if i == 0 else '':11s} {path}")
    import shutil

    from ipgraph.report import format_table

    width = max(80, min(160, shutil.get_terminal_size((120, 24)).columns))  # one screen wide
    table = format_table(result.quality(), width=width, report_path=written.get("report"))
    if table:  # only when some document needs a look; stdout keeps the counts
        click.echo(table, err=True, nl=False)
    if result.skipped:
        click.echo(f"{len(result.skipped)} of {tried} file(s) skipped (named above); exit status 1", err=True)
        sys.exit(1)


@main.command(short_help="Export the graph: Turtle, N-Triples, JSON-LD, GraphML, GEXF, CSV.")
@click.option("--format", "fmt", type=click.Choice(["turtle", "nt", "jsonld", "graphml", "gexf", "csv"]),
              default="turtle", show_default=True,
              help="Output format: RDF (turtle, nt, jsonld) or the entity network (graphml, gexf for Gephi and "
                   "networkx; csv: nodes.csv and edges.csv in the folder -o).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="File to write (default: standard output); with --format csv, the folder.")
@graph_option
@friendly_errors
def export(fmt: str, output: Path | None, graph_dir: Path) -> None:
    """Export the built graph: Turtle, sorted N-Triples, JSON-LD, GraphML, GEXF or CSV tables."""
    from ipgraph.export import export_graph, write_csv

    if fmt == "csv":
        if output is None:
            raise click.UsageError("--format csv writes nodes.csv and edges.csv: give the folder with -o")
        done = write_csv(load_built_graph(graph_dir), output)
        click.echo(f"wrote {done.nodes} ({done.node_count} nodes) and {done.edges} ({done.edge_count} edges)", err=True)
        return
    data = export_graph(load_built_graph(graph_dir), fmt)
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        from ipgraph.atomic import atomic_write_bytes

        atomic_write_bytes(output, data)
        click.echo(f"wrote {output}", err=True)


@main.command(short_help="Policy analyses: workload, network, chains, diffusion, targets.")
@click.argument("analyses", nargs=-1, type=click.Choice(["workload", "network", "chains", "diffusion", "targets"]))
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table: aligned tables in the terminal; csv: one table per file in -o (or all on stdout, "
                   "each after a `# name` line); json: one object of tables.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="With --format csv: folder for NAME.csv files; with json: the file.")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also draw the pictures (network, heatmap, timeline, workload; PNG and SVG) into this folder.")
@click.option("--top", type=click.IntRange(min=1), default=15, show_default=True,
              help="Rows shown per table in the terminal (csv and json have every row).")
@graph_option
@friendly_errors
def analyze(analyses, fmt, output, plots_dir, top, graph_dir) -> None:
    """Analyses for policy research over the built graph (all of them without ANALYSES).

    workload: measures led and assigned per agency, document and level; network: agencies
    linked by shared measures (degree, betweenness, Louvain communities, bridges); chains:
    national directives and the places they reach, how deep; diffusion: programmes by place,
    first year seen; targets: by indicator, unit and year, with outliers.
    """
    from ipgraph.analysis.report import ANALYSES, print_tables, run_analyses, to_csv, to_json
    from ipgraph.query import open_engine

    engine = open_engine(graph_dir)
    tables = run_analyses(engine, list(analyses) or list(ANALYSES))
    if fmt == "table":
        print_tables(tables, top=top)
    elif fmt == "json":
        text = to_json(tables)
        if output is None:
            click.echo(text, nl=False)
        else:
            from ipgraph.atomic import atomic_write_text

            atomic_write_text(output, text)
            click.echo(f"wrote {output}", err=True)
    elif output is None:
        for name, frame in tables.items():
            click.echo(f"# {name}")
            click.echo(to_csv(frame), nl=False)
    else:
        from ipgraph.atomic import atomic_write_bytes

        output.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            atomic_write_bytes(output / f"{name}.csv", to_csv(frame).encode("utf-8-sig"))
        click.echo(f"wrote {len(tables)} tables into {output}", err=True)
    if plots_dir is not None:
        from ipgraph.analysis.plots import write_plots

        written = write_plots(engine, plots_dir)
        click.echo(f"wrote {len(written)} pictures into {plots_dir}", err=True)


@main.command(short_help="What changed between two documents, editions or builds.")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: tables in the terminal; json: the whole diff.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the diff as an HTML page.")
@click.option("--in", "build_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A and B name two documents of this build folder (title, file name or 文号, or part of one).")
@friendly_errors
def diff(a, b, fmt, html_out, build_dir) -> None:
    """What changed from A to B: two documents (files), two editions of a plan, or two build folders;
    with --in DIR, two documents of that build.

    Measures are matched by their text, not their number: added, dropped, reworded, lead
    agencies reassigned; programmes and targets added or changed.
    """
    from ipgraph.diff import diff_documents, diff_html, diff_paths, format_diff

    result = diff_documents(build_dir, str(a), str(b)) if build_dir is not None else diff_paths(a, b)
    if fmt == "json":
        click.echo(result.to_json(), nl=False)
    else:
        format_diff(result)
    if html_out is not None:
        from ipgraph.atomic import atomic_write_text

        atomic_write_text(html_out, diff_html(result))
        click.echo(f"wrote {html_out}", err=True)


@main.command(short_help="Check the graph against the SHACL shapes.")
@graph_option
@friendly_errors
def validate(graph_dir: Path) -> None:
    """Check the built graph against the SHACL shapes (ontology/shapes.ttl); exit 1 on violations."""
    from ipgraph.validate import validate as run_validation

    report = run_validation(load_built_graph(graph_dir))
    warnings = [v for v in report.violations if v.severity != "Violation"]
    for warning in warnings[:20]:  # they do not fail the graph, but a user should see them
        click.echo(f"warning: <{warning.focus}>: {warning.message}", err=True)
    if len(warnings) > 20:
        click.echo(f"… and {len(warnings) - 20} more warning(s)", err=True)
    if report.conforms:
        tail = f" ({len(warnings)} warning(s) above)" if warnings else ""
        click.echo(f"conforms: the graph satisfies every shape{tail}")
        return
    click.echo(report.text, err=True)
    count = sum(1 for v in report.violations if v.severity == "Violation")
    raise click.ClickException(f"{count} violation(s)")


@main.command(name="eval", short_help="Score the graph against gold annotations.")
@click.argument("gold_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@graph_option
@friendly_errors
def eval_command(gold_dir: Path, as_json: bool, graph_dir: Path) -> None:
    """Score the built graph against gold annotations in GOLD_DIR (docs/GOLD_SPEC.md)."""
    import json

    from ipgraph.evaluate import score

    result = score(load_built_graph(graph_dir), gold_dir)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print_scores(result)


def print_scores(result: dict) -> None:
    """The scores as a table (rich), then metadata accuracy and agency identity in words."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("metric", "P", "R", "F1", "tp", "fp", "fn"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for key, value in result.items():
        if isinstance(value, dict) and "f1" in value:
            table.add_row(key, f"{value['p']:.3f}", f"{value['r']:.3f}", f"{value['f1']:.3f}",
                          str(value["tp"]), str(value["fp"]), str(value["fn"]))
    console = Console(highlight=False, soft_wrap=True)
    console.print(table)
    metadata = ", ".join(f"{field} {accuracy:.3f}" for field, accuracy in sorted(result["metadata"].items()))
    click.echo(f"metadata (share of documents right): {metadata}")
    identity = result["agency_identity"]
    split, merged = identity.get("split", {}), identity.get("merged", {})
    click.echo(f"agency identity: {len(split)} gold agency(ies) split over several nodes, "
               f"{len(merged)} node(s) merging several gold agencies")
    for kind, cases in (("split", split), ("merged", merged)):
        for name, parts in sorted(cases.items()):
            shown = "、".join(map(str, parts)) if isinstance(parts, (list, tuple, set)) else str(parts)
            click.echo(f"  {kind} {name}: {shown}")
    if result.get("missing_documents"):
        click.echo(f"missing documents (in the gold, not in the graph): {', '.join(result['missing_documents'])}")


@main.group(short_help="Speed and memory benchmarks (figures quoted in the README).")
def bench() -> None:
    """Benchmarks that print speed and memory figures (results are quoted in the README)."""


# ---- SPARQL for users: query, serve, push (and bench query / bench serve)


def complete_query_name(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion of NAME: the named queries starting with what was typed, with their descriptions."""
    from click.shell_completion import CompletionItem

    from ipgraph.query import list_queries

    return [CompletionItem(q.name, help=q.description) for q in list_queries() if q.name.startswith(incomplete)]


@main.command(short_help="Answer a named query or SPARQL text.")
@click.argument("name_or_sparql", required=False, metavar="NAME|SPARQL", shell_complete=complete_query_name)
@click.option("-f", "--file", "query_file", type=click.File("r", encoding="utf-8"),
              help="Run the SPARQL query in FILE ('-' for standard input).")
@click.option("--list", "show_list", is_flag=True, help="List the named queries with their parameters and exit.")
@click.option("--agency", metavar="NAME",
              help="The agency (leads, coresponsible, agencies): any of its names or aliases, or part of one.")
@click.option("--name", metavar="NAME", help="The programme (programme, programmes): its name or any form of it.")
@click.option("--year", metavar="YEAR", help="The year (targets), e.g. 2025.")
@click.option("--document", metavar="TEXT",
              help="The document (national-citations, documents): title, file name or 文号, or part of one.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json"]), default="table",
              show_default=True, help="Output: aligned table, or SPARQL 1.1 CSV, TSV or JSON results.")
@click.option("--engine", type=click.Choice(["oxigraph", "memory", "rdflib"]), default="oxigraph", show_default=True,
              help="oxigraph: the embedded store (build/store); memory: Oxigraph after loading the graph into "
                   "memory; rdflib: rdflib's in-memory engine (slow; the baseline).")
@click.option("--endpoint", metavar="URL", help="Ask this SPARQL 1.1 endpoint instead of the local graph.")
@click.option("--default-graph", metavar="IRI", help="With --endpoint: the graph to query (default-graph-uri).")
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="Stop after this many seconds (default: no limit; Ctrl-C stops at any time).")
@graph_option
@friendly_errors
def query(name_or_sparql, query_file, show_list, agency, name, year, document, fmt, engine, endpoint,
          default_graph, timeout, graph_dir) -> None:
    """Answer a named query (`ipgraph query leads --agency 天津市知识产权局`) or SPARQL text.

    NAME is one of the named queries (see --list); SPARQL is a query string; -f FILE reads
    one from a file. The prefixes ipg:, id:, rdfs:, skos:, dcterms: … need no PREFIX line.
    Notes (a name that matches several agencies …) and the row count go to stderr.
    """
    from ipgraph.query import QueryTimeout, describe_queries, format_result
    from ipgraph.query import query as run_query

    if show_list:
        click.echo(describe_queries(), nl=False)
        return
    if query_file is not None:
        if name_or_sparql:
            raise click.UsageError("give a query NAME/SPARQL or -f FILE, not both")
        name_or_sparql = query_file.read()
    if not name_or_sparql:
        raise click.UsageError("give a query name (see `ipgraph query --list`), SPARQL text or -f FILE")
    params = {"agency": agency, "name": name, "year": year, "document": document}
    try:
        result = run_query(name_or_sparql, params, build_dir=graph_dir, engine=engine, endpoint=endpoint,
                           default_graph=default_graph, timeout=timeout)
    except (KeyboardInterrupt, QueryTimeout) as exc:
        # The query still runs in its thread, inside Oxigraph: end the process now, not at its end.
        interrupted = isinstance(exc, KeyboardInterrupt)
        click.echo("interrupted" if interrupted else f"Error: {exc} (--timeout)", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130 if interrupted else 1)
    for note in result.notes:
        click.echo(note, err=True)
    click.echo(format_result(result, fmt), nl=False)
    if fmt == "table" and result.kind == "select":
        hidden = f"; IRI columns ({', '.join(result.hidden)}) in --format csv/tsv/json" if result.hidden else ""
        click.echo(f"{len(result.rows)} row(s){hidden}", err=True)



@main.command(name="search", short_help="Measures ranked by what they say (full text).")
@click.argument("query_text", metavar="QUERY")
@click.option("--document", metavar="TEXT", help="Only measures of documents whose title, file name or 文号 contains TEXT.")
@click.option("--level", type=click.Choice(["international", "national", "provincial", "municipal", "district"]),
              help="Only measures of documents of this administrative level.")
@click.option("--agency", metavar="NAME", help="Only measures assigned to an agency whose name or alias contains NAME.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="How many measures.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@graph_option
@friendly_errors
def search_command(query_text, document, level, agency, limit, fmt, graph_dir) -> None:
    """Measures ranked by what they say: `ipgraph search "质押融资 风险补偿" --level municipal`.

    Full-text search (jieba words, BM25) over measure texts, titles, section headings and target
    indicators. Reads GRAPH/search (indexed from the built graph when missing or older than it).
    """
    from ipgraph.search import Filters, open_index, search
    from ipgraph.search.output import format_hits

    notes: list[str] = []
    index = open_index(graph_dir, notes)
    for note in notes:
        click.echo(note, err=True)
    hits = search(index, query_text, Filters(document=document, level=level, agency=agency), limit=limit)
    click.echo(format_hits(hits, fmt), nl=False)
    if fmt == "table":
        click.echo(f"{len(hits)} measure(s)", err=True)

@main.command(short_help="Serve the graph over the SPARQL 1.1 Protocol.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every network).")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds a query may run.")
@click.option("--max-rows", type=int, default=100_000, show_default=True,
              help="Most rows (or triples) a result may have.")
@click.option("--max-query-length", type=int, default=20_000, show_default=True,
              help="Most characters a query may have.")
@click.option("--workers", type=int, default=None, help="Query worker processes (default: CPUs, at most 4).")
@click.option("--max-memory", type=ByteSize(), default=None,
              help="Memory (address space) each query worker may use, e.g. 2G; a query past it gets a 503 and "
                   "its worker is replaced (default: half the RAM shared by the workers, at least 1G each).")
@click.option("--max-bytes", type=ByteSize(), default="32M", show_default=True,
              help="Largest response body; a bigger result gets a clear error.")
@click.option("--max-connections", type=int, default=1000, show_default=True,
              help="Open connections at most (256 from one address); more are closed at once.")
@click.option("--header-timeout", type=float, default=10.0, show_default=True,
              help="Seconds a connection may take to send a request's head.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Another name this server answers to in the Host header (besides --host and, on loopback, "
                   "localhost); repeatable.")
@click.option("--store", "store_mode", type=click.Choice(["memory", "disk"]), default="memory", show_default=True,
              help="memory: each worker loads the graph into memory (fastest answers); disk: workers read "
                   "build/store (instant start, less memory).")
@click.option("--quiet", is_flag=True, help="Do not log requests.")
@click.option("--get", "get_target", metavar="PATH",
              help="Answer one GET request for PATH (e.g. '/sparql?query=…' or '/id/agency/…'), print the "
                   "body and exit; no socket is opened.")
@click.option("--accept", metavar="TYPE", help="With --get: the Accept header to send.")
@graph_option
@friendly_errors
def serve(host, port, timeout, max_rows, max_query_length, workers, max_memory, max_bytes, max_connections,
          header_timeout, allow_hosts, store_mode, quiet, get_target, accept, graph_dir) -> None:
    """Serve the graph: SPARQL 1.1 Protocol at /sparql, a query page at /, resources at /id/….

    Read-only: updates, SERVICE and LOAD are refused (from a parse of the query) and the query
    workers have no network; each query has a time, memory, row and byte limit. Ctrl-C stops
    the server and its workers.
    """
    from ipgraph.serve import ServeLimits, get
    from ipgraph.serve import serve as run_server

    limits = ServeLimits(timeout=timeout, max_rows=max_rows, max_query_length=max_query_length,
                         max_bytes=max_bytes, max_memory=max_memory, max_connections=max_connections,
                         header_timeout=header_timeout)
    if get_target:
        response = get(graph_dir, get_target, accept=accept, limits=limits)
        click.echo(f"{response.status} {response.content_type}", err=True)
        sys.stdout.buffer.write(response.body)
        sys.stdout.flush()
        if response.status >= 400:
            sys.exit(1)
        return
    run_server(graph_dir, host=host, port=port, limits=limits, workers=workers, quiet=quiet, store=store_mode,
               allow_hosts=allow_hosts,
               on_ready=lambda url: click.echo(f"serving {graph_dir} at {url}/  (SPARQL endpoint: {url}/sparql; "
                                               f"graph page: {url}/graph); Ctrl-C stops", err=True))


def _looks_like_iri(value: str) -> bool:
    """An absolute IRI (scheme:…), the value the old `push --graph` took; a folder name has no scheme."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    return len(parts.scheme) > 1 and (bool(parts.netloc) or parts.scheme in ("urn", "tag"))


@main.command(short_help="Load the graph into a SPARQL 1.1 Graph Store.")
@click.option("--endpoint", required=True, metavar="URL",
              help="Graph Store Protocol URL (Virtuoso: http://HOST:8890/sparql-graph-crud-auth).")
@click.option("--graph-iri", "graph_iri", metavar="IRI", help="Named graph to replace (default: the default graph).")
@click.option("--user", help="User name, when the server asks for one (Virtuoso: a user with SPARQL_UPDATE).")
@click.option("--password", envvar="IPGRAPH_ENDPOINT_PASSWORD", help="Password (or set IPGRAPH_ENDPOINT_PASSWORD).")
@click.option("--graph", "graph_dir", metavar="DIR", default=None,
              help="Build folder whose graph is pushed (default build/). An IRI here is read as --graph-iri "
                   "(the old spelling; deprecated).")
@click.option("--from", "from_dir", type=click.Path(file_okay=False, path_type=Path), default=None, hidden=True,
              help="Deprecated spelling of --graph DIR.")
@friendly_errors
def push(endpoint, graph_iri, user, password, graph_dir, from_dir) -> None:
    """Load the built graph into a SPARQL 1.1 Graph Store (replacing that graph there).

    `--graph DIR` names the build folder, as in every other command; the named graph to
    replace is `--graph-iri IRI`. The old spellings (`--from DIR`, `--graph IRI`) still work
    and print a deprecation note.
    """
    from ipgraph.remote import push_graph

    if graph_dir is not None and _looks_like_iri(graph_dir) and not Path(graph_dir).is_dir():
        if graph_iri:
            raise click.UsageError("--graph takes the build folder; give the named graph once, with --graph-iri")
        click.echo("note: `push --graph IRI` is deprecated: write --graph-iri IRI (--graph names the build "
                   "folder, as elsewhere)", err=True)
        graph_iri, graph_dir = graph_dir, None
    if from_dir is not None:
        if graph_dir is not None:
            raise click.UsageError("--from is the old spelling of --graph DIR: give one of them")
        click.echo("note: `push --from DIR` is deprecated: write --graph DIR", err=True)
    build_dir = Path(graph_dir) if graph_dir is not None else from_dir or DEFAULT_BUILD
    count = push_graph(build_dir, endpoint, graph=graph_iri, user=user, password=password)
    click.echo(f"pushed {count} triples to {endpoint} ({'graph ' + graph_iri if graph_iri else 'default graph'})")


@bench.command(name="corpus", short_help="Generate a synthetic corpus of recombined plans.")
@click.option("--docs", type=click.IntRange(min=1), required=True, help="How many plans to generate.")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=14, show_default=True)
@friendly_errors
def bench_corpus(docs: int, out_dir: Path, seed: int) -> None:
    """Generate a synthetic corpus: the shipped plans' frames, measures recombined, other places and figures."""
    from ipgraph.stream.corpus import generate_corpus

    files = generate_corpus(out_dir, docs, DEFAULT_CORPUS, seed=seed)
    click.echo(f"wrote {len(files)} documents into {out_dir}")


@bench.command(name="build", short_help="Build speed: -j 1, -j 2, Dask and add, beside bare jieba.")
@click.option("--docs", "sizes", default="100,1000,10000", show_default=True, help="Corpus sizes, comma-separated.")
@click.option("--no-dask", is_flag=True, help="Leave out the --dask local configuration.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@friendly_errors
def bench_build(sizes: str, no_dask: bool, json_out: Path | None) -> None:
    """Time ipgraph build (-j 1, -j 2, Dask) and ipgraph add beside a bare jieba.lcut pass over the same files."""
    from ipgraph.stream.bench import run_build_bench

    run_build_bench([int(s) for s in sizes.split(",") if s.strip()], DEFAULT_CORPUS, dask=not no_dask,
                    json_out=json_out, echo=click.echo)


@bench.command(name="query", short_help="Query latency: embedded store vs rdflib.")
@click.option("--triples", type=int, default=1_000_000, show_default=True,
              help="Size of the scaled synthetic graph (0: the corpus only).")
@click.option("--repeat", type=int, default=7, show_default=True, help="Runs per query on the embedded store.")
@click.option("--rdflib-repeat", type=int, default=3, show_default=True, help="Runs per query on rdflib's engine.")
@click.option("--process-runs", type=int, default=5, show_default=True,
              help="Runs of the whole `ipgraph query leads` process.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures here.")
@graph_option
@friendly_errors
def bench_query(triples, repeat, rdflib_repeat, process_runs, json_out, graph_dir) -> None:
    """Median latency of each named query: embedded store vs rdflib, on the corpus and ~1M triples."""
    from ipgraph.bench import run_query_bench

    run_query_bench(graph_dir, triples=triples, repeat=repeat, rdflib_repeat=rdflib_repeat,
                    process_runs=process_runs, json_out=json_out, echo=click.echo)


@bench.command(name="serve", short_help="Load test of `ipgraph serve` on loopback.")
@click.option("--clients", type=int, default=50, show_default=True, help="Concurrent clients.")
@click.option("--seconds", type=float, default=30.0, show_default=True, help="How long the load lasts.")
@click.option("--workers", type=int, default=None, help="Query worker processes of the server.")
@click.option("--store", "store_mode", type=click.Choice(["memory", "disk"]), default="memory", show_default=True,
              help="The server's --store.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures here.")
@click.option("--hostile", is_flag=True,
              help="Under attack: the clients run while 10 expensive and 200 slow clients do; peak RSS is reported.")
@click.option("--max-memory", type=ByteSize(), default="1G", show_default=True,
              help="With --hostile: the server's --max-memory (per worker).")
@click.option("--compare", type=click.Path(file_okay=False, path_type=Path), metavar="CHECKOUT",
              help="Another checkout of ipgraph (e.g. a git worktree of an older commit): its server and this "
                   "one run alternately under the same load, --rounds times each; prints a table with medians.")
@click.option("--rounds", type=click.IntRange(1, 10), default=2, show_default=True, help="With --compare: runs of each.")
@click.option("--compare-graph", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="With --compare: that checkout's build of the same documents, which its server serves "
                   "(default: --graph).")
@graph_option
@friendly_errors
def bench_serve(clients, seconds, workers, store_mode, json_out, hostile, max_memory, compare, rounds,
                compare_graph, graph_dir) -> None:
    """Load test of `ipgraph serve` on loopback: requests, errors, p50/p95/p99 latency."""
    from ipgraph.bench import run_hostile_bench, run_serve_bench

    if hostile:
        report = run_hostile_bench(graph_dir, clients=clients, seconds=seconds, workers=workers,
                                   max_memory=max_memory, json_out=json_out, echo=click.echo)
    else:
        report = run_serve_bench(graph_dir, clients=clients, seconds=seconds, workers=workers, store=store_mode,
                                 json_out=json_out, echo=click.echo, compare=compare, rounds=rounds,
                                 compare_graph=compare_graph)
    if report["errors"]:
        raise click.ClickException(f"{report['errors']} request(s) failed")


@bench.command(name="search", short_help="Search index build time and query latency.")
@click.option("--documents", "sizes", default="1000,10000", show_default=True,
              help="Comma-separated corpus sizes (documents) to time queries at.")
@click.option("--rounds", type=click.IntRange(1, 100), default=5, show_default=True,
              help="Passes over the query mix per size.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report here.")
@graph_option
@friendly_errors
def bench_search(sizes, rounds, json_out, graph_dir) -> None:
    """Search: index build time per MB, query latency p50/p99 at 1,000 and 10,000 documents."""
    from ipgraph.bench import run_search_bench

    try:
        counts = tuple(int(s) for s in sizes.split(",") if s.strip())
    except ValueError as exc:
        raise click.BadParameter(f"not a list of numbers: {sizes}", param_hint="--documents") from exc
    run_search_bench(graph_dir, sizes=counts, rounds=rounds, json_out=json_out, echo=click.echo)


# ---- the graph page: view (and bench view)


@main.command(name="view", short_help="Write an HTML page for a part of the graph.")
@click.option("--focus", metavar="NAME",
              help="Centre the page on this node (name or alias of an agency, programme, directive, document …).")
@click.option("--document", metavar="FILE", help="Keep one document: its file name (with or without .txt) or title.")
@click.option("--type", "types", metavar="CLASS,…",
              help="Keep these classes: document, section, measure, agency, programme, directive, target.")
@click.option("--depth", type=click.IntRange(min=0), default=1, show_default=True,
              help="With --focus: keep nodes up to this many links away.")
@click.option("--budget", type=click.IntRange(min=1), default=None,
              help="Above this many nodes the page shows the aggregated view (default 6000).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("view.html"),
              show_default=True, help="HTML file to write.")
@graph_option
@friendly_errors
def view_command(focus, document, types, depth, budget, output, graph_dir) -> None:
    """Write an HTML page for a part of the graph (one file; opens offline in any browser).

    `ipgraph build` writes the whole graph to build/graph.html; this command draws a part:
    `ipgraph view --focus 天津市知识产权局 --depth 2 -o tj.html`.
    """
    from ipgraph.report import read_page_lines
    from ipgraph.search.page import view_page_data
    from ipgraph.view import DEFAULT_NODE_BUDGET, render_page

    graph = load_built_graph(graph_dir)
    notes: list[str] = []
    search_data = view_page_data(graph, graph_dir, notes)  # the build page's measure search and echoes
    for note in notes:
        click.echo(note, err=True)
    info = render_page(graph, output, focus=focus, document=document, types=types,
                       depth=depth, node_budget=budget or DEFAULT_NODE_BUDGET,
                       quality=read_page_lines(graph_dir),  # each document's report.json lines in its panel
                       search_data=search_data)
    note = f" (aggregated view of {info.selected_nodes} nodes)" if info.aggregated else ""
    click.echo(f"wrote {info.path}: {info.nodes} nodes, {info.edges} edges{note}")


@bench.command(name="view", short_help="Graph page render and load times.")
@click.option("--nodes", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Size of the scaled page (the corpus graph copied until it has this many nodes).")
@click.option("--repeat", type=click.IntRange(min=1), default=5, show_default=True, help="Runs per page.")
@click.option("--chromium", type=click.Path(dir_okay=False, path_type=Path), default=Path("/usr/bin/chromium"),
              show_default=True, help="The Chromium executable (Debian `chromium`).")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), help="Keep the pages in this folder.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures here.")
@graph_option
@friendly_errors
def bench_view(nodes, repeat, chromium, keep, json_out, graph_dir) -> None:
    """Page render time (Python) and load-to-drawn time (headless Chromium): corpus and ~5,000 nodes."""
    from ipgraph.view import run_view_bench

    run_view_bench(graph_dir, nodes=nodes, repeat=repeat, chromium=chromium, keep=keep, json_out=json_out,
                   echo=click.echo)


# ---- the command reference (docs/CLI.md), made from the --help texts


def cli_reference(width: int = 100) -> str:
    """Every command's --help, as Markdown: docs/CLI.md is this text (tests/test_cli_reference.py)."""
    parts = ["# ipgraph command reference", "",
             "Generated from `ipgraph COMMAND --help` by `python scripts/cli_reference.py`; do not edit by hand.", ""]

    def walk(command: click.Command, path: list[str], parent: click.Context | None) -> None:
        settings = {} if parent else dict(command.context_settings)  # -h/--help, as the real command line
        ctx = click.Context(command, info_name=path[-1], parent=parent, terminal_width=width, max_content_width=width,
                            **settings)
        parts.extend([f"## `{' '.join(path)}`", "", "```", command.get_help(ctx).rstrip(), "```", ""])
        if isinstance(command, click.Group):
            for name in sorted(command.commands):
                if not command.commands[name].hidden:
                    walk(command.commands[name], [*path, name], ctx)

    walk(main, ["ipgraph"], None)
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    main()
