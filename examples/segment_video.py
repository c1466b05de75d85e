"""Segment the sounding objects of a video with sound; writes masks (PNG), a JSON summary and an overlay video.

    python examples/segment_video.py concert.mp4 --model path/to/tavis-model --labels man guitar piano \
        --mode semantic --output-dir concert_masks

Without `--model` the package's default model is used (`tavis_hf.pipelines.DEFAULT_MODEL_DIR`; an error explains
when it is not shipped). The same as `tavis-hf segment`: both run `tavis_hf.segmentation.segment_video`. The per-frame
results alone, without files, come from the pipeline:

    import tavis_hf
    from transformers import pipeline
    frames = pipeline("audio-visual-segmentation", model="path/to/tavis-model")("concert.mp4", mode="semantic")
"""

import argparse
import json

from tavis_hf.segmentation import segment_video


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("video", help="video file (mp4, avi, mkv, webm, mov, ...) with an audio stream, or a URL")
    parser.add_argument("--model", help="TAViS model folder or Hub id (default: the packaged model)")
    parser.add_argument("--labels", nargs="+", help="candidate class names (default: the model's vocabulary)")
    parser.add_argument("--output-dir", default="tavis_output")
    parser.add_argument("--mode", choices=["binary", "semantic", "instances"], default="binary")
    parser.add_argument("--fps", type=float, default=1.0, help="sampled frames per second (AVSBench: 1)")
    parser.add_argument("--threshold", type=float, default=0.5, help="mask probability threshold")
    parser.add_argument(
        "--temporal",
        choices=["per-frame", "tracking", "clip"],
        default="per-frame",
        help="per-frame (independent frames) or tracking (SAM2 memory over 5-s windows; 'clip' is its former name)",
    )
    parser.add_argument("--device", help="torch device (default: CPU)")
    args = parser.parse_args()
    summary = segment_video(
        args.video,
        model=args.model,
        labels=args.labels,
        output_dir=args.output_dir,
        mode=args.mode,
        fps=args.fps,
        threshold=args.threshold,
        temporal=args.temporal,
        device=args.device,
    )
    frames = summary.pop("frames")
    summary["frames_with_segments"] = sum(bool(frame["segments"]) for frame in frames)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
