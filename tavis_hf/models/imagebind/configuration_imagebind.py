"""ImageBind configuration (vision, text and audio towers).

ImageBind (Girdhar et al., CVPR 2023) is by Meta AI. Its code and weights are licensed CC BY-NC-SA 4.0: no
ImageBind code or weight is part of this package; converted weights inherit that licence (non-commercial,
share-alike). The hyperparameters below are those of the authors' ``imagebind_huge()`` builder.
"""

import math

from huggingface_hub.dataclasses import strict
from transformers.configuration_utils import PreTrainedConfig

__all__ = ["ImageBindAudioConfig", "ImageBindConfig", "ImageBindTextConfig", "ImageBindVisionConfig"]


def _check_heads(config: PreTrainedConfig) -> None:
    if config.hidden_size % config.num_attention_heads != 0:
        raise ValueError(
            f"hidden_size ({config.hidden_size}) must be a multiple of num_attention_heads "
            f"({config.num_attention_heads})."
        )


@strict
class ImageBindVisionConfig(PreTrainedConfig):
    r"""Vision tower (an OpenCLIP ViT-H/14 trunk in ``imagebind_huge``).

    The stem is the authors' Conv3d with kernel ``(num_frames, patch_size, patch_size)`` applied to a still image
    repeated ``num_frames`` times (kept as a Conv3d so that outputs match the authors' to float rounding).

    Args:
        hidden_size, intermediate_size, num_hidden_layers, num_attention_heads: trunk width, MLP width, depth, heads.
        num_channels (`int`): input channels (3, RGB).
        image_size (`int`): resolution of the learned positional grid (224 px -> 16x16 patches + CLS); other square
            sizes are handled by bicubic interpolation of the positional embedding.
        patch_size (`int`): spatial patch size in pixels (14).
        num_frames (`int`): temporal kernel (and stride) of the Conv3d stem; images are repeated to 2 frames.
        hidden_act (`str`): MLP activation (exact ``"gelu"``).
        layer_norm_eps (`float`): epsilon of every LayerNorm of this tower (1e-6).
        attention_dropout (`float`): attention-probability dropout (0).
        initializer_range, initializer_factor: random-initialisation scales (tests / training from scratch only).
    """

    model_type = "imagebind_vision_model"
    base_config_key = "vision_config"

    hidden_size: int = 1280
    intermediate_size: int = 5120
    num_hidden_layers: int = 32
    num_attention_heads: int = 16
    num_channels: int = 3
    image_size: int = 224
    patch_size: int = 14
    num_frames: int = 2
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-6
    attention_dropout: float = 0.0
    initializer_range: float = 0.02
    initializer_factor: float = 1.0

    def validate_architecture(self):
        """Part of `@strict` validation."""
        _check_heads(self)


@strict
class ImageBindTextConfig(PreTrainedConfig):
    r"""Text tower (an OpenCLIP ViT-H/14 text trunk in ``imagebind_huge``): causal, no padding mask, pooled at EOT.

    Args:
        vocab_size (`int`): CLIP BPE vocabulary (49,408).
        hidden_size, intermediate_size, num_hidden_layers, num_attention_heads: trunk width, MLP width, depth, heads.
        max_position_embeddings (`int`): context length (77).
        hidden_act, layer_norm_eps, attention_dropout, initializer_range, initializer_factor: as for vision.
        pad_token_id, bos_token_id, eos_token_id: 0, 49406 (``<|startoftext|>``), 49407 (``<|endoftext|>``).
        logit_scale_init_value (`float`): initial value of the learnable text scale (1/0.07); the parameter
            ``text_logit_scale`` stores its natural log.
        max_logit_scale (`float`): the applied scale is ``min(exp(text_logit_scale), max_logit_scale)`` (100).
    """

    model_type = "imagebind_text_model"
    base_config_key = "text_config"

    vocab_size: int = 49408
    hidden_size: int = 1024
    intermediate_size: int = 4096
    num_hidden_layers: int = 24
    num_attention_heads: int = 16
    max_position_embeddings: int = 77
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-6
    attention_dropout: float = 0.0
    initializer_range: float = 0.02
    initializer_factor: float = 1.0
    pad_token_id: int | None = 0
    bos_token_id: int | None = 49406
    eos_token_id: int | None = 49407
    logit_scale_init_value: float = 1 / 0.07
    max_logit_scale: float = 100.0

    def validate_architecture(self):
        """Part of `@strict` validation."""
        _check_heads(self)


