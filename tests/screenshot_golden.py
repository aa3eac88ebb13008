"""Screenshots of the golden alert emails, as a browser renders them.

Renders every tests/golden/*.html with headless Chromium to PNG, at a desktop width
(NAME.png, 700px) and a phone width (NAME-narrow.png, 390px), each cut just below the
email:

    python tests/screenshot_golden.py [OUT_DIR]     # default: docs/screenshots/

Needs Debian's Chromium (``apt-get install chromium``; ``CHROMIUM=/path`` picks another).
The pages are our own files with no scripts or remote resources, and Chromium is started
with its background networking off, so nothing leaves the machine.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
DEFAULT_OUT = ROOT / "docs" / "screenshots"
# (file name suffix, width); the window is tall enough for any email, the PNG is cut after.
WIDTHS = (("", 700), ("-narrow", 390))
WINDOW_HEIGHT = 4000
MARGIN = 24  # rows of background kept below the email
TIMEOUT = 60  # seconds for one screenshot
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FLAGS = (
    "--headless",
    "--no-sandbox",  # run as root in CI containers; the pages are our own static files
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


class ScreenshotError(Exception):
    """Chromium could not render a page, or rendered it blank."""


def find_chromium() -> str | None:
    """$CHROMIUM, else Debian's /usr/bin/chromium, else chromium on the PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


@dataclass(frozen=True)
class Png:
    """What the checks need of a PNG: its size and its decompressed (filtered) scanlines."""

    width: int
    height: int
    bytes_per_pixel: int  # 0 when the format is not 8-bit RGB or RGBA
    data: bytes
    header: bytes  # the IHDR chunk's data

    @classmethod
    def read(cls, path: Path) -> Png:
        """Parse ``path``; raises ScreenshotError when it is not a PNG."""
        raw = path.read_bytes()
        if not raw.startswith(PNG_SIGNATURE):
            raise ScreenshotError(f"{path} is not a PNG")
        header, idat, pos = b"", bytearray(), len(PNG_SIGNATURE)
        while pos + 8 <= len(raw):
            length, kind = struct.unpack(">I4s", raw[pos : pos + 8])
            body = raw[pos + 8 : pos + 8 + length]
            if kind == b"IHDR":
                header = body
            elif kind == b"IDAT":
                idat += body
            pos += 12 + length
        if len(header) != 13 or not idat:
            raise ScreenshotError(f"{path} has no image data")
        width, height, depth, color = struct.unpack(">IIBB", header[:10])
        bpp = {2: 3, 6: 4}.get(color, 0) if depth == 8 else 0
        return cls(width, height, bpp, zlib.decompress(bytes(idat)), header)

    def row(self, index: int) -> bytes:
        """Scanline ``index``: its filter byte, then its filtered pixel bytes."""
        size = 1 + self.width * self.bytes_per_pixel
        return self.data[index * size : (index + 1) * size]

    def is_blank(self) -> bool:
        """True when the image is (nearly) one colour.

        The scanlines are not unfiltered (slow in Python): a one-colour image leaves only a
        handful of distinct byte values whatever the filters, while rendered text and its
        anti-aliasing leave most of the 256.
        """
        return len(set(self.data)) < 32

    def content_height(self) -> int:
        """Rows down to the last one that is not part of a one-colour band at the bottom.

        Read from the filtered bytes: a one-colour row like the one above it is all zeros
        after its first pixel under every filter but None, where it repeats its first pixel.
        """
        if not self.bytes_per_pixel:
            return self.height
        bpp = self.bytes_per_pixel
        last = self.height
        while last > 1:
            row = self.row(last - 1)
            pixels = row[1 + bpp :]
            if row[0] == 0:
                plain = pixels == row[1 : 1 + bpp] * (self.width - 1)
            else:
                plain = not pixels.strip(b"\0")
            if not plain:
                break
            last -= 1
        return last

    def save_cropped(self, path: Path, height: int) -> None:
        """Write the first ``height`` rows (filters refer upwards only, so they stay valid)."""
        size = 1 + self.width * self.bytes_per_pixel
        header = struct.pack(">II", self.width, height) + self.header[8:]
        chunks = [(b"IHDR", header), (b"IDAT", zlib.compress(self.data[: height * size], 9))]
        out = bytearray(PNG_SIGNATURE)
        for kind, body in (*chunks, (b"IEND", b"")):
            out += struct.pack(">I", len(body)) + kind + body
            out += struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        path.write_bytes(bytes(out))


def screenshot(chromium: str, page: Path, out: Path, width: int) -> Path:
    """Render ``page`` at ``width`` to ``out``, cut below its content; raises ScreenshotError."""
    with tempfile.TemporaryDirectory(prefix="newswatch-chromium-") as profile:
        command = [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{WINDOW_HEIGHT}",
            f"--screenshot={out}",
            page.resolve().as_uri(),
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ScreenshotError(f"{page.name}: chromium took over {TIMEOUT}s") from exc
    if result.returncode != 0 or not out.is_file():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ScreenshotError(f"{page.name}: chromium exited {result.returncode}: {last}")
    png = Png.read(out)
    if png.is_blank():
        raise ScreenshotError(f"{out} is blank")
    height = min(png.content_height() + MARGIN, png.height)
    if height < png.height:
        png.save_cropped(out, height)
    return out


def render_all(out_dir: Path, chromium: str, pages: list[Path] | None = None) -> list[Path]:
    """Screenshots of ``pages`` (default: every golden HTML file) in ``out_dir``."""
    pages = sorted(GOLDEN.glob("*.html")) if pages is None else pages
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        screenshot(chromium, page, out_dir / f"{page.stem}{suffix}.png", width)
        for page in pages
        for suffix, width in WIDTHS
    ]


def main(argv: list[str]) -> int:
    """Command line: ``screenshot_golden.py [OUT_DIR]``."""
    out_dir = Path(argv[0]) if argv else DEFAULT_OUT
    chromium = find_chromium()
    if chromium is None:
        print("chromium not found: apt-get install chromium, or set CHROMIUM", file=sys.stderr)
        return 2
    try:
        written = render_all(out_dir, chromium)
    except ScreenshotError as exc:
        print(f"screenshot failed: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
