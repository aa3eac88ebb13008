"""Golden files: what readers see of an alert email, compared byte for byte.

Each case in CASES renders an email from fixed input (fixed clock, Message-ID and time zone)
and is compared with tests/golden/<name>.txt (the text part), <name>.html (the HTML part)
and <name>.headers (the headers of the MIME message as sent). After a deliberate change to
the templates, look at the diff, then regenerate and review the new files:

    NEWSWATCH_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
    python tests/screenshot_golden.py       # docs/screenshots/<name>.png, needs chromium

A new case is one more entry in CASES: a name and a function returning the rendered
storage.Email.
"""

from __future__ import annotations

import difflib
import email
import email.policy
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest
import screenshot_golden

import storage
from alerts import AlertItem, RecipientPolicy, build_message, compose_digest
from alerts.compose import compose
from alerts.schedule import Time

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("NEWSWATCH_UPDATE_GOLDEN") == "1"
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
CARACAS = ZoneInfo("America/Caracas")
# 25 Nov 2026, 06:30 UTC: 07:30 in Madrid (CET), the reader's morning digest.
DIGEST_NOW = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
MADRID = RecipientPolicy(timezone="Europe/Madrid", times=(Time(7, 30), Time(18, 0)), storm=10)


@dataclass(frozen=True)
class Case:
    """One golden email: its file name stem, how it is rendered, and who sends it."""

    name: str
    render: Callable[[], storage.Email]
    sender: str = "alerts@newswatch.example.org"
    from_name: str = "newswatch"


def immediate_alert() -> storage.Email:
    """An immediate alert for a reader in Caracas: three stories, two topics, Spanish text,
    a title match, other sources of a story, and an article without a date."""
    items = [
        AlertItem(
            article_id=101, topic_ids=(1,), topics=("Maduro",),
            title="Maduro names a new oil minister as PDVSA output slides",
            title_segments=(
                ("Maduro", True), (" names a new oil minister as PDVSA output slides", False),
            ),
            url="https://www.caracaschronicle.example/2026/11/25/maduro-oil-minister?ref=rss",
            source="Caracas Chronicle", published=datetime(2026, 11, 25, 13, 20, tzinfo=UTC),
            snippet=(
                ("…in a televised address on Tuesday night, ", False), ("Maduro", True),
                (" said the new minister would “restore production at every field of the"
                 " Orinoco belt” within a year, while analysts pointed to sanctions and a"
                 " decade of under-investment…", False),
            ),
            also_on=(("Energy Wire", "https://energywire.example/venezuela-oil-output"),
                     ("El Diario de Caracas", "https://eldiario.example/maduro-salida")),
        ),
        AlertItem(
            article_id=102, topic_ids=(1, 2), topics=("Maduro", "Oil & gas"),
            title="Producción petrolera: PDVSA promete 1,2 millones de barriles diarios en 2027",
            url="https://eldiario.example/economia/produccion-petrolera-pdvsa-2027",
            source="El Diario de Caracas", published=datetime(2026, 11, 25, 11, 5, tzinfo=UTC),
            snippet=(
                ("…el presidente ", False), ("Nicolás Maduro", True),
                (" aseguró que la industria del ", False), ("petróleo", True),
                (" recuperará su capacidad «en los próximos meses», pese a la caída de las"
                 " exportaciones hacia Asia…", False),
            ),
        ),
        AlertItem(
            article_id=103, topic_ids=(2,), topics=("Oil & gas",),
            title="Opinion: what the licence renewal means for Citgo's creditors",
            url="https://energywire.example/opinion/citgo-licence-renewal",
            source="Energy Wire", published=None, snippet=(),
        ),
    ]
    return compose(
        "ana.perez@example.org", items, NOW, watched=["Maduro", "Oil & gas", "OPEC"],
        tz=CARACAS, message_id="<golden-alert@newswatch.example.org>",
    )


