"""The `tavis-hf` command: segment, evaluate, build-dataset, synth, convert, train, demo, push, card.

Every command runs from the installed package (no repository checkout): `train` runs the packaged training under
accelerate with the same Python, `python -m accelerate.commands.launch [accelerate options] -m tavis_hf.training
[training options]` (`--script` runs a training script instead), and `demo` runs the packaged Gradio app,
`python -m tavis_hf.demo [app options]` (needs the `demo` extra; `--app` runs an app script instead); `--dry-run`
prints either command line instead of running it. Each subcommand's parser is built by `_register_<command>`, right
after its handler `_<command>`; `build_parser` registers them in the order `tavis-hf --help` lists them.

Each subcommand imports what it needs inside its handler, so `tavis-hf --help` (and every `--help`) stays fast and
imports no torch-heavy module. Bad input gives one line on stderr, `tavis-hf <command>: error: <message>`, and exit
status 2 (never a traceback): a missing file or model folder, a video without sound, a URL that cannot be fetched, a
video over `--max-duration`, an empty label list, a malformed option, a device this machine does not have, an output
path that cannot be written (checked before the work), a subcommand whose backing module is not installed. Errors the
library raises for bad input (`USER_ERRORS`: `ValueError` and so `tavis_hf.media.MediaError`, `TypeError`,
`LookupError`, `OSError` and so `FileNotFoundError`, and the input-file errors of huggingface_hub, safetensors and
pickle) are reported the same way. Any other exception is a bug of ours: one line saying so, exit status 1. Set
`TAVIS_HF_TRACEBACK=1` to get the traceback of either instead.

`--device` (segment, evaluate) defaults to the best device this machine has (`tavis_hf.devices.resolve_device`: cuda,
else mps, else cpu); `--model` is checked as a model folder or Hub id before anything loads
(`tavis_hf.model_sources.check_model_source`); `segment` takes a video path or an `http(s)` URL, as the pipeline does.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

TRAIN_MODULE = "tavis_hf.training"
"""The training `train` runs under `accelerate launch` (`-m tavis_hf.training`, shipped in the package); `--script`
runs a training script instead (e.g. the repository's `examples/train_tavis.py`)."""
DEFAULT_MAX_DURATION = 300.0
"""Longest video (seconds) `segment` accepts unless `--max-duration` says otherwise."""
MAX_FPS = 60.0
"""Most frames per second `segment --fps` samples (AVSBench samples 1)."""


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


USER_ERRORS = (ValueError, TypeError, LookupError, OSError)
"""Exceptions the library raises for bad input: reported as one line, exit status 2."""
LIBRARY_INPUT_ERRORS = (
    "huggingface_hub.errors.StrictDataclassError",  # a config.json whose values a config class refuses
    "safetensors._safetensors_rust.SafetensorError",  # a damaged weights file
    "_pickle.UnpicklingError",  # a file torch.load cannot read
)
"""Further bad-input exceptions, named by module and class (importing their libraries would slow down every command)."""


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2), pointing to `--help` instead of printing the usage."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _load(module: str, attribute: str, command: str):
    """Import `module.attribute` for `command`, turning an absent module or dependency into a `CLIError`."""
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name and (module == error.name or module.startswith(error.name + ".")):
            raise CLIError(f"`tavis-hf {command}` needs {module}, which this installation does not have yet") from error
        raise CLIError(
            f"`tavis-hf {command}` needs the Python package {error.name!r}, which is not installed "
            "(see the README's optional extras: video, demo, train)"
        ) from error
    if not hasattr(loaded, attribute):
        raise CLIError(f"`tavis-hf {command}` needs {module}.{attribute}, which this installation does not have yet")
    return getattr(loaded, attribute)


def _existing_file(path: str, what: str) -> Path:
    file = Path(path)
    if not file.exists():
        raise CLIError(f"no such {what}: {path}")
    if not file.is_file():
        raise CLIError(f"{what} {path} is not a file")
    return file


