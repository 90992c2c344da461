"""A short tour: ``python -m retrograd`` runs the tutorial examples and shows their graphs."""

from __future__ import annotations

import os
import tempfile

import retrograd as torch


def show_graph(t, indent: str = "") -> None:
    """Print the backward graph under ``t.grad_fn`` as an indented tree (iteratively)."""
    stack = [(t.grad_fn, 0)]
    while stack:
        node, depth = stack.pop()
        if node is None:
            continue
        label = type(node).__name__
        if label == "AccumulateGrad":
            var = node.variable
            label += f"  (leaf of shape {list(var.shape)})" if var is not None else ""
        print(f"{indent}{'    ' * depth}{label}")
        for nxt, _ in reversed(node.next_functions):
            stack.append((nxt, depth + 1))


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def main(train_seconds: float = 3.0, drawing_path: str | None = None) -> None:
    print(f"retrograd {torch.__version__}: reverse-mode autograd with PyTorch's API, on NumPy")

    section("1. Operations on a tensor that requires grad record a graph")
    x = torch.FloatTensor([[1, 2], [3, 4]]).requires_grad_(True)
    x1 = x + 2
    x2 = x - 2
    x3 = x1 * x2
    y = x3.sum()
    print("x1 =", x1)
    print("x2 =", x2)
    print("x3 =", x3)
    print("y  =", y)
    print("graph of y:")
    show_graph(y, "  ")
    y.backward()
    print("after y.backward(), x.grad = dy/dx = 2x:")
    print(x.grad)

    section("2. Non-scalar outputs: backward(v) is a vector-Jacobian product")
    inp = torch.eye(5, requires_grad=True)
    out = (inp + 1).pow(2)
    out.backward(torch.ones_like(inp), retain_graph=True)
    print("First call\n", inp.grad)
    out.backward(torch.ones_like(inp), retain_graph=True)
    print("Second call (gradients accumulate)\n", inp.grad)
    inp.grad.zero_()
    out.backward(torch.ones_like(inp), retain_graph=True)
    print("Call after zeroing gradients\n", inp.grad)

    section("3. The PyTorch tutorial: out = mean(3 (x + 2)^2)")
    x = torch.ones(2, 2, requires_grad=True)
    z = (x + 2) * (x + 2) * 3
    out = z.mean()
    print(z, out)
    show_graph(out, "  ")
    out.backward()
    print("x.grad =", x.grad)

    section("4. Partial derivatives, no_grad and an MSE")
    a = torch.tensor([3.0], requires_grad=True)
    b = torch.tensor([2.0], requires_grad=True)
    y = 3 * a ** 3 + 2 * b ** 4
    y.backward()
    print("y = 3a^3 + 2b^4 at a=3, b=2:", y.data, " dy/da =", a.grad, " dy/db =", b.grad)
    with torch.no_grad():
        y = 3 * a ** 3 + 2 * b ** 4
    print("under no_grad: requires_grad =", y.requires_grad, " grad_fn =", y.grad_fn)
    target = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    pred = torch.tensor([2.0, 2.0, 3.0], requires_grad=True)
    error = torch.mean((target - pred) ** 2)
    error.backward()
    print("MSE:", error.data, " d/dtarget:", target.grad, " d/dpred:", pred.grad)

    section("5. Higher-order gradients: d^2/dx^2 x^3 = 6x")
    x = torch.tensor(2.0, requires_grad=True)
    (g,) = torch.autograd.grad(x ** 3, x, create_graph=True)
    (g2,) = torch.autograd.grad(g, x)
    print("first:", g, " second:", g2)

    section("6. Gradient descent: fit w in y = w * x")
    torch.manual_seed(0)
    xs = torch.linspace(-1, 1, 32)
    ys = 3 * xs + 0.1 * torch.randn(32)
    w = torch.zeros(1, requires_grad=True)
    for step in range(60):
        loss = ((w * xs - ys) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.5 * w.grad
        w.grad.zero_()
        if step % 20 == 0 or step == 59:
            print(f"step {step:2d}  loss {loss.item():.4f}  w {w.item():.4f}")

    section("7. See the graph, and backward step by step (retrograd.viz, retrograd.explain)")
    show_tools(drawing_path)

    section("8. A first neural network: an MLP on the 8x8 handwritten digits")
    train_digits_mlp(seconds=train_seconds)
    torch.debug._tour(section)


def show_tools(drawing_path: str | None = None) -> str:
    """The tutorial's y = sum((x + 2)(x - 2)): its drawing, then explain(y) runs backward and
    says why x.grad = 2x; the drawing (an HTML page that steps through backward) is saved."""
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ((x + 2) * (x - 2)).sum()
    print(torch.viz.graph(y).text())
    explanation = torch.explain(y)
    print(explanation)
    path = drawing_path or os.path.join(tempfile.gettempdir(), "retrograd_graph.html")
    explanation.drawing.save(path)
    print(f"wrote {path}: open it in a browser, hover or click a node, step through backward")
    return path


def train_digits_mlp(seconds: float = 3.0) -> float:
    """Train a 64-128-10 MLP on the digits for about ``seconds``; return the test accuracy."""
    import time

    from retrograd import nn
    from retrograd.datasets import load_digits
    from retrograd.utils.data import DataLoader, TensorDataset, random_split

    torch.manual_seed(0)
    images, labels = load_digits()
    train_set, test_set = random_split(TensorDataset(images.reshape(-1, 64), labels), [0.8, 0.2],
                                       generator=torch.manual_seed(0))
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_x, test_y = next(iter(DataLoader(test_set, batch_size=len(test_set))))
    start = time.perf_counter()
    epoch = 0
    accuracy = 0.0
    while time.perf_counter() - start < seconds and epoch < 50:
        epoch += 1
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            accuracy = (model(test_x).argmax(dim=1) == test_y).float().mean().item()
        if epoch == 1 or epoch % 5 == 0:
            print(f"epoch {epoch:2d}  loss {loss.item():.4f}  test accuracy {accuracy:.1%}")
    print(f"after {epoch} epochs ({time.perf_counter() - start:.1f} s): "
          f"test accuracy {accuracy:.1%} on {len(test_set)} held-out digits")
    return accuracy


if __name__ == "__main__":
    main()
