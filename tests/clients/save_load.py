# Saving and loading: state dicts of models and optimizers, checkpoints, freezing layers.
import io

import torch
import torch.nn as nn
import torch.optim as optim
from detinit import det_init


class TheModelClass(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


model = det_init(TheModelClass())
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.linspace(-2, 2, 24).view(6, 4)
y = torch.tensor([0, 1, 2, 0, 1, 2])
for _ in range(3):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()

print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", model.state_dict()[param_tensor].size())
print("Optimizer's state_dict:")
opt_state = optimizer.state_dict()
print(sorted(opt_state), opt_state["param_groups"])
print({k: sorted(v) for k, v in opt_state["state"].items()})
print(opt_state["state"][2]["momentum_buffer"])

buffer = io.BytesIO()
torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "loss": 0.25}, buffer)
buffer.seek(0)
checkpoint = torch.load(buffer, weights_only=True)
model2 = TheModelClass()
optimizer2 = optim.SGD(model2.parameters(), lr=0.5, momentum=0.1)
print(model2.load_state_dict(checkpoint["model_state_dict"]))
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
print(checkpoint["epoch"], checkpoint["loss"], optimizer2.param_groups[0]["lr"])
model.eval()
model2.eval()
print(torch.equal(model(x), model2(x)), model2(x)[0])

for _ in range(2):
    for opt, m in ((optimizer, model), (optimizer2, model2)):
        m.train()
        opt.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
print(torch.allclose(model.fc1.weight, model2.fc1.weight))

sd = model.state_dict()
print(list(sd.keys()))
print(sd["bn.running_var"], sd["bn.num_batches_tracked"])
missing = model2.load_state_dict({k: v for k, v in sd.items() if not k.startswith("fc2")},
                                 strict=False)
print(missing.missing_keys, missing.unexpected_keys)
try:
    model2.load_state_dict({"fc1.weight": torch.zeros(2, 2)}, strict=False)
except RuntimeError as e:
    print("RuntimeError:", str(e).splitlines()[0])

for p in model.fc1.parameters():
    p.requires_grad = False
trainable = [n for n, p in model.named_parameters() if p.requires_grad]
print(trainable, sum(p.numel() for p in model.parameters() if p.requires_grad))
