"""tavis_hf.training.data: the clip transform (frames with their own audio clip), collation, the audio decoder."""

import numpy as np
import pytest
import torch

from tavis_hf.training import TavisClipTransform, collate_clips, decoded_waveform


def _processor():
    from tavis_hf.models.tavis import TavisConfig, TavisProcessor

    return TavisProcessor.from_tavis_config(TavisConfig.tiny())


def _example(num_frames=5, annotated=(False, True, False, True, False)):
    from PIL import Image

    rng = np.random.default_rng(0)
    frames = [Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)) for _ in range(num_frames)]
    semantic = [Image.fromarray(np.full((32, 32), i % 3, dtype=np.uint8), "L") for i in range(num_frames)]
    masks = [Image.fromarray((np.asarray(m) > 0).astype(np.uint8) * 255, "L") for m in semantic]
    audio = {"array": rng.standard_normal(16000 * num_frames).astype(np.float32) * 0.1, "sampling_rate": 16000}
    return {"uid": "clip", "frames": frames, "audio": audio, "masks": masks, "semantic_masks": semantic,
            "annotated": list(annotated)}  # fmt: skip


def _batch(*examples):
    return {key: [example[key] for example in examples] for key in examples[0]}


def test_transform_samples_frames_with_their_own_audio_clip():
    processor = _processor()
    example = _example()
    full = TavisClipTransform(processor, "all", training=True)(_batch(example))
    one = TavisClipTransform(processor, "annotated", training=True)(_batch(example))
    assert full["pixel_values"][0].shape == (5, 3, 64, 64)
    assert full["input_features"][0].shape == (5, 1, 128, 204)
    assert full["label_frame_mask"][0].tolist() == [False, True, False, True, False]
    assert one["pixel_values"][0].shape == (1, 3, 64, 64)
    # the first annotated frame is frame 1, with audio clip 1 of 5 (not clip 0 of 1)
    assert torch.equal(one["input_features"][0][0], full["input_features"][0][1])
    assert not torch.equal(full["input_features"][0][0], full["input_features"][0][1])
    assert one["labels"][0].dtype == torch.long and set(one["labels"][0].unique().tolist()) == {1}
    evaluation = TavisClipTransform(processor, "all", training=False, semantic=True)(_batch(example))
    assert evaluation["target_masks"][0].shape == (5, 32, 32) and evaluation["target_masks"][0].dtype == torch.bool
    assert evaluation["target_semantic"][0][2].unique().tolist() == [2]


def test_transform_errors():
    processor = _processor()
    with pytest.raises(ValueError, match="has no annotated frame"):
        TavisClipTransform(processor)(_batch(_example(annotated=[False] * 5)))
    no_semantic = {**_example(), "semantic_masks": []}
    with pytest.raises(ValueError, match="has no semantic_masks"):
        TavisClipTransform(processor)(_batch(no_semantic))
    with pytest.raises(ValueError, match="frames must be"):
        TavisClipTransform(processor, frames="first")


def test_collate():
    a = {"x": torch.zeros(2, 3), "m": torch.ones(2, dtype=torch.bool)}
    batch = collate_clips([a, a])
    assert batch["x"].shape == (2, 2, 3) and batch["m"].dtype == torch.bool
    with pytest.raises(ValueError, match="cannot batch 'x'"):
        collate_clips([a, {"x": torch.zeros(5, 3), "m": a["m"]}])


class _Samples:
    def __init__(self, data, sample_rate):
        self.data, self.sample_rate = data, sample_rate


class _Decoder:
    """What `datasets` gives for an Audio column with torchcodec: an object with `get_all_samples()`."""

    def __init__(self, waveform, rate):
        self.waveform, self.rate = waveform, rate

    def get_all_samples(self):
        return _Samples(torch.from_numpy(self.waveform), self.rate)


def test_decoded_waveform_reads_both_decoded_forms():
    waveform = np.random.default_rng(0).standard_normal((1, 8000)).astype(np.float32)
    from_decoder = decoded_waveform(_Decoder(waveform, 16000))
    from_dict = decoded_waveform({"array": waveform.astype(np.float64), "sampling_rate": 16000.0})
    for decoded, rate in (from_decoder, from_dict):
        assert decoded.dtype == np.float32 and np.array_equal(decoded, waveform) and rate == 16000
        assert isinstance(rate, int)


def test_evaluation_decodes_audio_as_training_does(synth_s4_dir, tiny_model, tiny_processor, monkeypatch):
    """tavis_hf.evaluation.evaluate_dataset decodes with the training transform's decoder: a split whose audio is
    dict-decoded ({"array", "sampling_rate"}, which `.get_all_samples()` broke on) scores exactly as the same clips
    decoded by torchcodec."""
    import datasets

    from tavis_hf import evaluation
    from tavis_hf.metrics import AVSBenchMetric

    split = datasets.load_from_disk(str(synth_s4_dir))["train"].select([0, 1])
    decoded = [decoded_waveform(audio) for audio in split["audio"]]
    as_dicts = split.remove_columns("audio").add_column(
        "audio", [{"array": waveform.tolist(), "sampling_rate": rate} for waveform, rate in decoded]
    )
    seen = []
    monkeypatch.setattr(
        evaluation, "decoded_waveform", lambda audio: seen.append(type(audio)) or decoded_waveform(audio)
    )
    results = [
        evaluation.evaluate_dataset(tiny_model, tiny_processor, data, AVSBenchMetric("avsbench", videos_per_batch=1),
                                    progress=False)
        for data in (split, as_dicts)
    ]  # fmt: skip
    assert results[0] == results[1] and results[0]["num_videos"] == 2
    assert seen[2:] == [dict, dict] and dict not in seen[:2]
