"""Figures as a journal prints them: one style for every figure of the notebooks.

- `GROUP_STYLES`: one colour and line style per group (Okabe-Ito palette, safe for colour-blind
  readers and told apart in greyscale by the line style), used by every Kaplan-Meier plot
  (`style_of`): sorafenib is the same blue solid line in Figure 2, the scorecard and notebook 07.
- Sizes: `SINGLE` (8.5 cm) and `DOUBLE` (17.5 cm) column widths in inches, `size()` for
  `plt.subplots(figsize=...)` (figures are made at their print size); `setup()` sets fonts of 7.5 pt,
  `size_problems(fig)` lists a wrong width or a text under 7 pt (`helpers.savefig` refuses such a figure), and metadata that keeps the files' bytes the same
  from run to run (no date in the SVG, a fixed SVG hash salt).
- `SYNTHETIC_NOTE`: the small note `helpers.savefig` writes on every figure of the bundled cohort.
- `caption(fig)`: a figure described in one line (the alt text of its image in the report);
  `show_saved` displays a figure's saved SVG file in a notebook, with that alt text, in place of the
  figure (`helpers.savefig` does: each figure is rendered twice, SVG and PNG, and never a third time).

Place in the import order: below `survival` and `flow` (and `helpers`, which saves figures with it);
imports only `config` (the note's wording).
"""
from __future__ import annotations

from pathlib import Path

from src.config import SYNTHETIC_NOTE_FIGURE as SYNTHETIC_NOTE  # the figure's wording (`config`: one per medium)

CM = 1 / 2.54
SINGLE = 8.5 * CM   # inches: one journal column
DOUBLE = 17.5 * CM  # inches: two columns
FONT_PT = 7.5       # text size at print size (journals ask for 6-8 pt; at least 7 here)

OKABE_ITO = {"blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73", "orange": "#E69F00",
             "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000"}

# group label (as the notebooks name the groups, case-insensitive) -> colour and line style
GROUP_STYLES = {
    "all patients": {"color": OKABE_ITO["black"], "linestyle": "-"},
    "sorafenib": {"color": OKABE_ITO["blue"], "linestyle": "-"},
    "other salvage": {"color": OKABE_ITO["vermillion"], "linestyle": "--"},
    "disease control": {"color": OKABE_ITO["green"], "linestyle": "-"},
    "progressive disease": {"color": OKABE_ITO["purple"], "linestyle": "--"},
    "not evaluated": {"color": OKABE_ITO["orange"], "linestyle": ":"},
}
_FALLBACK = [{"color": OKABE_ITO[c], "linestyle": ls} for c, ls in
             [("blue", "-"), ("vermillion", "--"), ("green", "-."), ("purple", ":"), ("orange", "-"), ("sky", "--")]]


RC = {
    "font.size": FONT_PT, "axes.titlesize": FONT_PT + 0.5, "axes.labelsize": FONT_PT,
    "xtick.labelsize": FONT_PT, "ytick.labelsize": FONT_PT, "legend.fontsize": FONT_PT,
    "figure.titlesize": FONT_PT + 1, "font.family": "DejaVu Sans",
    "axes.linewidth": 0.6, "lines.linewidth": 1.2, "xtick.major.width": 0.6, "ytick.major.width": 0.6,
    "figure.figsize": (SINGLE, SINGLE * 0.75), "figure.dpi": 150, "savefig.dpi": 300,
    "savefig.bbox": "standard",  # the file is the figure's size: 8.5 or 17.5 cm wide
    "axes.spines.top": False, "axes.spines.right": False,
    "svg.hashsalt": "haic-spp", "svg.fonttype": "path", "pdf.fonttype": 42,
}


def setup() -> None:
    """Apply `RC` (explicit call, no import side effects)."""
    import matplotlib as mpl

    mpl.rcParams.update(RC)


MIN_TEXT_PT = 7.0  # no text of a saved figure is smaller (at its print size)
WIDTHS = {"single": SINGLE, "double": DOUBLE}


def size(width: str = "single", aspect: float = 0.75) -> tuple[float, float]:
    """A figure size in inches for `plt.subplots(figsize=...)`: one ("single", 8.5 cm) or two ("double",
    17.5 cm) journal columns wide, `aspect` times as high. Figures are made at their print size, so
    that the text sizes of `RC` are the sizes printed."""
    w = WIDTHS[width]
    return (w, round(w * aspect, 4))


