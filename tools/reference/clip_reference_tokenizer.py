#!/usr/bin/env python3
"""Independent reference for the CLIP text tokenizer; writes test/fixtures/tokenizer-cases.json.

This is a port of OpenAI CLIP's ``clip/simple_tokenizer.py`` and ``clip.tokenize`` (MIT licence,
https://github.com/openai/CLIP). It deliberately shares no code with ``src/core/encode/tokenizer.ts``
(which uses the @huggingface/tokenizers library) and takes nothing from ``tokenizer.json`` except
the list of BPE merges: the vocabulary and its ids are rebuilt from the merges exactly as OpenAI
does, so the fixture checks both the library's pipeline and the id assignment.

Differences from OpenAI's code, on purpose:

* ``ftfy`` is not available. Of ``ftfy.fix_text`` we keep only its final Unicode NFC
  normalisation (ftfy's default ``normalization='NFC'``); its mojibake repairs are skipped, so
  the fixture contains only well-formed text on which they would be no-ops.
* Padding: ``clip.tokenize`` pads with 0; the Hugging Face / Xenova ONNX export pads with the end
  token 49407, which is what our ONNX text model expects, so we pad with 49407.
* Truncation follows ``clip.tokenize(..., truncate=True)``:
  ids = [SOT] + bpe_tokens[:75] + [EOT], then padded to 77.

Run from anywhere:  /usr/bin/python3 tools/reference/clip_reference_tokenizer.py
Needs the ``regex`` module (Debian: python3-regex) for \\p{L} / \\p{N}.
"""

from __future__ import annotations

import html
import json
import sys
import unicodedata
from pathlib import Path

import regex as re

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
TOKENIZER_JSON = REPO_ROOT / "public" / "tokenizers" / "clip-vit-b32" / "tokenizer.json"
FIXTURE_PATH = REPO_ROOT / "test" / "fixtures" / "tokenizer-cases.json"

CONTEXT_LENGTH = 77
VOCAB_SIZE = 49408
# OpenAI: merges = merges[1:49152-256-2+1] -- line 0 of its merges file is the "#version" header,
# so it keeps 49152 - 256 - 2 = 48894 merges (256 byte tokens * 2 + 48894 + 2 specials = 49408).
N_MERGES = 49152 - 256 - 2


def bytes_to_unicode() -> dict[int, str]:
    """Reversible map of utf-8 bytes to printable unicode characters (OpenAI / GPT-2)."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word: tuple[str, ...]) -> set[tuple[str, str]]:
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


def basic_clean(text: str) -> str:
    # OpenAI: text = ftfy.fix_text(text); only ftfy's NFC step is reproduced (see module doc).
    text = unicodedata.normalize("NFC", text)
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    return text.strip()


def load_merges(path: Path) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)["model"]["merges"]
    merges: list[tuple[str, str]] = []
    for m in raw:
        # tokenizer.json stores merges either as "a b" strings (older) or ["a", "b"] pairs (newer).
        pair = tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
        if len(pair) != 2:
            raise ValueError(f"bad merge entry: {m!r}")
        merges.append(pair)  # type: ignore[arg-type]
    # Unlike OpenAI's merges.txt, HF's tokenizer.json has no "#version" header line, so the
    # OpenAI slice [1:48895] becomes [0:48894] here.
    if merges and merges[0][0].startswith("#version"):
        merges = merges[1:]
    if len(merges) < N_MERGES:
        raise ValueError(f"expected at least {N_MERGES} merges, got {len(merges)}")
    return merges[:N_MERGES]


class SimpleTokenizer:
    def __init__(self, merges: list[tuple[str, str]]):
        self.byte_encoder = bytes_to_unicode()
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + "</w>" for v in vocab]
        for merge in merges:
            vocab.append("".join(merge))
        vocab.extend(["<|startoftext|>", "<|endoftext|>"])
        if len(vocab) != VOCAB_SIZE:
            raise ValueError(f"vocab size {len(vocab)} != {VOCAB_SIZE}")
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
        self.pat = re.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            re.IGNORECASE,
        )
        self.sot = self.encoder["<|startoftext|>"]
        self.eot = self.encoder["<|endoftext|>"]

    def bpe(self, token: str) -> str:
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word: list[str] = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        out = " ".join(word)
        self.cache[token] = out
        return out

    def encode(self, text: str) -> list[int]:
        """Content tokens only (no start/end token), as OpenAI's SimpleTokenizer.encode."""
        bpe_tokens: list[int] = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            bpe_tokens.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return bpe_tokens

    def tokenize(self, text: str) -> list[int]:
        """clip.tokenize(text, truncate=True), padded with EOT (HF/Xenova ONNX convention)."""
        content = self.encode(text)[: CONTEXT_LENGTH - 2]
        ids = [self.sot] + content + [self.eot]
        return ids + [self.eot] * (CONTEXT_LENGTH - len(ids))


