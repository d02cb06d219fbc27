"""A small text encoder (BERT-like, 2 blocks): token and position embeddings, pre-norm blocks with LayerNorm
written out by hand (mean, variance, rsqrt: what many exports contain), attention written out (MatMul,
Softmax, Transpose), tanh-approximated GELU MLPs (ratio 4), and a mean-pooled, normalized sentence embedding.

Usage: /usr/bin/python3 tools/models/text_encoder.py OUTPUT.onnx   (opset 17, input_ids [1, 64] int64)
"""
import sys

import torch
import torch.nn as nn


class WrittenLayerNorm(nn.Module):
    """LayerNorm over the last axis, spelled out so the export holds ReduceMean/Sub/Pow/Sqrt/Div, not one op."""

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(dim))
        self.bias = nn.Parameter(0.05 * torch.randn(dim))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        centered = x - mean
        variance = (centered * centered).mean(-1, keepdim=True)
        return centered / torch.sqrt(variance + self.eps) * self.weight + self.bias


class SelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.output = nn.Linear(dim, dim)

    def split(self, x):
        batch, tokens, dim = x.shape
        return x.reshape(batch, tokens, self.heads, dim // self.heads).transpose(1, 2)

    def forward(self, x):
        batch, tokens, dim = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        weights = torch.softmax((q @ k.transpose(-2, -1)) * self.scale, dim=-1)
        return self.output((weights @ v).transpose(1, 2).reshape(batch, tokens, dim))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = WrittenLayerNorm(dim)
        self.attention = SelfAttention(dim, heads)
        self.norm2 = WrittenLayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(approximate="tanh"), nn.Linear(dim * 4, dim))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TextEncoder(nn.Module):
    def __init__(self, vocabulary=1000, tokens=64, dim=128, heads=4, depth=2):
        super().__init__()
        self.token_embedding = nn.Embedding(vocabulary, dim)
        self.position_embedding = nn.Parameter(0.02 * torch.randn(1, tokens, dim))
        self.blocks = nn.Sequential(*(Block(dim, heads) for _ in range(depth)))
        self.norm = WrittenLayerNorm(dim)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.normal_(module.bias, std=0.02)

    def forward(self, input_ids):
        x = self.token_embedding(input_ids) + self.position_embedding
        x = self.norm(self.blocks(x))
        return x.mean(1)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    torch.manual_seed(23)
    model = TextEncoder().eval()
    input_ids = torch.randint(0, 1000, (1, 64), generator=torch.Generator().manual_seed(23))
    temporary = sys.argv[1] + ".partial"
    with torch.no_grad():
        torch.onnx.export(model, (input_ids,), temporary, opset_version=17, input_names=["input_ids"],
                          output_names=["embedding"], do_constant_folding=True)
    import os
    os.replace(temporary, sys.argv[1])
    print(f"  text_encoder: {sys.argv[1]}")


if __name__ == "__main__":
    main()
