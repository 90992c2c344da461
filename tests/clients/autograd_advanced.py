# Beyond backward(): Jacobians and Hessians, torch.func transforms, forward-mode AD,
# checkpointing, custom Functions with setup_context, and hooks on graph nodes.
import torch
import torch.autograd.forward_ad as fwAD
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vjp
from torch.func import functional_call, grad, grad_and_value, jacfwd, jacrev
from torch.utils.checkpoint import checkpoint


def f(x, y):
    return (x ** 2 * y).sin(), x.exp() + y


x = torch.linspace(-1, 1, 3, dtype=torch.float64)
y = torch.linspace(0.5, 2, 3, dtype=torch.float64)
jac = jacobian(f, (x, y))
print(len(jac), len(jac[0]), jac[0][0].shape)
print(jac[0][1])
print(hessian(lambda t: (t ** 3).sum(), x))
print(vjp(lambda t: t.tanh(), x, torch.ones(3, dtype=torch.float64))[1])
print(jvp(lambda t: t.sigmoid(), x, torch.ones(3, dtype=torch.float64))[1])
print(hvp(lambda t: (t.exp() * t).sum(), x, torch.ones(3, dtype=torch.float64))[1])

print(grad(lambda t: t.sin().sum())(x))
print(grad(grad(lambda t: t.sin()))(torch.tensor(0.3, dtype=torch.float64)))
g, value = grad_and_value(lambda t, u: (t * u).sum(), argnums=(0, 1))(x, y)
print(g, value)
print(jacrev(torch.sin)(x).sum(dim=1), jacfwd(torch.cos)(x).sum(dim=0))

model = torch.nn.Linear(3, 2).double()
params = {k: torch.full_like(v, 0.1) for k, v in model.named_parameters()}
out = functional_call(model, params, (x.view(1, 3),))
print(out, model.weight.sum() == params["weight"].sum())
grads = grad(lambda p: functional_call(model, p, (x.view(1, 3),)).pow(2).sum())(params)
print(sorted(grads), grads["bias"])

with fwAD.dual_level():
    dual = fwAD.make_dual(x, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    out = (dual.exp() * dual).sum()
    print(fwAD.unpack_dual(out).tangent)


class ScaledTanh(torch.autograd.Function):
    @staticmethod
    def forward(input, scale):
        return torch.tanh(input) * scale

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, scale = inputs
        ctx.save_for_backward(output)
        ctx.scale = scale

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (ctx.scale - out * out / ctx.scale), None


a = x.clone().requires_grad_()
ScaledTanh.apply(a, 2.0).sum().backward()
print(a.grad, torch.allclose(a.grad, 2 * (1 - a.detach().tanh() ** 2)))

layer = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh()).double()
with torch.no_grad():
    for p in layer.parameters():
        p.copy_(torch.linspace(-0.5, 0.5, p.numel(), dtype=torch.float64).view(p.shape))
inp = x.view(1, 3).clone().requires_grad_()
checkpoint(layer, inp, use_reentrant=False).sum().backward()
print(inp.grad)

b = x.clone().requires_grad_()
out = (b * 3).exp().sum()
seen = []
out.grad_fn.register_prehook(lambda grad_outputs: seen.append("pre"))
out.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append("post"))
b.register_post_accumulate_grad_hook(lambda t: seen.append(f"acc {t.grad.sum().item():.4f}"))
out.backward()
print(seen)

# Per-sample gradients: vmap over grad, with the model's parameters passed functionally.
from torch.func import vmap  # noqa: E402

net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
with torch.no_grad():
    for i, p in enumerate(net.parameters()):
        p.copy_(torch.linspace(-0.4, 0.6 - 0.1 * i, p.numel(), dtype=torch.float64).view(p.shape))
params = {k: v.detach() for k, v in net.named_parameters()}
data = torch.linspace(-1, 1, 15, dtype=torch.float64).view(5, 3)
targets = torch.linspace(0, 1, 5, dtype=torch.float64).view(5, 1)


def sample_loss(p, xb, yb):
    pred = functional_call(net, p, (xb.unsqueeze(0),))
    return torch.nn.functional.mse_loss(pred, yb.unsqueeze(0))


per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))(params, data, targets)
print({k: tuple(v.shape) for k, v in per_sample.items()})
print(per_sample["2.bias"].view(-1))
print(vmap(torch.dot)(data, data), vmap(lambda r: r.softmax(0), in_dims=1)(data)[0])