def digest() -> storage.Email:
    """A morning digest for a reader in Madrid: two topics, four stories (one in Spanish,
    one carried by other sources too, one without a date), and storm control's notice."""
    items = [
        AlertItem(
            article_id=201, topic_ids=(1,), topics=("Lithium",),
            title="Extremadura aprueba la mina de litio de Cañaveral pese a la oposición vecinal",
            title_segments=(
                ("Extremadura aprueba la mina de ", False), ("litio", True),
                (" de Cañaveral pese a la oposición vecinal", False),
            ),
            url="https://www.hoy.example/extremadura/mina-litio-canaveral-aprobada?ref=rss",
            source="Diario Hoy", published=datetime(2026, 11, 24, 19, 40, tzinfo=UTC),
            snippet=(
                ("…la Junta dio luz verde a la explotación de ", False), ("litio", True),
                (" a cielo abierto en Cáceres, la segunda mayor reserva de Europa, tras dos"
                 " años de alegaciones de los vecinos de Valdeflores…", False),
            ),
            also_on=(("Reuters", "https://reuters.example/world/maduro-leaves"),
                     ("El Periódico Extremadura", "https://elperiodicoextremadura.example/maduro"),
                     ("Energy Wire", "javascript:alert(1)")),
        ),
        AlertItem(
            article_id=202, topic_ids=(1,), topics=("Lithium",),
            title="Battery makers sign a five-year supply deal with a Portuguese miner",
            url="https://energywire.example/batteries/lithium-supply-portugal",
            source="Energy Wire", published=datetime(2026, 11, 24, 17, 5, tzinfo=UTC),
            snippet=(
                ("Three European battery makers agreed to buy ", False), ("lithium", True),
                (" hydroxide from the Barroso mine from 2028, a first for a European"
                 " deposit…", False),
            ),
        ),
        AlertItem(
            article_id=203, topic_ids=(2,), topics=("Energy prices",),
            title="Spain's wholesale power price falls to its lowest level of 2026",
            url="https://elpais.example/economia/precio-luz-minimo-2026",
            source="El País", published=datetime(2026, 11, 25, 5, 10, tzinfo=UTC),
            snippet=(
                ("The ", False), ("wholesale power price", True),
                (" fell to €12/MWh on Tuesday as wind and solar covered most of the"
                 " demand…", False),
            ),
        ),
        AlertItem(
            article_id=204, topic_ids=(2,), topics=("Energy prices",),
            title="Explainer: why your winter gas bill may still rise",
            url="https://energywire.example/explainers/winter-gas-bill",
            source="Energy Wire", published=None, snippet=(),
        ),
    ]
    return compose_digest(
        "lucia.garcia@example.org", items, DIGEST_NOW, policy=MADRID,
        since=datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
        notice=(
            "More than 10 alerts in an hour: storm control held the rest of that hour's"
            " alerts for this digest."
        ),
        watched=["Lithium", "Energy prices", "Iberdrola"],
        message_id="<golden-digest@newswatch.example.org>",
    )


CASES = [Case("alert", immediate_alert), Case("digest", digest)]


def headers(case: Case, mail: storage.Email) -> str:
    """The header block of the MIME message as it goes on the wire (a fixed boundary)."""
    row = storage.OutboxMessage(1, mail.message_id, mail.recipient, mail.subject, mail.text,
                                mail.html, mail.created, 0)
    msg = build_message(row, case.sender, case.from_name)
    msg.set_boundary("golden-boundary")
    wire = msg.as_bytes(policy=email.policy.SMTP.clone(linesep="\n")).decode("ascii")
    return wire.partition("\n\n")[0] + "\n"


