"""Deterministic synthetic news: articles in four languages and topic queries for them.

Articles are built from the real words in :mod:`benchmarks.vocab` with Zipf-like frequencies:
each article has a language, a theme, one to three main entities mentioned several times and a
few entities in passing, quotes from people with common names, numbers and dates.  Queries are
written in the watchlist language the way users write them: names, quoted phrases, AND, OR,
NOT / ``-word``, parentheses, accents or not, hyphenated terms.

Each query is generated as a small syntax tree (:class:`QTerm`, :class:`QAnd`, :class:`QOr`,
:class:`QNot`) and rendered to text; the regex baseline evaluates the tree, newswatch parses
the text, so agreement between the two also checks newswatch's parser.
"""

# Multilingual text is the point here: accented letters are intended.

from __future__ import annotations

import bisect
import itertools
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from storage.models import StoredArticle

from . import vocab

NOW: Final = datetime(2025, 11, 25, 12, 0, tzinfo=UTC)
SOURCES: Final = (
    ("en", "Daily Courier"),
    ("en", "Global Wire"),
    ("es", "El Diario Nacional"),
    ("es", "Noticias de América"),
    ("de", "Rheinische Rundschau"),
    ("fr", "Le Quotidien"),
)


# --------------------------------------------------------------------------------------------
# Weighted choice
# --------------------------------------------------------------------------------------------


