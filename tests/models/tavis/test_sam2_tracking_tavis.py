"""Tests of the trainable SAM2 tracking driver (`tavis_hf.models.tavis.sam2_tracking_tavis`) on a tiny
`Sam2VideoModel`."""

import pytest
import torch
from transformers import Sam2VideoConfig, Sam2VideoModel
from transformers.models.sam2_video.modeling_sam2_video import Sam2VideoInferenceSession

from tavis_hf.models.tavis.sam2_tracking_tavis import (
    TavisSam2DecoderOutput,
    TavisSam2TrackingDriver,
    TavisSam2WindowFeatures,
    decode_frames_independently,
    window_features_from_image_outputs,
)

IMAGE_SIZE, HIDDEN, GRID = 128, 128, 8


def _tiny_sam2(sam2_1: bool, seed: int, object_score_shift: float = 0.0) -> Sam2VideoModel:
    """Tiny SAM2 video model (hidden 128 everywhere, 128-px images, 8x8 embedding grid), eval mode.

    Weights are re-drawn with fan-in scaling (and the zero-initialised embeddings randomised) so that masks, memories
    and pointers all have O(1) effects on the output; with the default init the memory path is invisible.
    `object_score_shift` is added to the object-score logits (to choose which objects count as present).
    """
    config = Sam2VideoConfig(
        vision_config=dict(
            model_type="sam2_vision_model",
            backbone_config=dict(
                model_type="sam2_hiera_det_model",
                hidden_size=12,
                image_size=[IMAGE_SIZE, IMAGE_SIZE],
                blocks_per_stage=[1, 2, 7, 2],
                embed_dim_per_stage=[12, 24, 48, 96],
                num_attention_heads_per_stage=[1, 2, 4, 8],
                global_attention_blocks=[5, 7, 9],
            ),
            backbone_channel_list=[96, 48, 24, 12],
            backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]],
            fpn_hidden_size=HIDDEN,
        ),
        prompt_encoder_config=dict(hidden_size=HIDDEN, image_size=IMAGE_SIZE, patch_size=16, mask_input_channels=8),
        mask_decoder_config=dict(hidden_size=HIDDEN, mlp_dim=256, num_attention_heads=4, iou_head_hidden_dim=32),
        image_size=IMAGE_SIZE,
        memory_attention_hidden_size=HIDDEN,
        memory_attention_feed_forward_hidden_size=256,
        memory_attention_rope_feat_sizes=[GRID, GRID],
        memory_encoder_hidden_size=HIDDEN,
        memory_encoder_output_channels=64,
        mask_downsampler_embed_dim=HIDDEN,
        memory_fuser_embed_dim=HIDDEN,
        memory_fuser_intermediate_dim=256,
        enable_occlusion_spatial_embedding=sam2_1,
        enable_temporal_pos_encoding_for_object_pointers=sam2_1,
    )
    torch.manual_seed(seed)
    model = Sam2VideoModel(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.startswith("vision_encoder") or "layer_norm" in name:
                continue
            if param.ndim >= 2:
                param.normal_(0.0, param[0].numel() ** -0.5)
            else:
                param.normal_(0.0, 0.1)
        for param in (model.no_memory_embedding, model.memory_temporal_positional_encoding, model.no_object_pointer):
            param.normal_(0.0, 0.5)
        if model.occlusion_spatial_embedding_parameter is not None:
            model.occlusion_spatial_embedding_parameter.normal_(0.0, 0.5)
        model.mask_decoder.pred_obj_score_head.proj_out.bias += object_score_shift
    return model


@pytest.fixture(scope="module")
def sam2():
    return _tiny_sam2(sam2_1=False, seed=0)


def _features(model, frames):
    """Image features of a (B, T, 3, H, W) window, encoded frame by frame (as the transformers session does)."""
    batch_size, num_frames = frames.shape[:2]
    with torch.no_grad():
        per_frame = [
            window_features_from_image_outputs(model, model.get_image_features(frames[:, t]), batch_size, 1)
            for t in range(num_frames)
        ]
    return TavisSam2WindowFeatures(
        torch.cat([f.top for f in per_frame], dim=1),
        torch.cat([f.top_position for f in per_frame], dim=1),
        tuple(torch.cat([f.high_res[i] for f in per_frame], dim=1) for i in range(2)),
    )


def _random_prompts(batch_size, num_frames, num_prompts, seed):
    generator = torch.Generator().manual_seed(seed)
    sparse = torch.randn(batch_size, num_frames, num_prompts, HIDDEN, generator=generator)
    dense = 0.5 * torch.randn(batch_size, num_frames, HIDDEN, GRID, GRID, generator=generator)
    return sparse, dense


def test_window_features_from_batched_image_outputs(sam2):
    frames = torch.randn(2, 3, 3, IMAGE_SIZE, IMAGE_SIZE)
    with torch.no_grad():
        batched = window_features_from_image_outputs(sam2, sam2.get_image_features(frames.flatten(0, 1)), 2, 3)
    per_frame = _features(sam2, frames)
    assert batched.top.shape == (2, 3, HIDDEN, GRID, GRID) and batched.top_position.shape == batched.top.shape
    assert batched.high_res[0].shape == (2, 3, HIDDEN // 8, 4 * GRID, 4 * GRID)
    assert batched.high_res[1].shape == (2, 3, HIDDEN // 4, 2 * GRID, 2 * GRID)
    for got, expected in zip(
        (batched.top, batched.top_position, *batched.high_res),
        (per_frame.top, per_frame.top_position, *per_frame.high_res),
    ):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="frames"):
        window_features_from_image_outputs(sam2, sam2.get_image_features(frames[0]), 2, 3)


# (seed, object-score shift) chosen so that both objects are present on frame 0 (2.0) or one is absent (2.1), and
# tracked frames mix present and absent objects, with object-score logits >= 0.02 away from the 0 threshold.
@pytest.mark.parametrize(("sam2_1", "seed", "shift"), [(False, 1, 0.3), (True, 3, 0.0)], ids=["sam2.0", "sam2.1"])
def test_driver_matches_transformers_video_session(sam2_1, seed, shift):
    """Two point-prompted objects tracked over 4 frames: driver (stock-SAM2 settings) vs `Sam2VideoModel` session."""
    model = _tiny_sam2(sam2_1=sam2_1, seed=seed, object_score_shift=shift)
    num_frames, points = 4, torch.tensor([[30.0, 40.0], [90.0, 70.0]])
    frames = torch.randn(num_frames, 3, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(1))

    session = Sam2VideoInferenceSession(
        video=frames, video_height=IMAGE_SIZE, video_width=IMAGE_SIZE, dtype=torch.float32
    )
    for obj_id in range(2):
        obj_idx = session.obj_id_to_idx(obj_id)
        inputs = {
            "point_coords": points[obj_id].view(1, 1, 1, 2),
            "point_labels": torch.ones(1, 1, 1, dtype=torch.int32),
        }
        session.add_point_inputs(obj_idx, 0, inputs)
    session.obj_with_new_inputs = [0, 1]
    session_outputs = list(model.propagate_in_video_iterator(session, start_frame_idx=0))
    reference = torch.stack([out.pred_masks[:, 0] for out in session_outputs])  # (T, 2 objects, 4h, 4w)
    reference_scores = torch.stack([out.object_score_logits.view(2) for out in session_outputs])  # (T, 2)
    present = reference_scores > 0
    assert present[1:].any() and not present[1:].all()  # both pointer-gate branches on tracked frames

    # The same prompts as sparse/dense embeddings: frame 0 a click (+ padding point), later frames SAM2's "no point".
    with torch.no_grad():
        clicks = [
            model.prompt_encoder(points[i].view(1, 1, 1, 2), torch.ones(1, 1, 1, dtype=torch.int32), None, None)[0]
            for i in range(2)
        ]
        no_point, no_mask = model.prompt_encoder(
            torch.zeros(1, 1, 1, 2), -torch.ones(1, 1, 1, dtype=torch.int32), None, None
        )
    sparse = torch.stack([torch.cat(clicks, dim=1)] + [no_point.expand(1, 2, 2, HIDDEN)] * (num_frames - 1), dim=1)
    dense = no_mask.unsqueeze(1).expand(1, num_frames, HIDDEN, GRID, GRID)
    features = _features(model, frames.unsqueeze(0))
    driver = TavisSam2TrackingDriver(
        model, object_pointer_threshold=0.0, object_score_suppression=True, memory_dtype=torch.bfloat16
    )
    with torch.no_grad():
        out = driver(vision_features=features, sparse_prompts=sparse, dense_prompts=dense, image_size=IMAGE_SIZE)
        independent = decode_frames_independently(
            model, features.top, features.high_res, sparse, dense, object_score_suppression=True
        )
    masks = out.low_res_masks[0]  # (T, P, 4h, 4w)
    assert masks.shape == reference.shape
    torch.testing.assert_close(out.object_score_logits[0], reference_scores, rtol=0, atol=1e-4)
    assert reference[present].abs().amax() > 0.5 and torch.all(reference[~present] == -1024.0)
    # float32 rounding differences (batching) are amplified by the bf16 rounding of the stored memories: <= ~3e-5
    torch.testing.assert_close(masks, reference, rtol=0, atol=1e-4)
    # the comparison exercises the memory: present objects on tracked frames differ from memory-free decoding
    tracked_present = present[1:]
    assert (masks[1:][tracked_present] - independent.low_res_masks[0, 1:][tracked_present]).abs().amax() > 0.1


def test_batch_independence(sam2):
    frames = torch.randn(2, 3, 3, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(3))
    features = _features(sam2, frames)
    sparse, dense = _random_prompts(2, 3, 3, seed=4)
    driver = TavisSam2TrackingDriver(sam2)
    with torch.no_grad():
        both = driver(vision_features=features, sparse_prompts=sparse, dense_prompts=dense, image_size=IMAGE_SIZE)
        for b in range(2):
            single_features = TavisSam2WindowFeatures(
                features.top[b : b + 1],
                features.top_position[b : b + 1],
                tuple(x[b : b + 1] for x in features.high_res),
            )
            single = driver(
                vision_features=single_features,
                sparse_prompts=sparse[b : b + 1],
                dense_prompts=dense[b : b + 1],
                image_size=IMAGE_SIZE,
            )
            for key in ("low_res_masks", "iou_scores", "object_score_logits"):
                torch.testing.assert_close(both[key][b : b + 1], single[key], rtol=1e-4, atol=1e-5)
            assert torch.equal(both.best_mask_index[b : b + 1], single.best_mask_index)
    assert both.low_res_masks.shape == (2, 3, 3, 4 * GRID, 4 * GRID)
    for key in ("iou_scores", "object_score_logits", "best_mask_index"):
        assert both[key].shape == (2, 3, 3)
    assert int(both.best_mask_index.min()) >= 0 and int(both.best_mask_index.max()) <= 2


@pytest.mark.parametrize("memory_dtype", [None, torch.bfloat16], ids=["fp32-memory", "bf16-memory"])
def test_gradients_flow_across_frames(sam2, memory_dtype):
    num_frames = 3
    features = _features(sam2, torch.randn(1, num_frames, 3, IMAGE_SIZE, IMAGE_SIZE))
    sparse, dense = _random_prompts(1, num_frames, 2, seed=5)
    sparse.requires_grad_(True)
    dense.requires_grad_(True)
    sam2.zero_grad(set_to_none=True)
    driver = TavisSam2TrackingDriver(sam2, memory_dtype=memory_dtype)
    out = driver(vision_features=features, sparse_prompts=sparse, dense_prompts=dense, image_size=IMAGE_SIZE)
    out.low_res_masks[:, -1].square().sum().backward()  # a loss on the last frame only

    for frame in range(num_frames):  # earlier frames are reached through memories and object pointers
        assert sparse.grad[:, frame].abs().sum() > 0, f"no gradient to the sparse prompts of frame {frame}"
        assert dense.grad[:, frame].abs().sum() > 0, f"no gradient to the dense prompt of frame {frame}"
    for module in (sam2.memory_attention, sam2.memory_encoder, sam2.object_pointer_proj):
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        assert grads and sum(float(g.abs().sum()) for g in grads) > 0
    assert sam2.memory_temporal_positional_encoding.grad.abs().sum() > 0
    sam2.zero_grad(set_to_none=True)


def test_single_frame_equals_independent_decoding(sam2):
    features = _features(sam2, torch.randn(2, 1, 3, IMAGE_SIZE, IMAGE_SIZE))
    sparse, dense = _random_prompts(2, 1, 6, seed=6)
    with torch.no_grad():
        tracked = TavisSam2TrackingDriver(sam2)(
            vision_features=features, sparse_prompts=sparse, dense_prompts=dense, image_size=IMAGE_SIZE
        )
        independent = decode_frames_independently(sam2, features.top, features.high_res, sparse, dense)
    assert isinstance(tracked, TavisSam2DecoderOutput) and isinstance(independent, TavisSam2DecoderOutput)
    assert tracked.keys() == independent.keys()
    for key in ("low_res_masks", "iou_scores", "object_score_logits"):
        torch.testing.assert_close(tracked[key], independent[key], rtol=1e-4, atol=1e-5)
    assert torch.equal(tracked.best_mask_index, independent.best_mask_index)
    # best-of-3 selection: the mask with the highest of the three predicted IoUs (direct decoder call)
    with torch.no_grad():
        masks, ious, _, _ = sam2.mask_decoder(
            image_embeddings=features.top.flatten(0, 1) + sam2.no_memory_embedding.view(1, -1, 1, 1),
            image_positional_embeddings=sam2.get_image_wide_positional_embeddings().repeat(2, 1, 1, 1),
            sparse_prompt_embeddings=sparse.flatten(0, 1).unsqueeze(2),
            dense_prompt_embeddings=dense.flatten(0, 1),
            multimask_output=True,
            high_resolution_features=[x.flatten(0, 1) for x in features.high_res],
        )
    assert ious.shape == (2, 6, 3) and len(set(ious.argmax(-1).flatten().tolist())) > 1
    torch.testing.assert_close(independent.iou_scores.flatten(0, 1), ious.amax(-1))
    assert torch.equal(independent.best_mask_index.flatten(0, 1), ious.argmax(-1))
    expected = masks.gather(2, ious.argmax(-1)[..., None, None, None].expand(-1, -1, 1, *masks.shape[-2:])).squeeze(2)
    torch.testing.assert_close(independent.low_res_masks.flatten(0, 1), expected)
    # single-mask output (training mode: token 0, no stability fallback)
    sam2.train()
    try:
        with torch.no_grad():
            single = decode_frames_independently(
                sam2, features.top, features.high_res, sparse, dense, multimask_best_iou=False
            )
    finally:
        sam2.eval()
    assert torch.all(single.best_mask_index == 0)
    assert not torch.allclose(single.low_res_masks, independent.low_res_masks)


def test_object_score_suppression(sam2):
    features = _features(sam2, torch.randn(1, 2, 3, IMAGE_SIZE, IMAGE_SIZE))
    sparse, dense = _random_prompts(1, 2, 6, seed=7)
    with torch.no_grad():
        plain = decode_frames_independently(sam2, features.top, features.high_res, sparse, dense)
        threshold = float(plain.object_score_logits.median())
        suppressed = decode_frames_independently(
            sam2,
            features.top,
            features.high_res,
            sparse,
            dense,
            object_score_suppression=True,
            object_score_threshold=threshold,
        )
    absent = plain.object_score_logits <= threshold
    assert absent.any() and (~absent).any()
    assert torch.all(suppressed.low_res_masks[absent] == -1024.0)
    torch.testing.assert_close(suppressed.low_res_masks[~absent], plain.low_res_masks[~absent])


def test_clear_errors(sam2):
    features = _features(sam2, torch.randn(1, 2, 3, IMAGE_SIZE, IMAGE_SIZE))
    sparse, dense = _random_prompts(1, 2, 3, seed=8)
    driver = TavisSam2TrackingDriver(sam2)
    call = dict(vision_features=features, sparse_prompts=sparse, dense_prompts=dense, image_size=IMAGE_SIZE)
    with pytest.raises(ValueError, match="sparse_prompts"):
        driver(**{**call, "sparse_prompts": sparse[..., :64]})
    with pytest.raises(ValueError, match="sparse_prompts"):
        driver(**{**call, "sparse_prompts": sparse[:, :1]})
    with pytest.raises(ValueError, match="dense_prompts"):
        driver(**{**call, "dense_prompts": dense[:, :, :, :4]})
    with pytest.raises(ValueError, match="image_size"):
        driver(**{**call, "image_size": 224})
    with pytest.raises(ValueError, match="s0"):
        broken = TavisSam2WindowFeatures(
            features.top, features.top_position, (features.high_res[1], features.high_res[1])
        )
        driver(**{**call, "vision_features": broken})
    with pytest.raises(ValueError, match="top_position"):
        driver(
            **{**call, "vision_features": TavisSam2WindowFeatures(features.top, features.top[:, :1], features.high_res)}
        )
    with pytest.raises(ValueError, match="B, T, C, h, w"):
        decode_frames_independently(sam2, features.top[0], features.high_res, sparse, dense)
    with pytest.raises(TypeError, match="Sam2VideoModel"):
        TavisSam2TrackingDriver(sam2.mask_decoder)
    with pytest.raises(TypeError, match="memory_dtype"):
        TavisSam2TrackingDriver(sam2, memory_dtype="bfloat16")
