"""Aligning a random ImageBind audio tower with its text tower on labelled clips, before TAViS training
(``examples/pretrain_imagebind_audio.py``).

TAViS rests on a *pretrained* ImageBind: its frozen audio tower already tells sounds apart, and the audio embeddings
of a sound and the text embeddings of its name agree, which the pseudo-text prompts and the a2t loss build on. A model
trained from a random initialisation (the tiny SynthAVS default) has no such tower; :func:`pretrain_imagebind_audio`
gives it one, in minutes on a CPU, with ImageBind's own objective restricted to the audio–text pair: every 2-s
ImageBind audio clip of a training video is pulled towards the text embedding of its sounding classes (the
``class_ids`` column, prompt ``config.prompt_template``) and away from the others (softmax cross-entropy over the class
prompts, uniform over a clip's sounding classes, on ImageBind's own audio-to-text logits).

Trained: the ImageBind audio tower and its projection, towards the (fixed) text embeddings of the class prompts.
Everything else keeps its initialisation. The output folder is a TAViS model (``save_pretrained`` + processor) with
``pretraining.json`` (arguments, losses, top-1 audio-to-text accuracy on held-out clips).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .data import REQUIRED_COLUMNS, decoded_waveform

__all__ = ["PretrainingArguments", "audio_clips", "load_pretraining_split", "pretrain_imagebind_audio"]


@dataclasses.dataclass
class PretrainingArguments:
    """The settings of :func:`pretrain_imagebind_audio` (recorded as ``pretraining.json["arguments"]``, in this
    order). Exactly one of ``dataset_name_or_path`` (a ``DatasetDict`` folder with a train split) and ``synthavs`` (N
    generated SynthAVS 'mixed' training clips)."""

    dataset_name_or_path: str | None = None
    synthavs: int | None = None
    synthavs_image_size: int = 224
    model_preset: str = "tiny"
    config_overrides: str | None = None
    output_dir: str = ""
    steps: int = 2000
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    heldout: float = 0.1
    seed: int = 0

    def check(self) -> None:
        """Raise before anything is computed: a non-empty output folder, a bad number."""
        output_dir = Path(self.output_dir)
        if output_dir.exists() and any(output_dir.iterdir()):
            raise FileExistsError(f"{output_dir} is not empty")
        if self.steps < 1 or self.batch_size < 1 or not 0 < self.heldout < 1:
            raise ValueError("need --steps >= 1, --batch-size >= 1 and 0 < --heldout < 1")


def load_pretraining_split(args: PretrainingArguments):
    """The train split to align on: ``args.synthavs`` generated SynthAVS 'mixed' clips, or the train split of the
    ``args.dataset_name_or_path`` folder (it needs the ``audio``, ``annotated`` and ``class_ids`` columns)."""
    import datasets

    if args.synthavs is not None:
        from tavis_hf.data import make_synthavs

        if args.synthavs < 2:
            raise ValueError(f"--synthavs needs at least 2 clips, got {args.synthavs}")
        return make_synthavs({"train": args.synthavs}, mode="mixed", image_size=args.synthavs_image_size)["train"]
    dataset = datasets.load_from_disk(args.dataset_name_or_path)
    if "train" not in dataset:
        raise ValueError(f"{args.dataset_name_or_path} has no train split (splits: {sorted(dataset)})")
    missing = [name for name in ("audio", "annotated", "class_ids") if name not in dataset["train"].column_names]
    if missing:
        raise ValueError(f"the train split lacks columns {missing} (schema: {', '.join(REQUIRED_COLUMNS)})")
    return dataset["train"]


def audio_clips(split, feature_extractor) -> tuple[torch.Tensor, torch.Tensor]:
    """ImageBind log-mel clips `(M, 1, 128, 204)` of every video (one per second of video, AVSBench sampling) and
    the `(M,)` video index of each."""
    features, owners = [], []
    for index, example in enumerate(split.select_columns(["audio", "annotated"])):
        waveform, rate = decoded_waveform(example["audio"])
        clips = feature_extractor(
            waveform, sampling_rate=rate, num_clips=len(example["annotated"]), return_tensors="pt"
        )
        features.append(clips["input_features"][0])
        owners.append(torch.full((clips["input_features"].shape[1],), index))
    return torch.cat(features), torch.cat(owners)


def _random_model(args: PretrainingArguments, class_names: list[str]):
    from tavis_hf.models.tavis import TavisConfig, TavisModel, TavisProcessor

    config = getattr(TavisConfig, args.model_preset)()
    if args.config_overrides:
        config.update_from_string(args.config_overrides)
    config.id2label = dict(enumerate(class_names))
    config.label2id = {name: i for i, name in enumerate(class_names)}
    config.validate_architecture()
    return TavisModel(config), TavisProcessor.from_tavis_config(config)


def _heldout_videos(targets: torch.Tensor, heldout: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sounding, held_out)``: `(V,)` masks of the videos with a sounding class, and of those held out (a seeded
    share ``heldout`` of them, at least one)."""
    sounding = targets.sum(1) > 0
    rng = np.random.default_rng(seed)
    videos = rng.permutation(np.flatnonzero(sounding.numpy()))
    num_heldout = max(1, int(round(heldout * len(videos))))
    if len(videos) - num_heldout < 1:
        raise ValueError("too few clips with a sounding class to hold some out")
    held_out = torch.zeros(len(targets), dtype=torch.bool)
    held_out[torch.from_numpy(videos[:num_heldout])] = True
    return sounding, held_out


