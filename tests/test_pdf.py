"""PDFs that feeds link to (crawler.pdf): a court's ruling, a central bank's statement. Their
text was never read: stored with the feed's one-line summary, a topic on what they say
never alerted (a review of official sources)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from crawler.pdf import is_pdf, pdf_article

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
DEPOSIT = {"name": "Deposit rate", "query": '"deposit facility"', "notify": ["desk@test.example"]}


def make_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A one-page PDF showing ``lines`` (ASCII) in Helvetica, as a word processor writes
    one: a catalogue, a page, a font, a content stream, a cross-reference table; and the
    document information dictionary with its ``title``, if any."""
    text = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
        b"<< /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode()),
    ]
    if title is not None:
        objects.append(b"<< /Title (%s) >>" % title.encode())
    info = b" /Info %d 0 R" % len(objects) if title is not None else b""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, info, start)
    return bytes(out)


STATEMENT = [
    "Monetary policy decisions",
    "5 December 2026",
    "The Governing Council today decided to lower the three key interest rates.",
    "Accordingly, the interest rate on the deposit facility will be decreased",
    "to 1.75 per cent, with effect from 11 December 2026.",
]


def test_a_real_pdfs_text_is_read() -> None:
    body = (FIXTURES / "crazyones.pdf").read_bytes()
    assert is_pdf(body)
    article = pdf_article(body)
    assert article is not None and article.method == "pdf"
    assert "to the crazy ones. The misfits." in article.text  # its ligature, "ﬁ", read as "fi"
    assert article.title == "The Crazy Ones" and article.date == "2015-06-04"
    # Encrypted with a password it does not have; bytes that are no PDF.
    assert pdf_article((FIXTURES / "r4-user-password.pdf").read_bytes()) is None
    assert not is_pdf(b"<html><body>%PDF-1.4</body></html>")
    assert pdf_article(b"%PDF-1.4\ngarbage") is None


@pytest.mark.parametrize("title", ["Microsoft Word - PR_12.docx", "untitled", "Document1",
                                   "slide 1", "ECB_statement_2026-12.pdf", "brochure.indd",
                                   "Layout 1.qxd", "Rates.DOC"])
def test_a_pdf_title_that_is_a_file_name_or_a_placeholder_is_not_its_headline(title) -> None:
    """A word processor's metadata title was the headline of an item without a title
    ("Microsoft Word - PR_12.docx"): the document's first line is, as without one."""
    article = pdf_article(make_pdf(STATEMENT, title=title))
    assert article is not None and article.title == "Monetary policy decisions"
    # A title of its own is kept.
    named = pdf_article(make_pdf(STATEMENT, title="ECB cuts its key rates by 0.25 points"))
    assert named is not None and named.title == "ECB cuts its key rates by 0.25 points"


def test_an_untitled_items_headline_is_not_its_pdfs_file_name(site, workdir):
    link = site.serve("/press/pr12.pdf", make_pdf(STATEMENT, title="Microsoft Word - PR_12.docx"),
                      content_type="application/pdf")
    feed = site.serve("/press.rss", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Central bank</title><item>'
        f"<link>{link}</link><guid>{link}</guid></item></channel></rss>").encode())
    workdir.write_config(sources=[feed])
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert row["title"] == "Monetary policy decisions", row


@pytest.mark.parametrize("served_as", ["application/pdf", "application/octet-stream"])
def test_a_feed_items_pdf_is_read_and_alerts(site, mail, workdir, served_as):
    site.serve("/press/mp261205.pdf", make_pdf(STATEMENT), content_type=served_as)
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    link = site.url("/press/mp261205.pdf")
    feed = site.serve("/press.rss", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Central bank</title><item>'
        f"<title>Monetary policy decisions</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{when}</pubDate><description>Press release: monetary policy decisions of "
        "the Governing Council.</description></item></channel></rss>").encode())
    workdir.write_config(sources=[feed], topics=[DEPOSIT], smtp=mail)
    out = workdir.newswatch("crawl").stdout
    assert "1 email(s) queued" in out, out
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert row["extraction"] == "page:pdf" and row["title"] == "Monetary policy decisions"
    assert "deposit facility will be decreased" in row["text"]
    [message] = mail.wait_for(1)
    assert "deposit facility" in message.get_body(("plain",)).get_content()


def test_a_pdf_that_cannot_be_read_keeps_the_feeds_summary(site, mail, workdir):
    site.serve("/press/locked.pdf", (FIXTURES / "r4-user-password.pdf").read_bytes(),
               content_type="application/pdf")
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    link = site.url("/press/locked.pdf")
    feed = site.serve("/press.rss", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Court</title><item>'
        f"<title>Ruling on the deposit facility</title><link>{link}</link><pubDate>{when}"
        "</pubDate><description>The court ruled on the deposit facility.</description>"
        "</item></channel></rss>").encode())
    workdir.write_config(sources=[feed], topics=[DEPOSIT], smtp=mail)
    assert "1 email(s) queued" in workdir.newswatch("crawl").stdout
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert (row["extraction"], row["text"]) == ("feed", "The court ruled on the deposit facility.")
    assert row["extraction_note"] == "no article text found on the page"
    mail.wait_for(1)


