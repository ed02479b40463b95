"""The pictures: PNG and SVG of each plot, with a Chinese font, the same bytes every run."""
from __future__ import annotations

import pytest

from ipgraph.analysis import plots
from ipgraph.analysis.diffusion import programme_matrix
from ipgraph.query import open_engine


def test_every_plot_is_written_as_png_and_svg_and_is_deterministic(built_dir, tmp_path):
    first = plots.write_plots(open_engine(built_dir), tmp_path / "a")
    second = plots.write_plots(open_engine(built_dir), tmp_path / "b")
    assert sorted(p.name for p in first) == sorted(f"{n}.{e}" for n in plots.PLOTS for e in ("png", "svg"))
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        if a.suffix == ".png":
            assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert b"<svg" in a.read_bytes()[:2000]


def test_the_heatmap_has_a_row_per_programme_and_a_column_per_place(built_dir):
    matrix = programme_matrix(open_engine(built_dir), top=10)
    fig = plots.plot_heatmap(matrix)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(matrix.index)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(matrix.columns)
    assert plots.png_bytes(fig)[:4] == b"\x89PNG"


def test_a_font_with_chinese_glyphs_is_found_when_one_is_installed():
    from matplotlib import font_manager

    if not any(plots._covers(f.fname, plots.SAMPLE) for f in font_manager.fontManager.ttflist
               if f.fname.lower().endswith((".ttf", ".otf", ".ttc"))):
        pytest.skip("no CJK font on this machine (scripts/test.sh installs fonts-wqy-microhei)")
    family = plots.cjk_font()
    assert family is not None
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert plots._covers(path, plots.SAMPLE)


def test_analyze_plots_option_writes_every_picture(built_dir, tmp_path):
    from click.testing import CliRunner

    from ipgraph.cli import main

    done = CliRunner().invoke(main, ["analyze", "workload", "--graph", str(built_dir), "--format", "json",
                                     "--plots", str(tmp_path / "pics")])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "pics").iterdir()) == sorted(
        f"{n}.{e}" for n in plots.PLOTS for e in ("png", "svg"))


def test_a_graph_with_nothing_to_analyse_gives_empty_tables_and_pictures(tmp_path):
    """One document without measures, agencies, programmes or targets: no error, no warning."""
    from ipgraph.analysis.report import run_analyses, to_json
    from ipgraph.pipeline import build_graph

    (tmp_path / "a.txt").write_text("某市知识产权工作通知\n为加强知识产权保护工作,推动知识产权事业发展,现就有关事项通知如下。"
                                    "各单位要高度重视,认真落实政策要求。\n", encoding="utf-8")
    graph = build_graph([tmp_path / "a.txt"]).graph
    tables = run_analyses(graph)
    assert all(frame.empty for name, frame in tables.items() if name != "workload-levels")
    assert to_json(tables).startswith("{")
    written = plots.write_plots(graph, tmp_path / "pics")
    assert len(written) == 2 * len(plots.PLOTS)


def test_the_bundled_font_is_the_fallback(monkeypatch, tmp_path):
    from importlib.resources import files

    from matplotlib import font_manager

    bundled = str(files("ipgraph") / "data" / "fonts" / plots.BUNDLED)
    assert plots._covers(bundled, "知识产权局沈阳市宜昌市滨海新区牵头单位贯标专利导航")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])  # a machine without any font
    plots.cjk_font.cache_clear()
    try:
        family = plots.cjk_font()
        assert family == font_manager.FontProperties(fname=bundled).get_name()
        fig = plots.plot_workload(__import__("pandas").DataFrame(
            {"agency": ["沈阳市市场监督管理局"], "led": [16], "supporting": [5]}))
        plots.save(fig, tmp_path / "w", formats=("png",))
    finally:
        plots.cjk_font.cache_clear()
