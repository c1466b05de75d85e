"""`AudioVisualSegmentationPipeline.forward_batch` (the corpus engines' model step): chunks of several videos in one
forward give each chunk's own `forward` output within float rounding, and `postprocess` takes them as they are."""

import itertools

import pytest
import torch

from tavis_hf.corpus.steps import FrameBatcher, decoded_items, decoding_segmenter

from ..helpers import requires_ffmpeg
from .conftest import GOOD_CLIPS

pytestmark = requires_ffmpeg


@pytest.mark.parametrize("temporal", ["per-frame", "tracking"])
def test_forward_batch_equals_one_forward_per_chunk(segmenter, corpus_dir, temporal):
    preprocess_params, forward_params, postprocess_params = segmenter.stage_parameters(temporal=temporal)
    chunks = [c for name in GOOD_CLIPS for c in segmenter.preprocess(str(corpus_dir / name), **preprocess_params)]
    assert len(chunks) == (9 if temporal == "per-frame" else 3)  # (B, 1, ...) frames or (B, 5, ...) windows
    batched = segmenter.forward_batch(chunks, **forward_params)
    for chunk, output in zip(chunks, batched):
        alone = segmenter.forward(dict(chunk), **forward_params)
        assert output["pred_masks"].shape == alone["pred_masks"].shape
        torch.testing.assert_close(output["pred_masks"], alone["pred_masks"], atol=1e-4, rtol=1e-4)
        assert output["frame_indices"] == chunk["frame_indices"] and output["is_last"] == chunk["is_last"]
        assert len(segmenter.postprocess([output], **postprocess_params)) == chunk["num_valid"]
    assert segmenter.forward_batch([], **forward_params) == []


def test_decoding_segmenter_holds_no_weights_and_preprocesses_alike(segmenter, corpus_dir):
    decoder = decoding_segmenter(segmenter.model.config, segmenter.processor, torch.bfloat16)
    assert decoder.model.device.type == "meta" and decoder.model.dtype == torch.bfloat16
    video = str(corpus_dir / "a.mp4")
    items = list(decoded_items(decoder, video, {"fps": 1.0}))
    assert [item.get("end", False) for item in items] == [False, False, False, True]
    expected = list(segmenter.preprocess(video))
    for item, chunk in zip(items, expected):
        assert torch.equal(item["chunk"]["pixel_values"], chunk["pixel_values"].to(torch.bfloat16))
    assert items[-1]["error"] is None and items[-1]["num_frames"] == 3 and items[-1]["duration"] > 2.9


def test_batcher_finishes_each_video_after_its_last_chunk(segmenter, corpus_dir):
    _, forward_params, postprocess_params = segmenter.stage_parameters()
    batcher = FrameBatcher(segmenter, 4, forward_params, postprocess_params)
    streams = [
        list(decoded_items(segmenter, str(corpus_dir / name), {})) for name in ("a.mp4", "truncated.mp4", "b.mp4")
    ]
    finished = []
    for items in itertools.zip_longest(*streams):  # interleaved, as the DataLoader delivers its workers' items
        for item in filter(None, items):
            finished.extend(batcher.add(item))
    finished.extend(batcher.flush())
    rows = {row["video"]: (row, frames) for row, frames, _ in finished}
    assert len(finished) == len(rows) == 3
    assert rows[str(corpus_dir / "truncated.mp4")][0]["status"] == "error"
    for name in ("a.mp4", "b.mp4"):
        row, frames = rows[str(corpus_dir / name)]
        assert row["status"] == "ok" and [frame["frame_index"] for frame in frames] == [0, 1, 2]
