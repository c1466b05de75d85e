"""The listening report: does a model segment what it hears, or what it sees?

`tavis-hf evaluate --protocol listening` (`tavis_hf.evaluation.evaluate_model(..., protocol="listening")`, or
[`listening_report`]) scores the same clips of a dataset split once per sound condition (:data:`CONDITIONS`); only
the soundtrack changes, the frames and the annotation stay the clip's own:

=============== ======================================================================= =====================
condition       what each clip is given                                                 ideal prediction
=============== ======================================================================= =====================
``own``         its own soundtrack                                                      the annotation
``shuffled``    another clip's soundtrack (`tavis_hf.evaluation.audio_derangement`)     unknown
``silence``     zeros, as many samples as its own soundtrack                            empty
``white-noise`` white Gaussian noise with its soundtrack's RMS (seeded)                 unknown
``pink-noise``  pink (1/f power) noise with its soundtrack's RMS (seeded)               unknown
``off-screen``  the soundtrack of a partner clip none of whose labelled classes is      empty
                labelled in this clip ([`off_screen_partners`]); clips without such
                a partner are skipped and counted
=============== ======================================================================= =====================

Each condition's row of the record (`conditions`, in :data:`CONDITIONS` order) holds:

- `jaccard`, `fmeasure`: M_J and M_F of the metric protocol (`"avsbench"`, `videos_per_batch` as given, 1 by
  default) against the clip's **own** annotation. Under silence and off-screen sound, where the ideal prediction is
  empty, a model that listens loses M_J and M_F instead of keeping them.
- `empty_prediction_fraction`: the fraction of scored (annotated) frames where no pixel is predicted foreground
  (`sigmoid(logit) > 0.5` at the annotation's size, the M_J binarisation).
- `false_positive_area`: the mean, over the frames whose ideal prediction is empty, of the fraction of pixels
  predicted foreground; those frames are every scored frame under silence and off-screen sound, and the scored frames
  whose annotation is empty under the other conditions (None when there is no such frame). `false_positive_frames`
  is the number of frames that mean is over.
- `num_videos`, `num_frames` (scored), `skipped_videos` (off-screen: clips without a partner; else 0).

The off-screen rule uses the dataset's `class_ids` (the sounding classes annotated in each clip). Datasets that
annotate sounding objects only (SynthAVS, AVSBench) do not list silent visible objects or unlabelled off-screen
sources, so a partner's sound may still belong to a silent object of this clip; the row is a lower bound on how
well the model ignores sound from elsewhere, and `skipped_videos` says how many clips had no partner at all.

Every clip's soundtrack must last at least one audio window of the processor (2 s: the model hears one 2-s clip per
frame) and must not be silent (noise at the loudness of silence is undefined): otherwise a one-line `ValueError`
names the clip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "CONDITIONS",
    "EMPTY_IDEAL_CONDITIONS",
    "LISTENING_METRIC_PROTOCOL",
    "LISTENING_PROTOCOL",
    "NOISE_COLOURS",
    "check_listening_clips",
    "listening_protocol",
    "listening_report",
    "off_screen_partners",
    "rms",
    "rms_matched_noise",
    "score_listening_conditions",
    "write_listening_chart",
]

LISTENING_PROTOCOL = "listening"
"""The protocol name `tavis-hf evaluate --protocol` and evaluation records use."""
LISTENING_METRIC_PROTOCOL = "avsbench"
"""The `tavis_hf.metrics` protocol that scores every condition (sigmoid scores, `videos_per_batch` recorded)."""
CONDITIONS = ("own", "shuffled", "silence", "white-noise", "pink-noise", "off-screen")
"""The sound conditions, in the order of a record's `conditions`."""
EMPTY_IDEAL_CONDITIONS = frozenset({"silence", "off-screen"})
"""Conditions under which a model that listens predicts nothing on any frame."""
NOISE_COLOURS = ("white", "pink")


def rms(waveform: np.ndarray) -> float:
    """Root mean square of every sample of `waveform` (all channels), in float64."""
    return float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64))))


