"""Unit tests of tavis_hf.training: recipes, schedule, transform/collation, audio cache, checkpoints."""

import argparse
import json

import numpy as np
import pytest
import torch

from tavis_hf.training import (
    SUBSET_DEFAULTS,
    CachedImageBindAudio,
    TavisClipTransform,
    TrainerProgress,
    TrainingRecipe,
    add_recipe_arguments,
    collate_clips,
    cosine_epoch_schedule,
    given_recipe_values,
    list_checkpoints,
    load_recipe_file,
    mismatch_audio,
    resolve_recipe,
    step_seed,
)


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_recipe_arguments(parser)
    return given_recipe_values(parser.parse_args(argv))


def test_subset_defaults_are_the_authors_recipe():
    s4, ms3, v2 = (resolve_recipe(cli_values={"subset": s}) for s in ("s4", "ms3", "v2"))
    for recipe in (s4, ms3, v2):
        assert (recipe.learning_rate, recipe.weight_decay, recipe.min_learning_rate) == (3e-5, 0.01, 1e-7)
        assert recipe.image_size == 224
    assert (s4.num_train_epochs, s4.per_device_train_batch_size, s4.train_frames) == (80, 10, "annotated")
    assert (ms3.num_train_epochs, ms3.per_device_train_batch_size, ms3.train_frames) == (80, 4, "all")
    assert (v2.num_train_epochs, v2.per_device_train_batch_size, v2.eval_protocol) == (40, 4, "avss")
    assert v2.metric_for_best_model == "miou"


def test_precedence_file_then_command_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("subset: ms3\nlearning_rate: 1.0e-4\nnum_train_epochs: 5\ncheckpointing_steps: 10\n")
    cli = _parse(["--num_train_epochs", "7", "--activation_checkpointing", "--max_train_steps", "none"])
    recipe = resolve_recipe(load_recipe_file(path), cli)
    assert (recipe.subset, recipe.learning_rate, recipe.num_train_epochs) == ("ms3", 1e-4, 7)
    assert recipe.activation_checkpointing is True and recipe.max_train_steps is None
    assert recipe.checkpointing_steps == "10"
    assert recipe.per_device_train_batch_size == SUBSET_DEFAULTS["ms3"]["per_device_train_batch_size"]
    assert _parse([]) == {}
    semantic = resolve_recipe(
        cli_values={
            "subset": "s4",
            **_parse(["--eval_protocol", "avss", "--metric_for_best_model", "miou", "--eval_videos_per_batch", "none"]),
        }
    )
    assert semantic.eval_videos_per_batch is None


def test_shipped_recipe_files_are_valid():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "examples" / "configs"
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.json"))
    assert files, "no recipes in examples/configs"
    for path in files:
        resolve_recipe(load_recipe_file(path))


def test_recipe_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown subset 'avs'"):
        resolve_recipe(cli_values={"subset": "avs"})
    with pytest.raises(ValueError, match="no subset given"):
        resolve_recipe(cli_values={})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"subset": "s4", "lr": 1e-3}))
    with pytest.raises(ValueError, match=r"unknown recipe fields \['lr'\]"):
        load_recipe_file(bad)
    with pytest.raises(ValueError, match="per_device_train_batch_size must be >= 1"):
        TrainingRecipe(subset="s4", per_device_train_batch_size=0)
    with pytest.raises(ValueError, match="not produced by eval_protocol"):
        TrainingRecipe(subset="s4", metric_for_best_model="miou")
    with pytest.raises(ValueError, match="set eval_videos_per_batch to none"):
        TrainingRecipe(subset="s4", eval_protocol="avss", metric_for_best_model="miou")
    with pytest.raises(ValueError, match="not with imagebind_train_mode"):
        TrainingRecipe(subset="s4", cache_audio_features=True, imagebind_train_mode=True)
    with pytest.raises(ValueError, match="not with train_imagebind_audio"):
        TrainingRecipe(subset="s4", cache_audio_features=True, train_imagebind_audio=True)
    with pytest.raises(ValueError, match=r"mismatched_audio_probability must be in \[0, 1\]"):
        TrainingRecipe(subset="s4", mismatched_audio_probability=1.5)
    with pytest.raises(SystemExit):
        _parse(["--learning_rate", "fast"])


def test_cosine_schedule_matches_per_epoch_cosine_annealing():
    params = [torch.nn.Parameter(torch.zeros(1))]
    ours = torch.optim.AdamW(params, lr=3e-5)
    ref = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=3e-5)
    schedule = cosine_epoch_schedule(ours, 80, 1e-7)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(ref, T_max=80, eta_min=1e-7)
    for _ in range(80):
        # float64: PyTorch's recursive update vs the closed form drift by ~80 steps x a few 2.2e-16, far below 1e-9
        assert schedule.get_last_lr()[0] == pytest.approx(reference.get_last_lr()[0], rel=1e-9, abs=1e-15)
        ours.step()
        ref.step()
        schedule.step()
        reference.step()
    assert schedule.get_last_lr()[0] == pytest.approx(1e-7)


def test_step_seed_is_a_pure_function():
    assert step_seed(42, 0, 3) == step_seed(42, 0, 3)
    assert len({step_seed(42, 0, 3), step_seed(42, 1, 3), step_seed(42, 0, 4), step_seed(43, 0, 3)}) == 4


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


