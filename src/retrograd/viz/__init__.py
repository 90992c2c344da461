"""See the recorded graph: ``graph(...)`` draws it (text, DOT, SVG, HTML), and ``explain(loss)``
walks through backward node by node.

    d = retrograd.viz.graph(loss, params=dict(model.named_parameters()))
    print(d.text()); d.save("graph.html")
    print(retrograd.explain(loss))
"""

from .drawing import Drawing, graph, trace_modules
from .explain import Explanation, Step, explain

__all__ = ["Drawing", "Explanation", "Step", "explain", "graph", "trace_modules"]
