"""Scores of an extracted text against a labelled page (see benchmarks.corpora).

Two kinds of label, two kinds of score:

- a whole labelled body: token precision, recall and F1 over the bag of words (lower-cased
  word tokens counted with their multiplicity), as extraction benchmarks score;
- snippets: the share of ``inside`` snippets the text holds (recall) and the share of
  ``outside`` snippets it does not hold (precision), compared with white space folded.

:class:`Tally` adds scores up over many pages (macro average: each page counts once).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .corpora import LabelledPage

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> Counter[str]:
    """The bag of lower-cased word tokens of ``text``."""
    return Counter(t.lower() for t in _TOKEN.findall(text))


def folded(text: str) -> str:
    """``text`` with white space folded to single spaces, lower case."""
    return " ".join(text.split()).lower()


@dataclass(frozen=True)
class Score:
    """How well one extracted text agrees with one page's labels (None: no such label)."""

    precision: float | None
    recall: float | None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall."""
        if self.precision is None or self.recall is None:
            return None
        total = self.precision + self.recall
        return 0.0 if total == 0 else 2 * self.precision * self.recall / total


def token_score(extracted: str, body: str) -> Score:
    """Bag-of-words precision and recall of ``extracted`` against a whole labelled body."""
    got, want = tokens(extracted), tokens(body)
    common = sum((got & want).values())
    precision = common / sum(got.values()) if got else (1.0 if not want else 0.0)
    recall = common / sum(want.values()) if want else 1.0
    return Score(precision, recall)


def snippet_score(extracted: str, inside: tuple[str, ...], outside: tuple[str, ...]) -> Score:
    """Share of ``outside`` snippets left out (precision), of ``inside`` ones kept (recall)."""
    text = folded(extracted)
    recall = sum(1 for s in inside if folded(s) in text) / len(inside) if inside else None
    precision = (
        sum(1 for s in outside if folded(s) not in text) / len(outside) if outside else None
    )
    return Score(precision, recall)


def score(extracted: str, page: LabelledPage) -> Score:
    """The page's score: by its whole body where labelled, else by its snippets."""
    if page.body:
        return token_score(extracted, page.body)
    return snippet_score(extracted, page.inside, page.outside)


@dataclass
class Tally:
    """Macro averages of many scores."""

    precisions: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)
    f1s: list[float] = field(default_factory=list)

    def add(self, result: Score) -> None:
        """Count one page."""
        if result.precision is not None:
            self.precisions.append(result.precision)
        if result.recall is not None:
            self.recalls.append(result.recall)
        if result.f1 is not None:
            self.f1s.append(result.f1)

    @staticmethod
    def _mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    @property
    def precision(self) -> float:
        """Mean precision."""
        return self._mean(self.precisions)

    @property
    def recall(self) -> float:
        """Mean recall."""
        return self._mean(self.recalls)

    @property
    def f1(self) -> float:
        """Mean F1 (pages with both labels)."""
        return self._mean(self.f1s)

    def row(self) -> str:
        """``P 0.912  R 0.874  F1 0.881``."""
        return f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"
