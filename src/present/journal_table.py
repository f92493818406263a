"""The `Table`: a table as a journal prints it, and the machine-readable frame behind it.

A `Table` holds what a reader sees (a title, a stub column of labels with levels indented under a bold
variable row, value columns whose headers carry N, footnotes naming each test and abbreviation) and what
a program reads (`data`, whose CSV keeps its columns and keys). It gives itself as Markdown (`markdown`),
as HTML by great_tables with its CSS scoped to the table's id (`html`, `scoped_css`; Jupyter displays
it) and as JSON for the Word file (`to_json`, read by `src/present/manuscript.py`).

The builders of `src/present/paper_tables.py` and `src/present/tables.py` share the steps below it:
`min_cell_of(paths)`, `suppress_rows` (counts from 1 to MIN_CELL - 1 read "<MIN_CELL" in every cell,
`privacy.suppress_small_counts`), `group_header` ("Sorafenib" over "N = 19") and `footnotes_for` (the note
that the data are synthetic, `SYNTHETIC_NOTE`, under every table of the bundled cohort).

Place in the import order: above `config`, `privacy` and `src/present/wording.py`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

import pandas as pd

from src import privacy
from src.config import SYNTHETIC_NOTE_TABLE as SYNTHETIC_NOTE
from src.present.wording import unit_text

_NUMBER_CELL = re.compile(r"^\s*([<>≤≥−–—-]?\s*\d|NR\b|—$|<\d)")  # a cell that reads as a number
INDENT = "\u2003\u2003"  # two em spaces: how a level is indented in Markdown (which drops plain spaces)


@dataclass(repr=False)
class Table:
    """A formatted table and the machine-readable frame behind it.

    `rows`: one dict per printed row with `label`, `indent` (0 for a variable, 1 for its levels),
    `bold`, and a text per key of `columns` (key -> header). `data`: what the CSV keeps."""
    title: str
    columns: dict
    rows: list
    data: pd.DataFrame
    footnotes: list = field(default_factory=list)
    stub: str = "Characteristic"
    anchor: str = ""  # the HTML id of the table (its file name once written; else from the title)

    def __post_init__(self):
        # one spelling of every unit in what a reader sees (title, headers, labels, cells, footnotes)
        self.title, self.stub = unit_text(self.title), unit_text(self.stub)
        self.columns = {k: unit_text(h) for k, h in self.columns.items()}
        self.rows = [{k: (unit_text(v) if isinstance(v, str) else v) for k, v in r.items()} for r in self.rows]
        self.footnotes = [unit_text(n) for n in self.footnotes]

    def frame(self) -> pd.DataFrame:
        """The printed table as a frame (levels indented with em spaces, headers as printed)."""
        body = [{self.stub: ("**" + r["label"] + "**" if r.get("bold") and r["label"] else
                             INDENT * r.get("indent", 0) + r["label"]),
                 **{header.replace("\n", ", "): r.get(key, "") for key, header in self.columns.items()}}
                for r in self.rows]
        return pd.DataFrame(body, columns=[self.stub, *(h.replace("\n", ", ") for h in self.columns.values())])

    def numeric(self, key: str) -> bool:
        """Does a value column hold numbers (counts, estimates, p-values, "NR", "—")? Such a column is
        centred; a column of text ("Note") is aligned left."""
        cells = [str(r.get(key, "")).strip() for r in self.rows]
        cells = [c for c in cells if c]
        return not cells or sum(bool(_NUMBER_CELL.match(c)) for c in cells) >= len(cells) / 2

    def markdown(self) -> str:
        notes = "\n".join(f"- {note}" for note in self.footnotes)
        align = ["left", *("center" if self.numeric(k) else "left" for k in self.columns)]
        body = self.frame().to_markdown(index=False, disable_numparse=True, colalign=align)
        return f"**{self.title}**\n\n" + body + ("\n\n" + notes if notes else "") + "\n"

    def gt(self, anchor: str = "table"):
        """The table as a great_tables `GT` (displayed by Jupyter; `as_raw_html()` for a file)."""
        from great_tables import GT, html, loc, style

        body = pd.DataFrame([{"label": r["label"], **{k: r.get(k, "") for k in self.columns}} for r in self.rows],
                            columns=["label", *self.columns])
        table = GT(body, id=_table_id(anchor)).tab_header(title=self.title)
        table = table.cols_label(label=self.stub, **{k: html(_escape(h).replace("\n", "<br>"))
                                                     for k, h in self.columns.items()})
        bold = [i for i, r in enumerate(self.rows) if r.get("bold")]
        indented = [i for i, r in enumerate(self.rows) if r.get("indent")]
        if bold:
            table = table.tab_style(style.text(weight="bold"), loc.body(columns="label", rows=bold))
        if indented:
            table = table.tab_style(style.css("padding-left: 1.8em"), loc.body(columns="label", rows=indented))
        centred = [k for k in self.columns if self.numeric(k)]
        if centred:
            table = table.cols_align("center", columns=centred)
        if len(centred) < len(self.columns):
            table = table.cols_align("left", columns=[k for k in self.columns if k not in centred])
        for note in self.footnotes:
            table = table.tab_source_note(note)
        return table

    def html(self, anchor: str | None = None) -> str:
        """The great_tables HTML with every CSS rule scoped to this table's id (`scoped_css`)."""
        anchor = _table_id(anchor or self.anchor or self.title)
        return scoped_css(self.gt(anchor).as_raw_html(), anchor) + "\n"

    def _repr_html_(self):
        return self.html()

    def __repr__(self) -> str:
        """The formatted table as Markdown: what a text-only view (a console, the notebook's text/plain) shows."""
        return self.markdown()

    def to_json(self) -> str:
        # columns in their printed order (sorting the keys would put "p-value" between the groups)
        return json.dumps({"title": self.title, "stub": self.stub, "columns": self.columns, "rows": self.rows,
                           "footnotes": self.footnotes}, ensure_ascii=False, indent=1) + "\n"


