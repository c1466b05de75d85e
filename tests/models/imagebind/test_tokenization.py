"""ImageBind tokenisation through CLIPTokenizer.

Always-on tests build a small BPE themselves and compare against a plain re-statement of the authors' documented
procedure (clean, split, byte-encode, rank-ordered BPE, SOT/EOT, truncate keeping EOT, zero padding). The parity
test against the authors' `SimpleTokenizer` with the real vocabulary runs when `IMAGEBIND_OFFICIAL_SRC` is set.
"""

import gzip
import os

import pytest
import regex
import torch
from transformers import AutoTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

from tavis_hf.models.imagebind import build_imagebind_tokenizer, clean_imagebind_text, load_bpe_merges
from tavis_hf.models.imagebind import tokenize_imagebind as tokenize

from ...parity import HOW_TO_ENABLE
from .official import import_official, official_source

TEXTS = [
    "A dog.",
    "a photo of THE   cat\n\twith tabs",
    "“Curly quotes” and 'straight' ones, it's they'll we'd",
    "&amp;lt;b&amp;gt; HTML &quot;entities&quot; &#39;x&#39;",
    "Café naïve résumé — Ã© mojibake, ﬁ ligature, ＦＵＬＬ width",
    "digits 12345 and symbols !!! ??? #tag @user",
    " ".join(["the dog barks at the cat"] * 20),  # far over 75 BPE tokens: truncated, EOT kept
    "",
]
SPLIT = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE,
)
SMALL_MERGES = [
    ("t", "h"),
    ("th", "e</w>"),
    ("d", "o"),
    ("do", "g</w>"),
    ("c", "a"),
    ("ca", "t</w>"),
    ("a", "t</w>"),
    ("b", "a"),
    ("ba", "r"),
    ("bar", "k"),
    ("bark", "s</w>"),
    ("p", "h"),
    ("o", "t"),
    ("ph", "ot"),
    ("phot", "o</w>"),
    ("e", "s</w>"),
    ("i", "t"),
    ("Ã", "©"),
]


def reference_ids(merges, text, context_length=77):
    """ImageBind's tokenisation, restated independently of the package code."""
    byte_encoder = bytes_to_unicode()
    symbols = list(byte_encoder.values())
    vocab = (
        symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    )
    encoder = {token: index for index, token in enumerate(vocab)}
    ranks = {merge: rank for rank, merge in enumerate(merges)}
    ids = []
    for word in SPLIT.findall(clean_imagebind_text(text)):
        parts = [byte_encoder[b] for b in word.encode("utf-8")]
        parts[-1] += "</w>"
        while len(parts) > 1:
            pairs = [(ranks.get((a, b), float("inf")), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, _ = min(pairs)
            if rank == float("inf"):
                break
            best = merges[rank]
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids += [encoder[p] for p in parts]
    tokens = [encoder["<|startoftext|>"]] + ids[: context_length - 2] + [encoder["<|endoftext|>"]]
    return tokens + [0] * (context_length - len(tokens))


@pytest.fixture(scope="module")
def small_tokenizer():
    return build_imagebind_tokenizer(SMALL_MERGES)


def test_ids_match_reference_procedure(small_tokenizer):
    ids = tokenize(small_tokenizer, TEXTS)
    expected = torch.tensor([reference_ids(SMALL_MERGES, text) for text in TEXTS])
    assert ids.shape == (len(TEXTS), 77) and ids.dtype == torch.long
    torch.testing.assert_close(ids, expected, rtol=0, atol=0)


def test_special_tokens_padding_and_truncation(small_tokenizer):
    eot = 512 + len(SMALL_MERGES) + 1
    ids = tokenize(small_tokenizer, ["the dog", TEXTS[6], ""])
    assert ids[:, 0].tolist() == [eot - 1] * 3
    assert ids[0, :4].tolist() == [eot - 1, 512 + 1, 512 + 3, eot] and ids[0, 4:].eq(0).all()
    assert ids[1, 76] == eot and ids[1].eq(eot).sum() == 1  # long text: EOT kept at the last position
    assert ids[2, :2].tolist() == [eot - 1, eot]
    assert ids.argmax(-1).tolist() == [3, 76, 1]


def test_cleaning():
    assert clean_imagebind_text("  &amp;amp; A\u00a0 B\n“Q”  ") == '& a b "q"'  # ftfy straightens quotes
    assert clean_imagebind_text("cafÃ©") == "café"  # ftfy repairs mojibake
    with pytest.raises(TypeError, match="str"):
        clean_imagebind_text(None)


def test_load_bpe_merges_and_save_round_trip(tmp_path, small_tokenizer):
    path = tmp_path / "bpe.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in SMALL_MERGES) + "\nx y\n")
    assert load_bpe_merges(path, num_merges=len(SMALL_MERGES)) == SMALL_MERGES
    with pytest.raises(ValueError, match="merges"):
        load_bpe_merges(path, num_merges=len(SMALL_MERGES) + 5)
    small_tokenizer.save_pretrained(tmp_path / "tok")
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "tok")
    torch.testing.assert_close(tokenize(reloaded, TEXTS), tokenize(small_tokenizer, TEXTS), rtol=0, atol=0)


@pytest.mark.slow
def test_ids_match_official_simple_tokenizer():
    """The real BPE vocabulary against the authors' SimpleTokenizer (needs IMAGEBIND_OFFICIAL_SRC)."""
    bpe_path = os.path.join(official_source(), "imagebind", "bpe", "bpe_simple_vocab_16e6.txt.gz")
    if not os.path.isfile(bpe_path):
        pytest.skip(f"the ImageBind checkout lacks its BPE vocabulary {bpe_path}: {HOW_TO_ENABLE}")
    official = import_official("multimodal_preprocessors").SimpleTokenizer(bpe_path)
    tokenizer = build_imagebind_tokenizer(load_bpe_merges(bpe_path))
    texts = TEXTS + [f"A {label}" for label in ("dog", "baby laughing", "ambulance siren")]
    torch.testing.assert_close(tokenize(tokenizer, texts), official(texts), rtol=0, atol=0)
