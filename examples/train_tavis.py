#!/usr/bin/env python
"""Fine-tune TAViS on AVSBench or SynthAVS (or any dataset with the same schema) with 🤗 Accelerate.

    accelerate launch [--config_file examples/accelerate_configs/multi_gpu.yaml] examples/train_tavis.py \
        --subset s4 --dataset-name-or-path avsbench_s4/ --model-name-or-path tavis-s4-hf --output-dir runs/s4 \
        [--config examples/configs/s4.yaml] [--mixed-precision bf16] [--resume-from-checkpoint latest]

The same run as ``accelerate launch -m tavis_hf.training ...`` and ``tavis-hf train -- ...``: this script only parses
the command line and calls the library (``tavis_hf.training.loop``, where the phases of the loop are). Defaults are
the authors' recipe for the subset (``tavis_hf.training.SUBSET_DEFAULTS``); every recipe value can be set in a
JSON/YAML file (``--config``) and overridden on the command line. The model's behaviour is its config's:
``--config-overrides`` changes it (e.g. ``imagebind_train_mode=true``). Every option also accepts its underscore
spelling (``--output_dir``).

Output folder: ``recipe.json`` (what resuming checks), ``checkpoints/step_<n>/`` (Accelerate states, rotated),
``best_model/`` (weights + processor at the best val epoch, or the last with ``--no-select-best-model``),
``metrics.json`` (val per epoch, best, test),
``logs/`` (trackers) and ``final/`` (best weights, processor and model card, ready for the Hub).
"""

from tavis_hf.training import parse_args, train
from tavis_hf.training.loop import library_progress_bars


def main(argv=None) -> dict:
    args, recipe = parse_args(argv, description=__doc__.split("\n\n")[0])
    with library_progress_bars(enabled=not args.no_progress):
        return train(args, recipe)


if __name__ == "__main__":
    main()