def _align(imagebind, features, targets, class_embeds, args: PretrainingArguments) -> list[float]:
    """``args.steps`` AdamW steps (cosine to 0) of the audio tower and its projection on random batches of `features`
    rows against the `targets` (soft labels over the classes); the towers are frozen and in eval mode after."""
    trained = (imagebind.audio_model, imagebind.audio_projection)
    for module in trained:
        module.requires_grad_(True)
    parameters = [p for module in trained for p in module.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=args.learning_rate, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps)
    generator = torch.Generator().manual_seed(args.seed)
    imagebind.train()
    losses = []
    for _ in range(args.steps):
        rows = torch.randint(len(features), (args.batch_size,), generator=generator)
        target = targets[rows]
        logits = imagebind.get_audio_features(features[rows]) @ class_embeds.T  # ImageBind's audio-to-text logits
        loss = F.cross_entropy(logits, target / target.sum(1, keepdim=True))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    imagebind.eval()
    for module in trained:
        module.requires_grad_(False)
    return losses


def _top1_accuracy(imagebind, features, targets, class_embeds) -> float:
    """Share of `features` rows whose top audio-to-text class is one of their `targets` classes."""
    with torch.no_grad():
        logits = torch.cat([imagebind.get_audio_features(chunk) @ class_embeds.T for chunk in features.split(64)])
    return float(targets[torch.arange(len(logits)), logits.argmax(1)].mean())


def pretrain_imagebind_audio(args: PretrainingArguments) -> dict:
    """Align the audio tower of a random ``TavisConfig.<model_preset>()`` model (module docstring), save the model and
    its processor to ``args.output_dir`` with ``pretraining.json``, and return that report."""
    args.check()
    torch.manual_seed(args.seed)
    split = load_pretraining_split(args)
    class_names = split.features["class_ids"].feature.names
    model, processor = _random_model(args, class_names)
    with torch.no_grad():  # the text side stays fixed: TAViS's a2t logits compare against these embeddings
        class_embeds = model.imagebind.get_text_features(input_ids=processor.encode_labels(class_names))

    started = time.perf_counter()
    features, owners = audio_clips(split, processor.feature_extractor)
    targets = torch.zeros(len(split), len(class_names))
    for index, ids in enumerate(split["class_ids"]):
        targets[index, [i for i in ids if i != 0]] = 1
    sounding, held_out = _heldout_videos(targets, args.heldout, args.seed)
    train_rows = torch.nonzero(~held_out[owners] & sounding[owners]).flatten()
    test_rows = torch.nonzero(held_out[owners]).flatten()
    losses = _align(model.imagebind, features[train_rows], targets[owners[train_rows]], class_embeds, args)
    accuracy = _top1_accuracy(model.imagebind, features[test_rows], targets[owners[test_rows]], class_embeds)
    report = {
        "arguments": dataclasses.asdict(args),
        "train_audio_clips": int(len(train_rows)),
        "heldout_audio_clips": int(len(test_rows)),
        "loss_first_100_steps": float(np.mean(losses[:100])),
        "loss_last_100_steps": float(np.mean(losses[-100:])),
        "heldout_top1_is_a_sounding_class": accuracy,
        "seconds": round(time.perf_counter() - started, 1),
    }
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    processor.save_pretrained(output_dir)
    (output_dir / "pretraining.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