def size_problems(fig) -> list[str]:
    """What keeps `fig` from a journal page: a width other than 8.5 or 17.5 cm, a visible text under
    `MIN_TEXT_PT` (empty list when none)."""
    from matplotlib.text import Text

    problems = []
    w = fig.get_size_inches()[0]
    if not any(abs(w - v) < 0.005 for v in WIDTHS.values()):
        problems.append(f"width {w / CM:.2f} cm (a journal column is 8.5 cm, two are 17.5 cm: figures.size)")
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.get_fontsize() < MIN_TEXT_PT - 1e-9:
            problems.append(f"text {text.get_text()[:40]!r} at {text.get_fontsize():.1f} pt (< {MIN_TEXT_PT:g} pt)")
    return problems


def style_of(label, index: int = 0) -> dict:
    """Colour and line style of a group: `GROUP_STYLES`, else the `index`-th of a fixed fallback cycle."""
    return dict(GROUP_STYLES.get(str(label).strip().lower(), _FALLBACK[index % len(_FALLBACK)]))


def km_gid(panel: int, label) -> str:
    """The id of a Kaplan-Meier curve in a saved SVG: "km<panel>-<label in lower case, - for spaces>"
    (its confidence limits: the same with "-ci-low", "-ci-high"); `label_of_gid` reads the label back."""
    import re

    return f"km{int(panel)}-" + re.sub(r"[^a-z0-9]+", "-", str(label).strip().lower()).strip("-")


def label_of_gid(gid: str) -> str:
    """The group label (lower case, spaces) of a curve id made by `km_gid`."""
    return gid.split("-", 1)[1].replace("-", " ") if "-" in gid else ""


# metadata that embeds no date, machine or version (same bytes from run to run)
PNG_METADATA = {"Software": None}
# (SVG rather than PDF: a PDF's "/Root" key reads as the home folder /root to the leak search)
SVG_METADATA = {"Date": None, "Creator": None}


def caption(fig, name: str | None = None, synthetic: bool = False) -> str:
    """A one-line description of `fig` for a reader who cannot see it (the alt text of its image in
    the report): the figure's suptitle, else its panels' titles (centre, left or right; "A  Overall
    survival; B  Survival post-progression"), else what its axes plot ("<y label> by <x label>", one phrase
    per panel), else its file name in words.
    With `synthetic`, the sentence that the data are synthetic (`SYNTHETIC_NOTE`) is added."""
    import re

    def words(text) -> str:
        return re.sub(r"\s+", " ", str(text or "")).strip().replace("$", "")

    text = words(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) is not None else ""
    if not text:  # the panels' titles ("A  Overall survival; B  Survival post-progression")
        titles = []
        for ax in fig.axes:
            title = next((t for t in (words(ax.get_title(loc=loc)) for loc in ("center", "left", "right")) if t), "")
            if title and title not in titles:
                titles.append(title)
        text = "; ".join(titles)
    if not text:
        phrases = []
        for ax in fig.axes:
            y, x = words(ax.get_ylabel()), words(ax.get_xlabel())
            phrase = f"{y} by {x}" if y and x else (y or x)
            if phrase and phrase not in phrases:
                phrases.append(phrase)
        text = "; ".join(phrases)
    if not text and name:
        text = words(re.sub(r"(?<=[A-Za-z])(?=\d)", " ", re.sub(r"[_-]+", " ", name))).capitalize()
    text = text or "Figure"
    if synthetic:
        text = text.rstrip(".") + ". " + SYNTHETIC_NOTE + "."
    return text


def show_saved(fig, svg, caption: str) -> bool:
    """In a notebook with matplotlib's inline backend: close `fig` and display its saved SVG file `svg` in its
    place (the image a reader of the notebook and of the report sees is the file itself: the figure is not
    rendered a third time), with `caption` as the image's alt text and the figure's on-screen width at its
    dpi (`RC`: 150, as the inline backend showed it) in the output metadata
    (``{"image/svg+xml": {"alt": caption, "width": ...}}``, which the report's template writes as ``alt`` and
    ``width``); the cell's end then shows it no second time. False (nothing done) anywhere else."""
    import matplotlib

    if "inline" not in matplotlib.get_backend():
        return False
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    import matplotlib.pyplot as plt

    width = round(fig.get_size_inches()[0] * fig.get_dpi())
    plt.close(fig)
    image = Path(svg).read_text(encoding="utf-8")
    display({"image/svg+xml": image, "text/plain": f"<Figure: {caption}>"}, raw=True,
            metadata={"image/svg+xml": {"alt": caption, "width": width}})
    return True
