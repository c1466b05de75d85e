"""Parity with the authors' released code on the oracle's reduced configuration.

Produce the reference files with the official-code oracle (``the project's shared/tools/official_tavis/README.md``)::

    python oracle.py --config reduced --seed 0 --save-random-state red.pt --out red_out.npz

and point ``TAVIS_OFFICIAL_REDUCED_STATE`` / ``TAVIS_OFFICIAL_REDUCED_OUT`` at them. The state dict is converted with
``convert_tavis_state_dict`` (preset ``TavisConfig.official_reduced``) and our model runs on the oracle's inputs.
"""

import json
import os

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tavis_hf.models.tavis.configuration_tavis import TavisConfig
from tavis_hf.models.tavis.convert_tavis import convert_tavis_checkpoint
from tavis_hf.models.tavis.modeling_tavis import TavisModel

STATE = os.environ.get("TAVIS_OFFICIAL_REDUCED_STATE")
OUT = os.environ.get("TAVIS_OFFICIAL_REDUCED_OUT")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (STATE and OUT and os.path.isfile(STATE) and os.path.isfile(OUT)),
        reason="set TAVIS_OFFICIAL_REDUCED_STATE and TAVIS_OFFICIAL_REDUCED_OUT to the oracle's reduced-config "
        "--save-random-state file and --out npz (see the project's shared/tools/official_tavis/README.md)",
    ),
]


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    """Convert the oracle's state file to a sharded folder, load it and run it on the oracle's inputs; return
    (reference arrays, ours as numpy, oracle meta)."""
    reference = dict(np.load(OUT))
    meta = json.loads(str(reference["meta"]))
    assert meta["config"] == "reduced"
    folder = tmp_path_factory.mktemp("tavis_reduced")
    convert_tavis_checkpoint(STATE, folder, TavisConfig.official_reduced(), max_shard_size="300MB")
    assert (folder / "model.safetensors.index.json").is_file()
    model = TavisModel.from_pretrained(folder).eval()

    image_norm = torch.from_numpy(reference["input_image_norm"])[None]
    image_raw = torch.from_numpy(reference["input_image_raw"])[None]
    mel = torch.from_numpy(reference["input_log_mel"])[None]
    imagebind_view = F.interpolate(image_raw, size=(112, 112), mode="bilinear", align_corners=False)

    ours = {}
    with torch.no_grad():
        prompts = model.compute_prompts(imagebind_view, mel)
        top, high_res, _ = model.get_image_features(image_norm, prompts["adapter_input"])
        vision_cls = model.imagebind.vision_model(imagebind_view).last_hidden_state[:, 0]
        sources = torch.cat([prompts["refined_tokens"][0], prompts["audio_hidden"][:, 0]], dim=0)
        decoder = model.sam2.mask_decoder
        output = model(
            pixel_values=image_norm[:, None],
            imagebind_pixel_values=imagebind_view[:, None],
            input_features=mel[:, None],
        )
    ours["ib_audio_tokens"] = prompts["audio_hidden"][0, 1:]
    ours["ib_audio_cls"] = prompts["audio_hidden"][0, 0]
    ours["ib_vision_cls_112"] = vision_cls[0]
    ours["ibqd_query_out"] = prompts["query_out"][0]
    ours["refined_audio_tokens"] = prompts["refined_tokens"][0]
    ours["eot_logits"] = model.pseudo_text.eot_logits(sources)
    ours["pseudo_text_features"] = prompts["pseudo_text"][0]
    ours["text_prompts"] = prompts["text_prompts"][0]
    ours["audio_prompts"] = prompts["audio_prompts"][0]
    ours["sparse_prompts"] = prompts["sparse"][0]
    ours["dense_prompt"] = prompts["dense"][0]
    ours["adaptor_audio"] = prompts["adapter_input"][0]
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


@pytest.mark.parametrize("name", INTERMEDIATES)
def test_intermediates_match(parity, name):
    reference, ours, _ = parity
    diff = np.abs(reference[name] - ours[name]).max()
    assert diff <= 1e-5, f"{name}: max abs diff {diff:.3g}"


def test_discrete_choices_match(parity):
    reference, ours, meta = parity
    assert meta["eot_argmax_min_margin"] > 1e-3 and meta["best_mask_argmax_min_margin"] > 1e-3
    np.testing.assert_array_equal(ours["eot_logits"].argmax(-1), reference["eot_index"])


@pytest.mark.parametrize(
    "name", ["fpn_14", "conv_s0", "conv_s1", "low_res_masks", "iou_selected", "object_score_logits"]
)
def test_sam2_path_matches(parity, name):
    reference, ours, _ = parity
    diff = np.abs(reference[name] - ours[name]).max()
    assert diff <= 1e-4, f"{name}: max abs diff {diff:.3g}"


@pytest.mark.parametrize("name", ["binary_logits", "object_logits"])
def test_logits_match(parity, name):
    reference, ours, _ = parity
    diff = np.abs(reference[name] - ours[name]).max()
    assert diff <= 1e-4, f"{name}: max abs diff {diff:.3g}"
