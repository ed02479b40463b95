"""The tail's memory budget (issue 14): memory-heavy children do not run at once when their peaks would add up."""
from __future__ import annotations

import time

from ipgraph.stream.tail import Tail, _rss


def test_over_the_budget_a_stage_waits_for_the_running_children():
    timings: dict[str, float] = {}
    tail = Tail(True, timings, memory_budget=_rss_now() + 2**20)  # no room for another process
    try:
        tail.run("first", time.sleep, 1.0, peak=2**20)
        tail.run("second", time.sleep, 0.1, peak=2**20)
        assert "first" in timings  # the first child had ended (and was timed) before the second started
        assert [stage for stage, _process in tail.children] == ["second"]
        tail.wait()
    finally:
        tail.stop()
    assert set(timings) == {"first", "second"} and timings["first"] >= 1.0


def test_within_the_budget_the_stages_run_at_once():
    timings: dict[str, float] = {}
    tail = Tail(True, timings, memory_budget=64 * 2**30)
    try:
        tail.run("first", time.sleep, 1.0, peak=2**20)
        tail.run("second", time.sleep, 0.1, peak=2**20)
        assert not timings and [stage for stage, _process in tail.children] == ["first", "second"]
        tail.wait()
    finally:
        tail.stop()
    assert set(timings) == {"first", "second"}


def test_a_child_just_started_counts_with_the_peak_it_declared():
    timings: dict[str, float] = {}
    tail = Tail(True, timings, memory_budget=_rss_now() + 512 * 2**20)
    try:
        tail.run("big", time.sleep, 1.0, peak=600 * 2**20)  # will pass the budget, though small when started
        tail.run("small", time.sleep, 0.1, peak=2**20)
        assert "big" in timings
        tail.wait()
    finally:
        tail.stop()


def test_a_failure_of_a_child_waited_for_early_is_still_raised_by_wait():
    tail = Tail(True, {}, memory_budget=1)
    try:
        tail.run("bad", time.sleep, -1, peak=2**20)  # ValueError in the child
        tail.run("good", time.sleep, 0, peak=2**20)
        try:
            tail.wait()
        except OSError as exc:
            assert str(exc).startswith("bad: ValueError")
        else:
            raise AssertionError("the failure was lost")
    finally:
        tail.stop()


def _rss_now() -> int:
    import os

    return _rss(os.getpid())
