"""ipgraph.search.prefixdict: jieba's prefix dictionary kept in the user's cache as plain arrays."""
from __future__ import annotations

import os
import stat

import jieba
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipgraph.search import prefixdict


@pytest.fixture(scope="module")
def jieba_own() -> jieba.Tokenizer:
    """The prefix dictionary jieba builds itself (from dict.txt, not from any cache)."""
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(tokenizer.get_dict_file())
    tokenizer.initialized = True
    return tokenizer


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IPGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_cached_dictionary_is_jiebas_and_cuts_the_same(cache, jieba_own):
    first = jieba.Tokenizer()
    assert prefixdict.load_into(first)  # made: no file yet
    path = prefixdict.cache_file()
    assert path.is_file() and path.parent == cache / "jieba"
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700  # private: a user's cache, not /tmp
    made = path.stat().st_mtime_ns
    second = jieba.Tokenizer()
    assert prefixdict.load_into(second)  # read back
    assert path.stat().st_mtime_ns == made
    for tokenizer in (first, second):
        assert tokenizer.initialized
        assert tokenizer.FREQ == jieba_own.FREQ and tokenizer.total == jieba_own.total
    text = "深入实施知识产权强国建设纲要，推进专利导航和知识产权贯标工作"
    assert second.lcut(text) == jieba_own.lcut(text)
    assert list(second.cut_for_search(text)) == list(jieba_own.cut_for_search(text))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "pad"])
def test_a_damaged_file_is_made_again(cache, jieba_own, damage):
    assert prefixdict.load_into(jieba.Tokenizer())
    path = prefixdict.cache_file()
    data = path.read_bytes()
    path.write_bytes({"truncate": data[:len(data) // 2], "garbage": b"\x80" * 100, "pad": data + b"x"}[damage])
    tokenizer = jieba.Tokenizer()
    assert prefixdict.load_into(tokenizer)
    assert tokenizer.FREQ == jieba_own.FREQ and tokenizer.total == jieba_own.total
    assert path.read_bytes() == data


def test_no_writable_cache_still_gives_the_dictionary(tmp_path, monkeypatch, jieba_own):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("IPGRAPH_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be made
    tokenizer = jieba.Tokenizer()
    assert prefixdict.load_into(tokenizer)
    assert tokenizer.FREQ == jieba_own.FREQ
    assert not (blocker / "cache").exists()


def test_a_user_dictionary_is_left_to_jieba(cache, tmp_path):
    own = tmp_path / "dict.txt"
    own.write_text("知识产权 10 n\n", encoding="utf-8")
    tokenizer = jieba.Tokenizer(str(own))
    assert not prefixdict.load_into(tokenizer)
    assert not tokenizer.initialized and not cache.exists()


def test_cache_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("IPGRAPH_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert prefixdict.cache_home() == tmp_path / "xdg" / "ipgraph"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")  # not absolute: ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert prefixdict.cache_home() == tmp_path / "home" / ".cache" / "ipgraph"


words = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=6)


@given(st.dictionaries(words, st.integers(0, 2**62), max_size=40), st.integers(0, 2**62))
def test_encode_decode_round_trip(freq, total):
    data = prefixdict.encode(freq, total)
    assert data is not None
    assert prefixdict.decode(data) == (freq, total)
    for cut in range(0, len(data), max(1, len(data) // 7)):  # every shortened file is refused, never misread
        with pytest.raises(ValueError):
            prefixdict.decode(data[:cut])


def test_encode_refuses_what_it_cannot_keep():
    assert prefixdict.encode({"a\nb": 1}, 1) is None
    assert prefixdict.encode({"a": 2**63}, 1) is None
