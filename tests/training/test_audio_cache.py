"""tavis_hf.training.audio_cache: the cached frozen audio tower gives the tower's outputs bit for bit."""

import pytest
import torch

from tavis_hf.training import CachedImageBindAudio


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


def test_cache_as_a_context_manager_restores_the_tower():
    from tavis_hf.models.imagebind import ImageBindConfig, ImageBindModel

    tower = ImageBindModel(ImageBindConfig.tiny()).audio_model.eval().requires_grad_(False)
    features = torch.randn(1, 1, 128, 204)
    reference = tower(features).last_hidden_state
    with CachedImageBindAudio(tower) as cache:
        assert torch.equal(tower(features).last_hidden_state, reference) and cache.misses == 1
    assert "forward" not in vars(tower)  # the class's forward again
    assert torch.equal(tower(features).last_hidden_state, reference) and cache.misses == 1
