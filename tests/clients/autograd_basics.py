# Autograd walkthrough: gradients, graphs, no_grad, detach and accumulation.
import torch

x = torch.ones(5)
y = torch.zeros(3)
w = torch.linspace(-1, 1, 15).reshape(5, 3).requires_grad_()
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
loss.backward()
print(w.grad)
print(b.grad)

z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z_det = (torch.matmul(x, w) + b).detach()
print(z_det.requires_grad)

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9 * a ** 2 == a.grad)
print(-2 * b == b.grad)

x = torch.linspace(0., 2. * 3.14159265, steps=25, requires_grad=True)
y = torch.sin(x)
out = y.sum()
print(out)
out.backward()
print(torch.allclose(x.grad, torch.cos(x.detach())))
print(y.grad_fn.next_functions[0][0])

# Second derivatives with create_graph.
x = torch.tensor([0.5, 1.5], requires_grad=True)
y = (x ** 3).sum()
(g,) = torch.autograd.grad(y, x, create_graph=True)
print(g)
(h,) = torch.autograd.grad(g.sum(), x)
print(h)

# Hooks and retain_grad.
x = torch.tensor([1., 2., 3.], requires_grad=True)
m = x * 2
m.retain_grad()
handle = m.register_hook(lambda grad: grad * 10)
(m ** 2).sum().backward()
print(m.grad, x.grad)
handle.remove()
print(x.is_leaf, m.is_leaf, m.grad_fn.name())
