# A tour of tensor basics, in the style of an introductory tutorial.
import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
print(x_data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print(x_np)
x_ones = torch.ones_like(x_data)
print(f"Ones Tensor: \n {x_ones} \n")
x_rand = torch.rand_like(x_data, dtype=torch.float)
print(f"Random-shaped: {x_rand.shape}")

shape = (2, 3,)
print(torch.ones(shape))
print(torch.zeros(shape))
tensor = torch.arange(12.).reshape(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")

device = "cuda" if torch.cuda.is_available() else "cpu"
tensor = tensor.to(device)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)
t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1)
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
print(y1, y2, y3, sep="\n")
z1 = tensor * tensor
z3 = torch.rand_like(tensor)
torch.mul(tensor, tensor, out=z3)
print(z1.equal(z3))
agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))
print(f"{tensor} \n")
tensor.add_(5)
print(tensor)

t = torch.ones(5)
n = t.numpy()
t.add_(1)
print(f"t: {t}")
print(f"n: {n}")
n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}")

# Views, strides and copies.
a = torch.arange(24).view(2, 3, 4)
print(a.stride(), a.is_contiguous())
b = a.transpose(0, 2)
print(b.shape, b.is_contiguous(), b.contiguous().stride())
print(a.permute(2, 0, 1).reshape(4, -1))
print(torch.stack([a[0], a[1]], dim=0).equal(a))
print(a.unsqueeze(1).shape, a.flatten(1).shape, a.squeeze().shape)
c = a.clone().float()
c[c > 10] = -1.0
print(c)
print(torch.where(c < 0, torch.zeros_like(c), c).sum())
print(a.chunk(3, dim=2)[1])
print(torch.split(a, [1, 3], dim=2)[1].shape)
print(a.max(), a.argmax(), a.float().mean(dim=(0, 2)))
print(torch.linspace(0, 1, steps=5), torch.eye(3))
print(torch.full((2, 2), 7.5), torch.zeros(2, dtype=torch.int64).dtype)
print(torch.tensor([1.5, -0.0, 2.25]).abs(), torch.tensor(3.0).sqrt())
print(a.double().std(), a.float().var(dim=0, unbiased=False)[0])
print(torch.arange(6).view(2, 3).t().tolist())
