# A LeNet-style convolutional network on synthetic 12x12 images, with SGD + momentum.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from detinit import det_init


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.bn(self.conv2(x))), 2)
        x = F.avg_pool2d(x, 1)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


net = det_init(Net())
print(net)
params = list(net.parameters())
print(len(params))
print(params[0].size())

grid = torch.linspace(-1, 1, 12)
images, labels = [], []
for k in range(16):
    phase = 0.4 * k
    img = torch.sin(grid.view(12, 1) * (1 + k % 4) + phase)
    img = img * torch.cos(grid.view(1, 12) * 2 - phase)
    images.append(img)
    labels.append(k % 4)
inputs = torch.stack(images).unsqueeze(1)
targets = torch.tensor(labels)
print(inputs.shape, targets)

out = net(inputs[:1])
print(out)
net.zero_grad()
out.backward(torch.ones(1, 4) * 0.1)
print(net.conv1.bias.grad)

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for epoch in range(6):
    running_loss = 0.0
    for i in range(0, 16, 4):
        optimizer.zero_grad()
        outputs = net(inputs[i:i + 4])
        loss = criterion(outputs, targets[i:i + 4])
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    print(f"[{epoch + 1}] loss: {running_loss / 4:.4f}")

net.eval()
with torch.no_grad():
    _, predicted = torch.max(net(inputs), 1)
print(predicted, (predicted == targets).sum().item())
print(net.bn.running_mean, net.bn.num_batches_tracked)
