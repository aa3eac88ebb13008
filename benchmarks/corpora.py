"""Labelled real news pages from public corpora, read at run time from repository snapshots.

Nothing of these corpora is kept in this repository: each is read from a bare git snapshot of
its public repository (``MIRROR/OWNER+NAME/repo``, as the project's tooling fetches them;
``--mirror`` or ``NEWSWATCH_MIRROR`` points elsewhere). Five corpora, each with its labels;
the first three are the benchmarks' default, the two older ones are chosen by name:

``trafilatura``
    trafilatura's evaluation set (``tests/evaldata.json``, ``tests/eval/*.html``): about 960
    real pages of about 900 sites (news, blogs, magazines, institutions; markup of roughly
    2012-2021), each with human-chosen snippets that stand in the main text (``inside``) and
    snippets that stand only in the page's chrome (``outside``). The entries whose file is a
    32-hex-digit name belong to another benchmark that is kept for independent acceptance and
    are always left out.
``fundus``
    Fundus' parser test set (``tests/resources/parser/test_data``): one to three pages of each
    of about 240 news publishers in 40 countries (2023-2025 markup), each with its whole
    article body (summary, sub-headings, paragraphs) as the publisher-specific parser, checked
    by its authors, extracts it.
``goose3``
    goose3's content tests (``tests/data/content``): older news and blog pages (about
    2010-2015) with the beginning of their main text as the label: its whole paragraphs are
    the ``inside`` snippets. Tiny synthetic pages (under 5 KB) are left out.
``dragnet``
    Dragnet's data set (``dragnet_data``, from a collection of HTML cleaning corpora): about
    1,380 English news and blog pages of 2012, each with its main text and, apart, its
    readers' comments as people marked them. The main text is the body; the comments'
    paragraphs are the ``outside`` snippets: an alert for a comment's words fired on
    somebody else's text. Pages that declare no address of their own (no canonical link or
    ``og:url``) are left out: the benchmark serves each page at its address.
``cleaneval``
    CleanEval 2007's development and final sets (``cleaneval-dev``, ``cleaneval-final``):
    about 740 English web pages of all kinds (2006-2007: blogs, forums, mailing list
    archives, institutions, shops), each with its cleaned text, whose paragraphs, headings
    and list items (``<p>``, ``<h>``, ``<l>``) are the body's lines.

The same collection holds a "Google news" set (``page-signal-master``), which is kept for
independent acceptance: it is never read.

A page's ``body`` is its whole labelled article text where the corpus has one (fundus,
dragnet, cleaneval), else None: then only the snippets label it.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
from trafilatura.utils import load_html

MIRROR = Path(os.environ.get("NEWSWATCH_MIRROR", "/work/.mirror"))
REPOS = {
    "trafilatura": "adbar+trafilatura",
    "fundus": "flairNLP+fundus",
    "goose3": "goose3+goose3",
    "dragnet": "j-szulc+html-cleaning-dataset-merged",
    "cleaneval": "j-szulc+html-cleaning-dataset-merged",
}
#: The benchmarks' default: the figures in docs/benchmarks.md are of these pages (a page's
#: topic must be unique among all pages loaded, so adding corpora changes the others' draws).
CORPORA = ("trafilatura", "fundus", "goose3")
ALL_CORPORA = tuple(REPOS)
_HEX_NAME = re.compile(r"^[0-9a-f]{32}\.html?$")
_FUNDUS_DATA = "tests/resources/parser/test_data"
_GOOSE_DATA = "tests/data/content"
_MIN_GOOSE_BYTES = 5_000
_DRAGNET_DATA = "dragnet_data"
_CLEANEVAL_SETS = ("cleaneval-dev", "cleaneval-final")
# Where Dragnet's labels turn from the article to its comments (typed by hand, with typos:
# "!@#$%^&*()  COMMENTS", "!@ $%^&*()  COMMENTS").
_COMMENTS_MARK = re.compile(r"(?m)^[!@#$%^&*() \t]+COMMENTS[ \t]*$")
# A CleanEval text's paragraph, heading or list item begins with its mark.
_CLEANEVAL_MARK = re.compile(r"<[phl]>", re.IGNORECASE)
_ABSOLUTE = re.compile(r"https?://[^/?#]+\.[^/?#]+")
_CLEANEVAL_HEAD = re.compile(rb'\A\s*<text id="([^"]*)"[^>]*>\s*')


@dataclass(frozen=True)
class LabelledPage:
    """A real page with what people (or a checked parser) say its article text is."""

    corpus: str
    name: str  # unique within the corpus
    url: str  # the address the page was taken from
    html: bytes
    body: str | None  # the whole article text, paragraphs on lines, where labelled
    inside: tuple[str, ...]  # snippets of the article text
    outside: tuple[str, ...]  # snippets that stand only in the page's chrome
    title: str | None = None
    published: str | None = None  # the labelled publication date (fundus'), ISO 8601

    @property
    def site(self) -> str:
        """The host the page came from, without ``www.``."""
        host = re.sub(r"^[a-z]+://", "", self.url.lower()).split("/", 1)[0]
        return host.split("@")[-1].split(":")[0].removeprefix("www.")


class CorpusMissing(RuntimeError):
    """A corpus' repository snapshot is not on this machine."""