def _writable_output(path: str, option: str, folder: bool = True) -> Path:
    """`path` (a folder when `folder`, else a file) can be created or written: nothing of the other kind is in the
    way, and the nearest folder that exists on the way to it (the folder itself, when it exists) is writable."""
    output = Path(path)
    if output.exists() and folder != output.is_dir():
        raise CLIError(f"{option} {path} is a {'file, not a folder' if folder else 'folder; give a file name'}")
    if output.is_file():  # an existing file is overwritten in place
        if not os.access(output, os.W_OK):
            raise CLIError(f"{option} {path} cannot be written (permission denied); choose a writable place")
        return output
    existing = next(parent for parent in [output, *output.parents] if parent.exists())
    if not existing.is_dir():
        raise CLIError(f"{option} {path} cannot be made: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CLIError(f"{option} {path} cannot be written ({existing}: permission denied); choose a writable place")
    return output


def _checked_model(model: str | None, command: str) -> str | None:
    """`--model` checked as a model folder or Hub id (`tavis_hf.model_sources`, no heavy import); None: the default."""
    if model is None:
        return None
    return _load("tavis_hf.model_sources", "check_model_source", command)(model)


def _resolved_device(device: str | None, command: str):
    """`--device` as a `torch.device` (`tavis_hf.devices.resolve_device`; None: the best available)."""
    return _load("tavis_hf.devices", "resolve_device", command)(device)


def _existing_dir(path: str, what: str) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise CLIError(f"no such {what} (folder): {path}")
    return folder


def _check_at_least(least: int, options: dict[str, int | None]) -> None:
    """Each given integer option (None: absent) is at least `least`."""
    for option, value in options.items():
        if value is not None and value < least:
            raise CLIError(f"{option} must be >= {least}, got {value}")


def _parse_labels(values: list[str] | None) -> list[str] | None:
    """`--labels dog,guitar --labels "man"` -> ["dog", "guitar", "man"]; None when the option is absent."""
    if values is None:
        return None
    labels = [label.strip() for value in values for label in value.split(",")]
    if not any(labels):
        raise CLIError("the label list is empty; give at least one label, e.g. --labels dog,guitar")
    if not all(labels):
        raise CLIError(f"the label list {','.join(values)!r} has an empty entry")
    return labels


def _print_json(data) -> None:
    print(json.dumps(data, indent=2, default=str))


def _add_command(subparsers, name: str, **kwargs) -> argparse.ArgumentParser:
    """Add subcommand `name` (its parser is `args.command_parser`, which reports unrecognised arguments). No option
    abbreviations: arguments passed through to converters and scripts must not match ours by prefix."""
    parser = subparsers.add_parser(name, allow_abbrev=False, **kwargs)
    parser.set_defaults(command_parser=parser)
    return parser


def _progress_parent() -> argparse.ArgumentParser:
    """The parent parser of the commands that show progress bars: `--no-progress`."""
    progress = OneLineErrorParser(add_help=False)
    progress.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return progress


# ------------------------------------------------------------------------------------------------------ segment
def _check_segment_options(args) -> None:
    """The options of `segment` that need no file: checked before any heavy import."""
    if not 0 < args.fps <= MAX_FPS:  # also refuses nan
        raise CLIError(f"--fps must be in (0, {MAX_FPS:g}] frames per second, got {args.fps:g}")
    if not 0 < args.threshold < 1:
        raise CLIError(f"--threshold must be a probability in (0, 1), got {args.threshold:g}")
    if not 0 < args.max_duration < float("inf"):
        raise CLIError(f"--max-duration must be positive, got {args.max_duration:g}")
    if args.example == (args.video is not None):
        raise CLIError("give a video file or --example (one of them)")
    _writable_output(args.output_dir, "--output-dir")


def _segment(args, extra) -> int:
    labels = _parse_labels(args.labels)
    _check_segment_options(args)
    if not args.example and _load("tavis_hf.corpus.inputs", "is_corpus_source", "segment")(args.video):
        return _segment_corpus(args, labels)
    if args.example:
        write_synthavs_video = _load("tavis_hf.data", "write_synthavs_video", "segment")
        Path(args.output_dir).mkdir(parents=True, exist_ok=True)
        args.video = str(write_synthavs_video(Path(args.output_dir) / "example.mp4"))
    is_url = _load("tavis_hf.media.sources", "is_url", "segment")
    video_path = args.video if is_url(args.video) else _existing_file(args.video, "video file")
    model = _checked_model(args.model, "segment")  # before the model loads
    device = _resolved_device(args.device, "segment")
    segment_video = _load("tavis_hf.segmentation", "segment_video", "segment")
    if args.no_progress:
        _load("transformers.utils.logging", "disable_progress_bar", "segment")()
    summary = segment_video(
        str(video_path),
        model=model,
        labels=labels,
        output_dir=args.output_dir,
        mode=args.mode,
        fps=args.fps,
        threshold=args.threshold,
        temporal=args.temporal,
        progress=not args.no_progress,
        device=device,
        max_duration=args.max_duration,
    )
    frames = summary.pop("frames")
    summary["frames_with_sounding_object"] = sum(any(seg["area"] > 0 for seg in f["segments"]) for f in frames)
    summary["summary_json"] = str(Path(args.output_dir) / "summary.json")
    _print_json(summary)
    return 0


def _segment_corpus(args, labels) -> int:
    """`segment` on a corpus: `tavis_hf.corpus.segment_corpus` into Parquet tables; exit status 1 when videos failed."""
    _check_at_least(1, {"--batch-size": args.batch_size, "--videos-per-shard": args.videos_per_shard,
                        "--concurrency": args.concurrency})  # fmt: skip
    _check_at_least(0, {"--num-workers": args.num_workers})
    if args.engine == "ray":
        try:
            _load("tavis_hf.corpus.ray_engine", "import_ray", "segment")()
        except ImportError as error:
            raise CLIError(f"--engine ray: {error}") from error
    model = _checked_model(args.model, "segment")
    _load("tavis_hf.corpus.inputs", "list_videos", "segment")(args.video, args.video_column)  # before heavy imports
    if args.no_progress:
        _load("transformers.utils.logging", "disable_progress_bar", "segment")()
    segment_corpus = _load("tavis_hf.corpus", "segment_corpus", "segment")
    summary = segment_corpus(
        args.video, args.output_dir, model=model, labels=labels, mode=args.mode,
        fps=args.fps, threshold=args.threshold, temporal=args.temporal, video_column=args.video_column,
        engine=args.engine, batch_size=args.batch_size, num_workers=args.num_workers, dtype=args.dtype,
        compile=args.compile, device=args.device, max_duration=args.max_duration, overwrite=args.overwrite,
        save_masks=args.save_masks, save_overlays=args.save_overlays, videos_per_shard=args.videos_per_shard,
        progress=not args.no_progress, ray_address=args.ray_address, num_gpus_per_worker=args.num_gpus_per_worker,
        concurrency=args.concurrency,
    )  # fmt: skip
    _print_json(summary)
    if summary["failed"]:
        print(f"tavis-hf segment: {summary['failed']} of {summary['videos']} videos failed; see the status=error rows "
              f"of {args.output_dir}/videos/*.parquet", file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _add_corpus_options(p: argparse.ArgumentParser) -> None:
    """The options of `segment` on a corpus (a folder, glob, list file, CSV, Parquet table or saved dataset)."""
    corpus = p.add_argument_group("corpus (VIDEO is a folder, glob, list file, CSV, Parquet table or saved dataset)")
    corpus.add_argument("--video-column", help="column of a CSV/Parquet table/dataset holding the videos "
                        "(default: video, path, file, filename or url)")  # fmt: skip
    corpus.add_argument("--engine", default="local", choices=("local", "ray"),
                        help="local (worker processes, this machine) or ray (Ray Data, this machine or a cluster)")  # fmt: skip
    corpus.add_argument("--batch-size", type=int, default=32, help="frames per model forward (default 32)")
    corpus.add_argument("--num-workers", type=int, help="decode processes per model replica (local engine; "
                        "default: the CPU cores, at most 8)")  # fmt: skip
    corpus.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), help="model dtype (default: its own)")
    corpus.add_argument("--compile", action="store_true", help="torch.compile the model (GPU only)")
    corpus.add_argument("--overwrite", action="store_true",
                        help="replace results of another model or other options in --output-dir")  # fmt: skip
    corpus.add_argument("--save-masks", action="store_true", help="also write each video's mask PNGs (OUT/files/)")
    corpus.add_argument("--save-overlays", action="store_true", help="also write each video's overlay (OUT/files/)")
    corpus.add_argument("--videos-per-shard", type=int, default=16, help="videos per Parquet shard (default 16)")
    corpus.add_argument("--ray-address", help="Ray cluster: auto or HOST:PORT (default: start a local Ray instance)")
    corpus.add_argument("--num-gpus-per-worker", type=float, default=0.0, help="GPUs per Ray model actor (default 0)")
    corpus.add_argument("--concurrency", type=int, help="Ray model actors (default 1)")


