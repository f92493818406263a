"""Draw a patient-flow diagram with matplotlib: CONSORT style (`draw_consort`, Figure 1) or as a tree.

A diagram is a tree of boxes. Each box is a dict made by `box(text, n, ...)`:
its text, its count, optional extra lines (a breakdown printed inside the box)
and its child boxes. `layout` places the leaves side by side and centres each
parent over its children; `draw_flow` draws boxes and elbow arrows.
`draw_consort` draws the same tree as CONSORT asks: one vertical path of boxes, the patients
who leave it (exclusions, and groups that do not go on) in boxes to the side of its arrows, and the
compared groups side by side at the bottom, at a journal's double-column width with text of 7.5 pt.
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


# --- CONSORT style ---------------------------------------------------------------

FONT_PT = 7.5
CHAR_IN = 0.6 * FONT_PT / 72       # inches per character (DejaVu Sans, on average)
LINE_IN = 1.3 * FONT_PT / 72       # inches per line of text
PAD_IN = 0.07                      # inner padding of a box (each side)
STEP_IN = 0.22                     # vertical room of an arrow between two boxes
LINE_STYLE = {"color": "#333333", "linewidth": 0.8}


def _wrapped(node: dict, width: float) -> str:
    chars = max(12, int((width - 2 * PAD_IN) / CHAR_IN))
    head = textwrap.fill(node["text"], chars)
    if node["n"] is not None:
        head += "\n" + count_label(node["n"], node.get("min_cell", 0))
    body = [textwrap.fill(line, chars, subsequent_indent="  ") for line in node["lines"]]
    return "\n".join([head, *body])


def _height(text: str) -> float:
    return LINE_IN * (text.count("\n") + 1) + 2 * PAD_IN


def _draw_box(ax, node: dict, cx: float, top: float, width: float, text: str, align: str = "center") -> float:
    """Draw *node* with its top centre at (cx, top); return its bottom."""
    h = _height(text)
    style = STYLES.get(node["kind"], STYLES["main"])
    ax.add_patch(FancyBboxPatch((cx - width / 2, top - h), width, h, boxstyle="round,pad=0,rounding_size=0.04",
                                linewidth=0.8, **style))
    x = cx if align == "center" else cx - width / 2 + PAD_IN
    ax.text(x, top - h / 2, text, ha=align, va="center", fontsize=FONT_PT, linespacing=1.15,
            multialignment=align)
    return top - h


def _arrow(ax, start, end):
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "shrinkA": 0, "shrinkB": 0,
                                                      "mutation_scale": 7, **LINE_STYLE})


def _partition(node: dict, leaving: list, going_on: dict) -> bool:
    """Whether the boxes *leaving* the path at *node* and the box *going_on* split its patients (their counts
    add up to its count): then they leave it (arrows to the side); else they overlap the next box and are a
    breakdown of *node* (one box "of these", joined by a dotted line)."""
    counts = [node["n"], going_on["n"], *(k["n"] for k in leaving)]
    if any(n is None for n in counts):
        return True
    return node["n"] == going_on["n"] + sum(k["n"] for k in leaving)


def consort_steps(root: dict):
    """The CONSORT reading of a tree: ``(main path, exits of each step, arms)``. At each box of the path, the
    child that has children of its own goes on down; the other children (exclusions, groups that stop there)
    leave the path to the side. Where every child is a compared group (kind "group"), they are the arms."""
    path, exits, node = [], [], root
    while True:
        path.append(node)
        kids = node["children"]
        if not kids:
            exits.append([])
            return path, exits, []
        if all(k["kind"] == "group" for k in kids):
            exits.append([])
            return path, exits, kids
        going_on = [k for k in kids if k["children"] and k["kind"] != "exclude"]
        nxt = going_on[-1] if going_on else None
        if nxt is None:  # nothing goes on: the children are the arms
            exits.append([])
            return path, exits, kids
        exits.append([k for k in kids if k is not nxt])
        node = nxt


def draw_consort(root: dict, ax=None, width: float | None = None):
    """Draw *root* (a tree of `box`es, e.g. `salvage_flow`) as a CONSORT diagram: the path down the left
    two thirds, each exit in a box to the right of the arrow it leaves from (exclusions dashed and grey), the
    arms side by side at the bottom with their own boxes beneath them. Every box shows its n (counts from 1
    to MIN_CELL - 1 as "<MIN_CELL"). Without `ax`, a figure `width` inches wide (default: two journal
    columns, 17.5 cm) whose height follows the boxes. Returns the axes (one data unit = one inch)."""
    from src.present import figures

    W = width or figures.DOUBLE
    path, exits, arms = consort_steps(root)
    main_cx = W * 0.34
    # heights first: the figure's height follows them
    items, y = _path_items(path, exits, W)
    arm_items, y = _arm_items(arms, W, main_cx, y, items)
    total_h = -y + 0.2  # room below for the note on synthetic data
    if ax is None:
        fig = plt.figure(figsize=(W, total_h))
        ax = fig.add_axes((0, 0, 1, 1))
    for item in items + arm_items:
        _draw_item(ax, item)
    for kind, node, cx, top, w, text in items:  # arrows from the path to its exits
        if kind == "exit":
            mid = top - _height(text) / 2
            _arrow(ax, (main_cx, mid), (cx - w / 2, mid))
        elif kind == "breakdown":
            mid = top - _height(text) / 2
            ax.plot([main_cx, cx - w / 2], [mid, mid], linestyle=":", **LINE_STYLE)
    ax.set_xlim(0, W)
    ax.set_ylim(-total_h, 0)
    ax.set_axis_off()
    return ax


def _path_items(path: list, exits: list, W: float) -> tuple[list, float]:
    """What the main path of a CONSORT diagram `W` inches wide draws, top down: its boxes ("main"), the
    boxes that leave it beside each arrow ("exit"; "breakdown" when they overlap the next box: one box
    "Of these:" without arrows) and the arrows ("down"). Items are (kind, node, centre x, top, width,
    text or arrow end); returns them and the bottom of the last one."""
    main_cx, main_w = W * 0.34, W * 0.42
    side_w = W * 0.36
    side_cx = W - side_w / 2 - 0.05
    items, y = [], -0.05
    for i, node in enumerate(path):
        text = _wrapped(node, main_w)
        items.append(("main", node, main_cx, y, main_w, text))
        y -= _height(text)
        if i < len(path) - 1:
            leaving = exits[i]
            kind = "exit" if _partition(node, leaving, path[i + 1]) else "breakdown"
            if kind == "breakdown":  # they overlap the next box: one box "of these" beside the path, no arrows
                leaving = [box("Of these:", None, lines=[f"{k['text']} {count_label(k['n'], k.get('min_cell', 0))}"
                                                         for k in leaving])]
            side = [(k, _wrapped(k, side_w)) for k in leaving]
            room = sum(_height(t) for _, t in side) + 0.08 * max(0, len(side) - 1)
            gap = max(STEP_IN, room + 0.16) if side else STEP_IN
            top = y - (gap - room) / 2
            for k, t in side:
                items.append((kind, k, side_cx, top, side_w, t))
                top -= _height(t) + 0.08
            items.append(("down", None, main_cx, y, None, y - gap))
            y -= gap
    return items, y


def _arm_items(arms: list, W: float, main_cx: float, y: float, items: list) -> tuple[list, float]:
    """What the arms of a CONSORT diagram draw below the path ending at `y`: the bar from the path to the
    arms (added to `items`), each arm's box side by side and the boxes beneath it with their own bar.
    Returns the arms' items and the lowest bottom (`y` without arms)."""
    arm_items = []
    if not arms:
        return arm_items, y
    slot = W / len(arms)
    arm_w = slot - 0.2
    bar = y - 0.12
    y_arm = bar - 0.16
    items.append(("bar", 0.16, main_cx, y, [slot * (j + 0.5) for j in range(len(arms))], bar))
    lowest = y_arm
    for j, arm in enumerate(arms):
        cx = slot * (j + 0.5)
        text = _wrapped(arm, arm_w)
        arm_items.append(("main", arm, cx, y_arm, arm_w, text))
        bottom = y_arm - _height(text)
        lowest = min(lowest, bottom)
        kids = arm["children"]
        if kids:
            sub = slot / len(kids)
            sub_w = sub - 0.12
            centres = [slot * j + sub * (k + 0.5) for k in range(len(kids))]
            sub_top = bottom - 0.24
            arm_items.append(("bar", 0.12, cx, bottom, centres, sub_top + 0.12))
            for kid, kcx in zip(kids, centres):
                t = _wrapped(kid, sub_w)
                arm_items.append(("main", kid, kcx, sub_top, sub_w, t))
                lowest = min(lowest, sub_top - _height(t))
    return arm_items, lowest


def _draw_item(ax, item: tuple) -> None:
    """Draw one item of `_path_items` or `_arm_items`: a box, an arrow down, or a bar with arrows to the
    centres below it (for a bar, `node` is how far its arrows go down)."""
    kind, node, cx, top, w, extra = item
    if kind in ("main", "exit", "breakdown"):
        _draw_box(ax, node, cx, top, w, extra, align="left" if node["lines"] else "center")
    elif kind == "down":
        _arrow(ax, (cx, top), (cx, extra))
    elif kind == "bar":
        drop = node  # how far the arrows go down from the bar
        ax.plot([cx, cx], [top, extra], **LINE_STYLE)
        ax.plot([min(w + [cx]), max(w + [cx])], [extra, extra], **LINE_STYLE)
        for x in w:
            _arrow(ax, (x, extra), (x, extra - drop))


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