# --------------------------------------------------------------------------------------------
# Fixture strings

LONG_WORDS = (
    "the quick brown fox jumps over a lazy dog while seventeen painted horses gallop across "
    "misty hills beneath an orange sky and curious children photograph everything they see "
    "with old film cameras generative models render surreal castles floating above oceans"
).split()


def long_text(n_words: int) -> str:
    return " ".join(LONG_WORDS[i % len(LONG_WORDS)] for i in range(n_words))


def text_with_exact_tokens(tok: SimpleTokenizer, target: int) -> str:
    """Deterministic text whose un-truncated encoding has exactly `target` content tokens.

    Varied words (some multi-token) followed by single digits, which CLIP always encodes as one
    token each, to land on the exact count.
    """
    words: list[str] = []
    i = 0
    while True:
        candidate = words + [LONG_WORDS[i % len(LONG_WORDS)]]
        if len(tok.encode(" ".join(candidate))) > target - 3:
            break
        words = candidate
        i += 1
    digit = 0
    while len(tok.encode(" ".join(words))) < target:
        words.append(str(digit % 10))
        digit += 1
    text = " ".join(words)
    assert len(tok.encode(text)) == target, (target, len(tok.encode(text)))
    return text


def build_cases(tok: SimpleTokenizer) -> list[dict]:
    texts: list[tuple[str, str]] = [
        ("a photo of a cat", "known value"),
        ("Hello, world!!! ... what?!", "punctuation runs"),
        ("in 2024 there were 1,234,567 images", "digits are one token each"),
        ("a 🐱 wearing a 🎩 😀", "emoji (byte-level BPE)"),
        ("café crème brûlée, naïve Zoë", "accented Latin (precomposed)"),
        ("cafe\u0301 cre\u0300me", "decomposed accents: NFC in both pipelines"),
        ("  A   PHOTO\tof\nA Dog  ", "case and whitespace normalisation"),
        ("it's what we've done, you'll see", "contractions"),
        ("I'M SURE IT'S FINE, THEY'D SAY", "upper-case contractions"),
        ("東京の猫", "CJK"),
        ("Ελληνικά και русский текст", "Greek and Cyrillic"),
        ("Tom & Jerry <b>bold</b>", "ampersand and angle brackets (no entities)"),
        ("", "empty string"),
        ("   \t\n  ", "whitespace only"),
        ("an astronaut riding a horse, trending on artstation, 8k, octane render",
         "typical prompt"),
        (long_text(500), "500 words: truncated to 75 content tokens, EOT last"),
        (text_with_exact_tokens(tok, 75), "exactly 75 content tokens: fits, no truncation"),
        (text_with_exact_tokens(tok, 76), "76 content tokens: last one dropped"),
    ]
    # Known divergences between OpenAI's algorithm and the HF tokenizer.json pipeline, therefore
    # NOT in the fixture (they are not bugs of either side, just different preprocessing):
    #  * HTML entities, e.g. "Tom &amp; Jerry": OpenAI applies html.unescape twice (-> "tom & jerry"),
    #    HF does not (it tokenizes "&amp;" literally).
    #  * Special-token text typed by the user in other case, e.g. "<|ENDOFTEXT|>": OpenAI lower-cases
    #    first and then maps it to the special id 49407; in HF, <|endoftext|> is an added token with
    #    normalized=false, matched only verbatim before normalisation, so the lower-cased copy is
    #    split into ordinary BPE tokens.
    #  * Text that ftfy would repair (mojibake such as "cafÃ©"): ftfy is not available here.
    cases = []
    for text, note in texts:
        ids = tok.tokenize(text)
        assert len(ids) == CONTEXT_LENGTH
        cases.append({"note": note, "text": text, "contentTokens": len(tok.encode(text)), "ids": ids})
    return cases


def main() -> int:
    merges = load_merges(TOKENIZER_JSON)
    tok = SimpleTokenizer(merges)

    expected = [49406, 320, 1125, 539, 320, 2368, 49407]
    got = tok.tokenize("a photo of a cat")[: len(expected)]
    if got != expected:
        print(f"sanity check failed: {got} != {expected}", file=sys.stderr)
        return 1

    cases = build_cases(tok)
    FIXTURE_PATH.parent.mkdir(parents=True, exist_ok=True)
    with open(FIXTURE_PATH, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {FIXTURE_PATH.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
