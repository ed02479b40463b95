"""Duplicate detection at scale (issue 14): an index of MinHash bands, not every pair."""
from __future__ import annotations

import random
import time

from ipgraph.dedupe import DuplicateFinder


def _tiny_texts(n: int) -> list[str]:
    rng = random.Random(20000)
    words = ["知识产权", "专利", "商标", "保护", "运用", "服务", "创造", "管理", "导航", "质押", "版权", "地理标志"]
    return [f"第{i}号通知:" + "".join(rng.choice(words) for _ in range(12)) + f"{i * 7919 % 100003}" for i in range(n)]


def test_twenty_thousand_tiny_texts_are_checked_in_seconds_and_copies_still_found():
    texts = _tiny_texts(20_000)
    finder = DuplicateFinder()
    original = finder._entries
    started = time.perf_counter()
    for i, text in enumerate(texts):
        assert finder.match(text) is None, i
        finder.add(f"t{i:05d}", text)
    elapsed = time.perf_counter() - started
    assert elapsed < 60  # all pairs was ~2·10^8 comparisons; the index makes it linear
    assert finder._entries is original and len(original) == 20_000
    # a near copy (one character changed in a long text) and an exact copy are still caught
    long_text = "".join(texts[100:140])
    finder.add("long", long_text)
    changed = long_text[:500] + "改" + long_text[501:]
    match = finder.match(changed)
    assert match is not None and match.of == "long" and 0.9 <= match.similarity < 1.0
    exact = finder.match(texts[12_345])
    assert exact is not None and exact.of == "t12345" and exact.identical
