"""Every markdown cell of every notebook renders as its author meant it.

A wrapped line that happens to start with `>` (a ">=1.0" carried over), `#`, `-`, `+`, `*` or `1.`
turns the rest of a paragraph into a blockquote, a heading or a list (PITFALLS.md). Each cell is
rendered with mistune as nbconvert renders it (`markdown2html_mistune`); a line that continues a
paragraph and yet opens a blockquote, a heading or a list is reported with notebook, cell and line.
A list may follow a line ending with ":" (an introduction to the list); nothing else may."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

_MARKER = re.compile(r"^ {0,3}(?P<marker>>|#{1,6}(?=\s|$)|[-+*](?=\s)|\d{1,9}[.)](?=\s))")
_BLOCK = re.compile(r"<(blockquote|h[1-6]|ul|ol)\b")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _kind(marker: str) -> str:
    if marker == ">":
        return "blockquote"
    if marker.startswith("#"):
        return "heading"
    return "list"


def _is_paragraph_text(line: str) -> bool:
    """A line that a following line would continue as the same paragraph."""
    stripped = line.strip()
    return bool(stripped) and not _MARKER.match(line) and not stripped.startswith(("|", "<", "```", "~~~")) \
        and not line.startswith("    ")


def accidental_blocks(source: str) -> list[tuple[int, str, str]]:
    """(line number, kind, line) of each line that breaks a paragraph into a blockquote, heading or list.

    A blockquote or heading marker right under a line of text is always reported (also inside a
    list item); a list marker only when it interrupts a plain paragraph (not when it starts the
    next item of a list, not after a line ending with ":")."""
    found = []
    block = None  # what the current run of non-blank lines is: "paragraph", "list", "blockquote", ...
    in_fence = False
    previous = ""
    for number, line in enumerate(source.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence, previous, block = not in_fence, "", None
            continue
        if in_fence:
            continue
        match = _MARKER.match(line)
        if not line.strip():
            block = None
        elif match:
            kind = _kind(match.group("marker"))
            if kind == "list":
                suspicious = (block == "paragraph" and _is_paragraph_text(previous)
                              and not previous.rstrip().endswith(":"))
            else:  # under any text but a line of its own kind ("> a" then "> b" is one quote)
                suspicious = bool(previous.strip()) and block not in (kind, "other")
            # does the renderer really open a block here? (an ordered list not starting at 1 does not)
            if suspicious and _BLOCK.search(markdown2html_mistune(f"{previous}\n{line}\n")):
                found.append((number, kind, line))
            block = None if kind == "heading" else kind
        elif block is None:
            block = "paragraph" if _is_paragraph_text(line) else "other"
        previous = line
    return found


def _markdown_cells(path: Path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            yield index, "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_accidental_blockquote_heading_or_list(path):
    problems = [f"cell {index}, line {number}: a wrapped line opens a {kind}: {line!r}"
                for index, source in _markdown_cells(path) for number, kind, line in accidental_blocks(source)]
    assert not problems, f"{path.name}:\n" + "\n".join(problems) + "\n(reflow the paragraph, or write ≥ for >=)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_markdown_cell_renders(path):
    for index, source in _markdown_cells(path):
        assert markdown2html_mistune(source).strip() or not source.strip(), f"{path.name} cell {index} renders empty"


def test_the_check_finds_wrapped_markers():
    text = "Hazard ratios above 1 mean a higher hazard for the\n>= 1.0 group, below 1 a lower one.\n"
    assert [k for _, k, _ in accidental_blocks(text)] == ["blockquote"]
    assert [k for _, k, _ in accidental_blocks("Values up to the\n# 3 mark\n")] == ["heading"]
    assert [k for _, k, _ in accidental_blocks("a range of 5\n- 10 months\n")] == ["list"]
    assert [k for _, k, _ in accidental_blocks("the first patient, number\n1. in the list\n")] == ["list"]
    assert accidental_blocks("The choices:\n- one\n- two\n") == []
    assert accidental_blocks("- one, wrapped\n  over two lines\n- two\n") == []
    assert [k for _, k, _ in accidental_blocks("- a hazard ratio\n  >= 1 means\n")] == ["blockquote"]
    assert accidental_blocks("Text.\n\n> a quote meant as one\n") == []
    assert accidental_blocks("the year\n2011. Then\n") == []  # an ordered list must start at 1 to interrupt
    assert accidental_blocks("```\ncode\n# comment\n```\n") == []
