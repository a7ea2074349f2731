#!/usr/bin/env python3
"""Unit tests of the zoo encoder model (no training data needed).

    /usr/bin/python3 tools/zoo-encoder/test_model.py
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from model import CLIP_MEAN, CLIP_STD, CLIP_VOCAB, EOT, SOT, TextTower, VisionTower, VisionTrunk, normalise_uint8  # noqa: E402
from train import augment, contrastive_losses, multi_positive_nce  # noqa: E402
from model import ZooEncoder  # noqa: E402


def randomised_trunk(seed: int = 0) -> VisionTrunk:
    """A trunk with non-trivial BatchNorm statistics, in eval mode."""
    torch.manual_seed(seed)
    trunk = VisionTrunk()
    for m in trunk.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return trunk.eval()


class VisionTests(unittest.TestCase):
    def test_pooling_commutes_with_normalisation(self):
        """model(224 input) == trunk(56 input): CLIP-normalise-then-pool equals pool-then-normalise."""
        torch.set_num_threads(2)
        trunk = randomised_trunk()
        tower = VisionTower(trunk).eval()
        rgb = torch.randint(0, 256, (3, 224, 224, 3), generator=torch.Generator().manual_seed(1)).to(torch.uint8)
        full = normalise_uint8(rgb)  # [3, 3, 224, 224], the app's input
        pooled_rgb = rgb.double().reshape(3, 56, 4, 56, 4, 3).mean(dim=(2, 4))  # 4x4 average in pixel space
        x = pooled_rgb.permute(0, 3, 1, 2) / 255.0
        small = ((x - torch.tensor(CLIP_MEAN, dtype=torch.float64).view(1, 3, 1, 1)) / torch.tensor(CLIP_STD, dtype=torch.float64).view(1, 3, 1, 1)).float()
        with torch.no_grad():
            a = tower(full)
            b = trunk(small)
        self.assertLess(float((a - b).abs().max()), 1e-5)

    def test_batchnorm_folding(self):
        trunk = randomised_trunk(3)
        x = torch.randn(4, 3, 56, 56)
        with torch.no_grad():
            self.assertLess(float((trunk(x) - trunk.fused()(x)).abs().max()), 1e-5)

    def test_unit_norm_and_batch_consistency(self):
        tower = VisionTower(randomised_trunk(4)).eval()
        x = torch.randn(3, 3, 224, 224)
        with torch.no_grad():
            out = tower(x)
            one = tower(x[1:2])
        self.assertTrue(torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5))
        self.assertLess(float((out[1] - one[0]).abs().max()), 1e-5)


class TextTests(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.tower = TextTower([320, 1125, 539, 2368, 736]).eval()

    def ids(self, content, length=77):
        row = [SOT] + content + [EOT]
        return torch.tensor([row + [EOT] * (length - len(row))])

    def test_padding_and_unknown_tokens_do_not_matter(self):
        with torch.no_grad():
            a = self.tower(self.ids([320, 1125]))
            b = self.tower(self.ids([320, 1125], length=4))
            c = self.tower(self.ids([320, 9999, 1125, 12345]))  # unknown ids are skipped, not averaged in
        self.assertLess(float((a - b).abs().max()), 1e-6)
        self.assertLess(float((a - c).abs().max()), 1e-6)
        self.assertAlmostEqual(float(a.norm()), 1.0, places=5)

    def test_empty_text_is_a_finite_unit_vector(self):
        with torch.no_grad():
            e = self.tower(self.ids([]))
            u = self.tower(self.ids([777, 888]))
        self.assertTrue(torch.isfinite(e).all())
        self.assertAlmostEqual(float(e.norm()), 1.0, places=5)
        self.assertLess(float((e - u).abs().max()), 1e-6)

    def test_out_of_range_ids_are_clamped(self):
        with torch.no_grad():
            out = self.tower(torch.tensor([[SOT, -5, 736, 10**6, EOT]]))
            ref = self.tower(self.ids([736]))
        self.assertLess(float((out - ref).abs().max()), 1e-6)

    def test_start_end_tokens_rejected_from_vocab(self):
        with self.assertRaises(ValueError):
            TextTower([SOT])


class WordPoolTests(unittest.TestCase):
    """Word pooling: the known pieces of a word are averaged first, then the words."""

    def setUp(self):
        torch.manual_seed(0)
        # ids 320, 1125 end words; 539 and 2368 are word-initial/middle pieces; 736 ends a word.
        ends = torch.zeros(CLIP_VOCAB)
        ends[[320, 1125, 736, 9999]] = 1.0
        self.vocab = [320, 1125, 539, 2368, 736]
        self.tower = TextTower(self.vocab, word_end=ends).eval()

    def ids(self, content, length=77):
        row = [SOT] + content + [EOT]
        return torch.tensor([row + [EOT] * (length - len(row))])

    def pooled(self, content):
        ids = self.ids(content)
        return self.tower.pooled(self.tower.rows(ids), ends=self.tower.ends(ids))[0]

    def test_a_word_of_many_pieces_counts_once(self):
        e = self.tower.embed.weight
        row = {t: i + 1 for i, t in enumerate(self.vocab)}
        with torch.no_grad():
            # words: [539 2368 736] and [320]
            got = self.pooled([539, 2368, 736, 320])
            want = ((e[row[539]] + e[row[2368]] + e[row[736]]) / 3 + e[row[320]]) / 2
        self.assertLess(float((got - want).abs().max()), 1e-6)

    def test_one_piece_words_give_the_token_mean(self):
        plain = TextTower(self.vocab)
        plain.load_state_dict({k: v for k, v in self.tower.state_dict().items() if k != "word_end"})
        with torch.no_grad():
            a = self.tower(self.ids([320, 1125, 736]))
            b = plain.eval()(self.ids([320, 1125, 736]))
        self.assertLess(float((a - b).abs().max()), 1e-6)

    def test_unknown_pieces_and_padding_do_not_count(self):
        with torch.no_grad():
            a = self.tower(self.ids([320, 1125]))
            b = self.tower(self.ids([320, 1125], length=5))
            c = self.tower(self.ids([320, 9999, 1125]))  # an unknown one-piece word
            d = self.tower(self.ids([7777, 320, 1125]))  # an unknown piece inside the first word
        for x in (b, c, d):
            self.assertLess(float((a - x).abs().max()), 1e-6)

    def test_head_depth(self):
        deep = TextTower(self.vocab, hidden=32, depth=3)
        self.assertEqual(len(deep.mlp_mid), 2)
        with torch.no_grad():
            out = deep(self.ids([320]))
        self.assertAlmostEqual(float(out.norm()), 1.0, places=5)


class KnownWordTests(unittest.TestCase):
    """The known-word table: a word outside it weighs unknown_weight, whatever pieces it is made of."""

    def setUp(self):
        torch.manual_seed(0)
        ends = torch.zeros(CLIP_VOCAB)
        ends[[320, 1125, 736]] = 1.0
        self.vocab = [320, 1125, 539, 2368, 736]
        # Known: "320", "1125" and the three-piece word "539 2368 736"; not "539 736" or "2368 736".
        self.known = [(320,), (1125,), (539, 2368, 736)]
        self.tower = TextTower(self.vocab, word_end=ends, known_words=self.known, unknown_weight=0.0).eval()
        self.ends = ends

    def ids(self, content, length=77):
        row = [SOT] + content + [EOT]
        return torch.tensor([row + [EOT] * (length - len(row))])

    def test_weights_follow_words(self):
        w = self.tower.word_weight(self.ids([539, 2368, 736, 539, 736, 320]))[0]
        self.assertEqual(w[1:4].tolist(), [1.0, 1.0, 1.0])  # the known three-piece word
        self.assertEqual(w[4:6].tolist(), [0.0, 0.0])  # known pieces, unknown word
        self.assertEqual(float(w[6]), 1.0)

    def test_a_text_of_unknown_words_is_the_empty_text(self):
        with torch.no_grad():
            empty = self.tower(self.ids([]))
            made_up = self.tower(self.ids([539, 736, 2368, 736]))
        self.assertLess(float((empty - made_up).abs().max()), 1e-6)

    def test_unknown_words_count_but_say_nothing(self):
        t = self.tower
        with torch.no_grad():
            ids = self.ids([320, 539, 736])
            got = t.pooled(t.rows(ids), ends=t.ends(ids), weight=t.word_weight(ids))[0]
            want = t.embed.weight[1] / 2  # "320" over two words
        self.assertLess(float((got - want).abs().max()), 1e-6)

    def test_unknown_weight_between(self):
        half = TextTower(self.vocab, word_end=self.ends, known_words=self.known, unknown_weight=0.25)
        w = half.word_weight(self.ids([539, 736, 320]))[0]
        self.assertEqual(w[1:4].tolist(), [0.25, 0.25, 1.0])

    def test_false_known_rate_is_small(self):
        """Random 1-4 piece words against a table of 2,000 random known words: almost never "known"."""
        g = torch.Generator().manual_seed(1)
        ends = torch.zeros(CLIP_VOCAB)
        ends[40000:SOT] = 1.0
        word = lambda: tuple(torch.randint(1000, 40000, (int(torch.randint(0, 4, (1,), generator=g)),), generator=g).tolist()) + (int(torch.randint(40000, SOT, (1,), generator=g)),)  # noqa: E731
        known = [word() for _ in range(2000)]
        tower = TextTower([1], word_end=ends, known_words=known)
        for w in known[:50]:
            self.assertEqual(float(tower.word_weight(self.ids(list(w)))[0, 1]), 1.0)
        taken = set(known)
        probes = [w for w in (word() for _ in range(4000)) if w not in taken]
        rows = torch.cat([self.ids(list(w)) for w in probes])
        hits = float(tower.word_weight(rows)[:, 1].sum())
        self.assertLess(hits / len(probes), 0.002)

    def test_table_round_trips_through_a_checkpoint(self):
        state = self.tower.state_dict()
        again = TextTower(self.vocab, word_end=self.ends, known_words=[])
        again.load_state_dict(state)
        ids = self.ids([539, 2368, 736, 539, 736])
        self.assertTrue(torch.equal(again.word_weight(ids), self.tower.word_weight(ids)))


class LossTests(unittest.TestCase):
    def test_multi_positive_nce_perfect_is_small(self):
        labels = torch.tensor([0, 0, 1, 1])
        pos = (labels[:, None] == labels[None, :]).float()
        logits = 50 * (pos * 2 - 1)
        self.assertLess(float(multi_positive_nce(logits, pos)), 0.7)  # log(2): two equal positives

    def test_losses_finite_and_differentiable(self):
        torch.manual_seed(0)
        model = ZooEncoder([320, 1125])
        img = torch.nn.functional.normalize(torch.randn(6, 64), dim=1).requires_grad_()
        txt = torch.nn.functional.normalize(torch.randn(6, 64), dim=1)
        l_it, l_ii = contrastive_losses(model, img, txt, torch.tensor([0, 0, 1, 1, 2, 2]))
        (l_it + l_ii).backward()
        self.assertTrue(torch.isfinite(img.grad).all())

    def test_augment_is_deterministic_and_normalised(self):
        imgs = torch.randint(0, 256, (5, 56, 56, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
        sk = torch.full_like(imgs, 255)
        a, ma = augment(imgs, sk, torch.Generator().manual_seed(1), 0.5)
        b, mb = augment(imgs, sk, torch.Generator().manual_seed(1), 0.5)
        self.assertEqual(a.shape, (5, 3, 56, 56))
        self.assertTrue(torch.equal(a, b) and torch.equal(ma, mb))
        lo = (0 - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
        hi = (1 - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
        self.assertGreaterEqual(float(a.min()), lo.min() - 1e-4)
        self.assertLessEqual(float(a.max()), hi.max() + 1e-4)


class ProjectionTests(unittest.TestCase):
    def test_learns_a_scaling_and_keeps_structure(self):
        from train_projection import train_projection

        rng = np.random.RandomState(0)
        d, m = 8, 30
        means = rng.normal(size=(m, d)).astype(np.float32)
        labels = rng.randint(m, size=600)
        # Queries: the model mean plus noise that is large on the first half of the dimensions.
        noise = rng.normal(size=(600, d)) * np.r_[np.full(d // 2, 3.0), np.full(d - d // 2, 0.3)]
        queries = (means[labels] + noise).astype(np.float32)
        for structure in ("diagonal", "triangular", "full"):
            w, metrics = train_projection(queries, labels, means, structure, steps=150, lr=0.05, log=lambda *_: None)
            self.assertGreater(metrics["val_top1_after"], metrics["val_top1_before"])
            if structure == "diagonal":
                self.assertTrue(np.all(w[~np.eye(d, dtype=bool)] == 0))
            if structure == "triangular":
                self.assertTrue(np.all(np.triu(w, 1) == 0))


if __name__ == "__main__":
    unittest.main()
