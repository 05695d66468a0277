"""Word .docx files: paragraphs, headings and table rows in document order, by python-docx."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from . import article

NOT_DOCX = "not a Word .docx file ({why}); an old .doc must be saved as .docx first; skipped"


def read(path: Path, name: str, data: bytes):
    """The ``Article`` of one .docx file (its title from the document's properties, else its
    first heading, else its first short paragraph), or a ``LoadProblem``."""
    from ..records import LoadProblem

    if data.startswith(b"\xd0\xcf\x11\xe0"):  # the OLE container of .doc (and of encrypted .docx)
        return LoadProblem(str(path), 0, NOT_DOCX.format(why="an old .doc, or password-protected"))
    try:
        document = open_document(data)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        return LoadProblem(str(path), 0, NOT_DOCX.format(why=str(exc) or type(exc).__name__))
    paragraphs, heading = blocks(document)
    if not paragraphs:
        return LoadProblem(str(path), 0, "no text in this .docx (only pictures?); skipped")
    title = (document.core_properties.title or "").strip() or heading
    return article(path, name, paragraphs, title)


def open_document(data: bytes):
    import docx  # python-docx, loaded late: only .docx files need it

    return docx.Document(io.BytesIO(data))


def blocks(document) -> tuple[list[str], str]:
    """(the text of each paragraph and table row, in order; the first Title or Heading paragraph)."""
    from docx.table import Table

    out, heading = [], ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            out += [row_text(row) for row in block.rows]
            continue
        text = " ".join(block.text.split()) if "\n" in block.text else block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        if text and not heading and (style == "Title" or style.startswith("Heading")):
            heading = text
        out.append(text)
    return [line for line in out if line], heading


def row_text(row) -> str:
    """A table row's cells, tab-separated; a merged cell (python-docx repeats it) once."""
    cells: list[str] = []
    for cell in row.cells:
        text = " ".join(cell.text.split())
        if text and (not cells or cells[-1] != text):
            cells.append(text)
    return "\t".join(cells)
