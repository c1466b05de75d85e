"""Parity with the authors' released code on the oracle's reduced configuration.

The reference comes from the official-code oracle (the project's `shared/tools/official_tavis/oracle.py`, which runs
the authors' TAViS on CPU): with `TAVIS_OFFICIAL_ORACLE` (that script) and `TAVIS_OFFICIAL_SRC` (the authors'
sources) set, the fixture runs it here::

    python oracle.py --config reduced --seed 0 --save-random-state red.pt --out red_out.npz

(`.ci/run` sets both when `../shared/reference` exists). Files made beforehand can be given instead with
`TAVIS_OFFICIAL_REDUCED_STATE` / `TAVIS_OFFICIAL_REDUCED_OUT`. The state dict is converted with
`convert_tavis_checkpoint` (preset `TavisConfig.official_reduced`) and our model runs on the oracle's inputs.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tavis_hf.models.tavis.configuration_tavis import TavisConfig
from tavis_hf.models.tavis.convert_tavis import convert_tavis_checkpoint
from tavis_hf.models.tavis.modeling_tavis import TavisModel

from ...parity import HOW_TO_ENABLE

STATE = os.environ.get("TAVIS_OFFICIAL_REDUCED_STATE")
OUT = os.environ.get("TAVIS_OFFICIAL_REDUCED_OUT")
ORACLE = os.environ.get("TAVIS_OFFICIAL_ORACLE")
SOURCE = os.environ.get("TAVIS_OFFICIAL_SRC")


def _run_oracle(folder: Path) -> tuple[Path, Path]:
    """Run the official-code oracle (reduced config, seed 0) into `folder`: (state dict file, outputs npz)."""
    state, out = folder / "red.pt", folder / "red_out.npz"
    command = [sys.executable, ORACLE, "--config", "reduced", "--seed", "0", "--save-random-state", str(state)]
    run = subprocess.run([*command, "--out", str(out)], cwd=folder, capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        pytest.fail(f"the oracle failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    return state, out


@pytest.fixture(scope="module")
def oracle_files(tmp_path_factory) -> tuple[Path, Path, bool]:
    """(state dict, oracle outputs, whether the state is ours to delete once converted)."""
    if STATE or OUT:
        missing = [name for name, path in (("STATE", STATE), ("OUT", OUT)) if not (path and os.path.isfile(path))]
        if missing:
            pytest.fail(f"TAVIS_OFFICIAL_REDUCED_{missing[0]} is not set to an existing file")
        return Path(STATE), Path(OUT), False
    if not (ORACLE and SOURCE and os.path.isfile(ORACLE) and os.path.isdir(SOURCE)):
        pytest.skip(
            f"set TAVIS_OFFICIAL_ORACLE (oracle.py) and TAVIS_OFFICIAL_SRC (the authors' TAViS): {HOW_TO_ENABLE}"
        )
    return (*_run_oracle(tmp_path_factory.mktemp("oracle")), True)


@pytest.fixture(scope="module")
def parity(oracle_files, tmp_path_factory):
    """Convert the oracle's state file to a sharded folder, load it and run it on the oracle's inputs; return
    (reference arrays, ours as numpy, oracle meta)."""
    state, out, delete_state = oracle_files
    reference = dict(np.load(out))
    meta = json.loads(str(reference["meta"]))
    assert meta["config"] == "reduced"
    folder = tmp_path_factory.mktemp("tavis_reduced")
    convert_tavis_checkpoint(state, folder, TavisConfig.official_reduced(), max_shard_size="300MB")
    if delete_state:
        state.unlink()  # 0.9 GB, no longer needed
    assert (folder / "model.safetensors.index.json").is_file()
    model = TavisModel.from_pretrained(folder).eval()

    image_norm = torch.from_numpy(reference["input_image_norm"])[None]
    image_raw = torch.from_numpy(reference["input_image_raw"])[None]
    mel = torch.from_numpy(reference["input_log_mel"])[None]
    imagebind_view = F.interpolate(image_raw, size=(112, 112), mode="bilinear", align_corners=False)

    ours = {}
    with torch.no_grad():
        prompts = model.compute_prompts(imagebind_view, mel)
        top, high_res, _ = model.get_image_features(image_norm, prompts.adapter_input)
        vision_cls = model.imagebind.vision_model(imagebind_view).last_hidden_state[:, 0]
        sources = torch.cat([prompts.refined_audio_tokens[0], prompts.audio_hidden_states[:, 0]], dim=0)
        decoder = model.sam2.mask_decoder
        output = model(
            pixel_values=image_norm[:, None],
            imagebind_pixel_values=imagebind_view[:, None],
            input_features=mel[:, None],
        )
    ours["ib_audio_tokens"] = prompts.audio_hidden_states[0, 1:]
    ours["ib_audio_cls"] = prompts.audio_hidden_states[0, 0]
    ours["ib_vision_cls_112"] = vision_cls[0]
    ours["ibqd_query_out"] = prompts.ibqd_queries[0]
    ours["refined_audio_tokens"] = prompts.refined_audio_tokens[0]
    ours["eot_logits"] = model.pseudo_text.eot_logits(sources)
    ours["pseudo_text_features"] = prompts.pseudo_text_features[0]
    ours["text_prompts"] = prompts.text_prompts[0]
    ours["audio_prompts"] = prompts.audio_prompts[0]
    ours["sparse_prompts"] = prompts.sparse_prompts[0]
    ours["dense_prompt"] = prompts.dense_prompts[0]
    ours["adaptor_audio"] = prompts.adapter_input[0]
    ours["fpn_14"] = top[0]
    ours["conv_s0"], ours["conv_s1"] = high_res[0][0], high_res[1][0]
    reference["conv_s0"] = decoder.conv_s0(torch.from_numpy(reference["fpn_56"])[None])[0].detach().numpy()
    reference["conv_s1"] = decoder.conv_s1(torch.from_numpy(reference["fpn_28"])[None])[0].detach().numpy()
    ours["low_res_masks"] = output.low_res_masks[0, 0]
    ours["iou_selected"] = output.iou_scores[0, 0]
    reference["iou_selected"] = reference["iou_predictions"].max(axis=-1)
    ours["object_score_logits"] = output.object_score_logits[0, 0]
    ours["binary_logits"] = output.pred_masks[0, 0]
    ours["object_logits"] = output.object_masks[0, 0]
    return reference, {key: value.detach().numpy() for key, value in ours.items()}, meta


INTERMEDIATES = [
    "ib_audio_tokens",
    "ib_audio_cls",
    "ib_vision_cls_112",
    "ibqd_query_out",
    "refined_audio_tokens",
    "eot_logits",
    "pseudo_text_features",
    "text_prompts",
    "audio_prompts",
    "sparse_prompts",
    "dense_prompt",
    "adaptor_audio",
]


# Both sides compute the same operations in float32, in other orders and kernels (fused vs split projections, SDPA
# vs explicit attention). Each reduction of n terms rounds by about sqrt(n) * eps relative to its magnitude
# (n <= 4096, the widest MLP: 64 * 1.2e-7 = 7.6e-6); the deepest path chains a few dozen of them, so allow 1e-4
# relative to the largest reference value. A wrong weight mapping changes these tensors by O(1) relative.
RELATIVE_TOLERANCE = 1e-4


def _check(reference: np.ndarray, ours: np.ndarray, name: str) -> float:
    diff = float(np.abs(reference - ours).max())
    scale = max(1.0, float(np.abs(reference).max()))
    assert diff <= RELATIVE_TOLERANCE * scale, f"{name}: max abs diff {diff:.3g} (values up to {scale:.3g})"
    return diff


@pytest.mark.parametrize("name", INTERMEDIATES)
def test_intermediates_match(parity, parity_record, name):
    reference, ours, _ = parity
    parity_record.add("tavis/intermediates", _check(reference[name], ours[name], name))


def test_discrete_choices_match(parity):
    reference, ours, meta = parity
    assert meta["eot_argmax_min_margin"] > 1e-3 and meta["best_mask_argmax_min_margin"] > 1e-3
    np.testing.assert_array_equal(ours["eot_logits"].argmax(-1), reference["eot_index"])


@pytest.mark.parametrize(
    "name", ["fpn_14", "conv_s0", "conv_s1", "low_res_masks", "iou_selected", "object_score_logits"]
)
def test_sam2_path_matches(parity, parity_record, name):
    reference, ours, _ = parity
    parity_record.add("tavis/sam2_path", _check(reference[name], ours[name], name))


@pytest.mark.parametrize("name", ["binary_logits", "object_logits"])
def test_logits_match(parity, parity_record, name):
    reference, ours, _ = parity
    parity_record.add(f"tavis/{name}", _check(reference[name], ours[name], name))
