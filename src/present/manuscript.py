"""The manuscript's tables in one Word file, as journals ask for them (`manuscript_docx`).

`tables.write` keeps `tables/<name>.json` for each table of `MANUSCRIPT` (Tables 1-3 and the appraisal
table); after every notebook has run, the runner calls `manuscript_docx`, which puts them into one file with
python-docx: numbered titles (`numbered_title`), three-line tables (explicit borders: `_three_line`), the
header row repeated on every page, rows kept whole, columns as wide as their content, footnotes in words.
No author, fixed dates and zip members dated 1980: the same tables give the same bytes.

Place in the import order: above `src/present/journal_table.py` and `src/present/wording.py`.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd

from src.present.journal_table import Table
from src.present.wording import reader_text

# The tables of the Word file, in its order (`tables.write` keeps their JSON)
MANUSCRIPT = ["table1_baseline", "table2_characteristics_at_progression", "table3_paper_model", "appraisal"]
FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PAGE_WIDTH_CM = 29.7 - 2 * 2.0  # landscape A4 less the margins
_TABLE_NUMBER = re.compile(r"^Table\s+(\d+)\b")
_W_ORDER = {  # the schema's order of the children of w:tblPr and w:tcPr (Word refuses a file out of order)
    "tblPr": ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW",
              "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook"],
    "tcPr": ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar", "textDirection",
             "tcFitText", "vAlign", "hideMark"],
}
RULE = ("single", 8)  # a journal's rule: a single line of 1 pt (eighths of a point)
NO_RULE = ("nil", 0)


def numbered_title(title: str, number: int) -> str:
    """"Table 4. Appraisal ..." from a title without its number; a title that has one keeps it."""
    title = reader_text(title).strip()
    return title if _TABLE_NUMBER.match(title) else f"Table {number}. {title}"


def _w_child(parent, tag: str, order: list):
    """The child `w:<tag>` of `parent`, made and put in the schema's place when missing."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    found = parent.find(qn(f"w:{tag}"))
    if found is not None:
        return found
    element = OxmlElement(f"w:{tag}")
    later = order[order.index(tag) + 1:]
    for child in parent:
        if child.tag.rsplit("}", 1)[-1] in later:
            child.addprevious(element)
            return element
    parent.append(element)
    return element


def _set_borders(borders, edges: dict) -> None:
    """Set each edge of a w:tblBorders or w:tcBorders element: (style, size in eighths of a point)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if edge not in edges:
            continue
        old = borders.find(qn(f"w:{edge}"))
        if old is not None:
            borders.remove(old)
        element = OxmlElement(f"w:{edge}")
        style, size = edges[edge]
        element.set(qn("w:val"), style)
        if style != "nil":
            element.set(qn("w:sz"), str(size))
            element.set(qn("w:space"), "0")
            element.set(qn("w:color"), "000000")
        borders.append(element)


def _three_line(grid) -> None:
    """A three-line table: a rule above and below the header row and one under the last row; no vertical
    rules and no other horizontal rule (explicit borders: no table style is relied on)."""
    tbl_pr = grid._tbl.tblPr
    _set_borders(_w_child(tbl_pr, "tblBorders", _W_ORDER["tblPr"]),
                 {"top": RULE, "left": NO_RULE, "bottom": RULE, "right": NO_RULE, "insideH": NO_RULE,
                  "insideV": NO_RULE})
    for cell in grid.rows[0].cells:
        tc_pr = cell._tc.get_or_add_tcPr()
        _set_borders(_w_child(tc_pr, "tcBorders", _W_ORDER["tcPr"]), {"bottom": RULE})


def _row_properties(row, header: bool) -> None:
    """No row split across pages (w:cantSplit); the header row repeated on every page (w:tblHeader)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("cantSplit", *(("tblHeader",) if header else ())):
        if tr_pr.find(qn(f"w:{tag}")) is None:
            element = OxmlElement(f"w:{tag}")
            element.set(qn("w:val"), "true")
            tr_pr.append(element)


def _column_widths(spec: dict, keys: list, total_cm: float = PAGE_WIDTH_CM) -> list:
    """Widths in cm sized to the content: the stub by its longest label (wider), each value column by its
    longest header line or cell (narrower), scaled down to the page when they do not fit."""
    def longest(texts):
        return max([len(line) for t in texts for line in str(t).split("\n")] or [1])

    char_cm, pad_cm = 0.19, 0.45
    stub = longest([spec["stub"], *(str(r["label"]) + "   " * int(r.get("indent", 0)) for r in spec["rows"])])
    widths = [min(max(stub * char_cm + pad_cm, 4.0), 10.0)]
    for key, header in zip(keys, spec["columns"].values()):
        size = longest([header, *(r.get(key, "") for r in spec["rows"])])
        widths.append(min(max(size * char_cm + pad_cm, 1.6), 8.0))
    scale = min(1.0, total_cm / sum(widths))
    return [round(w * scale, 2) for w in widths]


