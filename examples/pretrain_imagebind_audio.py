#!/usr/bin/env python
"""Align a random ImageBind's audio tower with its text tower on labelled clips, before TAViS training.

TAViS rests on a *pretrained* ImageBind: its frozen audio tower already tells sounds apart, and the audio
embeddings of a sound and the text embeddings of its name agree, which the pseudo-text prompts and the a2t loss
build on. A model trained from a random initialisation (the tiny SynthAVS default) has no such tower; this script
gives it one, in minutes on a CPU, with ImageBind's own objective restricted to the audio–text pair: every 2-s
ImageBind audio clip of a training video is pulled towards the text embedding of its sounding classes (the
``class_ids`` column, prompt ``config.prompt_template``) and away from the others (softmax cross-entropy over the
class prompts, uniform over a clip's sounding classes, on ImageBind's own audio-to-text logits).

    python examples/pretrain_imagebind_audio.py --synthavs 800 --synthavs_image_size 64 --model_preset tiny \\
        --output_dir runs/imagebind_audio
    python examples/train_tavis.py --model_name_or_path runs/imagebind_audio ...  # then TAViS (+ --train_imagebind_audio)

Trained: the ImageBind audio tower and its projection, towards the (fixed) text embeddings of the class prompts.
Everything else keeps its initialisation. The output folder is a TAViS model (``save_pretrained`` + processor)
with ``pretraining.json`` (arguments, losses, top-1 audio-to-text accuracy on held-out clips).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from tavis_hf.models.tavis import TavisConfig, TavisModel, TavisProcessor
from tavis_hf.training import REQUIRED_COLUMNS, decoded_waveform


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--dataset_name_or_path", help="DatasetDict folder (save_to_disk) with a train split")
    data.add_argument("--synthavs", type=int, metavar="N", help="generate N SynthAVS 'mixed' training clips instead")
    parser.add_argument("--synthavs_image_size", type=int, default=224, help="SynthAVS frame size (default: 224)")
    parser.add_argument("--model_preset", default="tiny", choices=("tiny",), help="random TavisConfig preset")
    parser.add_argument(
        "--config_overrides",
        help="comma-separated TavisConfig fields; dotted keys reach the sub-configs (TavisConfig.update_from_string)",
    )
    parser.add_argument("--output_dir", required=True, help="output folder (must not exist or be empty)")
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps (default: 2000)")
    parser.add_argument("--batch_size", type=int, default=32, help="2-s audio clips per step (default: 32)")
    parser.add_argument("--learning_rate", type=float, default=1e-3, help="AdamW learning rate, cosine to 0")
    parser.add_argument("--weight_decay", type=float, default=0.01, help="AdamW weight decay")
    parser.add_argument("--heldout", type=float, default=0.1, help="share of videos held out for the accuracy")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initialisation and the batches")
    return parser.parse_args(argv)


def load_train_split(args):
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


def main(argv=None) -> dict:
    args = parse_args(argv)
    output_dir = Path(args.output_dir)
    if output_dir.exists() and any(output_dir.iterdir()):
        raise FileExistsError(f"{output_dir} is not empty")
    if args.steps < 1 or args.batch_size < 1 or not 0 < args.heldout < 1:
        raise ValueError("need --steps >= 1, --batch_size >= 1 and 0 < --heldout < 1")
    torch.manual_seed(args.seed)
    split = load_train_split(args)
    class_names = split.features["class_ids"].feature.names
    config = getattr(TavisConfig, args.model_preset)()
    if args.config_overrides:
        config.update_from_string(args.config_overrides)
    config.id2label = dict(enumerate(class_names))
    config.label2id = {name: i for i, name in enumerate(class_names)}
    config.validate_architecture()
    model = TavisModel(config)
    processor = TavisProcessor.from_tavis_config(config)
    with torch.no_grad():  # the text side stays fixed: TAViS's a2t logits compare against these embeddings
        class_embeds = model.imagebind.get_text_features(input_ids=processor.encode_labels(class_names))

    started = time.perf_counter()
    features, owners = audio_clips(split, processor.feature_extractor)
    targets = torch.zeros(len(split), len(class_names))
    for index, ids in enumerate(split["class_ids"]):
        targets[index, [i for i in ids if i != 0]] = 1
    sounding = targets.sum(1) > 0
    rng = np.random.default_rng(args.seed)
    videos = rng.permutation(np.flatnonzero(sounding.numpy()))
    num_heldout = max(1, int(round(args.heldout * len(videos))))
    if len(videos) - num_heldout < 1:
        raise ValueError("too few clips with a sounding class to hold some out")
    heldout = torch.zeros(len(split), dtype=torch.bool)
    heldout[torch.from_numpy(videos[:num_heldout])] = True
    train_rows = torch.nonzero(~heldout[owners] & sounding[owners]).flatten()
    test_rows = torch.nonzero(heldout[owners]).flatten()

    imagebind = model.imagebind
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
        rows = train_rows[torch.randint(len(train_rows), (args.batch_size,), generator=generator)]
        target = targets[owners[rows]]
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

    with torch.no_grad():
        logits = torch.cat(
            [imagebind.get_audio_features(chunk) @ class_embeds.T for chunk in features[test_rows].split(64)]
        )
    accuracy = float(targets[owners[test_rows], logits.argmax(1)].mean())
    report = {
        "arguments": vars(args),
        "train_audio_clips": int(len(train_rows)),
        "heldout_audio_clips": int(len(test_rows)),
        "loss_first_100_steps": float(np.mean(losses[:100])),
        "loss_last_100_steps": float(np.mean(losses[-100:])),
        "heldout_top1_is_a_sounding_class": accuracy,
        "seconds": round(time.perf_counter() - started, 1),
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    processor.save_pretrained(output_dir)
    (output_dir / "pretraining.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
