"""A layered (Sugiyama-style) layout of the drawing, in pure Python.

1. Layers: the longest path from the inputs (leaves on top, outputs at the bottom); a leaf sits
   one layer above its first consumer, so parameters stay next to the op that uses them.
2. Edges spanning several layers get one invisible point per layer crossed, so they bend
   around boxes instead of through them (up to a budget of points; longer ones go straight).
3. Order within each layer: a few sweeps down and up, each placing a box at the mean position
   (barycentre) of its neighbours in the layer before, which removes most crossings.
4. Coordinates: boxes packed left to right, then pulled towards their neighbours' centres
   without overlapping.
"""

from __future__ import annotations

CHAR_W = 7.4  # width of a character of the 12px monospace font, in px
LINE_H = 15.0
PAD = 8.0
GAP_X = 24.0
GAP_Y = 46.0


def box_size(title: str, lines: list) -> tuple:
    width = max([len(title) + 2] + [len(s) for s in lines]) * CHAR_W + 2 * PAD
    height = (1 + len(lines)) * LINE_H + 2 * PAD - 4
    return width, height


def layout(keys: list, sizes: dict, edges: list, groups: dict | None = None,
           sweeps: int = 6) -> tuple:
    """Place boxes ``keys`` (``sizes``: key -> (w, h)) joined by forward ``edges``; boxes of
    one group (``groups``: key -> name) sit side by side within a layer.

    Returns (positions key -> (x, y) of the top-left corner, routes: edge -> list of points,
    width, height, bands: key -> (top, bottom) of its layer).
    """
    groups = groups or {}
    succ: dict = {k: [] for k in keys}
    pred: dict = {k: [] for k in keys}
    uniq = list(dict.fromkeys(e for e in edges if e[0] != e[1]))
    for a, b in uniq:
        succ[a].append(b)
        pred[b].append(a)
    # 1. longest-path layers, in a topological order found by Kahn's algorithm (no recursion)
    indeg = {k: len(pred[k]) for k in keys}
    order = [k for k in keys if indeg[k] == 0]
    for k in order:  # (order grows while it is read)
        for b in succ[k]:
            indeg[b] -= 1
            if indeg[b] == 0:
                order.append(b)
    layer = {k: 0 for k in keys}
    for k in order:
        for b in succ[k]:
            layer[b] = max(layer[b], layer[k] + 1)
    for k in keys:  # sources hang just above their first consumer
        if not pred[k] and succ[k]:
            layer[k] = min(layer[b] for b in succ[k]) - 1
    # 2. points for long edges
    nodes_in: dict = {}
    for k in order:
        nodes_in.setdefault(layer[k], []).append(k)
    chains: dict = {}
    up: dict = {k: [] for k in keys}  # node -> neighbours in the layer above (incl. points)
    down: dict = {k: [] for k in keys}
    # (a budget of points: a leaf used by every step of a long unrolled loop would need
    # quadratically many; the longest edges beyond it are drawn straight)
    budget = 4 * len(keys) + 200
    for a, b in sorted(uniq, key=lambda e: layer[e[1]] - layer[e[0]]):
        prev = a
        chain = []
        span = layer[b] - layer[a] - 1
        if span > budget:
            chains[(a, b)] = None
            continue
        budget -= span
        for lay in range(layer[a] + 1, layer[b]):
            d = ("pt", a, b, lay)
            nodes_in[lay].append(d)
            up[d], down[d] = [], []
            chain.append(d)
            down[prev].append(d)
            up[d].append(prev)
            prev = d
        down[prev].append(b)
        up[b].append(prev)
        chains[(a, b)] = chain
    # 3. barycentre ordering
    layers = [nodes_in[i] for i in sorted(nodes_in)]
    for sweep in range(sweeps):
        rng = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        nbr = up if sweep % 2 == 0 else down
        for li in rng:
            ref = layers[li - 1] if sweep % 2 == 0 else layers[li + 1]
            where = {k: i for i, k in enumerate(ref)}
            cur = layers[li]
            bary = {}
            for i, k in enumerate(cur):
                ps = [where[n] for n in nbr[k] if n in where]
                bary[k] = sum(ps) / len(ps) if ps else i * len(ref) / max(len(cur), 1)
            cur.sort(key=lambda k: bary[k])
            if groups:  # keep each group's boxes together, where the group's first one is
                anchor: dict = {}
                for k in cur:
                    g = groups.get(k) if not isinstance(k, tuple) else None
                    anchor.setdefault(g, bary[k])
                cur.sort(key=lambda k: (bary[k], 0, "") if isinstance(k, tuple) or
                         groups.get(k) is None else (anchor[groups[k]], 1, groups[k]))
    # 4. coordinates
    def width(k) -> float:
        return sizes[k][0] if k in sizes else 6.0

    cx: dict = {}
    for lay in layers:
        x = 0.0
        for k in lay:
            cx[k] = x + width(k) / 2
            x += width(k) + GAP_X
    for sweep in range(8):
        nbr = up if sweep % 2 == 0 else down
        seq = layers if sweep % 2 == 0 else layers[::-1]
        for lay in seq:
            want = {}
            for k in lay:
                ns = [cx[n] for n in nbr[k]] or [cx[n] for n in (down[k] or up[k])]
                want[k] = sum(ns) / len(ns) if ns else cx[k]
            _place(lay, want, width, cx)
    left = min(cx[k] - width(k) / 2 for lay in layers for k in lay) if layers else 0.0
    margin = 12.0
    heights = [max([sizes[k][1] for k in lay if k in sizes] or [0.0]) for lay in layers]
    pos: dict = {}
    ys: dict = {}
    bands: dict = {}
    y = margin
    for li, lay in enumerate(layers):
        for k in lay:
            x = cx[k] - left + margin
            if k in sizes:
                pos[k] = (x - sizes[k][0] / 2, y + (heights[li] - sizes[k][1]) / 2)
            ys[k] = (x, y, y + heights[li])
            if k in sizes:
                bands[k] = (y, y + heights[li], li)
        y += heights[li] + GAP_Y
    routes: dict = {}
    for (a, b), chain in chains.items():
        pts = [(ys[a][0], pos[a][1] + sizes[a][1])]
        for d in chain or ():
            pts.append((ys[d][0], ys[d][1]))
            pts.append((ys[d][0], ys[d][2]))
        pts.append((ys[b][0], pos[b][1]))
        routes[(a, b)] = pts
    total_w = max([p[0] + sizes[k][0] for k, p in pos.items()] or [0.0]) + margin
    return pos, routes, total_w, max(y - GAP_Y + margin, 2 * margin), bands


def _place(lay: list, want: dict, width, cx: dict) -> None:
    """Centres as near ``want`` as the order and the gaps allow (left pass, then right pass)."""
    xs = [want[k] for k in lay]
    for i in range(1, len(lay)):  # push right what overlaps on the left
        need = xs[i - 1] + (width(lay[i - 1]) + width(lay[i])) / 2 + GAP_X
        xs[i] = max(xs[i], need)
    for i in range(len(lay) - 2, -1, -1):  # then pull back left, keeping the order
        limit = xs[i + 1] - (width(lay[i]) + width(lay[i + 1])) / 2 - GAP_X
        xs[i] = min(xs[i], limit)
    shift = sum(want[k] - x for k, x in zip(lay, xs)) / len(lay) if lay else 0.0
    for k, x in zip(lay, xs):
        cx[k] = x + shift
