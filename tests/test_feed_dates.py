"""Feed dates feedparser cannot read or reads wrong (crawler.feeddates), and what a first
poll and a date ahead of now make of them, on a real crawl."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from newssite import STORIES

from crawler.feeddates import DateReader, misread, no_day, read_date, read_plain
from crawler.feeds import parse_feed

#: Dates as real feeds write them (Miniflux's date tests, internal/reader/date), and the
#: instant each says.
WRITTEN = [
    ("Di, 23 Jan 2018 00:00:00 +0100", datetime(2018, 1, 22, 23, 0, tzinfo=UTC)),
    ("ven., 03 juil. 2020 15:09:58 +0000", datetime(2020, 7, 3, 15, 9, 58, tzinfo=UTC)),
    ("Mon, 16th Nov 2020 13:16:28 GMT", datetime(2020, 11, 16, 13, 16, 28, tzinfo=UTC)),
    ("Apr 16, 2023 08:01 GMT", datetime(2023, 4, 16, 8, 1, tzinfo=UTC)),
    ("Thu, June 22, 2023 at 01:11 PM EDT", datetime(2023, 6, 22, 17, 11, tzinfo=UTC)),
    ("Sun, 17 Dec 2017 1:55 PM EST", datetime(2017, 12, 17, 18, 55, tzinfo=UTC)),
    ("Sun, 06 Dec 2026 11:13:00 JST", datetime(2026, 12, 6, 2, 13, tzinfo=UTC)),
    ("Wed, 02 Dec 2026 10:00:00 MSK", datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),
    ("Wed, 02 Dec 2026 10:00:00 CEST", datetime(2026, 12, 2, 8, 0, tzinfo=UTC)),
    ("Sat, 05 Dec 2026 10:00:00 GMT+2", datetime(2026, 12, 5, 8, 0, tzinfo=UTC)),
    ("Fri, 31 Mar 2023 20:19:00 America/Los_Angeles", datetime(2023, 4, 1, 3, 19, tzinfo=UTC)),
    ("Thu, 25 Feb 2016 00:00:00 Europe/Brussels", datetime(2016, 2, 24, 23, 0, tzinfo=UTC)),
    # Unix date(1)'s output, as a shell script's feed writes it: the zone before the year.
    ("Sat Jan  3 10:41:00 CET 2026", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("Sat Jan  3 18:41:00 JST 2026", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    # India's IST, as everywhere else here (an Indian server's date(1); Israel's was taken).
    ("Sat Jan  3 15:11:00 IST 2026", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
]


def feed(*pubdates: str) -> bytes:
    items = "".join(
        f"<item><title>Item {n}</title><link>http://127.0.0.1:9/a/{n}</link>"
        f"<pubDate>{when}</pubDate></item>"
        for n, when in enumerate(pubdates)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T'
            f"</title>{items}</channel></rss>").encode()


@pytest.mark.parametrize(("written", "instant"), WRITTEN)
def test_dates_feedparser_misses_or_misreads_are_read(written: str, instant: datetime) -> None:
    # Before: undated (the first six, the last five: read as UTC, hours off; 1:55 PM EST
    # as 01:55 UTC).
    [entry] = parse_feed(feed(written), "http://127.0.0.1:9/feed").entries
    assert entry.published == instant


#: Dates feedparser's loose reader took a wrong date from without a word (a review of real
#: feeds' dates: the month from today's clock and the day 1, the time dropped, a Unix
#: timestamp as the year 1796), and what they say.
FILLED_IN = [
    ("2026/01/03 09:41:00", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026.01.03 09:41", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026年01月03日 18:41 +0900", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026年1月3日 18時41分 JST", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026年1月3日 18:41", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),  # East Asian time
    ("2026년 01월 03일 18:41:00 +0900", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026-01-03 09:41:00 UTC", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),  # Rails' to_s
    ("2026-01-03 03:41 CST", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026-01-03 10:41:00 GMT+0100", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    # The month in words (PHP's date("Y-M-d"); a Hungarian blog's "2026-január-03"):
    ("2026-Jan-03 09:41:00", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026-január-03T04:41-05:00", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    # A Korean, Japanese or Chinese 12-hour time (오후, 午後, 下午: afternoon; a Korean or
    # Taiwanese ASP.NET site's dates are so written), in its country's time unless it says
    # another: the time dropped (14 hours early), or the month taken from the clock.
    ("2026-01-03 오후 6:41:00", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026-01-03 午後 6:41", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026-01-03 上午 9:41:00 +0000", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026/1/3 下午 05:41:00", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026-01-03 오전 12:41:00", datetime(2026, 1, 2, 15, 41, tzinfo=UTC)),  # just past midnight
    # A dot after the day too (Korean as ICU and browsers write it: .NET on Linux, a
    # JavaScript toLocaleString("ko-KR"); a Hungarian site's "2026. 01. 03."):
    ("2026. 1. 3. 오후 6:41:00", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("2026. 01. 03. 09:41", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("20260103T094100Z", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("1767433260", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("1767433260000", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("Sat, 03 Jan 2026 09:41:00 UTC+2", datetime(2026, 1, 3, 7, 41, tzinfo=UTC)),
    ("Sat, 03 Jan 2026 09:41:00 UTC-05:00", datetime(2026, 1, 3, 14, 41, tzinfo=UTC)),
    ("Sat, 03 Jan 2026 15:11:00 IST", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),  # India's
    # Day first (a German, French, Indian feed), whatever the separator:
    ("03.01.2026 09:41", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("03.01.2026 10:41 +0100", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("03/01/2026 09:41:00", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("03-01-2026 09:41", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    ("03.01.26 09:41", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
    # Month first with a 12-hour time (an American feed):
    ("1/3/2026 9:41 AM", datetime(2026, 1, 3, 9, 41, tzinfo=UTC)),
]


@pytest.mark.parametrize(("written", "instant"), FILLED_IN)
def test_dates_feedparser_filled_in_from_the_clock_are_read(written: str,
                                                            instant: datetime) -> None:
    [entry] = parse_feed(feed(written), "http://127.0.0.1:9/feed").entries
    assert entry.published == instant


def test_a_feed_tells_which_of_day_and_month_comes_first() -> None:
    # One date whose first number is above 12 says it for the feed's others; so does the
    # feed's language (American English: month first).
    [_, second] = parse_feed(feed("13/11/2026 09:00", "06/11/2026 09:00"),
                             "http://127.0.0.1:9/feed").entries
    assert second.published == datetime(2026, 11, 6, 9, 0, tzinfo=UTC)
    [_, second] = parse_feed(feed("11/13/2026 09:00", "11/06/2026 09:00"),
                             "http://127.0.0.1:9/feed").entries
    assert second.published == datetime(2026, 11, 6, 9, 0, tzinfo=UTC)
    american = feed("11/06/2026 09:00").replace(b"<title>T</title>",
                                                b"<title>T</title><language>en-us</language>")
    [entry] = parse_feed(american, "http://127.0.0.1:9/feed").entries
    assert entry.published == datetime(2026, 11, 6, 9, 0, tzinfo=UTC)
    # English of no country (American feeds say "en" too): the reading that makes the feed's
    # news recent (a day first reading of yesterday was seven months old: never alerted).
    yesterday = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(
        days=1)
    from crawler.feeddates import day_first

    now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    assert not day_first(["12/05/2026 14:30", "12/04/2026 14:30"], "en", now)
    assert day_first(["05/12/2026 14:30", "04/12/2026 14:30"], "en", now)
    assert day_first(["05/12/2026 14:30"], None, now) and day_first(["12/05/2026"], "fr", now)
    if yesterday.day <= 12 and yesterday.day != yesterday.month:
        for written in (f"{yesterday:%m/%d/%Y} 09:00", f"{yesterday:%d/%m/%Y} 09:00"):
            english = feed(written).replace(b"<title>T</title>",
                                            b"<title>T</title><language>en</language>")
            [entry] = parse_feed(english, "http://127.0.0.1:9/feed").entries
            assert entry.published == yesterday, written




def test_a_feed_in_no_language_said_reads_its_numeric_dates_as_news_of_now() -> None:
    """A feed without <language> (an American CMS's, a custom one) dating its items
    "12/05/2026": read day first, as the world outside the United States writes them,
    yesterday's article was the 12th of May, seven months old, never alerted. As for a
    feed in English of no country: the reading that makes its news recent."""
    from crawler.feeddates import day_first

    now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    assert not day_first(["12/05/2026 14:30", "12/04/2026 14:30"], None, now)
    assert not day_first(["12/05/2026 14:30"], "", now)
    assert day_first(["05/12/2026 14:30", "04/12/2026 14:30"], None, now)
    # A language said decides it still (French: day first, whatever the dates).
    assert day_first(["12/05/2026 14:30"], "fr", now)
    yesterday = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(
        days=1)
    if yesterday.day <= 12 and yesterday.day != yesterday.month:
        for written in (f"{yesterday:%m/%d/%Y} 09:00", f"{yesterday:%d/%m/%Y} 09:00"):
            [entry] = parse_feed(feed(written), "http://127.0.0.1:9/feed").entries
            assert entry.published == yesterday, written
@pytest.mark.parametrize("placeholder", [
    "0000-00-00 00:00:00", "0000-00-00", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-12:00", "Fri, 31 Dec 9999 23:59:59 -1200"])
def test_a_placeholder_date_python_cannot_hold_is_no_date_and_fails_no_feed(
    placeholder: str
) -> None:
    # A MySQL draft's 0000-00-00, .NET's MinValue west of UTC: "year -1 is out of range",
    # the whole feed's poll failed, every new item of it unread while the draft stayed.
    draft, news = parse_feed(feed(placeholder, "Sun, 06 Dec 2026 09:42:00 GMT"),
                             "http://127.0.0.1:9/feed").entries
    assert draft.published is None
    assert news.published == datetime(2026, 12, 6, 9, 42, tzinfo=UTC)


@pytest.mark.parametrize("partial", ["2026", "12:30", " 9:05 PM ", "21.05 Uhr", "08:15 CET"])
def test_a_year_or_a_time_of_day_alone_is_no_date(partial: str) -> None:
    # feedparser filled in the rest: "2026" was 1 January (outside alerts.lookback: an item
    # of December never alerted), "12:30" today whatever day the item was.
    alone, dated = parse_feed(feed(partial, "Sun, 06 Dec 2026 09:42:00 GMT"),
                              "http://127.0.0.1:9/feed").entries
    assert alone.published is None
    assert dated.published == datetime(2026, 12, 6, 9, 42, tzinfo=UTC)


def test_dates_feedparser_reads_are_left_to_it() -> None:
    for written in ("Wed, 02 Dec 2026 10:00:00 GMT", "Wed, 02 Dec 2026 10:00:00 +0100",
                    "2026-12-02T10:00:00Z", "Wed, 02 Dec 2026 10:00:00 EST"):
        assert not misread(written), written


def test_what_is_no_date_costs_nothing_and_a_feed_has_a_budget() -> None:
    assert read_date("unknown") is None  # no numbers: not handed to dateparser at all
    reader = DateReader(budget=0.0)
    assert reader.read("Sun, 06 Dec 2099 11:13:00 XYZT") is None  # nothing left to spend



#: A date of a hostile or broken feed: a date's shape, then a long run of spaces or letters
#: and an ending no date has. Each took time growing with the cube or the square of the
#: run (2,000 spaces: a minute of the crawl's CPU for one item, every other source waiting).
RUN = 100_000
HOSTILE = ["12:30" + " " * RUN + "1", "2026.01.03" + " " * RUN + "1",
           "2026.01.03 09:41" + " " * RUN + "1", "2026-01-03 09:41 " + "a" * RUN + "1",
           "Sat, 03 Jan 2026 09:41:00 " + "a" * RUN + "1", "EST" + " " * RUN + "1 a",
           "2026-01-03 09:41 GMT" + " " * RUN + "1", "Sat Jan  3 09:41:00 " + "a" * RUN + " 2026",
           "Sat Jan  3 09:41:00" + " " * RUN + "CET 2026 1",
           "2026-01-03 오후" + " " * RUN + "6:41 1"]


def test_a_date_holding_a_long_run_of_spaces_or_letters_is_read_in_one_pass() -> None:
    for written in HOSTILE:
        assert not no_day(written) and not misread(written), written[:30]
        assert read_plain(written) is None, written[:30]
    # Its shape read past the run, as a short one is.
    assert read_plain("2026.01.03" + " " * RUN + "09:41") == datetime(2026, 1, 3, 9, 41,
                                                                         tzinfo=UTC)
    assert no_day("12:30" + " " * RUN + "pm" + " " * RUN + "CET")
    *hostile, news = parse_feed(feed(*HOSTILE, "Sun, 06 Dec 2026 09:42:00 GMT"),
                                "http://127.0.0.1:9/feed").entries
    assert len(hostile) == len(HOSTILE)
    assert news.published == datetime(2026, 12, 6, 9, 42, tzinfo=UTC)

@pytest.mark.parametrize("impossible", [
    "Tue, 31 Nov 2026 10:00:00 GMT", "Mon, 30 Feb 2026 10:00:00 +0000",
    "Sun, 06 Dec 2026 25:00:00 GMT", "Sept. 31, 2026", "November 31st, 2026 10:00 AM EST"])
def test_an_impossible_date_costs_no_budget_and_leaves_the_feeds_other_dates_read(
    impossible: str
) -> None:
    """A day or time no calendar has: dateparser tried every language on it, up to 2 s, the
    feed's whole budget, and the items after it written in a zone feedparser misreads were
    taken as it read them (CEST as UTC: 2 hours ahead) or undated."""
    zoned = [f"Sat, {day:02d} Nov 2026 10:00:00 CEST" for day in (7, 14, 21)]
    reader = DateReader(budget=0.01)  # what dateparser takes for one date, at most
    assert reader.read(impossible) is None
    assert reader.read("Sun, 29 Nov 2026 09:30:00 CEST") == datetime(2026, 11, 29, 7, 30,
                                                                     tzinfo=UTC)
    first, *others = parse_feed(feed(impossible, *zoned), "http://127.0.0.1:9/feed").entries
    assert first.published is None
    assert [entry.published for entry in others] == [
        datetime(2026, 11, day, 8, 0, tzinfo=UTC) for day in (7, 14, 21)]


def test_a_first_poll_alerts_the_news_of_a_feed_in_french_not_its_back_catalogue(
    site, mail, workdir
) -> None:
    """A feed dated in French (`mar. 01 déc. 2026`): feedparser read no date, every item
    was undated, and its first poll mailed all 20 of its 20 days (a review); an item dated
    ahead of now (2030) stayed at the top of every list for good."""
    months = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
              "oct.", "nov.", "déc."]
    days = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]
    now = datetime.now(UTC).replace(microsecond=0)

    def french(when: datetime) -> str:
        return (f"{days[when.weekday()]} {when.day:02d} {months[when.month - 1]} {when.year} "
                f"{when:%H:%M:%S} +0000")

    words = [w for story in STORIES for p in story.body for w in p.split()]
    rng = random.Random(3)

    def page(path: str, title: str) -> None:  # a text of its own: a story of its own
        text = "".join(f"<p>Le port. {' '.join(rng.choices(words, k=40))}</p>" for _ in range(4))
        site.serve(path, f"<html><head><title>{title}</title></head><body><article><h1>"
                         f"{title}</h1>{text}</article></body></html>".encode(),
                   content_type="text/html; charset=utf-8")

    items = []
    for n in range(20):
        page(f"/a/{n}", f"Port {n}")
        items.append(f"<item><title>Port {n}</title><link>{site.url(f'/a/{n}')}</link>"
                     f"<pubDate>{french(now - timedelta(days=n, hours=1))}</pubDate></item>")
    page("/a/late", "Port late")
    items.append(f"<item><title>Port late</title><link>{site.url('/a/late')}</link>"
                 f"<pubDate>{format_datetime(datetime(2030, 1, 1, tzinfo=UTC))}</pubDate></item>")
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Le '
            f"Port</title>{''.join(items)}</channel></rss>").encode()
    topic = {"name": "Port", "query": "port", "notify": ["desk@test.example"]}
    workdir.write_config(sources=[site.serve("/fr.rss", body)], topics=[topic], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    [message] = mail.wait_for(1)
    rows = {json.loads(line)["url"].rsplit("/", 1)[1]: json.loads(line)
            for line in workdir.newswatch("export").stdout.splitlines()}
    assert len(rows) == 21
    # Inside alerts.lookback (48h): the items of today and yesterday. The 2030 one is
    # undated (ahead of now): on a first poll, what the feed already had.
    text = message.get_body(("plain",)).get_content()
    alerted = sorted(line.strip().rsplit("/", 1)[1] for line in text.splitlines()
                     if line.strip().startswith(site.url("/a/")))
    assert alerted == ["0", "1"], text
    assert rows["0"]["published"] == (now - timedelta(hours=1)).isoformat()
    assert rows["late"]["published"] is None  # not 2030: not at the top of every list