def _numeric_column(spec: dict, key: str) -> bool:
    return Table("", spec["columns"], spec["rows"], pd.DataFrame()).numeric(key)


def manuscript_docx(tables_dir: Path, target: Path, names=MANUSCRIPT) -> Path | None:
    """One Word file with the manuscript tables written so far (`tables/<name>.json`), in `names` order,
    as journals ask for them: each numbered and titled ("Table 4. ..." when its title has no number), a
    three-line table (rules above and below the header row and under the last row, set as explicit
    borders), the header row repeated on every page, no row split across pages, the last rows kept
    together, columns as wide as their content, numbers centred, indented levels, footnotes in words
    (`reader_text`). None when there is no table. No author, dates fixed, zip members dated 1980: the
    same tables give the same bytes."""
    specs = [json.loads((tables_dir / f"{n}.json").read_text(encoding="utf-8"))
             for n in names if (tables_dir / f"{n}.json").is_file()]
    if not specs:
        return None
    doc = _landscape_document()
    number = 0
    for position, spec in enumerate(specs):
        match = _TABLE_NUMBER.match(reader_text(spec["title"]).strip())
        number = int(match.group(1)) if match else number + 1
        _add_title(doc, numbered_title(spec["title"], number), new_page=bool(position))
        _add_grid(doc, spec)
        _add_footnotes(doc, spec["footnotes"])
    buffer = io.BytesIO()
    doc.save(buffer)
    target.write_bytes(_fixed_zip(buffer.getvalue()))
    return target


def _landscape_document():
    """An empty Word document: landscape A4 with 2 cm margins, Arial 9 pt, no author and fixed dates."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(2.0))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(9)
    props = doc.core_properties
    props.author = props.last_modified_by = ""
    props.title = "Manuscript tables"
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    return doc


def _add_title(doc, title: str, new_page: bool) -> None:
    """The table's numbered title in bold, kept with the table (on a new page for every table but the first)."""
    from docx.shared import Pt

    heading = doc.add_paragraph()
    heading.paragraph_format.page_break_before = new_page
    heading.paragraph_format.keep_with_next = True
    heading.paragraph_format.space_after = Pt(6)
    heading.add_run(title).bold = True


def _add_grid(doc, spec: dict) -> None:
    """The table itself: the header row and one row per printed row, columns sized to their content
    (`_column_widths`), then the three rules (`_three_line`)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml.ns import qn
    from docx.shared import Cm

    keys = list(spec["columns"])
    widths = _column_widths(spec, keys)
    numeric = [False, *(_numeric_column(spec, k) for k in keys)]
    grid = doc.add_table(rows=1, cols=1 + len(keys))
    grid.alignment = WD_TABLE_ALIGNMENT.LEFT
    grid.autofit = False
    tbl_w = _w_child(grid._tbl.tblPr, "tblW", _W_ORDER["tblPr"])
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(int(round(sum(widths) / 2.54 * 1440))))
    for column, width in zip(grid.columns, widths):
        column.width = Cm(width)
    rows = [None, *spec["rows"]]
    for i, row in enumerate(rows):
        cells = grid.rows[0].cells if i == 0 else grid.add_row().cells
        header = row is None
        texts = ([spec["stub"], *spec["columns"].values()] if header else
                 [str(row["label"]), *(str(row.get(k, "")) for k in keys)])
        # keep the header with the first row, a variable with its first level, the last three rows together
        keep = (header or bool(row.get("bold")) or i >= len(rows) - 3 and i < len(rows) - 1) and i < len(rows) - 1
        _fill_row(cells, texts, widths, numeric, row, keep)
        _row_properties(grid.rows[i], header)
    _three_line(grid)


def _fill_row(cells, texts: list, widths: list, numeric: list, row: dict | None, keep: bool) -> None:
    """Write one row's texts (`reader_text`) into its cells: the header row (`row` None) and a variable's
    label in bold, a level indented, numbers centred; `keep`: kept on the page of the next row."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    header = row is None
    for j, (cell, text, width) in enumerate(zip(cells, texts, widths)):
        cell.width = Cm(width)
        paragraph = cell.paragraphs[0]
        if keep:
            paragraph.paragraph_format.keep_with_next = True
        paragraph.paragraph_format.space_after = Pt(0)
        if j == 0 and not header and int(row.get("indent", 0)):
            paragraph.paragraph_format.left_indent = Cm(0.4 * int(row.get("indent", 0)))
        if numeric[j]:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if text:
            run = paragraph.add_run(reader_text(text))
            if header or (j == 0 and row.get("bold")):
                run.bold = True


def _add_footnotes(doc, notes: list) -> None:
    """The table's footnotes in words (`reader_text`), 8 pt, one paragraph each, close under the table."""
    from docx.shared import Pt

    for k, note in enumerate(notes):
        p = doc.add_paragraph()
        p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.space_before = Pt(4 if k == 0 else 0)
        run = p.add_run(reader_text(note))
        run.font.size = Pt(8)


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every member dated 1980-01-01 (python-docx dates them now)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()

