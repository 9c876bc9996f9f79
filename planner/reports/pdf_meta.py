"""PDF document information (title, subject, author tool) written after Chromium prints the report,
so a file manager, a PDF reader's title bar and a document archive show what the report is.
Pure pypdf, no Qt."""
from __future__ import annotations

import os
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from planner import APP_NAME, __version__


def set_pdf_metadata(path: str | os.PathLike[str], title: str, subject: str = "") -> None:
    """Rewrite the PDF at ``path`` in place with ``/Title``, ``/Subject`` and ``/Creator`` set."""
    p = Path(path)
    writer = PdfWriter(clone_from=PdfReader(p))
    meta = {"/Title": title, "/Creator": f"{APP_NAME} {__version__}", "/Producer": f"{APP_NAME} {__version__}"}
    if subject:
        meta["/Subject"] = subject
    writer.add_metadata(meta)
    with open(p, "wb") as f:
        writer.write(f)
