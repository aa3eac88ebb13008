"""The encoding benchmark on its built-in sample: pages in known code pages through the
crawl's reading path, the table, the misses and the real pages' verdicts.

Its figures on the corpora are ``python -m benchmarks.encoding_bench``'s (docs/benchmarks.md).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks import encoding_bench
from benchmarks.encoding_bench import SAMPLE, RealPage, legacy_page


def test_the_sample_is_read_through_the_crawls_path_and_tabled(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert encoding_bench.main(["--sample", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "Synthetic pages in a known code page: 6 of 6 read right" in out
    for group in ("cz/cp1250", "cz/iso8859_2", "ru/cp1251", "ru/koi8_r", "tr/cp1254",
                  "fr/cp1252"):
        assert f"| {group} | 1 / 1 |" in out
    assert "misses: none" in out
    assert "µs a page on average" in out
    assert "Real undeclared pages" not in out  # --sample reads no snapshot


def test_a_missing_snapshot_skips_its_set_with_a_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert encoding_bench.main(["--mirror", str(tmp_path), "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "Synthetic pages skipped: fundus' snapshot is missing" in out
    assert "Real undeclared pages skipped: a snapshot is missing" in out


def test_a_miss_names_the_encoding_chosen_and_the_letters_read_otherwise() -> None:
    czech = [page for page in encoding_bench.synthetic(SAMPLE[:1])
             if page.code_page == "cp1250"]
    # The same bytes said to be in windows-1252: newswatch reads them as the Czech they are.
    figures = encoding_bench.measure_synthetic(
        [*czech, dataclasses.replace(czech[0], group="cz/cp1252", code_page="cp1252")],
        rounds=1)
    assert figures.right == {"cz/cp1250": 1}
    assert figures.total == {"cz/cp1250": 1, "cz/cp1252": 1}
    [(group, name, chosen, wrong)] = figures.misses
    assert (group, name, chosen) == ("cz/cp1252", "sample#0", "cp1250")
    assert wrong.startswith("ø→ř ")  # "Pøístav" for "Přístav"
    assert "misses: cz/cp1252 read as cp1250: 1" in encoding_bench.report_synthetic(figures, 5)


def test_a_real_pages_text_is_judged_by_its_labels_words_beyond_ascii() -> None:
    paragraphs = SAMPLE[0][3]
    body = legacy_page("Zprávy", paragraphs).encode("cp1250")
    pages = [
        RealPage("cleaneval", "right", body, "\n".join(paragraphs)),
        # A label saved from the page read in the wrong code page ("Mìstská"): it disagrees.
        RealPage("cleaneval", "mislabelled", body,
                 "\n".join(paragraphs).encode("cp1250").decode("cp1252", "replace")),
        RealPage("dragnet", "unlabelled", body, ""),
    ]
    figures = encoding_bench.measure_real(pages, rounds=1)
    assert figures.pages == {"cleaneval": 2, "dragnet": 1}
    assert figures.chosen["cleaneval"] == {"cp1250": 2}
    assert figures.judged == {"cleaneval": 2} and figures.agree == {"cleaneval": 1}
    assert figures.disagree == [("cleaneval", "mislabelled", "cp1250", "cp1252")]
    assert figures.replaced == []
    lines = encoding_bench.report_real(figures, 5)
    assert "  cleaneval: 2 pages: cp1250 2; label words agree 1 of 2 judged" in lines
    assert "  texts holding U+FFFD: 0" in lines
    assert lines[3] == ("  not windows-1252: cleaneval right: cp1250 (d><title>Zprávy</title></ "
                        'e="2"><b>Zprávy</b><br> <p>Městská)')
