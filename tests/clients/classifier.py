# A small classifier trained with Dataset / DataLoader, CrossEntropyLoss and Adam.
import torch
from detinit import det_init
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset


class Spirals(Dataset):
    def __init__(self, n_per_class=60, classes=3):
        t = torch.linspace(0.05, 1.0, n_per_class)
        xs, ys = [], []
        for k in range(classes):
            angle = t * 4.0 + k * 2.1
            xs.append(torch.stack([t * torch.cos(angle), t * torch.sin(angle)], dim=1))
            ys.append(torch.full((n_per_class,), k, dtype=torch.long))
        self.x = torch.cat(xs)
        self.y = torch.cat(ys)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 3))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


train_data = Spirals()
loader = DataLoader(train_data, batch_size=30, shuffle=False)
model = det_init(NeuralNetwork(), scale=1.5)
print(model)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 3 == 0:
            print(f"loss: {loss.item():>7f}  [{(batch + 1) * len(X):>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    model.eval()
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= len(dataloader.dataset)
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


for t in range(4):
    print(f"Epoch {t + 1}\n-------------------------------")
    train_loop(loader, model, loss_fn, optimizer)
    test_loop(loader, model, loss_fn)

probs = nn.Softmax(dim=1)(model(train_data.x[:4]))
print(probs.detach())
print(f"Predicted class: {probs.argmax(1)}")
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param.flatten()[:2]} \n")

ds = TensorDataset(train_data.x, train_data.y)
xb, yb = next(iter(DataLoader(ds, batch_size=5)))
print(xb.shape, yb)