def _register_segment(subparsers, common_parents) -> None:
    p = _add_command(
        subparsers,
        "segment",
        parents=common_parents,
        help="segment the sounding objects of a video",
        description="Segment the sounding objects of a video file with sound; writes masks and an overlay video "
        "to --output-dir and prints a JSON summary.",
    )
    p.add_argument(
        "video",
        nargs="?",
        help="video file with an audio stream, or its http(s) URL; or a corpus: a folder, glob, list file (.txt), CSV, "
        "Parquet table or saved dataset (writes OUTPUT_DIR/frames/*.parquet and OUTPUT_DIR/videos/*.parquet)",
    )
    p.add_argument(
        "--example",
        action="store_true",
        help="segment the package's example clip instead (a SynthAVS clip with sound, written to "
        "OUTPUT_DIR/example.mp4)",
    )
    p.add_argument("--model", help="model folder or Hub id of a TAViS checkpoint (default: the packaged tiny model)")
    p.add_argument(
        "--labels",
        action="append",
        metavar="LABEL[,LABEL...]",
        help="class names to look for (comma-separated, repeatable); default: the model's classes",
    )
    p.add_argument("--output-dir", default="tavis_output", help="where masks and the overlay video go")
    p.add_argument(
        "--mode",
        default="binary",
        choices=("binary", "semantic", "instances"),
        help="binary (S4/MS3 mask), semantic (one mask per class) or instances",
    )
    p.add_argument("--fps", type=float, default=1.0, help="frames sampled per second (AVSBench: 1)")
    p.add_argument("--threshold", type=float, default=0.5, help="mask probability threshold")
    p.add_argument(
        "--temporal",
        default="per-frame",
        choices=("per-frame", "tracking", "clip"),
        metavar="{per-frame,tracking}",
        help="per-frame (independent frames, as the authors evaluate) or tracking (SAM2 memory over 5-s windows; "
        "'clip' is its former name)",
    )
    p.add_argument(
        "--device",
        help="torch device, e.g. cpu, cuda:0 or mps (default: the best available: cuda, else mps, else cpu)",
    )
    p.add_argument(
        "--max-duration",
        type=float,
        default=DEFAULT_MAX_DURATION,
        metavar="SECONDS",
        help=f"refuse longer videos (default {DEFAULT_MAX_DURATION:g} s)",
    )
    _add_corpus_options(p)
    p.set_defaults(handler=_segment)


# ----------------------------------------------------------------------------------------------------- evaluate
def _evaluate(args, extra) -> int:
    dataset_dir = _existing_dir(args.dataset, "dataset")
    _check_at_least(1, {"--limit": args.limit, "--videos-per-batch": args.videos_per_batch})
    if args.output:
        _writable_output(args.output, "--output", folder=False)
        if args.protocol == "listening" and importlib.util.find_spec("matplotlib") is None:
            raise CLIError("--protocol listening --output draws a chart with matplotlib: pip install 'tavis_hf[demo]'")
    model = _checked_model(args.model, "evaluate")
    device = _resolved_device(args.device, "evaluate")
    load_from_disk = _load("datasets", "load_from_disk", "evaluate")
    evaluate_model = _load("tavis_hf.evaluation", "evaluate_model", "evaluate")
    write_record = _load("tavis_hf.evaluation", "write_record", "evaluate")
    if args.no_progress:
        _load("datasets.utils.logging", "disable_progress_bar", "evaluate")()
        _load("transformers.utils.logging", "disable_progress_bar", "evaluate")()
    datasets_dict = load_from_disk(str(dataset_dir))
    if args.split not in datasets_dict:
        raise CLIError(f"{dataset_dir} has no split {args.split!r} (it has {sorted(datasets_dict)})")
    dataset = datasets_dict[args.split]
    if args.limit is not None:
        dataset = dataset.select(range(min(args.limit, dataset.num_rows)))
    record = evaluate_model(
        model, dataset, protocol=args.protocol, videos_per_batch=args.videos_per_batch,
        shuffle_audio_seed=args.shuffle_audio, device=device, progress=not args.no_progress,
        command=shlex.join(["tavis-hf", *args.argv]), class_scoring=args.class_scoring,
    )  # fmt: skip
    if args.output:
        write_record(record, args.output)
    _print_json(record)
    return 0