def rms_matched_noise(waveform: np.ndarray, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Noise with the shape, dtype and RMS ([`rms`]) of `waveform`: `"white"` (flat spectrum) or `"pink"` (power
    proportional to 1/f: white noise shaped along the last axis in the frequency domain, no DC). Not clipped, so its
    RMS is the clip's exactly.

    Raises:
        ValueError: an unknown colour, or a silent `waveform` (RMS 0).
    """
    if colour not in NOISE_COLOURS:
        raise ValueError(f"unknown noise colour {colour!r}; choose one of {NOISE_COLOURS}")
    loudness = rms(waveform)
    if loudness == 0:
        raise ValueError("the soundtrack is silent (RMS 0): noise at its loudness would be silence")
    noise = rng.standard_normal(waveform.shape)
    if colour == "pink":
        num_samples = waveform.shape[-1]
        spectrum = np.fft.rfft(noise, axis=-1)
        frequencies = np.fft.rfftfreq(num_samples)
        spectrum[..., 0] = 0
        spectrum[..., 1:] /= np.sqrt(frequencies[1:])
        noise = np.fft.irfft(spectrum, n=num_samples, axis=-1)
    return (noise * (loudness / rms(noise))).astype(waveform.dtype)


def off_screen_partners(class_ids: Sequence[Sequence[int]], seed: int) -> np.ndarray:
    """`partner[i]`: the clip whose soundtrack clip `i` gets in the off-screen condition, or -1 when it has none.

    A partner is another clip with at least one labelled class, none of which is labelled in clip `i`
    (`class_ids[i]`: a clip's labelled sounding classes); it is drawn uniformly among them, seeded.
    """
    num_classes = 1 + max((max(ids) for ids in class_ids if ids), default=0)
    labelled = np.zeros((len(class_ids), num_classes), dtype=bool)
    for clip, ids in enumerate(class_ids):
        labelled[clip, list(ids)] = True
    shares_a_class = (labelled.astype(np.int64) @ labelled.T.astype(np.int64)) > 0
    candidates = ~shares_a_class & labelled.any(axis=1)[None, :]
    np.fill_diagonal(candidates, False)
    rng = np.random.default_rng(seed)
    partners = np.full(len(class_ids), -1, dtype=np.int64)
    for clip, row in enumerate(candidates):
        if row.any():
            partners[clip] = rng.choice(np.flatnonzero(row))
    return partners


def check_listening_clips(dataset, window_seconds: float) -> None:
    """Raise a one-line `ValueError` naming the first clip of `dataset` whose soundtrack is shorter than one audio
    window of `window_seconds`, or silent; the listening protocol needs neither."""
    from .training.data import decoded_waveform

    for example in dataset.select_columns(["uid", "audio"]):
        waveform, rate = decoded_waveform(example["audio"])
        seconds = waveform.shape[-1] / rate
        if seconds < window_seconds:
            raise ValueError(
                f"clip {example['uid']!r} has {seconds:.2f} s of audio, shorter than one {window_seconds:g}-s audio "
                f"window: the listening protocol needs at least {window_seconds:g} s per clip (filter such clips out)"
            )
        if rms(waveform) == 0:
            raise ValueError(
                f"clip {example['uid']!r} is silent (RMS 0): the noise conditions need its loudness (filter it out)"
            )


class _ConditionMetric:
    """The metric protocol's accumulator (`metric`), plus the listening statistics of one condition (module
    docstring): frames predicted empty and the foreground area on frames whose ideal prediction is empty."""

    def __init__(self, metric, ideal_is_empty: bool):
        self.metric = metric
        self.protocol = metric.protocol
        self.ideal_is_empty = ideal_is_empty
        self.empty_frames = 0
        self.false_positive_sum = 0.0
        self.false_positive_frames = 0

    def update(self, predictions: torch.Tensor, targets: torch.Tensor, annotated: torch.Tensor) -> None:
        self.metric.update(predictions, targets, annotated)
        scored = torch.as_tensor(annotated, dtype=torch.bool)
        foreground = (torch.sigmoid(predictions.float()) > 0.5)[scored]
        area = foreground.flatten(1).float().mean(dim=1)
        if self.ideal_is_empty:
            ideal_empty = torch.ones(area.shape, dtype=torch.bool)
        else:
            ideal_empty = ~targets[scored].flatten(1).any(dim=1)
        self.empty_frames += int((area == 0).sum())
        self.false_positive_sum += float(area[ideal_empty].sum())
        self.false_positive_frames += int(ideal_empty.sum())

    def compute(self) -> dict:
        result = self.metric.compute()
        frames = self.false_positive_frames
        result.update(
            empty_prediction_fraction=self.empty_frames / result["num_frames"],
            false_positive_area=self.false_positive_sum / frames if frames else None,
            false_positive_frames=frames,
        )
        return result


def _condition_inputs(name: str, dataset, partners: np.ndarray, seed: int):
    """`(dataset, audio_transform, shuffle_audio_seed)` that `evaluate_dataset` scores condition `name` with."""
    from .evaluation import with_audio_from

    if name == "shuffled":
        return dataset, None, seed
    if name == "silence":
        return dataset, lambda index, waveform: np.zeros_like(waveform), None
    if name.endswith("-noise"):
        colour = name.removesuffix("-noise")
        return (
            dataset,
            lambda index, waveform: rms_matched_noise(waveform, colour, _clip_rng(seed, colour, index)),
            None,
        )
    if name == "off-screen":
        kept = np.flatnonzero(partners >= 0)
        return with_audio_from(dataset, partners[kept], rows=kept), None, None
    return dataset, None, None


def _clip_rng(seed: int, colour: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, NOISE_COLOURS.index(colour), index])


def score_listening_conditions(
    model, processor, dataset, new_metric: Callable, *, seed: int = 0, device=None, progress: bool = True
) -> tuple[dict, list[dict]]:
    """Score `dataset` under every condition of :data:`CONDITIONS` with `tavis_hf.evaluation.evaluate_dataset`.

    Args:
        new_metric: returns a fresh accumulator of the metric protocol (`tavis_hf.metrics.AVSBenchMetric`).
        seed: seeds the shuffled soundtracks, the noise and the off-screen partners.

    Returns:
        `(own, rows)`: the own-audio `metric.compute()` result (listening statistics included) and one row per
        condition (module docstring).

    Raises:
        ValueError: a clip too short or silent ([`check_listening_clips`]), or fewer than 2 clips.
    """
    from .evaluation import audio_derangement, evaluate_dataset

    audio_derangement(dataset.num_rows, seed)  # fails below 2 clips
    check_listening_clips(dataset, processor.feature_extractor.clip_duration)
    partners = off_screen_partners(dataset["class_ids"], seed)
    results, rows = {}, []
    for name in CONDITIONS:
        subset, audio_transform, shuffle_audio_seed = _condition_inputs(name, dataset, partners, seed)
        if subset.num_rows == 0:
            rows.append(_condition_row(name, None, skipped=dataset.num_rows))
            continue
        metric = _ConditionMetric(new_metric(), ideal_is_empty=name in EMPTY_IDEAL_CONDITIONS)
        results[name] = evaluate_dataset(
            model, processor, subset, metric, progress=progress, device=device,
            shuffle_audio_seed=shuffle_audio_seed, audio_transform=audio_transform,
        )  # fmt: skip
        rows.append(_condition_row(name, results[name], skipped=dataset.num_rows - subset.num_rows))
    return results["own"], rows


def listening_protocol(metric_protocol: dict, seed: int) -> dict:
    """A listening record's `protocol` from its metric protocol's (`{"name": "avsbench", ...options}`): name
    `"listening"`, the metric protocol's name as `metric_protocol`, its options, and the conditions' `seed`."""
    options = {key: value for key, value in metric_protocol.items() if key != "name"}
    return {"name": LISTENING_PROTOCOL, "metric_protocol": metric_protocol["name"], **options, "seed": seed}


def _condition_row(name: str, result: dict | None, skipped: int) -> dict:
    keys = ("jaccard", "fmeasure", "empty_prediction_fraction", "false_positive_area", "false_positive_frames")
    row = {
        "name": name,
        "ideal": "empty" if name in EMPTY_IDEAL_CONDITIONS else ("annotation" if name == "own" else None),
    }
    row.update({key: None if result is None else result[key] for key in keys})
    row.update(
        num_videos=0 if result is None else result["num_videos"],
        num_frames=0 if result is None else result["num_frames"],
        skipped_videos=skipped,
    )
    return row


def listening_report(model_name_or_path, dataset, **options) -> dict:
    """The listening record of a model on `dataset`: `tavis_hf.evaluation.evaluate_model(model_name_or_path, dataset,
    protocol="listening", **options)` (`shuffle_audio_seed` seeds the conditions, 0 by default). Write it, with its
    chart, with `tavis_hf.evaluation.write_record`."""
    from .evaluation import evaluate_model

    return evaluate_model(model_name_or_path, dataset, protocol=LISTENING_PROTOCOL, **options)


CHART_BARS = (
    ("jaccard", "M_J (own annotation)"),
    ("empty_prediction_fraction", "frames predicted empty"),
    ("false_positive_area", "false-positive area"),
)
"""The chart's bars per condition: record key and legend label."""


def write_listening_chart(record: dict, path: str | Path) -> Path:
    """Draw a listening record's conditions as a PNG (horizontal bars per condition: :data:`CHART_BARS`) with
    matplotlib's Agg backend (the `demo` extra).

    Raises:
        ImportError: matplotlib is not installed (one line saying how to install it).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "the listening chart needs matplotlib, which is not installed: pip install 'tavis_hf[demo]'"
        ) from error
    rows = record["conditions"]
    figure = Figure(figsize=(6.4, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    height = 0.8 / len(CHART_BARS)
    for offset, (key, label) in enumerate(CHART_BARS):
        values = [np.nan if row[key] is None else row[key] for row in rows]  # None: no bar
        positions = np.arange(len(rows)) + (offset - (len(CHART_BARS) - 1) / 2) * height
        axes.barh(positions, values, height=height, label=label)
    axes.set_yticks(np.arange(len(rows)), [row["name"] for row in rows])
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    dataset = record["dataset"]
    axes.set_title(f"Listening report: {dataset['name']} {dataset.get('config') or ''} {dataset.get('split') or ''}")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=len(CHART_BARS), fontsize="small")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, format="png")
    return path
