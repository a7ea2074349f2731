"""Zoo encoder: a small CLIP-compatible two-tower model (see README.md in this folder).

Both towers take CLIP's exact inputs and produce L2-normalised embeddings of size EMBED_DIM:

* ``TextTower``:   input_ids int64 [b, s] (s <= 77, CLIP BPE ids, 49406 start, 49407 end/pad)
                   -> remap table (49408 int32, unknown/start/end -> row 0 = zero vector)
                   -> embedding [V, 128] -> mean over words (known pieces; a word outside the
                      known-word table weighs ``unknown_weight``) -> MLP -> text_embeds [b, D]
* ``VisionTower``: pixel_values float32 [b, 3, 224, 224], CLIP-normalised
                   -> AvgPool2d(4) -> ``VisionTrunk`` (56x56 CNN + colour statistics) -> image_embeds [b, D]

Training runs the trunk directly on 56x56 data normalised the same way: average pooling is linear
and the normalisation is a per-channel affine map, so pool(normalise(x)) == normalise(pool(x)).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

EMBED_DIM = 64
TEXT_WIDTH = 128
TEXT_HIDDEN = 256
CLIP_VOCAB = 49408
SOT, EOT = 49406, 49407
CONTEXT_LENGTH = 77
IMAGE_SIZE = 224
TRAIN_SIZE = 56
POOL = IMAGE_SIZE // TRAIN_SIZE

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

# Channel widths and strides of the conv blocks (3x3 conv, BatchNorm, ReLU).
VISION_BLOCKS = ((32, 2), (64, 2), (96, 1), (128, 2), (128, 2))  # 56 -> 28 -> 14 -> 14 -> 7 -> 4
VISION_HIDDEN = 256


def l2_normalise(x: torch.Tensor) -> torch.Tensor:
    # Written out (not F.normalize) so the exported graph is plain ReduceSum/Sqrt/Div.
    return x / torch.sqrt((x * x).sum(dim=1, keepdim=True) + 1e-12)


class ConvBN(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class FusedConv(nn.Module):
    """A ConvBN with its (eval-mode) BatchNorm folded into the convolution."""

    def __init__(self, block: ConvBN):
        super().__init__()
        conv, bn = block.conv, block.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        self.conv = nn.Conv2d(conv.in_channels, conv.out_channels, 3, stride=conv.stride, padding=1, bias=True)
        with torch.no_grad():
            self.conv.weight.copy_(conv.weight * scale[:, None, None, None])
            self.conv.bias.copy_(bn.bias - bn.running_mean * scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x))


def colour_stats(x: torch.Tensor) -> torch.Tensor:
    """Global colour statistics of a normalised image: per-channel mean, std, and 2x2-cell means (18 values)."""
    mean = x.mean(dim=(2, 3))
    std = torch.sqrt(((x - mean[:, :, None, None]) ** 2).mean(dim=(2, 3)) + 1e-6)
    cells = F.adaptive_avg_pool2d(x, 2).flatten(1)
    return torch.cat([mean, std, cells], dim=1)


class VisionTrunk(nn.Module):
    """The vision tower on 56x56 CLIP-normalised input."""

    N_STATS = 18

    def __init__(self, dim: int = EMBED_DIM):
        super().__init__()
        blocks = []
        cin = 3
        for cout, stride in VISION_BLOCKS:
            blocks.append(ConvBN(cin, cout, stride))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head1 = nn.Linear(cin + self.N_STATS, VISION_HIDDEN)
        self.head2 = nn.Linear(VISION_HIDDEN, dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(x).mean(dim=(2, 3))
        return torch.cat([h, colour_stats(x)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return l2_normalise(self.head2(F.relu(self.head1(self.features(x)))))

    def fused(self) -> "VisionTrunk":
        """An eval-mode copy with every BatchNorm folded into its convolution."""
        out = copy.deepcopy(self).eval()
        out.blocks = nn.Sequential(*[FusedConv(b) for b in self.eval().blocks])
        return out


class VisionTower(nn.Module):
    """CLIP I/O: pixel_values [b, 3, 224, 224] -> image_embeds [b, D]."""

    def __init__(self, trunk: VisionTrunk):
        super().__init__()
        self.pool = nn.AvgPool2d(POOL)
        self.trunk = trunk

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.trunk(self.pool(pixel_values))


# Known-word table: a BPE word (its pieces up to the one ending in "</w>") is hashed as the sum of a
# random value per piece id, offset by its piece count, so the sum stays an exact float32 integer and
# the lookup is a Gather; two independent hashes make a false "known" about 1 in 10,000 per word.
KNOWN_HASH_RANGE = 1 << 14
KNOWN_MAX_PIECES = 8
KNOWN_TABLE_SIZE = KNOWN_HASH_RANGE * KNOWN_MAX_PIECES * (KNOWN_MAX_PIECES + 1) // 2  # + 1 overflow slot, never known
KNOWN_HASH_SEED = 0x6B77


def known_hash_values() -> torch.Tensor:
    """float32 [2, 49408]: each piece id's value in the two word hashes (0 for start/end)."""
    rng = torch.Generator().manual_seed(KNOWN_HASH_SEED)
    h = torch.randint(0, KNOWN_HASH_RANGE, (2, CLIP_VOCAB), generator=rng).float()
    h[:, SOT:] = 0.0
    return h