def _register_evaluate(subparsers, common_parents) -> None:
    p = _add_command(
        subparsers,
        "evaluate",
        parents=common_parents,
        help="score a model on a dataset split (AVSBench metrics)",
        description="Run a model on a dataset split and compute AVSBench metrics under a named protocol; writes "
        "an evaluation record usable by `tavis-hf push --eval-results`.",
    )
    p.add_argument("--model", required=True, help="model folder or Hub id")
    p.add_argument("--dataset", required=True, help="dataset folder saved by build-dataset or synth")
    p.add_argument("--split", default="test")
    p.add_argument(
        "--protocol",
        default="tavis_release",
        help="tavis_release (default), avsbench or avss (see tavis_hf.metrics), or listening: the same clips with their "
        "own, shuffled, silent, white-noise, pink-noise and off-screen sound (tavis_hf.listening; --output also draws "
        "a chart next to the record), or zero-shot: the unseen classes of an open-vocabulary dataset (build-dataset "
        "--open-vocabulary; tavis_hf.zero_shot)",
    )
    p.add_argument(
        "--class-scoring",
        choices=("a2t", "v2t", "mean", "sum"),
        help="zero-shot protocol: how a query's class is chosen (TavisConfig.avss_class_source; default sum: audio-to-"
        "text plus image-to-text similarity)",
    )
    p.add_argument("--videos-per-batch", type=int, default=None, help="required by the avsbench protocol")
    p.add_argument("--limit", type=int, help="evaluate only the first N clips (smoke tests)")
    p.add_argument(
        "--shuffle-audio",
        type=int,
        metavar="SEED",
        help="also score the listening control: every clip given another clip's soundtrack (seeded derangement); "
        "the record gets shuffled_audio (its metrics and the drop). With --protocol listening: the seed of its "
        "conditions (default 0)",
    )
    p.add_argument(
        "--device",
        help="torch device, e.g. cpu, cuda:0 or mps (default: the best available: cuda, else mps, else cpu)",
    )
    p.add_argument("--output", help="write the evaluation record (JSON) here (missing folders are created)")
    p.set_defaults(handler=_evaluate)


# ------------------------------------------------------------------------------------------ build-dataset, synth
def _empty_output_dir(path: str) -> Path:
    output = _writable_output(path, "--output-dir")
    if output.exists() and any(output.iterdir()):
        raise CLIError(f"output folder {output} is not empty")
    return output


def _save_dataset(dataset, output: Path) -> None:
    dataset.save_to_disk(str(output))
    print(json.dumps({"output_dir": str(output), "splits": {k: v.num_rows for k, v in dataset.items()}}))


def _build_dataset(args, extra) -> int:
    output = _empty_output_dir(args.output_dir)
    for root in (args.object_root, args.semantic_root):
        if root is not None:
            _existing_dir(root, "AVSBench root")
    _check_at_least(1, {"--image-size": args.image_size, "--num-proc": args.num_proc})
    load_avsbench = _load("tavis_hf.data", "load_avsbench", "build-dataset")
    class_names = _load("tavis_hf.data", f"{args.classes.upper()}_CLASSES", "build-dataset")
    if args.open_vocabulary is not None:
        split_name = f"{args.classes}-ov" if args.open_vocabulary == "default" else args.open_vocabulary
        open_vocabulary = _load("tavis_hf.data", "resolve_open_vocabulary_split", "build-dataset")(split_name)
        open_vocabulary.check_vocabulary(class_names)  # before the build
    if args.no_progress:
        _load("datasets.utils.logging", "disable_progress_bar", "build-dataset")()
    dataset = load_avsbench(
        args.subset,
        object_root=args.object_root,
        semantic_root=args.semantic_root,
        mask_source=args.mask_source,
        splits=args.splits.split(","),
        image_size=args.image_size,
        class_names=class_names,
        num_proc=args.num_proc,
    )
    if args.open_vocabulary is not None:
        dataset = _load("tavis_hf.data", "make_open_vocabulary", "build-dataset")(dataset, open_vocabulary)
    _save_dataset(dataset, output)
    return 0


def _register_build_dataset(subparsers, common_parents) -> None:
    p = _add_command(
        subparsers,
        "build-dataset",
        parents=common_parents,
        help="build an AVSBench DatasetDict from a local download",
        description="Convert a local AVSBench download (official layout) into a datasets.DatasetDict on disk "
        "(AVSBench is gated: nothing is downloaded).",
    )
    p.add_argument("--subset", required=True, help="s4, ms3 (AVSBench-object) or v1s, v1m, v2 (AVSBench-semantic)")
    p.add_argument("--object-root", help="AVSBench-object root (holding Single-source/, Multi-sources/)")
    p.add_argument("--semantic-root", help="AVSBench-semantic root (holding metadata.csv)")
    p.add_argument("--mask-source", help="object or semantic (default: object for s4/ms3, else semantic)")
    p.add_argument("--splits", default="train,val,test", help="comma-separated splits (default: %(default)s)")
    p.add_argument("--image-size", type=int, help="resize frames and masks to this square size (default: as stored)")
    p.add_argument("--classes", default="avsbench", choices=["avsbench", "synthavs"], help="class vocabulary")
    p.add_argument(
        "--open-vocabulary",
        nargs="?",
        const="default",
        metavar="SPLIT",
        help="the zero-shot split: train/val relabelled to the seen classes (unseen-class pixels become background, "
        "train clips left without a seen class are dropped), test kept with all classes. SPLIT: avsbench-ov "
        "(OV-AVSS's 40 seen / 30 unseen classes; the default with --classes avsbench), synthavs-ov (the default with "
        '--classes synthavs) or a JSON file {"unseen_classes": [...], "source": "..."}',
    )
    p.add_argument("--num-proc", type=int, help="worker processes")
    p.add_argument("--output-dir", required=True, help="where the DatasetDict is saved (save_to_disk)")
    p.set_defaults(handler=_build_dataset)


