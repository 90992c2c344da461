# Older-style PyTorch code: Variable, per-dtype tensor types, .data, .new and .type.
import torch
import torch.autograd as autograd
import torch.nn as nn
from detinit import det_init

words = "we sing a song and then we sing it again".split()
vocab = {w: i for i, w in enumerate(sorted(set(words)))}
idxs = autograd.Variable(torch.LongTensor([vocab[w] for w in words]))
print(idxs, idxs.type(), isinstance(idxs, torch.LongTensor))

scores = torch.Tensor(1, 4).fill_(-100.)
scores[0][2] = 0.
print(scores, scores.type(), isinstance(scores, torch.FloatTensor))
print(scores.new(2, 2).fill_(3).type(torch.DoubleTensor))
print(scores.new([1, 2]), torch.ByteTensor([1, 0, 1]), torch.IntTensor(3).zero_())


def log_sum_exp(vec):
    max_score = vec[0, vec.max(1)[1].view(-1).data.tolist()[0]]
    return max_score + torch.log(torch.sum(torch.exp(vec - max_score.view(1, -1).expand(1, 4))))


emb = det_init(nn.Embedding(len(vocab), 4))
feats = emb(idxs)
trans = nn.Parameter(torch.Tensor(4, 4).fill_(0.1))
forward_var = scores
for feat in feats:
    alphas = [log_sum_exp(forward_var + trans[k].view(1, -1) + feat[k].view(1, -1).expand(1, 4))
              for k in range(4)]
    forward_var = torch.stack(alphas).view(1, -1)
total = log_sum_exp(forward_var)
total.backward()
print(total.data, trans.grad.data.sum())
print(emb.weight.grad.data[vocab["sing"]])
x = autograd.Variable(torch.ones(2, 2), requires_grad=True)
y = (x * 3).sum()
y.backward()
print(x.grad.data, y.data[()] if y.dim() else y.data.item())
