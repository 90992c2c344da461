# Part-of-speech tagging with an LSTM, in the style of the NLP tutorials.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from detinit import det_init


def prepare_sequence(seq, to_ix):
    idxs = [to_ix[w] for w in seq]
    return torch.tensor(idxs, dtype=torch.long)


training_data = [
    ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
    ("The cat read the book".split(), ["DET", "NN", "V", "DET", "NN"]),
]
word_to_ix = {}
for sent, tags in training_data:
    for word in sent:
        if word not in word_to_ix:
            word_to_ix[word] = len(word_to_ix)
print(word_to_ix)
tag_to_ix = {"DET": 0, "NN": 1, "V": 2}
EMBEDDING_DIM = 6
HIDDEN_DIM = 6


class LSTMTagger(nn.Module):
    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        return F.log_softmax(tag_space, dim=1)


model = det_init(LSTMTagger(EMBEDDING_DIM, HIDDEN_DIM, len(word_to_ix), len(tag_to_ix)), 2.0)
loss_function = nn.NLLLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)

with torch.no_grad():
    inputs = prepare_sequence(training_data[0][0], word_to_ix)
    print(model(inputs))

for epoch in range(60):
    total = 0.0
    for sentence, tags in training_data:
        model.zero_grad()
        sentence_in = prepare_sequence(sentence, word_to_ix)
        targets = prepare_sequence(tags, tag_to_ix)
        tag_scores = model(sentence_in)
        loss = loss_function(tag_scores, targets)
        loss.backward()
        optimizer.step()
        total += loss.item()
    if epoch % 20 == 19:
        print(epoch, f"{total:.5f}")

with torch.no_grad():
    inputs = prepare_sequence(training_data[0][0], word_to_ix)
    tag_scores = model(inputs)
    print(tag_scores)
    print(tag_scores.argmax(dim=1))

# A batched, bidirectional, two-layer GRU over padded sequences.
gru = det_init(nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True))
seqs = [torch.linspace(-1, 1, 3 * n).view(n, 3) for n in (4, 2, 3)]
padded = nn.utils.rnn.pad_sequence(seqs, batch_first=True)
print(padded.shape)
out, h = gru(padded)
print(out.shape, h.shape)
print(out[:, -1].sum(dim=1))
out.sum().backward()
print(gru.weight_hh_l1_reverse.grad.abs().sum())

cell = det_init(nn.LSTMCell(3, 5))
hx, cx = torch.zeros(2, 5), torch.zeros(2, 5)
for t in range(4):
    hx, cx = cell(torch.full((2, 3), 0.1 * t), (hx, cx))
print(hx)