def _synth(args, extra) -> int:
    counts = {"train": args.train, "val": args.val, "test": args.test}
    _check_at_least(0, {"--train": args.train, "--val": args.val, "--test": args.test})
    _check_at_least(1, {"--image-size": args.image_size, "--num-frames": args.num_frames})
    counts = {split: n for split, n in counts.items() if n}
    if not counts:
        raise CLIError("every split has 0 clips; give --train/--val/--test counts")
    output = _empty_output_dir(args.output_dir)
    if args.no_progress:
        _load("datasets.utils.logging", "disable_progress_bar", "synth")()
    if args.layout == "arrow":
        make_synthavs = _load("tavis_hf.data", "make_synthavs", "synth")
        dataset = make_synthavs(
            counts, seed=args.seed, mode=args.mode, image_size=args.image_size, num_frames=args.num_frames
        )
        _save_dataset(dataset, output)
    else:
        write_synthavs_tree = _load("tavis_hf.data", "write_synthavs_tree", "synth")
        root = write_synthavs_tree(
            output, counts, seed=args.seed, mode=args.mode, release=args.layout, image_size=args.image_size
        )
        print(json.dumps({"output_dir": str(root), "layout": f"AVSBench-{args.layout}", "splits": counts}))
    return 0


def _register_synth(subparsers, common_parents) -> None:
    p = _add_command(
        subparsers,
        "synth",
        parents=common_parents,
        help="write a SynthAVS dataset (procedural audio-visual clips)",
        description="Generate SynthAVS, a procedurally generated audio-visual segmentation dataset with the AVSBench "
        "schema: a DatasetDict saved to disk, or an AVSBench-layout folder tree (for build-dataset).",
    )
    p.add_argument("--output-dir", required=True)
    p.add_argument("--train", type=int, default=800, help="training clips (default: %(default)s)")
    p.add_argument("--val", type=int, default=100, help="validation clips (default: %(default)s)")
    p.add_argument("--test", type=int, default=100, help="test clips (default: %(default)s)")
    p.add_argument(
        "--mode",
        default="single",
        choices=("single", "multi", "mixed"),
        help="single (S4-like), multi (MS3-like) sources, or mixed (both, alternating; --layout arrow only)",
    )
    p.add_argument("--image-size", type=int, default=224, help="frame side in pixels (default: %(default)s)")
    p.add_argument("--num-frames", type=int, default=5, help="frames (seconds) per clip, arrow layout only")
    p.add_argument(
        "--layout",
        default="arrow",
        choices=["arrow", "object", "semantic"],
        help="arrow: a DatasetDict (save_to_disk); object/semantic: an AVSBench-object/-semantic folder tree",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_synth)


# ------------------------------------------------------------------------------------------------------ convert
CONVERTERS = {
    "imagebind": "tavis_hf.models.imagebind.convert_imagebind",
    "tavis": "tavis_hf.models.tavis.convert_tavis",
}


OFFICIAL_SUBSETS = ("s4", "ms3", "v2")
"""`convert --official` choices: the subsets of `tavis_hf.hub.official.OFFICIAL_SUBSETS` (not imported by `--help`)."""


def _converter_args(args, extra: list[str]) -> list[str]:
    """The converter's arguments: our options when given, then those passed through. With `--checkpoint` and no
    `--bpe-path`, ImageBind's vocabulary is downloaded into the cache (after checking the checkpoint exists)."""
    bpe_path, output_dir = args.bpe_path, args.output_dir
    if args.checkpoint is not None:
        output_dir = output_dir or f"{Path(args.checkpoint).stem}-hf"
        if bpe_path is None:
            _existing_file(args.checkpoint, "checkpoint file")
            fetch_official_file = _load("tavis_hf.hub.official", "fetch_official_file", "convert")
            bpe_path = fetch_official_file("vocabulary", args.cache_dir, progress=not args.no_progress)
    ours = {"--checkpoint": args.checkpoint, "--output-dir": output_dir, "--bpe-path": bpe_path}
    return [*(item for option, value in ours.items() if value is not None for item in (option, str(value))), *extra]


def _convert(args, extra) -> int:
    extra = _script_args(extra)
    if args.official is not None:
        if extra or args.checkpoint is not None or args.bpe_path is not None:
            raise CLIError("--official downloads its own files: give only --output-dir and --cache-dir with it")
        convert_official = _load("tavis_hf.hub.official", "convert_official", "convert")
        print(convert_official(args.official, args.output_dir, args.cache_dir, progress=not args.no_progress))
        return 0
    converter_args = _converter_args(args, extra)  # before the converter's (slow) import: a download may fail
    result = _load(CONVERTERS[args.kind], "main", "convert")(converter_args)
    return result if isinstance(result, int) else 0