def known_slot(hash_sum: torch.Tensor, pieces: torch.Tensor) -> torch.Tensor:
    """Table slot (int64) of words with these hash sums and piece counts; words of 0 or more than
    KNOWN_MAX_PIECES pieces land on the overflow slot, which is never known."""
    offset = KNOWN_HASH_RANGE * pieces * (pieces - 1) / 2
    ok = (pieces >= 1) & (pieces <= KNOWN_MAX_PIECES)
    return torch.where(ok, hash_sum + offset, torch.full_like(hash_sum, KNOWN_TABLE_SIZE)).long()


def split_words(ids: list[int], word_end: torch.Tensor) -> list[tuple[int, ...]]:
    """The BPE words (piece id tuples) of a token id list without start/end tokens."""
    out, cur = [], []
    for i in ids:
        cur.append(int(i))
        if word_end[int(i)] > 0:
            out.append(tuple(cur))
            cur = []
    if cur:
        out.append(tuple(cur))
    return out


def clip_word_ends(tokenizer_json: str | Path) -> torch.Tensor:
    """float32 [49408]: 1 for the CLIP BPE ids that end a word (their string ends in "</w>"), else 0."""
    vocab = json.loads(Path(tokenizer_json).read_text())["model"]["vocab"]
    ends = torch.zeros(CLIP_VOCAB)
    for token, i in vocab.items():
        if token.endswith("</w>") and i < CLIP_VOCAB:
            ends[i] = 1.0
    return ends


