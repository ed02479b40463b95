""""Did you mean" never swaps one place for another: a place in a name is not a typo."""
from __future__ import annotations

from click.testing import CliRunner

from ipgraph.cli import main
from ipgraph.knowledge import leading_place, same_place
from ipgraph.query import closest_names

NAMES = {n: [n] for n in ["天津市知识产权局", "天津市滨海新区知识产权局", "宜昌市知识产权局", "国家知识产权局"]}


def test_the_leading_place_of_a_name_is_read_in_full_and_innermost() -> None:
    assert leading_place("北京市知识产权局") == "北京市"
    assert leading_place("天津知识产权局") == "天津市"  # the short form
    assert leading_place("滨海新区知识产权局") == "天津市滨海新区"  # a district, with its city
    assert leading_place("国家知识产权局") is None
    assert leading_place("天津市") is None  # a place alone names no body of it
    assert same_place("天津市", "天津市滨海新区") and not same_place("北京市", "天津市")


def test_bodies_of_the_typed_place_come_before_similar_names_elsewhere() -> None:
    close = closest_names("宜昌知识产权局", NAMES)
    assert close[0].label == "宜昌市知识产权局" and close[0].elsewhere is None
    where = [(c.label, c.elsewhere) for c in close]
    assert ("天津市知识产权局", "天津市") in where, where  # offered only as a name elsewhere
    placed = [e is not None for _, e in where]
    assert placed == sorted(placed), where  # every name of no other place (国家…) before those elsewhere
    # a slip in the body's name within the same place is still a "did you mean"
    slip = closest_names("天津市知识产杈局", NAMES)
    assert slip[0].label == "天津市知识产权局" and slip[0].elsewhere is None


def test_a_name_of_a_place_the_graph_lacks_gets_no_guess_of_another_city(built_dir) -> None:
    result = CliRunner().invoke(main, ["query", "leads", "--agency", "北京市知识产权局", "--graph", str(built_dir)])
    assert result.exit_code != 0
    message = result.output.strip().splitlines()[-1]
    assert "did you mean" not in message
    assert "no agency of 北京市" in message and "天津市知识产权局" in message  # named as elsewhere, not as a guess
    typo = CliRunner().invoke(main, ["query", "leads", "--agency", "天津知识产权局", "--graph", str(built_dir)])
    assert "did you mean 天津市知识产权局?" in typo.output