@strict
class ImageBindAudioConfig(PreTrainedConfig):
    r"""Audio tower: a ViT over a normalised log-mel spectrogram ``(1, num_mel_bins, target_length)``.

    Args:
        hidden_size, intermediate_size, num_hidden_layers, num_attention_heads: trunk width, MLP width, depth, heads.
        num_mel_bins (`int`): mel bins of the input (128).
        target_length (`int`): frames of the input (204). Inputs must have exactly this shape (no interpolation).
        patch_size (`int`): square patch kernel (16); patch_stride (`int`): patch stride (10), so 12x19 = 228
            overlapping patches + CLS = 229 tokens.
        add_kv_bias (`bool`): learned key/value bias tokens appended after the key/value projections (PyTorch's
            ``add_bias_kv``), one extra attended position per head.
        drop_path_rate (`float`): stochastic depth; block ``i`` uses ``linspace(0, drop_path_rate, depth)[i]``.
        hidden_act, layer_norm_eps, attention_dropout, initializer_range, initializer_factor: as for vision.
        patch_layer_norm_eps (`float`): epsilon of the stem LayerNorm (1e-5, the only 1e-5 norm of ImageBind).
        logit_scale (`float`): fixed multiplier of the normalised audio embedding (20, not learnable).
    """

    model_type = "imagebind_audio_model"
    base_config_key = "audio_config"

    hidden_size: int = 768
    intermediate_size: int = 3072
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    num_mel_bins: int = 128
    target_length: int = 204
    patch_size: int = 16
    patch_stride: int = 10
    add_kv_bias: bool = True
    drop_path_rate: float = 0.1
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-6
    patch_layer_norm_eps: float = 1e-5
    attention_dropout: float = 0.0
    initializer_range: float = 0.02
    initializer_factor: float = 1.0
    logit_scale: float = 20.0

    def validate_architecture(self):
        """Part of `@strict` validation."""
        _check_heads(self)
        if self.patch_size > min(self.num_mel_bins, self.target_length):
            raise ValueError(f"patch_size ({self.patch_size}) exceeds the spectrogram size.")

    @property
    def patch_grid(self) -> tuple[int, int]:
        """Patch grid ``(mel rows, time columns)``: (12, 19) for 128x204 input, kernel 16, stride 10."""
        return (
            (self.num_mel_bins - self.patch_size) // self.patch_stride + 1,
            (self.target_length - self.patch_size) // self.patch_stride + 1,
        )

    @property
    def num_positions(self) -> int:
        """Tokens per clip including CLS (229)."""
        rows, cols = self.patch_grid
        return rows * cols + 1


@strict
class ImageBindConfig(PreTrainedConfig):
    r"""ImageBind with the vision, text and audio towers (depth, thermal and IMU are not part of this port).

    Args:
        vision_config, text_config, audio_config (`dict` or the tower config): tower configurations.
        projection_dim (`int`): joint embedding size (1024).
        initializer_range, initializer_factor: random-initialisation scales of the projections.

    Presets: [`ImageBindConfig.imagebind_huge`] (the authors' released model) and [`ImageBindConfig.tiny`] (tests).
    """

    model_type = "imagebind"
    sub_configs_defaults = {
        "vision_config": ImageBindVisionConfig,
        "text_config": ImageBindTextConfig,
        "audio_config": ImageBindAudioConfig,
    }

    vision_config: dict | ImageBindVisionConfig | None = None
    text_config: dict | ImageBindTextConfig | None = None
    audio_config: dict | ImageBindAudioConfig | None = None
    projection_dim: int = 1024
    initializer_range: float = 0.02
    initializer_factor: float = 1.0

    @classmethod
    def imagebind_huge(cls, **kwargs) -> "ImageBindConfig":
        """The authors' ``imagebind_huge`` dimensions (vision 1280/32/16, text 1024/24/16, audio 768/12/12)."""
        return cls(
            vision_config=ImageBindVisionConfig(),
            text_config=ImageBindTextConfig(),
            audio_config=ImageBindAudioConfig(),
            projection_dim=1024,
            **kwargs,
        )

    @classmethod
    def tiny(cls, hidden_size: int = 32, num_hidden_layers: int = 2, num_attention_heads: int = 2, **kwargs):
        """A small config for tests: tiny widths and depths, but the real token geometry (224 px / patch 14 vision,
        77 text positions over the full CLIP vocabulary, 128x204 mel -> 228 audio patches) and the real joint size
        (``projection_dim=1024``), so code written against the huge model runs unchanged."""
        common = {
            "hidden_size": hidden_size,
            "intermediate_size": 4 * hidden_size,
            "num_hidden_layers": num_hidden_layers,
            "num_attention_heads": num_attention_heads,
        }
        return cls(
            vision_config=ImageBindVisionConfig(**common),
            text_config=ImageBindTextConfig(**common),
            audio_config=ImageBindAudioConfig(**common),
            projection_dim=1024,
            **kwargs,
        )

    @property
    def text_logit_scale_init(self) -> float:
        """Natural log of the text logit-scale initial value (ln(1/0.07) = 2.6593)."""
        return math.log(self.text_config.logit_scale_init_value)
