"""Story grouping on real article texts: which copies join, and what grouping costs.

    python -m benchmarks.story_bench [--articles 9000] [--memory 30000] [--repeat 3]

Input: the whole labelled bodies of fundus' test pages (benchmarks.heavy_pages.real_texts;
the acceptance corpora are not among them). Printed:

* joins: for each text A of LONG paragraphs or more, its update (the first two paragraphs
  of the next such text on top of A's, cut to UPDATE_CUT paragraphs, as a site runs the
  wire's story updated hours later) and A, each on a site of its own, in an index of their
  own: how often the second joins the first's story, A stored first (forward) and the
  update stored first (reverse); how often an article quoting A's first paragraph as its
  third joins A; and the false joins among the distinct texts, each indexed in turn.
* cost: the CPU time per article of signing ``--articles`` texts of a TextSource (real
  texts, each reuse varied) and of looking each up and adding it to one index (find, then
  add), the best of ``--repeat`` runs; and the index's memory (tracemalloc) once it holds
  ``--memory`` of them.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence

from watchlist.stories import LEDE_WORDS, Signature, StoryIndex, signature

from .heavy_pages import Text, TextSource, real_texts

#: Paragraphs a text has at least to be one of the joins' A.
LONG = 7
#: Paragraphs of the update a site runs: the two new ones, then A's first five.
UPDATE_CUT = 7


def _text(paragraphs: Sequence[str]) -> str:
    return "\n\n".join(paragraphs)


def _edited(paragraph: str, every: int = 40) -> str:
    """``paragraph`` with about one word in ``every`` changed (a sub-editor's light touch)."""
    rng = random.Random(paragraph)
    return " ".join(rng.choice(["reportedly", "said", "also", "the"])
                    if rng.randrange(every) == 0 else word for word in paragraph.split(" "))


def _background(text: Text) -> str:
    """A paragraph of LEDE_WORDS words or more of ``text`` (its first ones, as one), as the
    wire's standard background paragraph under its stories on one subject."""
    words: list[str] = []
    for paragraph in text.paragraphs:
        words += paragraph.split()
        if len(words) >= LEDE_WORDS:
            break
    return " ".join(words)


def _joins(first: str, second: str) -> bool:
    """Whether ``second``, on a site of its own, joins the story of ``first``."""
    one, other = signature(first), signature(second)
    if one is None or other is None:
        return False
    index = StoryIndex()
    index.add(1, 1, one, source=1)
    return index.find(other, source=2) == 1


def joins(texts: Sequence[Text]) -> dict[str, tuple[int, int]]:
    """(joined, pairs) of each case (see the module's docstring)."""
    long = [text for text in texts if len(text.paragraphs) >= LONG]
    cases: dict[str, Callable[[Text, Text], tuple[str, str]]] = {
        "A stored, its update cut to 7 (forward)": lambda a, b: (
            _text(a.paragraphs), _text([*b.paragraphs[:2], *a.paragraphs][:UPDATE_CUT])),
        "the update cut to 7 stored, then A (reverse)": lambda a, b: (
            _text([*b.paragraphs[:2], *a.paragraphs][:UPDATE_CUT]), _text(a.paragraphs)),
        "A stored, three new paragraphs over its first 6": lambda a, b: (
            _text(a.paragraphs), _text([*b.paragraphs[:3], *a.paragraphs[:6]])),
        "three new paragraphs over A's first 6 stored, then A (reverse)": lambda a, b: (
            _text([*b.paragraphs[:3], *a.paragraphs[:6]]), _text(a.paragraphs)),
        "A stored, its update cut to 7, edited": lambda a, b: (
            _text(a.paragraphs),
            _text([*b.paragraphs[:2], *map(_edited, a.paragraphs)][:UPDATE_CUT])),
        "the update cut to 7, edited, stored, then A (reverse)": lambda a, b: (
            _text([*b.paragraphs[:2], *map(_edited, a.paragraphs)][:UPDATE_CUT]),
            _text(a.paragraphs)),
        "A stored, an article quoting its first paragraph third": lambda a, b: (
            _text(a.paragraphs), _text([*b.paragraphs[:2], a.paragraphs[0],
                                        *b.paragraphs[2:]])),
        "an article quoting A's first paragraph third stored, then A": lambda a, b: (
            _text([*b.paragraphs[:2], a.paragraphs[0], *b.paragraphs[2:]]),
            _text(a.paragraphs)),
    }
    cases["a brief (A's headline over a paragraph of A) stored, then B with it third"] = (
        lambda a, b: (_text([a.title, _background(a)]),
                      _text([*b.paragraphs[:2], _background(a), *b.paragraphs[2:]])))
    cases["B with a paragraph of A third stored, then a brief (A's headline over it)"] = (
        lambda a, b: (_text([*b.paragraphs[:2], _background(a), *b.paragraphs[2:]]),
                      _text([a.title, _background(a)])))
    found = {}
    for name, make in cases.items():
        pairs = [make(a, long[(i + 1) % len(long)]) for i, a in enumerate(long)]
        found[name] = (sum(_joins(*pair) for pair in pairs), len(pairs))
    return found


def false_joins(texts: Sequence[Text]) -> tuple[int, int]:
    """(texts that joined an earlier one's story, texts signed), each on a site of its own."""
    index = StoryIndex()
    joined = signed = 0
    for article_id, text in enumerate(texts, start=1):
        sig = signature(_text(text.paragraphs))
        if sig is None:
            continue
        signed += 1
        story = index.find(sig, source=article_id)
        joined += story is not None
        index.add(article_id, story or article_id, sig, source=article_id)
    return joined, signed


def _source_texts(count: int) -> list[str]:
    source = TextSource(seed=1)
    return [_text(source.next().paragraphs) for _ in range(count)]


def cost(count: int, repeat: int) -> tuple[float, float]:
    """The best CPU milliseconds per article of signing ``count`` texts, and of finding and
    adding them to one index."""
    texts = _source_texts(count)
    signing = grouping = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        sigs = [signature(text) for text in texts]
        signing = min(signing, time.process_time() - start)
        fresh = [Signature(s.full, s.lede, s.second, s.later) for s in sigs if s is not None]
        index = StoryIndex()
        start = time.process_time()
        for article_id, sig in enumerate(fresh, start=1):
            story = index.find(sig, source=article_id % 500 + 1)
            index.add(article_id, story or article_id, sig, source=article_id % 500 + 1)
        grouping = min(grouping, time.process_time() - start)
    return 1000 * signing / count, 1000 * grouping / count


def memory(count: int) -> tuple[float, float]:
    """The index's memory (MB, as tracemalloc counts it) once it holds ``count`` articles,
    and once the band keys of its newest articles are merged too (those waiting in a dict
    are at most _PENDING articles' whatever the index holds)."""
    sigs = [sig for sig in map(signature, _source_texts(count)) if sig is not None]
    fresh = [Signature(s.full, s.lede, s.second, s.later) for s in sigs]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = StoryIndex()
    for article_id, sig in enumerate(fresh, start=1):
        index.add(article_id, article_id, sig, source=article_id % 500 + 1)
    # What the signatures cache (their band keys and kept values) is theirs, not the index's.
    del fresh
    used = tracemalloc.get_traced_memory()[0] - before
    index._merge()
    merged = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / 1e6, merged / 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=9000)
    parser.add_argument("--memory", type=int, default=30000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma list of joins,cost,memory")
    args = parser.parse_args(argv)
    skip = set(args.skip.split(","))
    texts = real_texts()
    if not texts:
        print("fundus' snapshot is not on this machine (benchmarks.corpora)")
        return 1
    if "joins" not in skip:
        for name, (joined, pairs) in joins(texts).items():
            print(f"{name}: {joined}/{pairs} joined")
        joined, signed = false_joins(texts)
        print(f"false joins among {signed} distinct articles: {joined}")
    if "cost" not in skip:
        signing, grouping = cost(args.articles, args.repeat)
        print(f"CPU per article at {args.articles}: signing {signing:.4f} ms,"
              f" find+add {grouping:.4f} ms (best of {args.repeat})")
    if "memory" not in skip:
        used, merged = memory(args.memory)
        print(f"index memory at {args.memory} articles: {used:.1f} MB"
              f" ({merged:.1f} MB with no band keys waiting)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
