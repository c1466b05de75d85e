"""ImageBind's text tokenisation through transformers' `CLIPTokenizer`.

ImageBind tokenises with OpenAI's CLIP byte-level BPE (`bpe_simple_vocab_16e6.txt.gz`, MIT-licensed vocabulary):
text cleaned with ftfy, double HTML unescaping, whitespace collapsing and lowercasing; output
`[<|startoftext|>] + ids[:75] + [<|endoftext|>]`, zero-padded to 77. The fast `CLIPTokenizer` built from the same
BPE file gives identical ids once the text is pre-cleaned the same way and the padding is done with id 0 (its own
pad token is `<|endoftext|>`, which would change the trunk tokens after EOT).
"""

import gzip
import html
import os

import ftfy
import regex
import torch
from transformers import CLIPTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

__all__ = [
    "IMAGEBIND_CONTEXT_LENGTH",
    "IMAGEBIND_NUM_MERGES",
    "build_imagebind_tokenizer",
    "clean_imagebind_text",
    "load_bpe_merges",
    "tokenize_imagebind",
]

IMAGEBIND_CONTEXT_LENGTH = 77
# 49,408 ids = 512 byte symbols + 48,894 merges + 2 special tokens.
IMAGEBIND_NUM_MERGES = 49152 - 256 - 2
_WHITESPACE = regex.compile(r"\s+")


def clean_imagebind_text(text: str) -> str:
    """The authors' cleaning: `ftfy.fix_text`, `html.unescape` twice, strip, collapse whitespace, lowercase."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}.")
    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return _WHITESPACE.sub(" ", text).strip().lower()


def load_bpe_merges(bpe_path: str | os.PathLike, num_merges: int = IMAGEBIND_NUM_MERGES) -> list[tuple[str, str]]:
    """Read the first `num_merges` merges (after the header line) of a gzipped CLIP BPE file such as the authors'
    `bpe_simple_vocab_16e6.txt.gz`. A missing file is a `FileNotFoundError`, one that is not gzipped UTF-8 text a
    `ValueError`, both naming it."""
    if not os.path.isfile(bpe_path):
        raise FileNotFoundError(f"no such BPE vocabulary file: {bpe_path} (ImageBind's bpe_simple_vocab_16e6.txt.gz)")
    try:
        with gzip.open(bpe_path, "rt", encoding="utf-8") as handle:
            lines = handle.read().split("\n")
    except (gzip.BadGzipFile, EOFError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{bpe_path} is not a gzipped BPE vocabulary ({error}); give bpe_simple_vocab_16e6.txt.gz"
        ) from error
    merges = [tuple(line.split()) for line in lines[1 : num_merges + 1]]
    if len(merges) != num_merges or any(len(merge) != 2 for merge in merges):
        raise ValueError(f"{bpe_path} does not hold {num_merges} two-symbol BPE merges after its header line.")
    return merges


def build_imagebind_tokenizer(merges: list[tuple[str, str]]) -> CLIPTokenizer:
    """A `CLIPTokenizer` with ImageBind's vocabulary: the 256 byte symbols, the same with `</w>`, one entry per merge
    (in order), then `<|startoftext|>` and `<|endoftext|>` (49406 and 49407 with the full merge list)."""
    symbols = list(bytes_to_unicode().values())
    vocab_list = symbols + [symbol + "</w>" for symbol in symbols] + ["".join(merge) for merge in merges]
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: index for index, token in enumerate(vocab_list)}
    if len(vocab) != len(vocab_list):
        raise ValueError("The BPE merges produce duplicate vocabulary entries.")
    return CLIPTokenizer(vocab=vocab, merges=[tuple(merge) for merge in merges])


def tokenize_imagebind(
    tokenizer: CLIPTokenizer, texts: str | list[str], context_length: int = IMAGEBIND_CONTEXT_LENGTH
) -> torch.LongTensor:
    """Ids exactly as ImageBind's `SimpleTokenizer`: `(batch, context_length)`, SOT + at most
    `context_length - 2` BPE ids + EOT (EOT is kept for long texts), zero-padded."""
    if isinstance(texts, str):
        texts = [texts]
    cleaned = [clean_imagebind_text(text) for text in texts]
    encoded = tokenizer(cleaned, truncation=True, max_length=context_length, add_special_tokens=True)["input_ids"]
    ids = torch.zeros(len(encoded), context_length, dtype=torch.long)
    for row, tokens in enumerate(encoded):
        ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
    return ids