class _GitTree:
    """Files of a bare repository's HEAD, read through one ``git cat-file --batch``."""

    def __init__(self, git_dir: Path) -> None:
        if not (git_dir / "HEAD").exists():
            raise CorpusMissing(f"no repository snapshot at {git_dir}")
        self.git_dir = git_dir
        self.proc = subprocess.Popen(
            ["git", "-C", str(git_dir), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def names(self, under: str) -> list[str]:
        """The paths of the files below ``under``."""
        out = subprocess.run(
            ["git", "-C", str(self.git_dir), "ls-tree", "-r", "--name-only", "HEAD", under],
            check=True,
            capture_output=True,
        ).stdout
        return out.decode("utf-8", "surrogateescape").splitlines()

    def read(self, path: str) -> bytes:
        """The bytes of ``path`` at HEAD."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"HEAD:{path}\n".encode("utf-8", "surrogateescape"))
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            raise FileNotFoundError(path)
        data = self.proc.stdout.read(int(header[2]))
        self.proc.stdout.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        """End the git process."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> _GitTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tree(mirror: Path, corpus: str) -> _GitTree:
    return _GitTree(mirror / REPOS[corpus] / "repo")


def trafilatura_labels(mirror: Path = MIRROR) -> dict[str, dict[str, str]]:
    """trafilatura's labels of each page of its evaluation set, by the page's file name: its
    ``title``, ``date``, ``author`` where labelled (the snippets aside)."""
    with _tree(mirror, "trafilatura") as tree:
        data = json.loads(tree.read("tests/evaldata.json"))
    return {item["file"]: {key: value for key, value in item.items()
                           if isinstance(value, str) and key != "file"}
            for item in data.values()}


def _trafilatura(mirror: Path) -> Iterator[LabelledPage]:
    with _tree(mirror, "trafilatura") as tree:
        data = json.loads(tree.read("tests/evaldata.json"))
        for url, item in data.items():
            name = item["file"]
            if _HEX_NAME.match(name):
                continue  # kept for independent acceptance: never used here
            try:
                html = tree.read(f"tests/eval/{name}")
            except FileNotFoundError:
                continue
            yield LabelledPage(
                corpus="trafilatura",
                name=name,
                url=url,
                html=html,
                body=None,
                inside=tuple(s for s in item.get("with", ()) if s and s.strip()),
                outside=tuple(s for s in item.get("without", ()) if s and s.strip()),
            )


def fundus_body(version: dict[str, object]) -> str:
    """The article text of one of fundus' labelled versions: summary, then each section's
    headline and paragraphs, a line each."""
    body = version.get("body")
    if not isinstance(body, dict):
        return ""
    lines: list[str] = [str(s) for s in body.get("summary") or ()]
    for section in body.get("sections") or ():
        lines.extend(str(h) for h in section.get("headline") or ())
        lines.extend(str(p) for p in section.get("paragraphs") or ())
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def _page_text(html: bytes, as_read: bool = False) -> str:
    """The page's visible text, white space folded (``as_read``: decoded and parsed as
    trafilatura reads it, "" where it reads no HTML document)."""
    try:
        doc = load_html(html) if as_read else lxml.html.document_fromstring(html)
        if doc is None:
            return ""
        for bad in doc.xpath("//script|//style|//noscript"):
            bad.drop_tree()
    except (ValueError, lxml.etree.ParserError):
        return ""
    return " ".join(doc.text_content().split())


def _coverage(body: str, page_text: str) -> float:
    """Share of a body's lines whose first 40 characters stand in the page's text."""
    lines = [line[:40] for line in body.splitlines() if len(line) >= 20]
    if not lines:
        return 0.0
    return sum(1 for line in lines if line in page_text) / len(lines)


def _fundus(mirror: Path) -> Iterator[LabelledPage]:
    with _tree(mirror, "fundus") as tree:
        names = tree.names(_FUNDUS_DATA)
        metas: dict[str, dict[str, dict[str, str]]] = {}
        for path in names:
            if path.endswith("/meta.info"):
                metas[path.rsplit("/", 1)[0]] = json.loads(tree.read(path))
        for path in names:
            if not path.endswith(".json"):
                continue
            folder, _, file = path.rpartition("/")
            publisher = file.removesuffix(".json")
            versions = json.loads(tree.read(path))
            labelled = [(fundus_body(v), v.get("title"), v.get("publishing_date"))
                        for _, v in sorted(versions.items())]
            for html_name, meta in sorted(metas.get(folder, {}).items()):
                if not html_name.startswith(f"{publisher}_"):
                    continue
                try:
                    html = gzip.decompress(tree.read(f"{folder}/{html_name}"))
                except FileNotFoundError:
                    continue
                text = _page_text(html)
                # Which labelled version belongs to this page: the one whose lines it holds
                # (its title too: a publisher's versions are different articles).
                scored = sorted(
                    ((_coverage(b, text), b, t, d) for b, t, d in labelled if b), reverse=True,
                    key=lambda item: item[0],
                )
                if not scored or scored[0][0] < 0.6:
                    continue
                title = str(scored[0][2]) if scored[0][2] else None
                yield LabelledPage(
                    corpus="fundus",
                    name=f"{folder.rsplit('/', 1)[-1]}/{html_name.removesuffix('.html.gz')}",
                    url=meta["url"],
                    html=html,
                    body=scored[0][1],
                    inside=(),
                    outside=(),
                    title=title,
                    published=str(scored[0][3]) if scored[0][3] else None,
                )


def _goose3(mirror: Path) -> Iterator[LabelledPage]:
    with _tree(mirror, "goose3") as tree:
        for path in tree.names(_GOOSE_DATA):
            if not path.endswith(".json"):
                continue
            try:
                html = tree.read(path.removesuffix(".json") + ".html")
            except FileNotFoundError:
                continue
            if len(html) < _MIN_GOOSE_BYTES:
                continue
            item = json.loads(tree.read(path))
            expected = item.get("expected") or {}
            # The label is the text's beginning, paragraphs on lines: each whole paragraph
            # is a snippet (the last one may be cut short, so it is left out).
            lines = str(expected.get("cleaned_text") or "").splitlines()
            paragraphs = [" ".join(line.split()) for line in lines if len(line.strip()) >= 30]
            url = str(item.get("url") or expected.get("final_url") or "")
            if len(paragraphs) < 2 or not url.startswith("http"):
                continue
            yield LabelledPage(
                corpus="goose3",
                name=path.rsplit("/", 1)[-1].removesuffix(".json"),
                url=url,
                html=html,
                body=None,
                inside=tuple(paragraphs[:-1]),
                outside=(),
                title=expected.get("title") or None,
            )


def _label_text(data: bytes) -> str:
    """A label file's text: UTF-8, else UTF-16 where it begins with its byte order mark,
    else Windows-1252 (labels were saved in all three)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _lines(text: str) -> list[str]:
    """The non-empty lines of ``text``, white space folded."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


_DECLARED = (  # where a page says it lives: <link rel=canonical>, <meta property=og:url>
    (re.compile(rb"<link\b[^>]*\brel=[\"']?canonical[^>]*>", re.IGNORECASE),
     re.compile(rb"\bhref=[\"']?([^\"'\s>]+)", re.IGNORECASE)),
    (re.compile(rb"<meta\b[^>]*\bproperty=[\"']?og:url[^>]*>", re.IGNORECASE),
     re.compile(rb"\bcontent=[\"']?([^\"'\s>]+)", re.IGNORECASE)),
)


def declared_urls(data: bytes, base: str) -> list[str]:
    """The addresses a page declares as its own (canonical link, og:url), resolved against
    ``base``."""
    found = []
    for tag_pattern, value_pattern in _DECLARED:
        tag = tag_pattern.search(data)
        value = value_pattern.search(tag.group()) if tag else None
        if value is not None:
            try:
                found.append(urljoin(base, unescape(value.group(1).decode("utf-8", "replace"))))
            except ValueError:
                continue
    return found


def _labels_stand(html: bytes, body: str) -> bool:
    """Whether a page's labelled text stands in it as trafilatura reads it: most of its
    lines. Not so where a label belongs to another page or the stored page is a fragment
    (CleanEval kept some pages from a ``<div>`` on, which no HTML reader takes for a
    document)."""
    return bool(body) and _coverage(body, _page_text(html, as_read=True)) >= 0.6


def _cleaning_pages(tree: _GitTree, folder: str) -> Iterator[tuple[str, bytes, str]]:
    """Each page of one corpus of the HTML cleaning collection that has its text: its name,
    its bytes (``input/NAME.html``) and its text (``GoldStandard/NAME.txt``)."""
    for path in tree.names(f"{folder}/input"):
        if not path.endswith(".html"):
            continue
        name = path.rsplit("/", 1)[-1].removesuffix(".html")
        try:
            label = _label_text(tree.read(f"{folder}/GoldStandard/{name}.txt"))
        except FileNotFoundError:
            continue  # e.g. a page of CleanEval's final set whose text was never published
        yield name, tree.read(path), label


def _dragnet(mirror: Path) -> Iterator[LabelledPage]:
    with _tree(mirror, "dragnet") as tree:
        for name, page, label in _cleaning_pages(tree, _DRAGNET_DATA):
            article, *comments = _COMMENTS_MARK.split(label, 1)
            url = next((u for u in declared_urls(page, "") if _ABSOLUTE.match(u)), None)
            body = "\n".join(_lines(article))
            if url is None or not _labels_stand(page, body):
                continue
            yield LabelledPage(
                corpus="dragnet",
                name=name,
                url=url,
                html=page,
                body=body,
                inside=(),
                outside=tuple(_lines(comments[0])) if comments else (),
            )


def cleaneval_body(label: str) -> str:
    """A CleanEval text as lines: each paragraph, heading or list item (``<p>``, ``<h>``,
    ``<l>``, wrapped over several lines in the file) on one line, without its mark."""
    lines = label.splitlines()
    if lines and lines[0].startswith("URL:"):
        lines = lines[1:]
    parts = _CLEANEVAL_MARK.split("\n".join(lines))
    return "\n".join(" ".join(part.split()) for part in parts if part.strip())


def _cleaneval(mirror: Path) -> Iterator[LabelledPage]:
    with _tree(mirror, "cleaneval") as tree:
        for folder in _CLEANEVAL_SETS:
            for name, data, label in _cleaning_pages(tree, folder):
                # The page as it was fetched, inside CleanEval's <text id="URL" ...> wrapper.
                head = _CLEANEVAL_HEAD.match(data)
                if head is None:
                    continue
                page = data[head.end():].rstrip().removesuffix(b"</text>").rstrip()
                body = cleaneval_body(label)
                if not _labels_stand(page, body):
                    continue
                yield LabelledPage(
                    corpus="cleaneval",
                    name=f"{folder.removeprefix('cleaneval-')}/{name}",
                    url=head.group(1).decode("utf-8", "replace"),
                    html=page,
                    body=body,
                    inside=(),
                    outside=(),
                )


_READERS = {"trafilatura": _trafilatura, "fundus": _fundus, "goose3": _goose3,
            "dragnet": _dragnet, "cleaneval": _cleaneval}


def load(corpora: Iterable[str] = CORPORA, mirror: Path = MIRROR) -> list[LabelledPage]:
    """Every labelled page of the named corpora (raises CorpusMissing when a snapshot is not
    on this machine)."""
    pages: list[LabelledPage] = []
    for corpus in corpora:
        pages.extend(_READERS[corpus](mirror))
    return pages


def main() -> None:
    """Print what each corpus holds."""
    for corpus in ALL_CORPORA:
        try:
            pages = load([corpus])
        except CorpusMissing as exc:
            print(f"{corpus}: missing ({exc})")
            continue
        sites = {p.site for p in pages}
        bodies = sum(1 for p in pages if p.body)
        print(f"{corpus}: {len(pages)} pages, {len(sites)} sites, {bodies} with whole bodies")


if __name__ == "__main__":
    main()
