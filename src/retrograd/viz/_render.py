"""Turning a Model (see _model.py) into text, Graphviz DOT, SVG and a one-file HTML page."""

from __future__ import annotations

from ._layout import LINE_H, PAD, box_size, layout
from ._model import Model

COLORS = {  # fill, stroke
    "op": ("#f4f4f4", "#777777"),
    "leaf": ("#dcecff", "#3b78c2"),
    "tensor": ("#dff3df", "#3f8f3f"),
    "repeat": ("#fff4cc", "#b08900"),
    "more": ("#eeeeee", "#999999"),
}


def _esc(s: str) -> str:
    """Text safe inside XML/HTML elements and attributes."""
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))


# ---- text -----------------------------------------------------------------------------------

def text(model: Model) -> str:
    """An indented tree from each output down to the leaves; a box reached twice is drawn once
    and then referred to by its number."""
    ins = model.inputs_of()
    outs = model.consumers_of()
    roots = [k for k in model.boxes if not outs[k]]
    shared = {k for k, c in outs.items() if len(set(c)) > 1}
    number = {k: i + 1 for i, k in enumerate(sorted(shared))}
    lines = []
    done = set()
    for root in roots:
        stack = [(root, "", "", 1)]
        while stack:
            key, lead, branch, times = stack.pop()
            box = model.boxes[key]
            tag = f" [#{number[key]}]" if key in number else ""
            tag += f" (used {times} times here)" if times > 1 else ""
            group = f"  <{model.groups.get(box.group, box.group)}>" if box.group else ""
            if key in done and key in number:
                lines.append(f"{lead}{branch}{box.title}{tag} (drawn above)")
                continue
            done.add(key)
            info = "  ".join(box.lines)
            lines.append(f"{lead}{branch}{box.title}{tag}  {info}{group}".rstrip())
            uses = ins[key]
            children = list(dict.fromkeys(uses))
            child_lead = lead + ("" if not branch else ("│  " if branch == "├─ " else "   "))
            for i in range(len(children) - 1, -1, -1):
                last = i == len(children) - 1
                stack.append((children[i], child_lead, "└─ " if last else "├─ ",
                              uses.count(children[i])))
    for note in model.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


# ---- DOT ------------------------------------------------------------------------------------

