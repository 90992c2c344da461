# A GRU encoder-decoder with attention, trained with teacher forcing to reverse digit strings,
# then decoded greedily with topk.
import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from detinit import det_init
from torch import optim

SOS_token, EOS_token, MAX_LENGTH = 0, 1, 6
random.seed(0)
pairs = []
for _ in range(12):
    s = [random.randint(2, 7) for _ in range(random.randint(2, 4))]
    pairs.append((s, s[::-1]))
print(pairs[:3])


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)

    def forward(self, input):
        return self.gru(self.embedding(input))


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        return torch.bmm(weights, keys), weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        outputs, attentions = [], []
        for i in range(MAX_LENGTH):
            embedded = self.embedding(decoder_input)
            query = decoder_hidden.permute(1, 0, 2)
            context, attn_weights = self.attention(query, encoder_outputs)
            output, decoder_hidden = self.gru(torch.cat((embedded, context), dim=2),
                                              decoder_hidden)
            outputs.append(self.out(output))
            attentions.append(attn_weights)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)
            else:
                _, topi = outputs[-1].topk(1)
                decoder_input = topi.squeeze(-1).detach()
        outputs = F.log_softmax(torch.cat(outputs, dim=1), dim=-1)
        return outputs, decoder_hidden, torch.cat(attentions, dim=1)


def to_tensor(seq):
    padded = seq + [EOS_token] + [EOS_token] * (MAX_LENGTH - len(seq) - 1)
    return torch.tensor(padded, dtype=torch.long)


inputs = torch.stack([to_tensor(a) for a, _ in pairs])
targets = torch.stack([to_tensor(b) for _, b in pairs])
encoder = det_init(EncoderRNN(8, 16), 1.0)
decoder = det_init(AttnDecoderRNN(16, 8), 1.0)
enc_opt = optim.Adam(encoder.parameters(), lr=0.01)
dec_opt = optim.Adam(decoder.parameters(), lr=0.01)
criterion = nn.NLLLoss()
for epoch in range(1, 31):
    enc_opt.zero_grad()
    dec_opt.zero_grad()
    encoder_outputs, encoder_hidden = encoder(inputs)
    decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, targets)
    loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), targets.view(-1))
    loss.backward()
    enc_opt.step()
    dec_opt.step()
    if epoch % 10 == 0:
        print(f"epoch {epoch} loss {loss.item():.4f}")

with torch.no_grad():
    encoder_outputs, encoder_hidden = encoder(inputs[:3])
    decoder_outputs, _, attn = decoder(encoder_outputs, encoder_hidden)
    _, topi = decoder_outputs.topk(1)
    print(topi.squeeze(-1))
    print(attn.shape, attn[0, 0])
