"""ImageBind port: parameter counts, CPU forward time per tower, audio feature-extraction time. Prints JSON.

    python benchmarks/imagebind.py [--presets tiny huge] [--repeats 3] [--threads N]

Parameter counts use the `imagebind_huge` preset built on the meta device (no memory). Forward timings use random
weights (the huge model needs ~4.3 GB RAM), batch 1, fp32, no grad: vision 224 px and 112 px (TAViS), text 77
tokens, audio one 128x204 clip; the median of `--repeats` runs after one warm-up run.
"""

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch

from tavis_hf.models.imagebind import ImageBindAudioFeatureExtractor, ImageBindConfig, ImageBindModel

PRESETS = {"tiny": ImageBindConfig.tiny, "huge": ImageBindConfig.imagebind_huge}


def parameter_counts(model: ImageBindModel) -> dict[str, int]:
    """Per tower, including its head (LayerNorm + projection) and, for text, the logit scale."""

    def count(*modules):
        return sum(p.numel() for m in modules for p in m.parameters())

    return {
        "vision": count(model.vision_model, model.visual_projection),
        "text": count(model.text_model, model.text_projection) + model.text_logit_scale.numel(),
        "audio": count(model.audio_model, model.audio_projection),
        "total": count(model),
    }


def median_seconds(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def random_model(config: ImageBindConfig) -> ImageBindModel:
    """Random weights without the (slow) initialisation of a 1B-parameter model."""
    with torch.device("meta"):
        model = ImageBindModel(config)
    model = model.to_empty(device="cpu").eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.normal_(1.0 if param.ndim == 1 and name.endswith("weight") else 0.0, 0.02, generator=generator)
        for module in (model.vision_model.embeddings, model.text_model.embeddings):
            module.position_ids.copy_(torch.arange(module.position_ids.shape[-1])[None])
    return model


@torch.no_grad()
def forward_times(config: ImageBindConfig, repeats: int) -> dict[str, float]:
    model = random_model(config)
    ids = torch.zeros(1, 77, dtype=torch.long)
    ids[0, :3] = torch.tensor([49406, 320, 49407])
    inputs = {
        "vision_224px": lambda: model.get_image_features(torch.rand(1, 3, 224, 224)),
        "vision_112px": lambda: model.get_image_features(torch.rand(1, 3, 112, 112)),
        "text_77_tokens": lambda: model.get_text_features(input_ids=ids),
        "audio_1_clip": lambda: model.get_audio_features(torch.randn(1, 1, 128, 204)),
    }
    return {name: round(median_seconds(fn, repeats), 4) for name, fn in inputs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "huge"], choices=sorted(PRESETS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with torch.device("meta"):
        huge = ImageBindModel(ImageBindConfig.imagebind_huge())
    extractor = ImageBindAudioFeatureExtractor()
    audio = (0.1 * np.random.default_rng(0).standard_normal(5 * 16000)).astype(np.float32)
    result = {
        "environment": {
            "torch": torch.__version__,
            "threads": args.threads,
            "machine": platform.machine(),
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),  # other processes skew CPU timings
        },
        "parameters_huge": parameter_counts(huge),
        "parameters_huge_millions": {k: round(v / 1e6, 1) for k, v in parameter_counts(huge).items()},
        "cpu_forward_seconds_batch1": {
            preset: forward_times(PRESETS[preset](), args.repeats) for preset in args.presets
        },
        "audio_feature_extraction_seconds_5s_3clips": round(
            median_seconds(lambda: extractor(audio, sampling_rate=16000), args.repeats), 4
        ),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