def check(path: Path, actual: str) -> None:
    """Compare ``actual`` with the golden file; NEWSWATCH_UPDATE_GOLDEN=1 rewrites it."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: NEWSWATCH_UPDATE_GOLDEN=1 writes it")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=str(path), tofile="rendered",
        ))
        pytest.fail(f"{path} differs (NEWSWATCH_UPDATE_GOLDEN=1 to accept):\n{diff}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Case) -> None:
    mail = case.render()
    check(GOLDEN / f"{case.name}.txt", mail.text)
    check(GOLDEN / f"{case.name}.html", mail.html)
    check(GOLDEN / f"{case.name}.headers", headers(case, mail))


def test_golden_files_belong_to_a_case() -> None:
    expected = {f"{c.name}{ext}" for c in CASES for ext in (".txt", ".html", ".headers")}
    assert {p.name for p in GOLDEN.iterdir()} == expected


def test_golden_alert_reads_as_intended() -> None:
    """What the golden alert is meant to show, checked apart from its exact bytes."""
    mail = immediate_alert()
    assert mail.subject == "[newswatch] Maduro, Oil & gas — 3 stories"
    assert mail.message_id == "<golden-alert@newswatch.example.org>"
    assert mail.created == NOW
    text = mail.text
    # Newest first, the undated story last; times in the reader's zone.
    order = [text.index(t) for t in ("*Maduro* names", "Producción petrolera", "Citgo")]
    assert order == sorted(order)
    assert "Caracas Chronicle · 25 Nov 2026 09:20 -04 (America/Caracas)" in text
    assert "El Diario de Caracas · 25 Nov 2026 07:05 -04 (America/Caracas)" in text
    assert "Energy Wire · date unknown" in text
    assert "Also on: Energy Wire, El Diario de Caracas" in text
    assert "*Nicolás Maduro*" in text and "*petróleo*" in text
    assert "watches: Maduro, Oil & gas, OPEC." in " ".join(text.split())
    assert "\nOil & gas, OPEC.\n" in text  # wrapped at 72, a topic name kept whole
    assert "Oil &amp; gas" in mail.html and "Oil & gas" not in mail.html

    sent = cast(EmailMessage, email.message_from_string(
        headers(CASES[0], mail) + "\n", policy=email.policy.default,
    ))
    assert sent["Subject"] == mail.subject
    assert sent["From"] == "newswatch <alerts@newswatch.example.org>"
    assert sent["List-Id"] == "newswatch alerts <alerts.newswatch.newswatch.example.org>"
    assert sent["Date"] == "Wed, 25 Nov 2026 14:00:00 +0000"


def test_golden_digest_reads_as_intended() -> None:
    """What the golden digest is meant to show, checked apart from its exact bytes."""
    mail = digest()
    assert mail.subject == "[newswatch] Digest — 4 stories: Lithium, Energy prices"
    assert mail.message_id == "<golden-digest@newswatch.example.org>"
    assert mail.created == DIGEST_NOW
    text = mail.text
    # The storm notice first, then the topics in the reader's order, newest first in each.
    order = [text.index(t) for t in (
        "storm control held", "== Lithium ==", "Extremadura", "Battery makers",
        "== Energy prices ==", "Spain's wholesale", "Explainer",
    )]
    assert order == sorted(order)
    # Since the last digest time, kept on one line.
    assert "\n24 Nov 2026 18:00 CET (Europe/Madrid).\n" in text
    assert "Diario Hoy · 24 Nov 2026 20:40 CET (Europe/Madrid)" in text
    assert "Energy Wire · date unknown" in text
    assert "Also on: Reuters, El Periódico Extremadura, Energy Wire" in text
    assert "Topics:" not in text  # the group heading says it
    assert "Digests come at 07:30, 18:00 Europe/Madrid." in text
    body = text.split("\n-- \n")[0].splitlines()
    assert all(len(line) <= 72 for line in body if "://" not in line)  # URLs are not cut

    html = mail.html
    # The alert's layout: tables only, 640px at most, Outlook's fixed-width table.
    assert "<div" not in html and "max-width:640px" in html
    assert '<!--[if mso]><table role="presentation" width="640"' in html
    assert html.index("NEWSWATCH DIGEST") < html.index("storm control held") < html.index(
        ">Lithium</h2>") < html.index(">Energy prices</h2>")
    assert html.count("<h3 ") == 4 and html.count(">2 stories</td>") == 2
    assert "Since 24 Nov 2026 18:00 CET (Europe/Madrid)" in html
    # Each other outlet links to its copy (a brief alerted first: the reader reaches the
    # full story); an address that is no web link is not one.
    assert ('Also on: <a href="https://reuters.example/world/maduro-leaves" '
            'style="color:inherit;">Reuters</a>, ') in html
    assert ", Energy Wire</p>" in html and "javascript:" not in html
    assert ">litio</strong>" in html and "Read at hoy.example" in html
    assert "Digests come at 07:30, 18:00 Europe/Madrid.<br>" in html


# --- screenshots in a real browser ---------------------------------------------------------

CHROMIUM = screenshot_golden.find_chromium()


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium (apt-get install chromium) to screenshot the golden HTML with",
)
@pytest.mark.timeout(300)
def test_golden_html_renders_in_a_browser(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    pages = sorted(GOLDEN.glob("*.html"))
    assert pages
    written = screenshot_golden.render_all(tmp_path, CHROMIUM, pages)
    assert [p.name for p in written] == [
        f"{page.stem}{suffix}.png" for page in pages for suffix, _ in screenshot_golden.WIDTHS
    ]
    for path, (_, width) in zip(written, screenshot_golden.WIDTHS * len(pages), strict=True):
        png = screenshot_golden.Png.read(path)
        assert png.width == width
        # Cut below the email: taller than a few lines, far shorter than the window.
        assert 300 < png.height < screenshot_golden.WINDOW_HEIGHT
        assert not png.is_blank()
        assert png.content_height() > png.height - screenshot_golden.MARGIN - 1


def test_blank_png_is_recognised(tmp_path: Path) -> None:
    """The blank check and the crop, on PNGs written here: one colour, then a stripe on it."""
    width, height = 40, 30
    white = b"\0" + b"\xff\xff\xff" * width
    stripe = b"\0" + b"\x10\x20\x30" * (width // 2) + b"\xff\xff\xff" * (width // 2)
    blank = screenshot_golden.Png(width, height, 3, white * height, _ihdr(width, height))
    blank.save_cropped(tmp_path / "blank.png", height)
    parsed = screenshot_golden.Png.read(tmp_path / "blank.png")
    assert (parsed.width, parsed.height) == (width, height)
    assert parsed.is_blank()
    assert parsed.content_height() == 1

    data = bytearray(white * height)
    noisy = bytes(range(256)) * 2
    data[5 * len(white) : 6 * len(white)] = stripe[:1] + noisy[: len(white) - 1]
    data[9 * len(white) : 10 * len(white)] = stripe
    image = screenshot_golden.Png(width, height, 3, bytes(data), _ihdr(width, height))
    assert not image.is_blank()
    assert image.content_height() == 10
    image.save_cropped(tmp_path / "cut.png", 12)
    cut = screenshot_golden.Png.read(tmp_path / "cut.png")
    assert (cut.width, cut.height, cut.data) == (width, 12, bytes(data[: 12 * len(white)]))
    (tmp_path / "not.png").write_bytes(b"GIF89a")
    with pytest.raises(screenshot_golden.ScreenshotError, match="not a PNG"):
        screenshot_golden.Png.read(tmp_path / "not.png")


def _ihdr(width: int, height: int) -> bytes:
    """IHDR data of an 8-bit RGB image."""
    return width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
