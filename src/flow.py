"""Draw a patient-flow diagram (the style of the paper's Figure 1) with matplotlib.

A diagram is a tree of boxes. Each box is a dict made by `box(text, n, ...)`:
its text, its count, optional extra lines (a breakdown printed inside the box)
and its child boxes. `layout` places the leaves side by side and centres each
parent over its children; `draw_flow` draws boxes and elbow arrows.
`salvage_flow(counts)` turns the counts of this study's design (all patients ->
response groups -> exclusion -> salvage groups -> eras) into such a tree.
Nothing here knows a count: every box is built from the numbers passed in.
With `min_cell` (the MIN_CELL parameter), counts from 1 to `min_cell - 1` read
"<min_cell" (`src.privacy.count_text`), as in the tables.
"""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from src import privacy

STYLES = {
    "main": {"facecolor": "white", "edgecolor": "#333333", "linestyle": "-"},
    "group": {"facecolor": "#DCE6F2", "edgecolor": "#2F4B7C", "linestyle": "-"},
    "exclude": {"facecolor": "#F2F2F2", "edgecolor": "#888888", "linestyle": "--"},
}
SLOT = 2.1        # inches of width per leaf box (box plus gap)
GAP = 0.5         # inches of vertical room for the connectors between two levels
LINE = 0.19       # inches per text line at font size 9
WRAP = 22         # characters per line of box text
NBSP = "\u00a0"    # keeps "(n = 6)" on one line


def box(text: str, n: int | None = None, children=(), lines=(), kind: str = "main", min_cell: int = 0) -> dict:
    """One box of the diagram: `text` (n = `n`), extra `lines` printed below, `children` boxes.
    `kind` is "main", "group" (a compared group) or "exclude" (patients left out); `n` is shown
    as "<min_cell" when it is from 1 to `min_cell - 1`."""
    return {"text": text, "n": n, "children": list(children), "lines": list(lines), "kind": kind,
            "min_cell": min_cell}


def box_text(node: dict) -> str:
    """The wrapped text printed in a box."""
    head = textwrap.fill(node["text"], WRAP)
    if node["n"] is not None:
        head += "\n" + count_label(node["n"], node.get("min_cell", 0))
    body = [textwrap.fill(line, WRAP, subsequent_indent="  ") for line in node["lines"]]
    return "\n".join([head, *body]) if body else head


def count_label(n: int, min_cell: int = 0) -> str:
    """"(n = 12)" with non-breaking spaces, so that wrapping never splits it ("(n = <5)" for a
    count from 1 to `min_cell - 1`)."""
    return f"(n{NBSP}={NBSP}{privacy.count_text(n, min_cell)})"


def layout(root: dict) -> list[tuple[dict, float, int]]:
    """(box, x slot, depth) for every box: leaves in consecutive slots in
    depth-first order, each parent centred between its first and last child."""
    placed, next_slot = [], [0]

    def visit(node, depth):
        if not node["children"]:
            x = next_slot[0]
            next_slot[0] += 1
        else:
            xs = [visit(child, depth + 1) for child in node["children"]]
            x = (xs[0] + xs[-1]) / 2
        placed.append((node, x, depth))
        return x

    visit(root, 0)
    return placed


def draw_flow(root: dict, ax=None, fontsize: int = 9, **kwargs):
    """Draw the tree `root` as boxes joined by elbow arrows; returns the axes.
    Without `ax`, a figure is made whose size follows the number of boxes."""
    placed = layout(root)
    n_slots = max(x for _, x, _ in placed) + 1
    heights = {id(node): LINE * (box_text(node).count("\n") + 1) + 0.2 for node, _, _ in placed}
    depth_h = {}
    for node, _, depth in placed:
        depth_h[depth] = max(depth_h.get(depth, 0), heights[id(node)])
    tops, y = {}, 0.0
    for depth in sorted(depth_h):
        tops[depth] = y
        y -= depth_h[depth] + GAP
    total_h = -y - GAP
    if ax is None:
        fig = plt.figure(figsize=(n_slots * SLOT, total_h + 0.2))
        ax = fig.add_axes((0, 0, 1, 1))  # one data unit = one inch, so text fits its box
    width = SLOT - 0.25
    where = {}
    for node, x, depth in placed:
        cx, top, h = x * SLOT + SLOT / 2, tops[depth], heights[id(node)]
        style = {**STYLES.get(node["kind"], STYLES["main"]), **kwargs}
        ax.add_patch(FancyBboxPatch((cx - width / 2, top - h), width, h, boxstyle="round,pad=0,rounding_size=0.06",
                                    linewidth=1.1, **style))
        ax.text(cx, top - h / 2, box_text(node), ha="center", va="center", fontsize=fontsize, linespacing=1.25)
        where[id(node)] = (cx, top, top - h)
    for node, _, depth in placed:
        if node["children"]:
            _connect(ax, where[id(node)], [where[id(c)] for c in node["children"]], tops[depth + 1])
    ax.set_xlim(0, n_slots * SLOT)
    ax.set_ylim(-total_h - 0.1, 0.1)
    ax.set_axis_off()
    return ax


def _connect(ax, parent, children, child_top):
    """Elbow connector: down from the parent, across, and an arrow down to each child."""
    px, _, pbottom = parent
    mid = child_top + GAP / 2
    line = {"color": "#333333", "linewidth": 1.0}
    ax.plot([px, px], [pbottom, mid], **line)
    xs = [c[0] for c in children] + [px]
    ax.plot([min(xs), max(xs)], [mid, mid], **line)
    for cx, ctop, _ in children:
        ax.annotate("", xy=(cx, ctop), xytext=(cx, mid), arrowprops={"arrowstyle": "-|>", **line})


def salvage_flow(counts: dict, min_cell: int = 0) -> dict:
    """The tree of this study's design from `counts`:

    - `total`: all patients; `response`: {response group: n}, in display order;
      `progressed`: the response group that continues down the diagram, or None
      when patients of other groups progressed too: then `progression`
      (label, n) is a box of its own under the root that continues instead;
    - `excluded`: {reason: n} of progressed patients left out;
    - `analysed`: (label, n) of the analysed cohort;
    - `groups`: {group label: n} of the compared groups; `split`: the group
      whose patients are broken down further;
    - `breakdown`: {sub-box label: {option label: n}} of that group.
    Empty groups, breakdown boxes and breakdown lines are left out, so a cohort
    without an option (or an era) shows none. Counts from 1 to `min_cell - 1` read "<min_cell".
    """
    analysed_label, analysed_n = counts["analysed"]
    groups = []
    for label, n in counts["groups"].items():
        if not n:
            continue
        kids = []
        if label == counts.get("split"):
            for sub, options in counts["breakdown"].items():
                lines = [f"{opt} {count_label(k, min_cell)}" for opt, k in options.items() if k]
                if lines:
                    kids.append(box(sub, sum(options.values()), lines=lines, min_cell=min_cell))
        groups.append(box(label, n, kids, kind="group", min_cell=min_cell))
    excluded = [box(reason, n, kind="exclude", min_cell=min_cell) for reason, n in counts["excluded"].items()]
    analysed = box(analysed_label, analysed_n, groups, min_cell=min_cell)
    response = [box(label, n, [*excluded, analysed] if label == counts["progressed"] else [], min_cell=min_cell)
                for label, n in counts["response"].items()]
    if counts["progressed"] is None:
        label, n = counts["progression"]
        response.append(box(label, n, [*excluded, analysed], min_cell=min_cell))
    return box(counts["title"], counts["total"], response, min_cell=min_cell)
