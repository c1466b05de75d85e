#!/usr/bin/env python
"""Align a random ImageBind's audio tower with its text tower on labelled clips, before TAViS training.

A model trained from a random initialisation (the tiny SynthAVS default) has no pretrained ImageBind audio tower to
build on; this script gives it one, in minutes on a CPU (`tavis_hf.training.audio_pretraining` says how):

    python examples/pretrain_imagebind_audio.py --synthavs 800 --synthavs-image-size 64 --model-preset tiny \\
        --output-dir runs/imagebind_audio
    python examples/train_tavis.py --model-name-or-path runs/imagebind_audio ...  # then TAViS (+ --train-imagebind-audio)

The output folder is a TAViS model (``save_pretrained`` + processor) with ``pretraining.json`` (arguments, losses,
top-1 audio-to-text accuracy on held-out clips). Every option also accepts its underscore spelling (--output_dir).
"""

import argparse
import json

from tavis_hf.training import option_strings
from tavis_hf.training.audio_pretraining import PretrainingArguments, audio_clips, pretrain_imagebind_audio

__all__ = ["audio_clips", "main", "parse_args"]


def parse_args(argv=None) -> PretrainingArguments:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])

    def add(container, name, **kwargs):
        container.add_argument(*option_strings(name), dest=name, **kwargs)

    data = parser.add_mutually_exclusive_group(required=True)
    add(data, "dataset_name_or_path", help="DatasetDict folder (save_to_disk) with a train split")
    add(data, "synthavs", type=int, metavar="N", help="generate N SynthAVS 'mixed' training clips instead")
    add(parser, "synthavs_image_size", type=int, default=224, help="SynthAVS frame size (default: 224)")
    add(parser, "model_preset", default="tiny", choices=("tiny",), help="random TavisConfig preset")
    add(
        parser,
        "config_overrides",
        help="comma-separated TavisConfig fields; dotted keys reach the sub-configs (TavisConfig.update_from_string)",
    )
    add(parser, "output_dir", required=True, help="output folder (must not exist or be empty)")
    add(parser, "steps", type=int, default=2000, help="optimizer steps (default: 2000)")
    add(parser, "batch_size", type=int, default=32, help="2-s audio clips per step (default: 32)")
    add(parser, "learning_rate", type=float, default=1e-3, help="AdamW learning rate, cosine to 0")
    add(parser, "weight_decay", type=float, default=0.01, help="AdamW weight decay")
    add(parser, "heldout", type=float, default=0.1, help="share of videos held out for the accuracy")
    add(parser, "seed", type=int, default=0, help="seed of the initialisation and the batches")
    return PretrainingArguments(**vars(parser.parse_args(argv)))


def main(argv=None) -> dict:
    report = pretrain_imagebind_audio(parse_args(argv))
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
