# Module hooks to inspect activations and gradients, learning-rate schedulers, weight init.
import torch
import torch.nn as nn
from detinit import det_init

model = det_init(nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 6), nn.Sigmoid(),
                               nn.Linear(6, 1)))
activations = {}


def save_activation(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()
    return hook


handles = [m.register_forward_hook(save_activation(f"layer{i}"))
           for i, m in enumerate(model) if isinstance(m, nn.Linear)]
grad_norms = []
model[2].register_full_backward_hook(
    lambda module, grad_input, grad_output: grad_norms.append(grad_output[0].norm().item()))
x = torch.linspace(-1, 1, 30).view(10, 3)
target = x.sum(dim=1, keepdim=True).sin()
out = model(x)
print(sorted(activations), activations["layer2"][:2])
nn.MSELoss()(out, target).backward()
print([round(g, 6) for g in grad_norms])
for h in handles:
    h.remove()
model(x)
print(len(activations))

opt = torch.optim.SGD(model.parameters(), lr=0.1)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
lrs = []
for epoch in range(8):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), target)
    loss.backward()
    opt.step()
    sched.step()
    lrs.append(sched.get_last_lr()[0])
print(lrs, f"{loss.item():.6f}")

opt = torch.optim.Adam(model.parameters(), lr=0.05)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
for epoch in range(6):
    plateau.step(1.0)
    print(epoch, opt.param_groups[0]["lr"])
exp = torch.optim.lr_scheduler.ExponentialLR(torch.optim.SGD(model.parameters(), lr=1.0), 0.9)
for _ in range(3):
    exp.optimizer.step()
    exp.step()
print(exp.get_last_lr())


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 0.02)
        nn.init.zeros_(m.bias)


model.apply(init_weights)
print(model[0].weight.sum().item(), model(x)[:3])
print(sum(1 for _ in model.modules()), [n for n, _ in model.named_children()])
x.requires_grad_(True)
h = x.register_hook(lambda g: g * 2)
model(x).sum().backward()
print(x.grad[0])