def _register_convert(subparsers, common_parents) -> None:
    p = _add_command(
        subparsers,
        "convert",
        parents=common_parents,
        help="convert the authors' checkpoints (ImageBind, TAViS) to HF folders",
        description="Convert an authors' checkpoint into a model folder. `--official s4|ms3|v2` downloads a released "
        "TAViS checkpoint and ImageBind's vocabulary into --cache-dir (resuming a partial download), converts them "
        "and prints the model folder (`--model` of the other commands); `--kind tavis|imagebind --checkpoint FILE` "
        "converts a file you have (the vocabulary is downloaded unless --bpe-path gives it). Arguments after `--` "
        "go to the converter: `tavis-hf convert --kind tavis -- --help` lists them.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--official", choices=OFFICIAL_SUBSETS, help="download and convert a released checkpoint")
    source.add_argument("--kind", choices=sorted(CONVERTERS), help="which converter, for --checkpoint")
    p.add_argument("--checkpoint", help="the authors' .pth to convert (with --kind)")
    p.add_argument("--bpe-path", help="ImageBind's bpe_simple_vocab_16e6.txt.gz (default: downloaded)")
    p.add_argument("--output-dir", help="the model folder (default: tavis-<subset>-hf, or <checkpoint name>-hf)")
    p.add_argument("--cache-dir", help="where downloads are kept (default: ~/.cache/tavis_hf/official)")
    p.set_defaults(handler=_convert, passthrough=True)


# ------------------------------------------------------------------------------------------------ train, demo
def _script_args(extra: list[str]) -> list[str]:
    return extra[1:] if extra[:1] == ["--"] else extra


def train_command(args, script_args: list[str]) -> list[str]:
    """The `accelerate launch` command line `tavis-hf train` runs (the same Python interpreter, explicit options): the
    packaged training module, or the script given with `--script`."""
    command = [sys.executable, "-m", "accelerate.commands.launch"]
    if args.config_file:
        command += ["--config_file", args.config_file]
    if args.num_processes is not None:
        command += ["--num_processes", str(args.num_processes)]
    if args.mixed_precision:
        command += ["--mixed_precision", args.mixed_precision]
    if args.cpu:
        command.append("--cpu")
    target = ["-m", TRAIN_MODULE] if args.script is None else [str(args.script)]
    return [*command, *target, *script_args]


def _run_or_print(command: list[str], dry_run: bool) -> int:
    if dry_run:
        print(shlex.join(command))
        return 0
    return subprocess.run(command, check=False).returncode


def _train(args, extra) -> int:
    if args.script is not None:
        _existing_file(str(args.script), "training script")
    elif importlib.util.find_spec(TRAIN_MODULE) is None:
        raise CLIError(f"this installation has no {TRAIN_MODULE} module")
    if args.num_processes is not None and args.num_processes < 1:
        raise CLIError(f"--num-processes must be >= 1, got {args.num_processes}")
    if args.cpu and (args.num_processes or 1) > 1:
        # `accelerate launch --cpu --num_processes N` starts ONE process: it would silently train without DDP.
        raise CLIError(
            "--cpu with --num-processes > 1 would start a single process; for a distributed CPU run use "
            "`ACCELERATE_USE_CPU=1 torchrun --nproc_per_node N -m tavis_hf.training ...`"
        )
    if args.config_file:
        _existing_file(args.config_file, "accelerate config file")
    if not args.dry_run:
        _load("accelerate", "Accelerator", "train")
    return _run_or_print(train_command(args, _script_args(extra)), args.dry_run)


def _register_train(subparsers, common_parents) -> None:
    """No progress bars of ours: `common_parents` is not used (the training's options follow `--`)."""
    p = _add_command(
        subparsers,
        "train",
        help="train with `accelerate launch -m tavis_hf.training`",
        description="Run the packaged training (`python -m tavis_hf.training`) under `accelerate launch` (same "
        "Python). Arguments after `--` go to the training: `tavis-hf train --cpu -- --subset s4 --output-dir runs/s4`; "
        "`tavis-hf train -- --help` lists them.",
    )
    p.add_argument(
        "--script", type=Path, help="run this training script instead (e.g. examples/train_tavis.py of a checkout)"
    )
    p.add_argument("--config-file", help="accelerate config file")
    p.add_argument("--num-processes", type=int, help="processes (GPUs) to launch")
    p.add_argument("--mixed-precision", choices=["no", "fp16", "bf16"])
    p.add_argument("--cpu", action="store_true", help="force CPU training")
    p.add_argument("--dry-run", action="store_true", help="print the command line instead of running it")
    p.set_defaults(handler=_train, passthrough=True)


DEMO_MODULE = "tavis_hf.demo"
"""The packaged Gradio app `demo` runs (`python -m tavis_hf.demo`); `demo/app.py` is the Space's entry to it."""


def demo_command(args, app_args: list[str]) -> list[str]:
    """The command line `tavis-hf demo` runs: the packaged app, or the script given with `--app` (same Python)."""
    if args.app is None:
        if importlib.util.find_spec(DEMO_MODULE) is None:
            raise CLIError(f"this installation has no {DEMO_MODULE} module")
        return [sys.executable, "-m", DEMO_MODULE, *app_args]
    return [sys.executable, str(_existing_file(str(args.app), "demo app")), *app_args]


def _demo(args, extra) -> int:
    command = demo_command(args, _script_args(extra))
    if not args.dry_run:
        _load("gradio", "Blocks", "demo")
    return _run_or_print(command, args.dry_run)


def _register_demo(subparsers, common_parents) -> None:
    """No progress bars of ours: `common_parents` is not used (the app's options pass through)."""
    p = _add_command(
        subparsers,
        "demo",
        help="launch the Gradio demo (tavis_hf.demo)",
        description="Launch the Gradio demo app that ships in the package (`python -m tavis_hf.demo`). Options other "
        "than --app and --dry-run go to the app: `tavis-hf demo --port 7861 --model DIR`; `tavis-hf demo -- --help` "
        "lists them.",
    )
    p.add_argument("--app", type=Path, help="run this app script instead of the packaged app (e.g. demo/app.py)")
    p.add_argument("--dry-run", action="store_true", help="print the command line instead of running it")
    p.set_defaults(handler=_demo, passthrough=True)


