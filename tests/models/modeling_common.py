"""Checks every model of the package must pass, written once (like transformers' `ModelTesterMixin`).

A test class for a model inherits [`ModelTesterMixin`] and says how to build a tiny one and its inputs::

    class TestImageBindModel(ModelTesterMixin):
        model_class = ImageBindModel
        bfloat16_outputs = ("image_embeds",)

        def get_config(self): ...
        def get_inputs(self, batch_size, seed=0): ...  # tensors with the batch first
        def output_tensors(self, outputs): ...  # name -> tensor with the batch first

The mixin then checks: the save/load round trip (Auto classes, bit-identical weights, the same outputs), that an
input's outputs do not depend on the rest of its batch, that the model runs in bfloat16, and that a misspelt keyword
argument fails instead of being swallowed.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from transformers import AutoConfig, AutoModel

#: Relative to the largest |value| of an output: how far two float32 runs of the same weights on the same inputs may
#: drift when kernels sum in another order (other BLAS paths for other memory alignment or batch sizes): a few eps
#: (1.2e-7) times sqrt(width) per layer over a tiny model's ~30 layers is ~1e-4. Measured: regrouping the batch moves
#: the tiny TAViS model's mask logits (|logit| <= 2e-3) by 1.3e-9, 7e-7 of their scale.
REORDERED_SUMS = 1e-4

#: bfloat16 keeps 8 significant bits (relative rounding 2^-9 per operation); through the tiny towers the direction of
#: well-conditioned outputs (embeddings, prompts) stays within cosine 1e-4 of float32 (measured: >= 0.99990).
BFLOAT16_MIN_COSINE = 0.999


def reordered_sums_tolerance(reference: torch.Tensor) -> float:
    """Absolute tolerance for `reference` recomputed with sums in another order (see `REORDERED_SUMS`)."""
    return REORDERED_SUMS * float(reference.abs().max())


def assert_close_up_to_reordered_sums(got: torch.Tensor, expected: torch.Tensor, name: str = "") -> None:
    torch.testing.assert_close(got, expected, atol=reordered_sums_tolerance(expected), rtol=0, msg=name or None)


class ModelTesterMixin:
    """Shared model checks; see the module docstring for what a test class provides."""

    #: the `PreTrainedModel` class under test
    model_class: type
    #: `output_tensors` names whose float32 and bfloat16 values must point the same way (well-conditioned outputs)
    bfloat16_outputs: tuple[str, ...] = ()

    def get_config(self):
        """A tiny configuration (CPU, < 1 s forward)."""
        raise NotImplementedError

    def get_inputs(self, batch_size: int, seed: int = 0) -> dict[str, Any]:
        """Model inputs for `batch_size` examples: tensors with the batch first; other arguments shared by the
        batch go in `shared_inputs`."""
        raise NotImplementedError

    def shared_inputs(self) -> dict[str, Any]:
        """Arguments that are not per example (e.g. a class vocabulary)."""
        return {}

    def output_tensors(self, outputs) -> dict[str, torch.Tensor]:
        """The floating-point outputs to compare, each with the batch first."""
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------------ helpers
    def make_model(self, seed: int = 0):
        torch.manual_seed(seed)
        return self.model_class(self.get_config()).eval()

    def run_model(self, model, inputs: dict[str, Any]) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return self.output_tensors(model(**inputs, **self.shared_inputs()))

    # ------------------------------------------------------------------------------------------------- checks
    def test_save_load_round_trip(self, tmp_path):
        model = self.make_model()
        model.save_pretrained(tmp_path)
        assert isinstance(AutoConfig.from_pretrained(tmp_path), type(model.config))
        loaded = AutoModel.from_pretrained(tmp_path)
        assert type(loaded) is self.model_class and not loaded.training
        reference, reloaded = model.state_dict(), loaded.state_dict()
        assert reference.keys() == reloaded.keys()
        assert [key for key in reference if not torch.equal(reference[key], reloaded[key])] == []
        inputs = self.get_inputs(batch_size=1)
        expected, got = self.run_model(model, inputs), self.run_model(loaded, inputs)
        assert got.keys() == expected.keys()
        # weights are bit-identical; memory-mapped (differently aligned) tensors may take other BLAS kernels
        for name in expected:
            assert_close_up_to_reordered_sums(got[name], expected[name], name)

    def test_outputs_do_not_depend_on_the_rest_of_the_batch(self):
        model = self.make_model()
        inputs = self.get_inputs(batch_size=3)
        batched = self.run_model(model, inputs)
        alone = self.run_model(model, {key: value[1:2] for key, value in inputs.items()})
        for name, expected in alone.items():
            assert_close_up_to_reordered_sums(batched[name][1:2], expected, name)

    def test_runs_in_bfloat16(self):
        model = self.make_model()
        inputs = self.get_inputs(batch_size=2)
        reference = self.run_model(model, inputs)
        model = model.to(torch.bfloat16)
        assert model.dtype == torch.bfloat16
        floating = [name for name, p in model.named_parameters() if p.is_floating_point()]
        assert [name for name in floating if model.get_parameter(name).dtype != torch.bfloat16] == []
        half = {key: v.to(torch.bfloat16) if v.is_floating_point() else v for key, v in inputs.items()}
        outputs = self.run_model(model, half)
        assert outputs.keys() == reference.keys()
        assert [name for name, value in outputs.items() if not torch.isfinite(value).all()] == []
        for name in self.bfloat16_outputs:
            cosine = torch.nn.functional.cosine_similarity(
                outputs[name].double().flatten(), reference[name].double().flatten(), dim=0
            )
            assert float(cosine) >= BFLOAT16_MIN_COSINE, f"{name}: cosine {float(cosine):.6f} to float32"

    def test_a_misspelt_keyword_argument_fails(self):
        model = self.make_model()
        inputs = self.get_inputs(batch_size=1)
        misspelt = next(iter(inputs)) + "s"  # e.g. pixel_valuess
        with pytest.raises(TypeError, match=misspelt):
            model(**inputs, **self.shared_inputs(), **{misspelt: inputs[next(iter(inputs))]})
