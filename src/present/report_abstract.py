"""The report's structured abstract: **Question.**, the sections the notebooks print, **Reproduction.**

- `abstract_parts(cells)`: the sections that the code cells tagged `ABSTRACT_TAG` print
  (``**Cohort.** 67 patients ...``), in cell order;
- `scorecard_counts(summary, folder)` and `reproduction_sentence(counts)`: the scorecard in words, from the
  runner's summary line (or the run's scorecard.csv);
- `abstract_sections` and `abstract_markdown`: the fixed `QUESTION` first, one paragraph per section name
  (in notebook order), the scorecard last; `plain_words` counts the words a reader reads (at most
  `ABSTRACT_MAX_WORDS`: `src/present/report.py` logs a longer abstract).

Place in the import order: the presentation room (imports nothing of `src`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

ABSTRACT_TAG = "abstract"  # a code cell so tagged prints Markdown sections: "**Cohort.** 67 patients ..."
ABSTRACT_MAX_WORDS = 250
QUESTION = ("In advanced hepatocellular carcinoma that progressed during hepatic arterial infusion chemotherapy "
            "(HAIC) with cisplatin powder, did the patients who then received sorafenib live longer after "
            "progression than those given another salvage option?")

_SECTION_START = re.compile(r"(?m)^[ \t]*(?=\*\*[^*\n]+\*\*)")  # a paragraph that starts in bold
_SECTION = re.compile(r"\s*\*\*\s*([^*\n]+?)\s*\*\*\s*(.*)", re.S)
_LIST_MARK = re.compile(r"(?m)^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")


def _output_markdown(output) -> str:
    """The Markdown text of an output (``text/markdown`` of an execute_result or display_data), else ""."""
    text = output.get("data", {}).get("text/markdown") if output.get("output_type") in (
        "execute_result", "display_data") else None
    if not text:
        return ""
    return "".join(text) if isinstance(text, list) else str(text)


def abstract_parts(cells) -> list[tuple[str, str]]:
    """``(section name, text)`` of every section that the code cells tagged `ABSTRACT_TAG` print, in
    cell order: each Markdown output paragraph that starts with a bold name (``**Cohort.** 67 patients ...``)
    starts a section (its name without the final full stop); its text, lists and line breaks included,
    becomes one line. Other outputs of those cells, and text before the first bold name, are left out."""
    parts = []
    for cell in cells:
        if cell.get("cell_type") != "code" or ABSTRACT_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            for chunk in _SECTION_START.split(_output_markdown(output)):
                match = _SECTION.fullmatch(chunk)
                if not match:
                    continue
                name = match.group(1).strip().rstrip(".:").strip()
                text = " ".join(_LIST_MARK.sub("", match.group(2)).split())
                if name and text:
                    parts.append((name, text))
    return parts

def scorecard_counts(summary: str | None, folder: Path | None = None) -> dict[str, int] | None:
    """``{status: count}`` of the scorecard, in its order: read from the runner's summary line (``scorecard:
    238 match, 5 differs, 10 not reproducible, 0 not computed``: `src.paper.compare.summarize_scorecard` names
    every status there), else counted in *folder*/scorecard.csv (the statuses its rows have); None when there
    is no scorecard. The report takes the statuses from what it is given: it knows no list of its own."""
    if summary:
        found = re.findall(r"(\d+) ([^,]+)", summary.split(":", 1)[-1])
        if found:
            return {status.strip(): int(n) for n, status in found}
    if folder is not None and (folder / "scorecard.csv").is_file():
        import csv

        with (folder / "scorecard.csv").open(newline="", encoding="utf-8") as handle:
            statuses = [row.get("status", "") for row in csv.DictReader(handle)]
        if statuses:
            return {status: statuses.count(status) for status in dict.fromkeys(statuses)}
    return None


# How the sentence of the abstract says each status of the scorecard (`reproduction_sentence`); a status
# without a phrase here is counted as "of another status".
STATUS_PHRASES = {"differs": "{n} differ{s}", "not reproducible": "{n} cannot be reproduced",
                  "not computed": "{n} not computed (their notebooks did not run)"}


def reproduction_sentence(counts: dict[str, int] | None, appendix: bool = True) -> str:
    """The scorecard in words: "238 of 253 printed numbers reproduced, 5 differ, 10 cannot be reproduced;
    see the appendix." ("" without a scorecard)."""
    if not counts:
        return ""
    total = sum(counts.values())
    if not total:
        return ""
    parts = [f"{counts.get('match', 0)} of {total} printed number{'s' if total != 1 else ''} reproduced"]
    for status, phrase in STATUS_PHRASES.items():
        n = counts.get(status, 0)
        if n:
            parts.append(phrase.format(n=n, s="s" if n == 1 else ""))
    other = sum(n for status, n in counts.items() if status != "match" and status not in STATUS_PHRASES)
    if other:
        parts.append(f"{other} of another status")
    where = "; see the [appendix](#appendix)." if appendix else "."
    return ", ".join(parts) + where


def abstract_sections(parts: Sequence[tuple[str, str]], reproduction: str = "",
                      question: str = QUESTION) -> list[tuple[str, str]]:
    """The abstract's paragraphs ``(name, text)``: **Question.** first, then the notebooks' sections in the
    order they first appear, each name once (the texts of one name joined into one paragraph; names
    compared without case), **Reproduction.** (the scorecard in words) last."""
    merged: dict[str, list] = {"question": ["Question", [question] if question else []]}
    for name, text in parts:
        merged.setdefault(name.lower(), [name, []])[1].append(text)
    tail = merged.pop("reproduction", ["Reproduction", []])
    if reproduction:
        tail[1].append(reproduction)
    sections = [(name, " ".join(texts)) for name, texts in merged.values() if texts]
    return sections + ([(tail[0], " ".join(tail[1]))] if tail[1] else [])


def abstract_markdown(sections: Sequence[tuple[str, str]]) -> str:
    """The abstract as Markdown: one paragraph per section, its name in bold (``**Question.** ...``)."""
    return "\n\n".join(f"**{name}.** {text}" for name, text in sections)


def plain_words(markdown: str) -> list[str]:
    """The words a reader reads in *markdown* (emphasis marks, code ticks, tags and link targets left out)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", " ", text)  # tags, not "<1.0" or "p < 0.05"
    text = re.sub(r"[*`]+|(?<!\w)_+|_+(?!\w)", "", text)
    return text.split()