# --------------------------------------------------------------------------------------------------------- push
def _read_eval_records(paths: list[str]) -> list[dict]:
    records = []
    for path in paths:
        text = _existing_file(path, "evaluation results file").read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CLIError(f"{path} is not valid JSON: {error}") from error
        records += data if isinstance(data, list) else [data]
    return records


def _eval_record_charts(paths: list[str]) -> list[Path]:
    """The charts the listening records of these files name (`chart`: a PNG next to the record's file)."""
    charts = []
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for record in data if isinstance(data, list) else [data]:
            if isinstance(record, dict) and record.get("chart"):
                chart = Path(path).parent / Path(record["chart"]).name
                if not chart.is_file():
                    raise CLIError(
                        f"{path} names the chart {record['chart']}, which is not next to it: re-run evaluate"
                    )
                charts.append(chart)
    return charts


def _model_folder_card_target(source: Path, repo_id: str) -> bool:
    """Whether `push` renders the card of `source` (a model folder) rather than uploading `source` as it is.

    The rule: a folder without `README.md`, or whose `README.md` was generated by `tavis_hf.hub` for a local folder or
    for another repository (the embedded `tavis-tiny`, a training run's `final/`), is a model folder: its card is
    rendered again from its own files for `repo_id` (`hub.model_card_from_folder`) and a release folder is built. A
    hand-written card, or one generated for this very `repo_id` (e.g. a release folder built by an earlier
    `push --dry-run --release-dir`), makes a release folder that is uploaded as it is.
    """
    from . import hub

    readme = source / "README.md"
    if not readme.is_file():
        return True
    generated, rendered_for = hub.generated_card_repo_id(readme.read_text(encoding="utf-8"))
    return generated and rendered_for != repo_id and (source / "config.json").is_file()


def _push(args, extra) -> int:
    import shutil
    import tempfile

    from . import hub

    source = _existing_dir(args.path, "folder to push")
    hub.check_repo_id(args.repo_id)
    if args.no_progress:
        _load("huggingface_hub.utils", "disable_progress_bars", "push")()
        _load("transformers.utils.logging", "disable_progress_bar", "push")()
    if args.repo_type == "dataset" and (source / "dataset_dict.json").is_file():
        return _push_dataset_dict(args, source)
    is_release = (source / "README.md").is_file()
    if args.repo_type == "dataset" and not is_release:
        raise CLIError(
            f"{source} is neither a saved DatasetDict (build-dataset/synth output) nor a folder with a README.md card"
        )
    if args.repo_type == "model":
        is_release = not _model_folder_card_target(source, args.repo_id)
    if is_release and (args.eval_results or args.model_name):
        raise CLIError(
            f"{source} is already a release folder (its README.md is hand-written or rendered for {args.repo_id}); "
            "--eval-results and --model-name only apply when the card is rendered from a model folder"
        )
    with tempfile.TemporaryDirectory(prefix="tavis_release_") as tmp:
        folder = source
        if not is_release:
            folder = Path(args.release_dir) if args.release_dir else Path(tmp) / "release"
            records = _read_eval_records(args.eval_results or [])
            charts = _eval_record_charts(args.eval_results or [])
            if not (source / "config.json").is_file():
                raise CLIError(f"{source} is not a saved model folder (no config.json) nor a release folder")
            card = hub.model_card_from_folder(
                source, repo_id=args.repo_id, eval_records=records, model_name=args.model_name
            )
            hub.build_release_folder(source, folder, card=card, max_shard_size=args.max_shard_size or "5GB")
            for chart in charts:
                shutil.copyfile(chart, folder / chart.name)
        plan = hub.publish(
            folder,
            args.repo_id,
            repo_type=args.repo_type,
            private=not args.public,
            create_pr=args.create_pr,
            dry_run=args.dry_run,
            token=args.token,
        )
        if args.dry_run:
            print("Dry run: nothing was uploaded.")
            print(plan.describe())
        else:
            print(f"Uploaded {len(plan.files)} files to {args.repo_id}: {plan.pr_url or plan.commit_url}")
    return 0


def _register_push(subparsers, common_parents) -> None:
    p = _add_command(
        subparsers,
        "push",
        parents=common_parents,
        help="publish a model or dataset folder to the Hugging Face Hub",
        description="Publish to the Hub (private by default). PATH is a saved model folder (a release folder is "
        "built first: config, sharded safetensors, processor, training records and a model card rendered for "
        "--repo-id from the folder's own files and --eval-results; a README.md that tavis_hf generated for a local "
        "folder or another repository is rendered again), a release folder with a hand-written card or one rendered "
        "for --repo-id (uploaded as it is, in one commit: create_repo + upload_folder) or, with --repo-type dataset, "
        "a DatasetDict saved by build-dataset/synth (pushed as Parquet with its dataset card).",
    )
    p.add_argument("path", metavar="PATH", help="release folder, saved model folder or saved DatasetDict")
    p.add_argument("--repo-id", required=True, help="namespace/name on the Hub")
    p.add_argument("--repo-type", default="model", choices=["model", "dataset"])
    p.add_argument("--dry-run", action="store_true", help="print the files and the card, upload nothing")
    p.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing to main")
    p.add_argument("--public", action="store_true", help="create the repository as public (default: private)")
    p.add_argument("--token", help="Hub token (default: the saved login)")
    p.add_argument("--eval-results", action="append", metavar="JSON", help="evaluation record(s) for the card")
    p.add_argument("--model-name", help="card title (default: the repository name)")
    p.add_argument("--release-dir", help="keep the built release folder here (default: a temporary folder)")
    p.add_argument("--max-shard-size", help="largest shard: safetensors (default 5GB) or Parquet (default 500MB)")
    p.set_defaults(handler=_push)