def _dot_str(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(model: Model) -> str:
    out = ["digraph retrograd {", '  node [shape=box, style="rounded,filled", '
           'fontname="monospace", fontsize=10];', "  edge [arrowsize=0.7];"]
    by_group: dict = {}
    for box in model.boxes.values():
        by_group.setdefault(box.group, []).append(box)
    for gi, (group, boxes) in enumerate(by_group.items()):
        indent = "  "
        if group is not None:
            out.append(f"  subgraph cluster_{gi} {{")
            out.append(f"    label={_dot_str(model.groups.get(group, group))}; style=dashed;")
            indent = "    "
        for box in boxes:
            fill, stroke = COLORS[box.kind]
            label = "\\n".join(_dot_str(s)[1:-1] for s in [box.title, *box.lines])
            tip = "\\n".join(_dot_str(f"{a}: {b}")[1:-1] for a, b in box.details)
            out.append(f'{indent}n{box.key} [label="{label}", fillcolor="{fill}", '
                       f'color="{stroke}", tooltip="{tip}"];')
        if group is not None:
            out.append("  }")
    for a, b in dict.fromkeys(model.edges):
        out.append(f"  n{a} -> n{b};")
    for note in model.notes:
        out.append(f"  // note: {note}")
    out.append("}")
    return "\n".join(out) + "\n"


# ---- SVG ------------------------------------------------------------------------------------

def svg(model: Model, with_ids: bool = True) -> str:
    keys = list(model.boxes)
    sizes = {k: box_size(model.boxes[k].title, model.boxes[k].lines) for k in keys}
    groups = {k: b.group for k, b in model.boxes.items() if b.group is not None}
    pos, routes, width, height, bands = layout(keys, sizes, model.edges, groups)
    note_h = LINE_H * len(model.notes) + (8 if model.notes else 0)
    width = max(width, max([len(n) * 6.2 + 24 for n in model.notes] or [0]))
    top = 22.0 if any(b.group is not None for b in model.boxes.values()) else 0.0
    total_h = height + note_h + top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{total_h:.0f}" '
        f'viewBox="0 0 {width:.0f} {total_h:.0f}" font-family="DejaVu Sans Mono, Menlo, '
        'Consolas, monospace" font-size="12">',
        "<defs><marker id=\"rg-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
        "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
        "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#666\"/></marker></defs>",
        f'<rect width="{width:.0f}" height="{total_h:.0f}" fill="white"/>',
        f'<g transform="translate(0,{top:.0f})">',
    ]
    parts += _group_outlines(model, pos, sizes, bands)
    for (a, b), pts in routes.items():
        d = f"M {pts[0][0]:.1f} {pts[0][1]:.1f}"
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            my = (y0 + y1) / 2
            d += f" C {x0:.1f} {my:.1f} {x1:.1f} {my:.1f} {x1:.1f} {y1:.1f}"
        parts.append(f'<path class="edge" data-from="{a}" data-to="{b}" d="{d}" fill="none" '
                     'stroke="#666" stroke-width="1.2" marker-end="url(#rg-arrow)"/>')
    for k, box in model.boxes.items():
        x, y = pos[k]
        w, h = sizes[k]
        fill, stroke = COLORS[box.kind]
        tip = "\n".join([box.title] + [f"{a}: {b}" for a, b in box.details])
        ident = f' id="rg-node-{k}"' if with_ids else ""
        parts.append(f'<g class="node {box.kind}"{ident} data-key="{k}"><title>{_esc(tip)}'
                     f'</title><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                     f'rx="6" fill="{fill}" stroke="{stroke}" stroke-width="1.3"/>')
        ty = y + PAD + 10
        parts.append(f'<text x="{x + PAD:.1f}" y="{ty:.1f}" font-weight="bold">'
                     f'{_esc(box.title)}</text>')
        for line in box.lines:
            ty += LINE_H
            parts.append(f'<text x="{x + PAD:.1f}" y="{ty:.1f}" fill="#333">{_esc(line)}</text>')
        parts.append("</g>")
    parts.append("</g>")
    y = height + top + 4
    for note in model.notes:
        y += LINE_H
        parts.append(f'<text class="note" x="12" y="{y:.1f}" fill="#8a5a00" font-size="11">'
                     f'note: {_esc(note)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _group_outlines(model: Model, pos: dict, sizes: dict, bands: dict) -> list:
    """A dashed outline around each module's boxes: one rectangle per layer the module has
    boxes in, joined to the next; drawn stroked then filled, so only the union's edge shows."""
    rows: dict = {}  # group -> layer -> [x0, x1, top, bottom]
    for k, box in model.boxes.items():
        if box.group is None:
            continue
        x, _ = pos[k]
        top, bottom, li = bands[k]
        r = rows.setdefault(box.group, {}).setdefault(li, [x, x + sizes[k][0], top, bottom])
        r[0], r[1] = min(r[0], x), max(r[1], x + sizes[k][0])
    strokes, fills, labels = [], [], []
    for name, layers in rows.items():
        order = sorted(layers)
        for i, li in enumerate(order):
            x0, x1, top, bottom = layers[li]
            top -= 18 if i == 0 else 6
            if i + 1 < len(order):
                bottom = layers[order[i + 1]][2] - 6
            else:
                bottom += 6
            rect = (f'x="{x0 - 6:.1f}" y="{top:.1f}" width="{x1 - x0 + 12:.1f}" '
                    f'height="{bottom - top:.1f}" rx="8"')
            strokes.append(f'<rect {rect} fill="none" stroke="#8888bb" stroke-width="2.4" '
                           'stroke-dasharray="5,3"/>')
            fills.append(f'<rect {rect} fill="#f7f7ff"/>')
        x0, _, top, _ = layers[order[0]]
        labels.append(f'<text x="{x0 - 2:.1f}" y="{top - 6:.1f}" fill="#55558a" '
                      f'font-size="11">{_esc(model.groups.get(name, name))}</text>')
    if not strokes:
        return []
    return ['<g class="groups">', *strokes, *fills, *labels, "</g>"]


# ---- HTML -----------------------------------------------------------------------------------

_CSS = """
body { font-family: sans-serif; margin: 0; display: flex; height: 100vh; }
#canvas { flex: 1; overflow: auto; padding: 8px; }
#side { width: 380px; border-left: 1px solid #ccc; padding: 10px; overflow: auto;
        font: 12px monospace; background: #fcfcfc; }
#side h3 { font: bold 14px sans-serif; margin: 4px 0 8px; }
#side table { border-collapse: collapse; } #side td { padding: 2px 6px 2px 0; vertical-align: top; }
#side td:first-child { color: #666; white-space: nowrap; }
.node { cursor: pointer; } .node:hover rect { stroke-width: 2.5; }
.node.active rect { stroke: #d0342c; stroke-width: 3; }
#steps button { margin-right: 4px; } #steptext { white-space: pre-wrap; margin-top: 8px; }
"""

_JS = """
window.onerror = function (msg) { document.title = 'ERROR: ' + msg; };
(function () {
  var nodes = JSON.parse(document.getElementById('rg-data').textContent);
  var steps = JSON.parse(document.getElementById('rg-steps').textContent);
  var info = document.getElementById('info');
  var pinned = null;
  function esc(s) { var d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
  function show(key) {
    var n = nodes[key]; if (!n) { return; }
    var rows = n.details.map(function (r) {
      return '<tr><td>' + esc(r[0]) + '</td><td>' + esc(r[1]) + '</td></tr>'; }).join('');
    info.innerHTML = '<h3>' + esc(n.title) + '</h3><table>' + rows + '</table>';
  }
  function mark(key) {
    document.querySelectorAll('.node.active').forEach(function (e) {
      e.classList.remove('active'); });
    var e = document.getElementById('rg-node-' + key); if (e) { e.classList.add('active'); }
  }
  document.querySelectorAll('.node').forEach(function (e) {
    var key = e.getAttribute('data-key');
    e.addEventListener('mouseenter', function () { if (pinned === null) { show(key); } });
    e.addEventListener('click', function () { pinned = key; show(key); mark(key); });
  });
  // A self-check a headless browser can read: boxes drawn inside the picture, none overlapping.
  var svgEl = document.querySelector('#canvas svg'), rects = [], inside = 0, overlaps = 0;
  var W = svgEl.viewBox.baseVal.width, H = svgEl.viewBox.baseVal.height;
  document.querySelectorAll('.node rect').forEach(function (r) {
    var b = r.getBBox(), m = r.getCTM(), x = b.x + m.e, y = b.y + m.f;
    if (b.width > 0 && b.height > 0 && x >= 0 && y >= 0 && x + b.width <= W + 0.5 &&
        y + b.height <= H + 0.5) { inside += 1; }
    rects.forEach(function (o) {
      if (x < o[0] + o[2] && o[0] < x + b.width && y < o[1] + o[3] && o[1] < y + b.height) {
        overlaps += 1; } });
    rects.push([x, y, b.width, b.height]);
  });
  document.body.setAttribute('data-check', 'nodes=' + rects.length + ' inside=' + inside +
                             ' overlaps=' + overlaps);
  document.title = document.title.replace(' (loading)', '');
  var box = document.getElementById('steps');
  if (!steps.length) { box.style.display = 'none'; return; }
  var at = -1, text = document.getElementById('steptext');
  function go(i) {
    at = Math.max(0, Math.min(steps.length - 1, i));
    var s = steps[at]; text.textContent = s.text;
    if (s.key !== null) { mark(s.key); show(s.key); pinned = s.key; }
    document.getElementById('stepno').textContent = (at + 1) + ' / ' + steps.length;
  }
  document.getElementById('prev').onclick = function () { go(at - 1); };
  document.getElementById('next').onclick = function () { go(at + 1); };
  var m = /step=(\\d+)/.exec(location.hash);  // page.html#step=3 opens at step 3
  if (m) { go(parseInt(m[1], 10) - 1); }
})();
"""


def _json_script(obj) -> str:
    import json  # (only pages need it: kept out of ``import retrograd``)

    return json.dumps(obj).replace("</", "<\\/")


def page(model: Model, picture: str, title: str = "retrograd graph",
         steps: list | None = None) -> str:
    data = {str(k): {"title": b.title, "details": [[a, v] for a, v in b.details] or
                     [["", line] for line in b.lines]} for k, b in model.boxes.items()}
    notes = "".join(f"<p>note: {_esc(n)}</p>" for n in model.notes)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{_esc(title)} (loading)</title><style>{_CSS}</style></head><body>\n"
        f"<div id=\"canvas\">{picture}</div>\n"
        "<div id=\"side\"><div id=\"steps\"><b>backward, step by step</b><br>"
        "<button id=\"prev\">&#9664; prev</button><button id=\"next\">next &#9654;</button>"
        "<span id=\"stepno\"></span><div id=\"steptext\"></div><hr></div>"
        "<div id=\"info\">Hover over a node, or click it to pin its details.</div>"
        f"{notes}</div>\n"
        f"<script type=\"application/json\" id=\"rg-data\">{_json_script(data)}</script>\n"
        f"<script type=\"application/json\" id=\"rg-steps\">{_json_script(steps or [])}"
        f"</script>\n<script>{_JS}</script>\n</body></html>\n")