def test_cached_audio_tower_is_identical():
    from tavis_hf.models.imagebind import ImageBindConfig, ImageBindModel

    torch.manual_seed(0)
    tower = ImageBindModel(ImageBindConfig.tiny()).audio_model.eval().requires_grad_(False)
    keys = list(tower.state_dict())
    features = torch.randn(3, 1, 128, 204)
    reference = tower(features)
    cache = CachedImageBindAudio(tower).attach()
    first = tower(features)
    second = tower(features[[2, 0]]).last_hidden_state
    assert torch.equal(first.pooler_output, reference.pooler_output)
    reference = reference.last_hidden_state
    assert torch.equal(first.last_hidden_state, reference) and torch.equal(second, reference[[2, 0]])
    assert (cache.misses, cache.hits) == (3, 2)
    assert list(tower.state_dict()) == keys
    with pytest.raises(RuntimeError, match="frozen audio tower in eval mode"):
        tower.train()(features)
    cache.detach()
    assert torch.equal(tower.eval()(features).last_hidden_state, reference) and cache.misses == 3


def test_cached_audio_tower_in_bfloat16():
    from tavis_hf.models.imagebind import ImageBindConfig, ImageBindModel

    tower = ImageBindModel(ImageBindConfig.tiny()).audio_model.to(torch.bfloat16).eval().requires_grad_(False)
    features = torch.randn(2, 1, 128, 204, dtype=torch.bfloat16)
    reference = tower(features).last_hidden_state
    cache = CachedImageBindAudio(tower).attach()
    assert torch.equal(tower(features).last_hidden_state, reference) and torch.equal(
        tower(features).last_hidden_state, reference
    )
    assert (cache.misses, cache.hits) == (2, 2)


def test_checkpoint_listing_and_progress(tmp_path):
    for name in ("step_10", "step_2", "step_3.tmp", "other"):
        (tmp_path / name).mkdir()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_2", "step_10"]
    progress = TrainerProgress(epoch=1, global_step=3, micro_step=6, batches_in_epoch=2)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(progress.to_dict()))
    assert TrainerProgress.load(path) == progress
    path.write_text(json.dumps({"epoch": 1}))
    with pytest.raises(ValueError, match="not a trainer state"):
        TrainerProgress.load(path)


def test_accelerate_configs_load():
    from pathlib import Path

    from accelerate.commands.config.config_args import load_config_from_file

    folder = Path(__file__).resolve().parents[2] / "examples" / "accelerate_configs"
    kinds = {path.stem: str(load_config_from_file(str(path)).distributed_type) for path in folder.glob("*.yaml")}
    assert kinds == {
        "single_gpu": "DistributedType.NO",
        "multi_gpu": "DistributedType.MULTI_GPU",
        "fsdp": "DistributedType.FSDP",
        "deepspeed_zero2": "DistributedType.DEEPSPEED",
    }


def _mismatch_batch():
    """Five clips of 2 frames; clip i sounds the classes `classes[i]` (clip 4: classes 1, 2 and 3, so it shares a
    class with clips 0-3 and has no partner), only frame 1 annotated; every clip's features are filled with its
    index."""
    classes = [{1}, {2}, {1}, {3}, {1, 2, 3}]
    labels = torch.zeros(5, 2, 4, 4, dtype=torch.long)
    for i, ids in enumerate(classes):
        for k, class_id in enumerate(sorted(ids)):
            labels[i, 1, k, :] = class_id
    labels[:, 0] = 7  # not annotated: must not count as a sounding class
    features = torch.arange(5, dtype=torch.float32).view(5, 1, 1, 1, 1).expand(5, 2, 1, 3, 3).clone()
    mask = torch.tensor([[False, True]] * 5)
    return classes, {"input_features": features, "labels": labels, "label_frame_mask": mask, "uid": "kept"}


def test_mismatch_audio_takes_a_disjoint_partner_and_empties_the_target():
    classes, batch = _mismatch_batch()
    original = {key: value.clone() for key, value in batch.items() if torch.is_tensor(value)}
    torch.manual_seed(0)
    out, swapped = mismatch_audio(batch, probability=1.0)
    assert swapped.tolist() == [True, True, True, True, False]  # clip 4 shares a class with every other clip
    for i in range(5):
        donor = int(out["input_features"][i, 0, 0, 0, 0])
        if swapped[i]:
            assert donor != i and not classes[i] & classes[donor]
            assert torch.equal(out["input_features"][i], original["input_features"][donor])
            assert int(out["labels"][i].abs().sum()) == 0
        else:
            assert torch.equal(out["input_features"][i], original["input_features"][i])
            assert torch.equal(out["labels"][i], original["labels"][i])
    assert out["uid"] == "kept" and torch.equal(out["label_frame_mask"], original["label_frame_mask"])
    for key, value in original.items():  # the caller's tensors are untouched
        assert torch.equal(batch[key], value), key


def test_mismatch_audio_probability_and_seeding():
    _, batch = _mismatch_batch()
    out, swapped = mismatch_audio(batch, probability=0.0)
    assert not swapped.any() and torch.equal(out["input_features"], batch["input_features"])
    draws = []
    for _ in range(2):
        torch.manual_seed(3)
        out, swapped = mismatch_audio(batch, probability=0.5)
        draws.append((swapped.clone(), out["input_features"].clone()))
    assert torch.equal(draws[0][0], draws[1][0]) and torch.equal(draws[0][1], draws[1][1])
    counts = []
    for seed in range(200):
        torch.manual_seed(seed)
        counts.append(int(mismatch_audio(batch, probability=0.5)[1][:4].sum()))
    assert 1.6 < np.mean(counts) < 2.4  # 4 eligible clips drawn with probability 1/2
    with pytest.raises(ValueError, match="probability must be in"):
        mismatch_audio(batch, probability=-0.1)