def _push_dataset_dict(args, source: Path) -> int:
    """Push a saved DatasetDict with `tavis_hf.data.push_avsbench_to_hub` (Parquet shards with embedded media)."""
    if args.eval_results or args.model_name or args.create_pr:
        raise CLIError("--eval-results, --model-name and --create-pr do not apply to a DatasetDict push")
    load_from_disk = _load("datasets", "load_from_disk", "push")
    render_dataset_card = _load("tavis_hf.data", "render_dataset_card", "push")
    push_dataset = _load("tavis_hf.data", "push_avsbench_to_hub", "push")
    dataset = load_from_disk(str(source))
    shard_size = args.max_shard_size or "500MB"
    if args.dry_run:
        visibility = "public" if args.public else "private"
        print("Dry run: nothing was uploaded.")
        print(f"Target: dataset repo {args.repo_id} ({visibility}), Parquet shards of at most {shard_size} per split:")
        for split, part in dataset.items():
            print(f"  {split}: {part.num_rows} clips")
        print("Card (README.md body):")
        print(render_dataset_card(dataset, args.repo_id))
    else:
        push_dataset(dataset, args.repo_id, private=not args.public, token=args.token, max_shard_size=shard_size)
        print(f"Uploaded {sum(part.num_rows for part in dataset.values())} clips to {args.repo_id}")
    return 0


# --------------------------------------------------------------------------------------------------------- card
def _card(args, extra) -> int:
    """Render the model card of a saved model folder from its own files (`hub.model_card_from_folder`)."""
    from . import hub

    folder = _existing_dir(args.folder, "model folder")
    if not (folder / "config.json").is_file():
        raise CLIError(f"{folder} is not a saved model folder (no config.json)")
    if args.repo_id:
        hub.check_repo_id(args.repo_id)
    if args.output is not None:
        _writable_output(args.output, "--output", folder=False)
    card = hub.model_card_from_folder(
        folder,
        repo_id=args.repo_id,
        eval_records=_read_eval_records(args.eval_results or []),
        model_name=args.model_name,
    )
    if args.output is None:
        print(str(card))
        return 0
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    card.save(output)
    print(f"Wrote the model card of {folder} to {output}")
    return 0


def _register_card(subparsers, common_parents) -> None:
    """No progress bars: `common_parents` is not used (rendering a card reads local files only)."""
    p = _add_command(
        subparsers,
        "card",
        help="render the model card of a saved model folder from its own files",
        description="Render the model card (README.md) of a saved TAViS folder: every claim (architecture, parameters, "
        "input, base models, training data and commands, results) is read from the folder's files (config.json, "
        "training records, evaluation*.json records) and the --eval-results files. Regenerate the embedded card with "
        "`tavis-hf card tavis_hf/checkpoints/tavis-tiny --output tavis_hf/checkpoints/tavis-tiny/README.md`.",
    )
    p.add_argument("folder", metavar="FOLDER", help="saved model folder (config.json, safetensors, records)")
    p.add_argument("--repo-id", help="the Hub repository the card is for (named in 'How to use'; default: FOLDER)")
    p.add_argument("--eval-results", action="append", metavar="JSON", help="evaluation record(s) to add")
    p.add_argument("--model-name", help="card title (default: the repository name, else the folder name)")
    p.add_argument("--output", metavar="PATH", help="write the card here instead of printing it")
    p.set_defaults(handler=_card)


# ------------------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The `tavis-hf` argument parser (no heavy imports)."""
    parser = OneLineErrorParser(
        prog="tavis-hf",
        description="TAViS audio-visual segmentation (ImageBind + SAM2) with the Hugging Face stack.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineErrorParser)
    common_parents = [_progress_parent()]  # --no-progress, for the commands that show progress bars
    # in the order `tavis-hf --help` lists them
    _register_segment(subparsers, common_parents)
    _register_evaluate(subparsers, common_parents)
    _register_build_dataset(subparsers, common_parents)
    _register_synth(subparsers, common_parents)
    _register_convert(subparsers, common_parents)
    _register_train(subparsers, common_parents)
    _register_demo(subparsers, common_parents)
    _register_push(subparsers, common_parents)
    _register_card(subparsers, common_parents)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    """Entry point of `tavis-hf`; returns the exit status (0 success, 2 bad input)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    args.argv = [str(arg) for arg in (sys.argv[1:] if argv is None else argv)]  # recorded by evaluate
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if extra and not getattr(args, "passthrough", False):  # one line from the subcommand's parser, exit 2
        args.command_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.handler(args, extra)
    except CLIError as error:
        message = str(error)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if os.environ.get("TAVIS_HF_TRACEBACK"):
            raise
        message = f"{type(error).__name__}: {error}"
        if not _is_user_error(error):
            hint = "this is a bug of tavis-hf: rerun with TAVIS_HF_TRACEBACK=1 and report the traceback"
            print(f"tavis-hf {args.command}: internal error: {' '.join(message.split())} ({hint})", file=sys.stderr)
            return 1
    print(f"tavis-hf {args.command}: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def _is_user_error(error: Exception) -> bool:
    """Whether `error` reports bad input (`USER_ERRORS`, `LIBRARY_INPUT_ERRORS`) rather than a bug."""
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in type(error).__mro__}
    return isinstance(error, USER_ERRORS) or not names.isdisjoint(LIBRARY_INPUT_ERRORS)


if __name__ == "__main__":
    sys.exit(main())