class TextTower(nn.Module):
    """CLIP I/O: input_ids [b, s] int64 -> text_embeds [b, D].

    ``vocab`` lists the CLIP ids that get their own embedding row (row i+1 for vocab[i]); every other id,
    and the start/end/pad tokens, map to row 0, which is kept at zero and excluded from the mean.

    ``word_pool``: the mean is taken over words, not tokens: the known pieces of one word (a word ends
    at a token whose string ends in "</w>", table ``word_end``) are averaged first, so a word BPE
    splits into five pieces ("carassius auratus") counts as much as a one-piece word ("pinkish" is
    two), and every word with a known piece counts once.

    ``known_words``: the BPE words (piece id tuples) this tower knows (needs word pooling). The pieces
    of any other word (a typo, a made-up word, an off-topic word whose pieces other words share) are
    weighed by ``unknown_weight`` (0: they say nothing, like an unknown id). Without it every word counts.
    """

    def __init__(self, vocab: list[int], dim: int = EMBED_DIM, word_end: torch.Tensor | None = None, hidden: int = TEXT_HIDDEN, depth: int = 1,
                 known_words: list[tuple[int, ...]] | None = None, unknown_weight: float = 0.0):
        super().__init__()
        remap = torch.zeros(CLIP_VOCAB, dtype=torch.int32)
        for row, tok in enumerate(vocab, start=1):
            if tok >= SOT:
                raise ValueError("start/end tokens cannot be in the vocabulary")
            remap[tok] = row
        self.register_buffer("remap", remap)
        self.word_pool = word_end is not None
        if word_end is not None:
            if word_end.shape != (CLIP_VOCAB,):
                raise ValueError(f"word_end must have {CLIP_VOCAB} entries")
            self.register_buffer("word_end", word_end.float().clone())
        self.known_gate = known_words is not None
        if known_words is not None:
            if word_end is None:
                raise ValueError("a known-word table needs word pooling")
            values = known_hash_values()
            tables = torch.zeros(2, KNOWN_TABLE_SIZE + 1, dtype=torch.uint8)
            for w in known_words:
                pieces = torch.tensor([float(len(w))])
                for j in range(2):
                    tables[j, known_slot(values[j, list(w)].sum().reshape(1), pieces)] = 1
            tables[:, KNOWN_TABLE_SIZE] = 0
            self.register_buffer("known_values", values)
            self.register_buffer("known_table", tables)
            self.register_buffer("unknown_weight", torch.tensor(float(unknown_weight)))
        self.vocab_size = len(vocab) + 1
        self.embed = nn.Embedding(self.vocab_size, TEXT_WIDTH, padding_idx=0)
        nn.init.normal_(self.embed.weight, std=0.5)
        with torch.no_grad():
            self.embed.weight[0].zero_()
        # The head: Linear, ReLU (depth times, `hidden` wide), Linear to the embedding.
        self.mlp1 = nn.Linear(TEXT_WIDTH, hidden)
        self.mlp_mid = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth - 1))
        self.mlp2 = nn.Linear(hidden, dim)

    def rows(self, input_ids: torch.Tensor) -> torch.Tensor:
        ids = torch.clamp(input_ids, 0, CLIP_VOCAB - 1)
        return self.remap[ids].long()

    def ends(self, input_ids: torch.Tensor) -> torch.Tensor | None:
        """float [b, s]: 1 where a token ends a word (None without word pooling)."""
        if not self.word_pool:
            return None
        return self.word_end[torch.clamp(input_ids, 0, CLIP_VOCAB - 1)]

    def word_weight(self, input_ids: torch.Tensor) -> torch.Tensor | None:
        """float [b, s]: 1 for the pieces of known words, ``unknown_weight`` for the others (None without a table)."""
        if not self.known_gate:
            return None
        ids = torch.clamp(input_ids, 0, CLIP_VOCAB - 1)
        ends = self.word_end[ids]
        onehot = self.word_onehot(ends)
        piece = (ids < SOT).float()
        pieces = torch.matmul(piece.unsqueeze(1), onehot).squeeze(1)  # [b, words]
        known = torch.ones_like(pieces)
        for j in range(2):
            sums = torch.matmul(self.known_values[j][ids].unsqueeze(1), onehot).squeeze(1)
            known = known * self.known_table[j][known_slot(sums, pieces)].float()
        per_token = torch.matmul(onehot, known.unsqueeze(-1)).squeeze(-1)
        return self.unknown_weight + (1.0 - self.unknown_weight) * per_token

    @staticmethod
    def word_onehot(ends: torch.Tensor) -> torch.Tensor:
        """float [b, s, s]: token t belongs to word w (an exclusive running count of word ends)."""
        word = torch.cumsum(ends, dim=1) - ends
        slots = torch.arange(ends.shape[1], dtype=word.dtype, device=word.device)
        return (word.unsqueeze(-1) == slots).float()

    def pooled(self, rows: torch.Tensor, keep: torch.Tensor | None = None, ends: torch.Tensor | None = None, weight: torch.Tensor | None = None) -> torch.Tensor:
        mask = (rows > 0).float()
        if keep is not None:  # training-time token dropout
            mask = mask * keep
        emb = self.embed(rows)
        if not self.word_pool:
            count = mask.sum(dim=1, keepdim=True)
            return (emb * mask.unsqueeze(-1)).sum(dim=1) / torch.clamp(count, min=1.0)
        if ends is None:
            raise ValueError("word pooling needs the word ends of the input ids")
        # Word index of every token, then known pieces per word.
        onehot = self.word_onehot(ends)  # [b, s, words]
        per_word = torch.matmul(mask.unsqueeze(1), onehot).squeeze(1)  # [b, words] known pieces
        share = torch.matmul(onehot, (1.0 / torch.clamp(per_word, min=1.0)).unsqueeze(-1)).squeeze(-1)  # [b, s]
        words = (per_word > 0).float().sum(dim=1, keepdim=True)
        if weight is not None:  # unknown words weigh less but still count, so they shrink the sum towards nothing
            share = share * weight
        return (emb * (mask * share).unsqueeze(-1)).sum(dim=1) / torch.clamp(words, min=1.0)

    def head(self, pooled: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.mlp1(pooled))
        for layer in self.mlp_mid:
            h = F.relu(layer(h))
        return l2_normalise(self.mlp2(h))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(self.rows(input_ids), ends=self.ends(input_ids), weight=self.word_weight(input_ids)))

    def forward_rows(self, rows: torch.Tensor, keep: torch.Tensor | None = None, ends: torch.Tensor | None = None, weight: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.pooled(rows, keep, ends, weight))


class ZooEncoder(nn.Module):
    def __init__(self, vocab: list[int], dim: int = EMBED_DIM, word_end: torch.Tensor | None = None, text_hidden: int = TEXT_HIDDEN, text_depth: int = 1,
                 known_words: list[tuple[int, ...]] | None = None, unknown_weight: float = 0.0):
        super().__init__()
        self.text = TextTower(vocab, dim, word_end, text_hidden, text_depth, known_words, unknown_weight)
        self.vision = VisionTrunk(dim)
        # CLIP's learnable temperatures (log scale), one for image-text and one for image-image.
        self.logit_scale = nn.Parameter(torch.tensor(2.659))  # log(1/0.07)
        self.logit_scale_ii = nn.Parameter(torch.tensor(2.659))


def normalise_uint8(images: torch.Tensor) -> torch.Tensor:
    """uint8 [n, H, W, 3] RGB -> float32 [n, 3, H, W], CLIP-normalised."""
    x = images.permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std
