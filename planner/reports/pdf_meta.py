"""PDF document information (title, subject, author tool) written after Chromium prints the report,
so a file manager, a PDF reader's title bar and a document archive show what the report is.
Pure pypdf, no Qt.

The information is added as an incremental update: Chromium's bytes stay as they are and a new
``/Info`` object, a one-entry cross-reference section and a trailer pointing back at the original
one are appended. Rewriting the whole file through ``PdfWriter(clone_from=...)`` (as before) renumbered
the objects, left the old page-tree nodes as orphans (124 objects for Chromium's 119 in a site
report) and made pypdf print "Object count 124 exceeds defined trailer size 120" on every run.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, IndirectObject, NameObject, NumberObject, TextStringObject

from planner import APP_NAME, __version__

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


def set_pdf_metadata(path: str | os.PathLike[str], title: str, subject: str = "") -> None:
    """Add ``/Title``, ``/Subject``, ``/Creator`` and ``/Producer`` to the PDF at ``path`` (in place)."""
    p = Path(path)
    data = p.read_bytes()
    reader = PdfReader(io.BytesIO(data))
    meta = {"/Title": title, "/Creator": f"{APP_NAME} {__version__}", "/Producer": f"{APP_NAME} {__version__}"}
    if subject:
        meta["/Subject"] = subject
    m = _STARTXREF.search(data[-64:])
    prev = int(m.group(1)) if m else -1
    if prev < 0 or not data[prev:prev + 4] == b"xref":
        # a cross-reference stream (not Chromium's classic table): pypdf appends its own update
        writer = PdfWriter(io.BytesIO(data), incremental=True)
        writer.add_metadata(meta)
        with open(p, "wb") as f:
            writer.write(f)
        return
    info = DictionaryObject()
    for key, value in (reader.metadata or {}).items():  # keep Chromium's dates
        info[NameObject(key)] = value
    for key, value in meta.items():
        info[NameObject(key)] = TextStringObject(value)
    trailer = reader.trailer
    number = int(trailer["/Size"])  # the next free object number
    root = trailer.raw_get("/Root")
    out = io.BytesIO()
    out.write(data if data.endswith(b"\n") else data + b"\n")
    offset = out.tell()
    out.write(f"{number} 0 obj\n".encode())
    info.write_to_stream(out)
    out.write(b"\nendobj\n")
    xref = out.tell()
    # the free-list head (object 0) first: readers that take a section not starting at 0 for a
    # mis-numbered table (pypdf strict: "Xref table not zero-indexed") read it as it is
    out.write(f"xref\n0 1\n0000000000 65535 f \n{number} 1\n{offset:010d} 00000 n \ntrailer\n".encode())
    new_trailer = DictionaryObject({NameObject("/Size"): NumberObject(number + 1), NameObject("/Root"): root,
                                    NameObject("/Info"): IndirectObject(number, 0, reader),
                                    NameObject("/Prev"): NumberObject(prev)})
    if "/ID" in trailer:
        new_trailer[NameObject("/ID")] = trailer.raw_get("/ID")
    new_trailer.write_to_stream(out)
    out.write(f"\nstartxref\n{xref}\n%%EOF\n".encode())
    tmp = p.with_name(p.name + ".meta")
    tmp.write_bytes(out.getvalue())
    os.replace(tmp, p)