class Zipf:
    """Draw items with Zipf-Mandelbrot weights 1 / (rank + q) ** s, first item most frequent."""

    def __init__(self, items: Sequence[str], s: float = 1.0, q: float = 2.7) -> None:
        self.items = list(items)
        weights = [1.0 / (rank + q) ** s for rank in range(1, len(self.items) + 1)]
        self.cum = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.items, cum_weights=self.cum, k=k)

    def one(self, rng: random.Random) -> str:
        return self.items[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


def strip_accents(text: str) -> str:
    """Drop combining marks: how some sources (and some users) write names."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


# --------------------------------------------------------------------------------------------
# Articles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entity:
    full: str
    short: str
    theme: str
    home: str


_ENTITIES: Final = tuple(_Entity(*row) for row in vocab.ENTITIES)
_THEMES: Final = tuple(vocab.THEMES)
_LANG_INDEX: Final = {lang: i for i, lang in enumerate(vocab.LANGUAGES)}


class ArticleGenerator:
    """Seeded generator of realistic multilingual articles (StoredArticle records)."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        rng = random.Random(seed * 7919 + 1)
        self.general = {lang: Zipf(words, s=1.05) for lang, words in vocab.GENERAL.items()}
        compounds = [
            head + tail
            for head, tail in itertools.product(vocab.DE_COMPOUND_HEADS, vocab.DE_COMPOUND_TAILS)
        ]
        rng.shuffle(compounds)
        self.compounds = Zipf(compounds, s=1.1)
        # Entity popularity: a fixed random ranking, boosted per language for local names.
        order = list(_ENTITIES)
        rng.shuffle(order)
        self.entities: dict[str, tuple[list[_Entity], list[float]]] = {}
        for lang in vocab.LANGUAGES:
            weights = [
                (4.0 if e.home == lang else 1.5 if not e.home else 1.0) / (rank + 12) ** 1.2
                for rank, e in enumerate(order, start=1)
            ]
            self.entities[lang] = (order, list(itertools.accumulate(weights)))
        self.by_theme = {t: [e for e in order if e.theme == t] for t in _THEMES}
        self.concepts = {
            theme: Zipf([str(i) for i in range(len(forms))], s=0.9)
            for theme, forms in vocab.THEMES.items()
        }
        self.next_id = 1

    # -- pieces ------------------------------------------------------------------------------

    def _entity(self, lang: str, theme: str) -> _Entity:
        rng = self.rng
        if rng.random() < 0.45 and self.by_theme[theme]:
            pool = self.by_theme[theme]
            return pool[min(int(rng.expovariate(0.35)), len(pool) - 1)]
        order, cum = self.entities[lang]
        return order[bisect.bisect(cum, rng.random() * cum[-1])]

    def _concept(self, lang: str, theme: str) -> str:
        forms = vocab.THEMES[theme][int(self.concepts[theme].one(self.rng))]
        return forms[_LANG_INDEX[lang]]

    def _number(self, lang: str) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.3:
            return str(rng.randint(1990, 2025))
        if kind < 0.6:
            return str(rng.randint(2, 99))
        whole, frac = rng.randint(1, 99), rng.randint(1, 9)
        sep = "." if lang == "en" else ","
        unit = rng.choice(("%", " %", " million", " billion") if lang == "en" else ("%", " %"))
        return f"{whole}{sep}{frac}{unit}"

    def _person(self, lang: str) -> str:
        rng = self.rng
        return f"{rng.choice(vocab.FIRST_NAMES[lang])} {rng.choice(vocab.LAST_NAMES[lang])}"

    def _sentence(
        self, lang: str, theme: str, mains: list[_Entity], mentioned: set[str], plain: bool
    ) -> str:
        rng = self.rng
        length = rng.randint(9, 28)
        words = self.general[lang].draw(rng, length)
        out: list[str] = []
        for word in words:
            roll = rng.random()
            if roll < 0.055:
                out.append(self._concept(lang, theme))
            elif roll < 0.085:
                entity = rng.choice(mains) if rng.random() < 0.85 else self._entity(lang, theme)
                name = entity.short if entity.full in mentioned else entity.full
                mentioned.add(entity.full)
                out.append(strip_accents(name) if plain else name)
            elif roll < 0.1:
                out.append(self._number(lang))
            elif lang == "de" and roll < 0.115:
                out.append(self.compounds.one(rng))
            elif roll < 0.1015 and lang != "de":
                out.append(
                    rng.choice(("covid-19", "e-mail", "long-term", "follow-up"))
                    if lang == "en"
                    else word
                )
            else:
                out.append(word)
        if rng.random() < 0.12:
            said = rng.choice(vocab.SAID[lang])
            out.append(f", {said} {self._person(lang)}")
        text = " ".join(out).replace(" ,", ",")
        if rng.random() < 0.15:
            cut = rng.randint(3, max(3, len(out) - 2))
            head = " ".join(out[:cut]).replace(" ,", ",")
            tail = " ".join(out[cut:]).replace(" ,", ",")
            text = f"{head}, {tail}" if tail else head
        return text[:1].upper() + text[1:] + rng.choice((".", ".", ".", ".", "?", ":", ";"))

    def article(self) -> StoredArticle:
        """One new article, with the next id."""
        rng = self.rng
        lang = rng.choices(vocab.LANGUAGES, weights=vocab.LANGUAGE_WEIGHTS)[0]
        theme = rng.choices(_THEMES, weights=vocab.THEME_WEIGHTS)[0]
        plain = rng.random() < 0.05  # a source that drops accents
        mains = [self._entity(lang, theme) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
        mentioned: set[str] = set()
        target = rng.randint(300, 800)
        paragraphs: list[str] = []
        count = 0
        while count < target:
            sentences = [
                self._sentence(lang, theme, mains, mentioned, plain)
                for _ in range(rng.randint(2, 6))
            ]
            paragraph = " ".join(sentences)
            count += paragraph.count(" ") + 1
            paragraphs.append(paragraph)
        title_words = self.general[lang].draw(rng, rng.randint(3, 8))
        title_words.insert(rng.randrange(len(title_words) + 1), self._concept(lang, theme))
        lead = mains[0].short if rng.random() < 0.5 else mains[0].full
        title_words.insert(rng.randrange(len(title_words) + 1), lead)
        title = " ".join(title_words)
        title = strip_accents(title) if plain else title
        title = title[:1].upper() + title[1:]
        source_id = rng.choice([i for i, (code, _) in enumerate(SOURCES, 1) if code == lang])
        article_id = self.next_id
        self.next_id += 1
        published = NOW - timedelta(minutes=rng.randint(1, 60 * 48))
        return StoredArticle(
            id=article_id,
            url=f"https://news{source_id}.example/{published:%Y/%m/%d}/{article_id}",
            source_id=source_id,
            source_name=SOURCES[source_id - 1][1],
            title=title,
            text="\n\n".join(paragraphs),
            published=published,
            fetched=NOW,
            extraction="page",
        )

    def articles(self, count: int) -> list[StoredArticle]:
        return [self.article() for _ in range(count)]


def generate_articles(count: int, seed: int = 1) -> list[StoredArticle]:
    """``count`` articles, the same for the same seed."""
    return ArticleGenerator(seed).articles(count)


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QTerm:
    """A word or phrase as the user typed it."""

    text: str


@dataclass(frozen=True)
class QAnd:
    children: tuple[QNode, ...]


@dataclass(frozen=True)
class QOr:
    children: tuple[QNode, ...]


@dataclass(frozen=True)
class QNot:
    child: QNode


QNode = QTerm | QAnd | QOr | QNot


@dataclass(frozen=True)
class GeneratedQuery:
    """A topic query: its text in the watchlist language and the tree it was written from."""

    text: str
    tree: QNode


def render(node: QNode, rng: random.Random, nested: bool = False) -> str:
    """Write ``node`` in the watchlist language, varying the style as users do."""
    if isinstance(node, QTerm):
        needs_quotes = any(not (c.isalnum() or c in "-&") for c in node.text)
        return f'"{node.text}"' if needs_quotes or rng.random() < 0.05 else node.text
    if isinstance(node, QNot):
        inner = render(node.child, rng, nested=True)
        return f"NOT {inner}" if rng.random() < 0.6 else f"-{inner}"
    if isinstance(node, QOr):
        text = " OR ".join(render(child, rng, nested=True) for child in node.children)
        return f"({text})" if nested else text
    parts = [render(child, rng, nested=True) for child in node.children]
    joiners = [" AND " if rng.random() < 0.6 else " " for _ in parts[1:]]
    text = parts[0] + "".join(j + p for j, p in zip(joiners, parts[1:], strict=True))
    if nested and rng.random() < 0.3:
        return f"({text})"
    if nested:  # beside an OR, words side by side are refused (Google reads them otherwise)
        return " AND ".join(parts)
    return text


def _is_ambiguous_acronym(text: str) -> bool:
    # "UN", "WHO", "VW" would match everyday words case-insensitively; users spell them out.
    return text.isupper() and len(text) <= 4 and text.isalpha()


class QueryGenerator:
    """Seeded generator of realistic topic queries over the article vocabulary."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed * 104729 + 7)
        rng = random.Random(seed * 31 + 5)
        order = list(_ENTITIES)
        rng.shuffle(order)
        self.entities = order
        self.themes = list(_THEMES)
        self.lang = 0  # index of the language of the query being written

    def _pick_entity(self) -> _Entity:
        return self.entities[min(int(self.rng.expovariate(0.03)), len(self.entities) - 1)]

    def _entity_term(self, entity: _Entity | None = None) -> QTerm:
        rng = self.rng
        entity = entity or self._pick_entity()
        options = [entity.full]
        if entity.short != entity.full and not _is_ambiguous_acronym(entity.short):
            options.append(entity.short)
        text = rng.choice(options)
        if rng.random() < 0.12:
            text = strip_accents(text)
        if rng.random() < 0.1:
            text = text.lower()
        return QTerm(text)

    def _concept(self, theme: str | None = None) -> tuple[str, ...]:
        rng = self.rng
        theme = theme or rng.choice(self.themes)
        forms = vocab.THEMES[theme]
        return forms[min(int(rng.expovariate(0.4)), len(forms) - 1)]

    def _concept_term(self, theme: str | None = None) -> QTerm:
        return QTerm(self._concept(theme)[self.lang])

    def _concept_any_language(self, theme: str | None = None) -> QNode:
        forms = list(dict.fromkeys(f.casefold() for f in self._concept(theme)))
        picked = forms if self.rng.random() < 0.6 else forms[:2]
        terms = tuple(QTerm(f) for f in picked)
        return terms[0] if len(terms) == 1 else QOr(terms)

    def tree(self) -> QNode:
        rng = self.rng
        kind = rng.random()
        self.lang = rng.choices(range(len(vocab.LANGUAGES)), weights=vocab.LANGUAGE_WEIGHTS)[0]
        if kind < 0.16:  # a name
            return self._entity_term()
        theme = rng.choice(self.themes)
        if kind < 0.24:  # a subject in one language
            return QAnd((self._concept_term(theme), self._concept_term(theme)))
        entity = self._pick_entity()
        related = entity.theme if rng.random() < 0.8 else theme
        if kind < 0.40:  # name AND subject
            return QAnd((self._entity_term(entity), self._concept_term(related)))
        if kind < 0.50:  # one subject in every language, with a name
            return QAnd((self._concept_any_language(related), self._entity_term(entity)))
        if kind < 0.62:  # names, one of several
            return QOr(tuple(self._entity_term() for _ in range(rng.randint(2, 3))))
        if kind < 0.74:  # name without a subject
            return QAnd((self._entity_term(), QNot(self._concept_term())))
        if kind < 0.84:  # (a OR b) AND (c OR d) NOT e
            return QAnd(
                (
                    QOr((self._entity_term(entity), self._entity_term())),
                    self._concept_any_language(related),
                    QNot(self._entity_term()),
                )
            )
        if kind < 0.92:  # two subjects, one of them in any language
            return QAnd((self._concept_any_language(theme), self._concept_term(theme)))
        # hyphenated and special tokens
        special = rng.choice(
            (
                "covid-19",
                "e-mail",
                "AT&T",
                "Jean-Luc Mélenchon",
                "Baden-Württemberg",
                "Ocasio-Cortez",
                "Côte d'Ivoire",
                "Île-de-France",
                "Saint-Étienne",
                "long-term",
            )
        )
        other = self._concept_term() if rng.random() < 0.5 else self._entity_term(entity)
        return QAnd((QTerm(special), other))

    def query(self) -> GeneratedQuery:
        tree = self.tree()
        return GeneratedQuery(render(tree, self.rng), tree)

    def queries(self, count: int) -> list[GeneratedQuery]:
        return [self.query() for _ in range(count)]


def generate_queries(count: int, seed: int = 1) -> list[GeneratedQuery]:
    """``count`` topic queries, the same for the same seed (a prefix of a longer run's)."""
    return QueryGenerator(seed).queries(count)
