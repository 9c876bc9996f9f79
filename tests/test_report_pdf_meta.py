"""The PDF document information is appended as an incremental update: the printed bytes stay as
they are, the file reads strictly and (where qpdf is installed) passes ``qpdf --check``."""
from __future__ import annotations

import logging
import shutil
import subprocess

import pytest
from pypdf import PdfReader, PdfWriter

TITLE = "Site report: Rockdale (ex-Whinstone) \\ <b>é€ 東京"


def _printed_like(path, pages=3):
    """A small PDF with a classic cross-reference table and an /Info of its own (as Chromium writes)."""
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(595, 842)
    w.add_metadata({"/Creator": "Chromium", "/CreationDate": "D:20261130130926+00'00'"})
    with open(path, "wb") as f:
        w.write(f)
    return path.read_bytes()


def test_metadata_is_an_incremental_update_that_reads_strictly(tmp_path, caplog):
    from planner.reports.pdf_meta import set_pdf_metadata

    pdf = tmp_path / "r.pdf"
    before = _printed_like(pdf)
    with caplog.at_level(logging.WARNING):
        set_pdf_metadata(pdf, TITLE, "subject (with parentheses)")
    after = pdf.read_bytes()
    assert after.startswith(before.rstrip(b"\n")) and len(after) - len(before) < 1500  # appended, not rewritten
    with caplog.at_level(logging.WARNING):
        r = PdfReader(pdf, strict=True)
        r.metadata, len(r.pages)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")], caplog.text
    assert len(r.pages) == 3
    assert r.metadata["/Title"] == TITLE and r.metadata["/Subject"] == "subject (with parentheses)"
    assert r.metadata["/Creator"].startswith("Site Conversion Planner")
    assert r.metadata["/CreationDate"] == "D:20261130130926+00'00'"  # the printer's date is kept
    if shutil.which("qpdf"):
        res = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
        assert res.returncode == 0 and "WARNING" not in res.stdout + res.stderr, res.stdout + res.stderr


def test_metadata_twice_keeps_one_valid_chain(tmp_path):
    from planner.reports.pdf_meta import set_pdf_metadata

    pdf = tmp_path / "r.pdf"
    _printed_like(pdf, 1)
    set_pdf_metadata(pdf, "first")
    set_pdf_metadata(pdf, "second")
    r = PdfReader(pdf, strict=True)
    assert r.metadata["/Title"] == "second" and len(r.pages) == 1


def test_unreadable_pdf_is_refused(tmp_path):
    from pypdf.errors import PdfReadError

    from planner.reports.pdf_meta import set_pdf_metadata

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    with pytest.raises(PdfReadError):
        set_pdf_metadata(bad, "x")
    assert bad.read_bytes() == b"not a pdf"