def test_an_item_whose_document_is_its_pdf_enclosure_is_read_from_it(site, mail, workdir):
    # A regulator's item without a link, its report as an enclosure: stored from its title
    # and summary, the report never read. An item stored so before is known by its address
    # as an item (its title and summary): not stored and mailed again.
    site.serve("/reports/fsr.pdf", make_pdf(STATEMENT), content_type="application/pdf")
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)

    def feed(enclosure: str) -> bytes:
        return ('<?xml version="1.0"?><rss version="2.0"><channel><title>Regulator</title>'
                f"<link>{site.url('/')}</link><item><title>Financial stability review</title>"
                f"<pubDate>{when}</pubDate><description>The review of the deposit facility."
                f"</description>{enclosure}</item></channel></rss>").encode()

    enclosure = (f'<enclosure url="{site.url("/reports/fsr.pdf")}" type="application/pdf" '
                 'length="900"/>')
    workdir.write_config(sources=[site.serve("/reports.rss", feed(enclosure))],
                         topics=[DEPOSIT], smtp=mail)
    assert "1 email(s) queued" in workdir.newswatch("crawl").stdout
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert (row["url"], row["extraction"]) == (site.url("/reports/fsr.pdf"), "page:pdf")
    assert "deposit facility will be decreased" in row["text"]
    mail.wait_for(1)


def test_an_item_stored_without_its_enclosure_is_known_with_it(site, mail, workdir):
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    site.serve("/reports/fsr.pdf", make_pdf(STATEMENT), content_type="application/pdf")

    def feed(enclosure: str) -> bytes:
        return ('<?xml version="1.0"?><rss version="2.0"><channel><title>Regulator</title>'
                f"<link>{site.url('/')}</link><item><title>Deposit facility review</title>"
                f"<pubDate>{when}</pubDate><description>The deposit facility reviewed."
                f"</description>{enclosure}</item></channel></rss>").encode()

    source = site.serve("/reports.rss", feed(""))
    workdir.write_config(sources=[source], topics=[DEPOSIT], smtp=mail)
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    site.serve("/reports.rss", feed(f'<enclosure url="{site.url("/reports/fsr.pdf")}" '
                                    'type="application/pdf" length="900"/>'))
    assert "0 new article(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(1)


def test_a_plain_text_pages_text_is_the_article(site, mail, workdir):
    # A regulator's release, an agency's filing served as text/plain (a .txt): no markup for
    # the extraction to find an article in, its text was stored empty and never matched. A
    # page whose server calls its HTML text/plain is still read as HTML.
    release = ("SEC Charges Trader\n\nFOR IMMEDIATE RELEASE\n\n"
               "The complaint alleges the trader misled   investors about the deposit facility.\n"
               "Contact: Office of Public Affairs\n")
    site.serve("/litigation/lr26105.txt", release.encode(), content_type="text/plain")
    site.serve("/news/misnamed", b"<!DOCTYPE html><html><head><title>Misnamed</title></head>"
               b"<body><article><h1>Misnamed</h1>" + b"<p>The deposit facility, said the "
               b"bank in a statement on its rates, will be reviewed in the spring.</p>" * 4
               + b"</article></body></html>", content_type="text/plain; charset=utf-8")
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    feed = site.serve("/litigation.rss", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Litigation releases</title>'
        f"<item><title>SEC Charges Trader</title><link>{site.url('/litigation/lr26105.txt')}"
        f"</link><pubDate>{when}</pubDate></item><item><title>Misnamed</title><link>"
        f"{site.url('/news/misnamed')}</link><pubDate>{when}</pubDate></item>"
        "</channel></rss>").encode())
    workdir.write_config(sources=[feed], topics=[DEPOSIT], smtp=mail)
    assert "2 new article(s)" in workdir.newswatch("crawl").stdout
    rows = {row["title"]: row
            for row in map(json.loads, workdir.newswatch("export").stdout.splitlines())}
    assert rows["SEC Charges Trader"]["extraction"] == "page:text"
    assert rows["SEC Charges Trader"]["text"] == (
        "FOR IMMEDIATE RELEASE\n\nThe complaint alleges the trader misled investors about "
        "the deposit facility.\nContact: Office of Public Affairs")
    assert rows["Misnamed"]["extraction"].startswith("page:") and "<p>" not in rows["Misnamed"]["text"]
    assert rows["Misnamed"]["extraction"] != "page:text"
    mail.wait_for(1)


def test_a_json_feed_items_pdf_attachment_is_read_as_an_enclosure_is(site, mail, workdir):
    # JSON Feed's enclosures are an item's "attachments": a regulator's item without a url,
    # its report attached, was stored from its one-line summary, the report never read.
    site.serve("/reports/fsr.pdf", make_pdf(STATEMENT), content_type="application/pdf")
    published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    feed = site.serve("/reports.json", json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "Regulator",
        "home_page_url": site.url("/"),
        "items": [{"id": "fsr-2026-12", "title": "Financial stability review",
                   "content_text": "The review.", "date_published": published,
                   "attachments": [{"url": "/reports/fsr.pdf", "mime_type": "application/pdf"}]}],
    }).encode(), content_type="application/feed+json")
    workdir.write_config(sources=[feed], topics=[DEPOSIT], smtp=mail)
    assert "1 email(s) queued" in workdir.newswatch("crawl").stdout
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert (row["url"], row["extraction"]) == (site.url("/reports/fsr.pdf"), "page:pdf")
    assert "deposit facility will be decreased" in row["text"]
    mail.wait_for(1)