def _table_id(text: str) -> str:
    """An HTML id from a name or title ("table" when nothing is left)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-")[:60] or "table"


_CSS_RULE = re.compile(r"(\s*)([^{}\s][^{}]*)\{([^{}]*)\}")


def scoped_css(page: str, anchor: str) -> str:
    """great_tables' HTML with every selector of its <style> block prefixed by ``#anchor``: it writes
    some rules without the prefix (``tbody, tr, td, th { border-style: none; }``, ``tr {...}``), which
    would remove the borders of every other table of the report."""
    scope = f"#{anchor}"

    def rule(match):
        selectors = match.group(2).strip()
        if selectors.startswith("@"):
            return match.group(0)
        scoped = [sel if sel == scope or sel.startswith(scope + " ") else f"{scope} {sel}"
                  for sel in (part.strip() for part in selectors.split(",")) if sel]
        return f"{match.group(1)}{', '.join(scoped)} {{{match.group(3)}}}"

    def style(match):
        return match.group(1) + _CSS_RULE.sub(rule, match.group(2)) + match.group(3)

    return re.sub(r"(<style[^>]*>)(.*?)(</style>)", style, page, flags=re.DOTALL)


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def footnotes_for(paths: SimpleNamespace | None, notes) -> list:
    """The notes that say something (empty ones left out), and on the bundled cohort `SYNTHETIC_NOTE` last."""
    notes = [n for n in notes if n]
    if paths is not None and getattr(paths, "bundled", False):
        notes.append(SYNTHETIC_NOTE)
    return notes


def min_cell_of(paths) -> int:
    """The run's MIN_CELL (`paths.min_cell`; 0, nothing suppressed, without paths)."""
    return int(getattr(paths, "min_cell", 0) or 0) if paths is not None else 0


def suppress_rows(rows: list, keys, min_cell: int) -> list:
    """Counts from 1 to MIN_CELL - 1 in the printed cells read "<MIN_CELL" (the whole cell, percentage
    included), by privacy's own rule (`privacy.suppress_small_counts`)."""
    if min_cell <= 1 or not rows:
        return rows
    mark = f"<{int(min_cell)}"
    names = {k: f"c{i}" for i, k in enumerate(keys)}  # neutral names: no column is taken for a label
    frame = pd.DataFrame([{names[k]: str(r.get(k, "")).replace("%)", ")") for k in keys} for r in rows])
    shown = privacy.suppress_small_counts(frame, min_cell)
    return [{**r, **{k: mark for k in keys if shown.at[i, names[k]] == mark}} for i, r in enumerate(rows)]


def group_header(name: str, n, min_cell: int) -> str:
    """A group's column header with its N on a second line ("Sorafenib" over "N = 19"; N below MIN_CELL as "<MIN_CELL")."""
    return f"{name}\nN = {privacy.count_text(n, min_cell)}" if n is not None else name

