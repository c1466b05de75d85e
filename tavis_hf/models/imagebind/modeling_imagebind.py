"""ImageBind vision, text and audio towers in transformers style.

A re-implementation (not a copy) of the authors' ImageBind (Meta AI; code and weights CC BY-NC-SA 4.0, neither is
vendored here). With the same weights (see ``convert_imagebind.py``) the outputs equal the authors' model: final
embeddings and trunk tokens are identical in fp32 (max |diff| 0.0 at full depth, random weights;
``tests/models/imagebind/test_official_parity.py``).

The vision and text towers are OpenCLIP ViT-H/14 towers and reuse transformers' CLIP modules unchanged
(``CLIPVisionEmbeddings``, ``CLIPTextEmbeddings``, ``CLIPEncoder``, ``CLIPMLP``); only the audio tower (stem
LayerNorm, learned key/value bias tokens, stochastic depth) is new code.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import BaseModelOutputWithPooling
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS, PreTrainedModel
from transformers.models.clip.modeling_clip import (
    CLIPMLP,
    CLIPEncoder,
    CLIPTextEmbeddings,
    CLIPVisionEmbeddings,
    eager_attention_forward,
)
from transformers.utils import ModelOutput

from .configuration_imagebind import (
    ImageBindAudioConfig,
    ImageBindConfig,
    ImageBindTextConfig,
    ImageBindVisionConfig,
)

__all__ = [
    "ImageBindAudioModel",
    "ImageBindModel",
    "ImageBindOutput",
    "ImageBindPreTrainedModel",
    "ImageBindTextModel",
    "ImageBindVisionModel",
]


@dataclass
class ImageBindOutput(ModelOutput):
    r"""Outputs of [`ImageBindModel.forward`]; a modality's fields are `None` when its input was not given.

    Args:
        image_embeds (`torch.FloatTensor` of shape `(batch_size, projection_dim)`): L2-normalised image embeddings.
        text_embeds (`torch.FloatTensor` of shape `(batch_size, projection_dim)`): L2-normalised text embeddings
            times the clamped text logit scale (norm = min(exp(text_logit_scale), 100)).
        audio_embeds (`torch.FloatTensor` of shape `(batch_size, projection_dim)`): L2-normalised audio embeddings
            times 20 (averaged over clips for 5-D input, without renormalising, as the authors do).
        vision_model_output, text_model_output, audio_model_output ([`BaseModelOutputWithPooling`]): tower outputs
            (`last_hidden_state` = pre-head trunk tokens, `pooler_output` = head-LayerNorm of the pooled token).
    """

    image_embeds: torch.FloatTensor | None = None
    text_embeds: torch.FloatTensor | None = None
    audio_embeds: torch.FloatTensor | None = None
    vision_model_output: BaseModelOutputWithPooling | None = None
    text_model_output: BaseModelOutputWithPooling | None = None
    audio_model_output: BaseModelOutputWithPooling | None = None


class ImageBindPreTrainedModel(PreTrainedModel):
    config: ImageBindConfig
    base_model_prefix = "imagebind"
    main_input_name = "pixel_values"
    input_modalities = ("image", "text", "audio")
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = False
    _no_split_modules = [
        "CLIPEncoderLayer",
        "ImageBindAudioEncoderLayer",
        "ImageBindVisionEmbeddings",
        "CLIPTextEmbeddings",
        "ImageBindAudioEmbeddings",
    ]

    @torch.no_grad()
    def _init_weights(self, module):
        """Random initialisation (OpenCLIP-like scales); pretrained weights come from the converter."""
        super()._init_weights(module)
        std = self.config.initializer_range
        if isinstance(module, CLIPVisionEmbeddings):
            init.normal_(module.class_embedding, std=module.embed_dim**-0.5)
            init.normal_(module.position_embedding.weight, std=module.embed_dim**-0.5)
            init.copy_(module.position_ids, torch.arange(module.num_positions).expand((1, -1)))
        elif isinstance(module, CLIPTextEmbeddings):
            init.normal_(module.token_embedding.weight, std=std)
            init.normal_(module.position_embedding.weight, std=0.01)
            init.copy_(module.position_ids, torch.arange(module.position_ids.shape[-1]).expand((1, -1)))
        elif isinstance(module, ImageBindAudioEmbeddings):
            dim = module.class_embedding.shape[-1]
            init.normal_(module.class_embedding, std=dim**-0.5)
            init.normal_(module.position_embedding.weight, std=dim**-0.5)
        elif isinstance(module, ImageBindAudioAttention) and module.k_bias is not None:
            init.normal_(module.k_bias, std=std)
            init.normal_(module.v_bias, std=std)
        elif isinstance(module, ImageBindModel):
            init.constant_(module.text_logit_scale, self.config.text_logit_scale_init)


class ImageBindVisionEmbeddings(CLIPVisionEmbeddings):
    """CLIP's vision embeddings (CLS, learned positions) with the authors' video stem and positional interpolation.

    The image is repeated to `num_frames` (2) time steps and patchified by a Conv3d with kernel = stride =
    `(num_frames, patch_size, patch_size)`, no bias. (Folding the kernel into a Conv2d by summing its temporal taps
    is mathematically equal but rounds differently; the Conv3d keeps the trunk tokens identical to the authors'.)
    For other square sizes the positional grid is resized bicubically as in the authors' code.

    Input `(B, 3, H, W)` images or `(B, 3, num_frames, H, W)` two-frame videos -> `(B, 1 + (H/14)*(W/14), D)`.
    """

    def __init__(self, config: ImageBindVisionConfig):
        super().__init__(config)
        kernel = (config.num_frames, config.patch_size, config.patch_size)
        self.patch_embedding = nn.Conv3d(config.num_channels, config.hidden_size, kernel, stride=kernel, bias=False)

    def interpolate_pos_encoding(self, embeddings: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Positional embeddings `(1, 1 + grid_h * grid_w, D)` for an input of `height` x `width` pixels: the
        learned ones when the grid matches, else the patch entries resized bicubically (align_corners False, no
        antialias) with CLS kept, computed in float32 for bfloat16 weights as the authors do."""
        positions = self.position_embedding.weight
        grid_h, grid_w = height // self.patch_size, width // self.patch_size
        if grid_h * grid_w == self.num_patches:
            return positions[None]
        side = math.isqrt(self.num_patches)
        patch = positions[1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
        compute_dtype = torch.float32 if patch.dtype == torch.bfloat16 else patch.dtype
        patch = nn.functional.interpolate(
            patch.to(compute_dtype), size=(grid_h, grid_w), mode="bicubic", align_corners=False
        ).to(positions.dtype)
        return torch.cat([positions[:1], patch.permute(0, 2, 3, 1).reshape(grid_h * grid_w, -1)])[None]

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        if pixel_values.ndim == 4:
            pixel_values = pixel_values.unsqueeze(2).repeat(1, 1, self.config.num_frames, 1, 1)
        height, width = pixel_values.shape[-2:]
        weight = self.patch_embedding.weight
        patches = self.patch_embedding(pixel_values.to(weight.dtype)).flatten(2).transpose(1, 2)
        embeddings = torch.cat([self.class_embedding.expand(patches.shape[0], 1, -1), patches], dim=1)
        return embeddings + self.interpolate_pos_encoding(embeddings, height, width)


class ImageBindVisionModel(ImageBindPreTrainedModel):
    """Vision trunk: [`ImageBindVisionEmbeddings`] (2-frame Conv3d stem, CLS, learned positions bicubically
    interpolated for sizes other than `image_size`), pre-LayerNorm, CLIP pre-norm blocks; `post_layernorm` is the
    head LayerNorm applied to CLS."""

    config: ImageBindVisionConfig
    main_input_name = "pixel_values"
    input_modalities = ("image",)

    def __init__(self, config: ImageBindVisionConfig):
        super().__init__(config)
        self.embeddings = ImageBindVisionEmbeddings(config)
        self.pre_layrnorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.encoder = CLIPEncoder(config)
        self.post_layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, **kwargs) -> BaseModelOutputWithPooling:
        r"""
        Args:
            pixel_values (`torch.FloatTensor` of shape `(batch_size, num_channels, height, width)`): CLIP-normalised
                images (the authors' pipeline) or, as TAViS does, raw [0, 1] frames; two-frame videos
                `(batch_size, num_channels, 2, height, width)` are accepted too. Square sizes that are multiples
                of `patch_size`; non-224 inputs use the authors' bicubic positional-embedding interpolation.

        Returns:
            [`BaseModelOutputWithPooling`]: `last_hidden_state` `(batch_size, 1 + (height/14)*(width/14),
            hidden_size)` = trunk tokens before the head LayerNorm, CLS first; `pooler_output`
            `(batch_size, hidden_size)` = head-LayerNorm(CLS).
        """
        frames = self.config.num_frames
        if not (pixel_values.ndim == 4 or (pixel_values.ndim == 5 and pixel_values.shape[2] == frames)) or (
            pixel_values.shape[1] != self.config.num_channels
        ):
            raise ValueError(
                f"pixel_values must have shape (batch, {self.config.num_channels}, height, width) or (batch, "
                f"{self.config.num_channels}, {frames}, height, width); got {tuple(pixel_values.shape)}."
            )
        height, width = pixel_values.shape[-2:]
        if height != width or height % self.config.patch_size != 0:
            raise ValueError(
                f"ImageBind's positional interpolation needs square images whose side is a multiple of "
                f"{self.config.patch_size}; got {height}x{width}."
            )
        hidden_states = self.embeddings(pixel_values)
        hidden_states = self.pre_layrnorm(hidden_states)
        hidden_states = self.encoder(inputs_embeds=hidden_states, **kwargs).last_hidden_state
        return BaseModelOutputWithPooling(
            last_hidden_state=hidden_states, pooler_output=self.post_layernorm(hidden_states[:, 0])
        )


class ImageBindTextModel(ImageBindPreTrainedModel):
    """Text trunk: token + positional embeddings, causal pre-norm blocks (no padding mask), final LayerNorm applied
    only to the pooled (end-of-text) token."""

    config: ImageBindTextConfig
    main_input_name = "input_ids"
    input_modalities = ("text",)
    _input_embed_layer = "token_embedding"

    def __init__(self, config: ImageBindTextConfig):
        super().__init__(config)
        self.embeddings = CLIPTextEmbeddings(config)
        self.encoder = CLIPEncoder(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.token_embedding

    def set_input_embeddings(self, value: nn.Embedding):
        self.embeddings.token_embedding = value

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        eos_positions: torch.LongTensor | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPooling:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size, seq_len)`): token ids (ImageBind tokenizer: SOT,
                text, EOT, zero padding to 77).
            inputs_embeds (`torch.FloatTensor` of shape `(batch_size, seq_len, hidden_size)`): token embeddings
                *without* positional embedding (positions `0..seq_len-1` are added here). Exactly one of
                `input_ids` / `inputs_embeds`.
            eos_positions (`torch.LongTensor` of shape `(batch_size,)`): index of the pooled token; defaults to
                `input_ids.argmax(-1)` (the first EOT, id 49407 being the largest id). Required with
                `inputs_embeds`.

        `seq_len <= 77`; because the mask is causal, a shorter sequence gives exactly the first `seq_len` tokens of
        the 77-long run.

        Returns:
            [`BaseModelOutputWithPooling`]: `last_hidden_state` `(batch_size, seq_len, hidden_size)` = trunk output
            before the final LayerNorm; `pooler_output` `(batch_size, hidden_size)` = final-LayerNorm of the token
            at `eos_positions`.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of input_ids or inputs_embeds.")
        if input_ids is not None:
            if input_ids.ndim != 2:
                raise ValueError(f"input_ids must have shape (batch, seq_len); got {tuple(input_ids.shape)}.")
            if eos_positions is None:
                eos_positions = input_ids.argmax(dim=-1)
        else:
            if inputs_embeds.ndim != 3 or inputs_embeds.shape[-1] != self.config.hidden_size:
                raise ValueError(
                    f"inputs_embeds must have shape (batch, seq_len, {self.config.hidden_size}); "
                    f"got {tuple(inputs_embeds.shape)}."
                )
            if eos_positions is None:
                raise ValueError("eos_positions is required with inputs_embeds (there are no ids to argmax).")
        hidden_states = self.embeddings(input_ids=input_ids, inputs_embeds=inputs_embeds)
        batch_size, seq_len = hidden_states.shape[:2]
        eos_positions = torch.as_tensor(eos_positions, device=hidden_states.device).long()
        if eos_positions.shape != (batch_size,):
            raise ValueError(f"eos_positions must have shape ({batch_size},); got {tuple(eos_positions.shape)}.")
        if bool(((eos_positions < 0) | (eos_positions >= seq_len)).any()):
            raise ValueError(f"eos_positions must lie in [0, {seq_len}); got {eos_positions.tolist()}.")

        causal_mask = torch.full((seq_len, seq_len), float("-inf"), device=hidden_states.device).triu_(1)
        causal_mask = causal_mask.to(hidden_states.dtype)[None, None]
        hidden_states = self.encoder(inputs_embeds=hidden_states, attention_mask=causal_mask, **kwargs)
        hidden_states = hidden_states.last_hidden_state
        pooled = hidden_states[torch.arange(batch_size, device=hidden_states.device), eos_positions]
        return BaseModelOutputWithPooling(last_hidden_state=hidden_states, pooler_output=self.final_layer_norm(pooled))


class ImageBindAudioEmbeddings(nn.Module):
    """Audio stem: Conv2d(1 -> D, kernel 16, stride 10, no bias) over the log-mel image, LayerNorm (eps 1e-5) per
    patch, CLS prepended, learned positions added. Input `(B, 1, 128, 204)` -> `(B, 229, D)`."""

    def __init__(self, config: ImageBindAudioConfig):
        super().__init__()
        self.config = config
        self.patch_embedding = nn.Conv2d(
            1, config.hidden_size, kernel_size=config.patch_size, stride=config.patch_stride, bias=False
        )
        self.patch_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.patch_layer_norm_eps)
        self.class_embedding = nn.Parameter(torch.zeros(config.hidden_size))
        self.position_embedding = nn.Embedding(config.num_positions, config.hidden_size)

    def forward(self, input_features: torch.Tensor) -> torch.Tensor:
        expected = (1, self.config.num_mel_bins, self.config.target_length)
        if input_features.ndim != 4 or tuple(input_features.shape[1:]) != expected:
            raise ValueError(
                f"input_features must have shape (batch, {expected[0]}, {expected[1]}, {expected[2]}) "
                f"(normalised log-mel, see ImageBindAudioFeatureExtractor); got {tuple(input_features.shape)}."
            )
        weight = self.patch_embedding.weight
        patches = self.patch_embedding(input_features.to(weight.dtype)).flatten(2).transpose(1, 2)
        patches = self.patch_layer_norm(patches)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding.weight


class ImageBindAudioAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v projections (the authors' fused in-projection split) and,
    when `add_kv_bias`, one learned key and value token appended after the projections (PyTorch's
    `nn.MultiheadAttention(add_bias_kv=True)`): every query attends to `seq_len + 1` positions."""

    def __init__(self, config: ImageBindAudioConfig):
        super().__init__()
        self.config = config
        self.embed_dim = config.hidden_size
        self.head_dim = self.embed_dim // config.num_attention_heads
        self.scale = self.head_dim**-0.5
        self.dropout = config.attention_dropout
        self.is_causal = False
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)
        if config.add_kv_bias:
            self.k_bias = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
            self.v_bias = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
        else:
            self.k_bias = self.v_bias = None

    def forward(self, hidden_states: torch.Tensor, **kwargs) -> tuple[torch.Tensor, torch.Tensor | None]:
        batch_size, seq_len, _ = hidden_states.shape
        queries = self.q_proj(hidden_states)
        keys = self.k_proj(hidden_states)
        values = self.v_proj(hidden_states)
        if self.k_bias is not None:
            keys = torch.cat([keys, self.k_bias.expand(batch_size, 1, -1)], dim=1)
            values = torch.cat([values, self.v_bias.expand(batch_size, 1, -1)], dim=1)
        queries = queries.view(batch_size, seq_len, -1, self.head_dim).transpose(1, 2)
        keys = keys.view(batch_size, keys.shape[1], -1, self.head_dim).transpose(1, 2)
        values = values.view(batch_size, values.shape[1], -1, self.head_dim).transpose(1, 2)

        attention_interface: Callable = ALL_ATTENTION_FUNCTIONS.get_interface(
            self.config._attn_implementation, eager_attention_forward
        )
        attn_output, attn_weights = attention_interface(
            self,
            queries,
            keys,
            values,
            None,
            scaling=self.scale,
            dropout=self.dropout if self.training else 0.0,
            **kwargs,
        )
        attn_output = attn_output.reshape(batch_size, seq_len, -1).contiguous()
        return self.out_proj(attn_output), attn_weights


class ImageBindDropPath(nn.Module):
    """Stochastic depth as the authors apply it: their trunk runs sequence-first, so timm's per-"sample" mask is
    drawn per *token position* and shared across the batch. Here (batch-first) the mask has shape `(1, seq_len, 1)`;
    kept positions are scaled by `1 / keep_prob`. Identity in eval mode or with rate 0."""

    def __init__(self, drop_prob: float):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return hidden_states
        keep_prob = 1.0 - self.drop_prob
        mask = hidden_states.new_empty((1, hidden_states.shape[1], 1)).bernoulli_(keep_prob)
        return hidden_states * mask.div_(keep_prob)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


class ImageBindAudioEncoderLayer(GradientCheckpointingLayer):
    """Pre-norm block: `x + DP(attn(LN1 x))`, then `x + DP(MLP(LN2 x))`."""

    def __init__(self, config: ImageBindAudioConfig, drop_path: float):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.self_attn = ImageBindAudioAttention(config)
        self.layer_norm2 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.mlp = CLIPMLP(config)
        self.drop_path = ImageBindDropPath(drop_path)

    def forward(self, hidden_states: torch.Tensor, **kwargs) -> torch.Tensor:
        attn_output, _ = self.self_attn(self.layer_norm1(hidden_states), **kwargs)
        hidden_states = hidden_states + self.drop_path(attn_output)
        return hidden_states + self.drop_path(self.mlp(self.layer_norm2(hidden_states)))


class ImageBindAudioEncoder(nn.Module):
    def __init__(self, config: ImageBindAudioConfig):
        super().__init__()
        rates = torch.linspace(0, config.drop_path_rate, config.num_hidden_layers, device="cpu").tolist()
        self.layers = nn.ModuleList([ImageBindAudioEncoderLayer(config, rate) for rate in rates])

    def forward(self, hidden_states: torch.Tensor, **kwargs) -> torch.Tensor:
        for layer in self.layers:
            hidden_states = layer(hidden_states, **kwargs)
        return hidden_states


class ImageBindAudioModel(ImageBindPreTrainedModel):
    """Audio trunk: [`ImageBindAudioEmbeddings`], pre-norm blocks with key/value bias tokens and stochastic depth;
    `post_layernorm` is the head LayerNorm applied to CLS."""

    config: ImageBindAudioConfig
    main_input_name = "input_features"
    input_modalities = ("audio",)

    def __init__(self, config: ImageBindAudioConfig):
        super().__init__(config)
        self.embeddings = ImageBindAudioEmbeddings(config)
        self.encoder = ImageBindAudioEncoder(config)
        self.post_layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.post_init()

    def forward(self, input_features: torch.Tensor, **kwargs) -> BaseModelOutputWithPooling:
        r"""
        Args:
            input_features (`torch.FloatTensor` of shape `(batch_size, 1, 128, 204)`): normalised log-mel clips
                ([`ImageBindAudioFeatureExtractor`], one clip per row).

        Returns:
            [`BaseModelOutputWithPooling`]: `last_hidden_state` `(batch_size, 229, hidden_size)` = trunk tokens
            before the head LayerNorm, CLS first; `pooler_output` `(batch_size, hidden_size)` = head-LayerNorm(CLS).
        """
        hidden_states = self.encoder(self.embeddings(input_features), **kwargs)
        return BaseModelOutputWithPooling(
            last_hidden_state=hidden_states, pooler_output=self.post_layernorm(hidden_states[:, 0])
        )


class ImageBindModel(ImageBindPreTrainedModel):
    """ImageBind with vision, text and audio towers and their bias-free projections to the joint space.

    Embedding conventions equal the authors' outputs: images are unit vectors, text vectors have norm
    `min(exp(text_logit_scale), 100)` and audio vectors norm 20 (`config.audio_config.logit_scale`). Use
    [`text_scale`] / [`audio_scale`] to divide them out when unit vectors are wanted.

    The towers are usually frozen: call `.eval()` (the default after `from_pretrained`) for deterministic outputs;
    in train mode the audio tower applies stochastic depth as the authors' code does.
    """

    config: ImageBindConfig

    def __init__(self, config: ImageBindConfig):
        super().__init__(config)
        self.vision_model = ImageBindVisionModel._from_config(config.vision_config)
        self.text_model = ImageBindTextModel._from_config(config.text_config)
        self.audio_model = ImageBindAudioModel._from_config(config.audio_config)
        self.visual_projection = nn.Linear(config.vision_config.hidden_size, config.projection_dim, bias=False)
        self.text_projection = nn.Linear(config.text_config.hidden_size, config.projection_dim, bias=False)
        self.audio_projection = nn.Linear(config.audio_config.hidden_size, config.projection_dim, bias=False)
        self.text_logit_scale = nn.Parameter(torch.tensor(config.text_logit_scale_init))
        self.post_init()

    @property
    def text_scale(self) -> torch.Tensor:
        """Applied text scale `min(exp(text_logit_scale), max_logit_scale)` (0-d tensor)."""
        return self.text_logit_scale.exp().clamp(max=self.config.text_config.max_logit_scale)

    @property
    def audio_scale(self) -> float:
        """Fixed audio scale (20)."""
        return self.config.audio_config.logit_scale

    def project_image_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Vision head on given trunk tokens `(..., vision_hidden)`: head LayerNorm -> projection -> L2.
        On the CLS token of `vision_model(...).last_hidden_state` this is the authors' image embedding."""
        return nn.functional.normalize(self.visual_projection(self.vision_model.post_layernorm(tokens)), dim=-1)

    def project_text_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Text head on given trunk tokens `(..., text_hidden)`: final LayerNorm -> projection -> L2 -> x text
        scale. On the EOT token of `text_model(...).last_hidden_state` this is the authors' text embedding."""
        projected = self.text_projection(self.text_model.final_layer_norm(tokens))
        return nn.functional.normalize(projected, dim=-1) * self.text_scale

    def project_audio_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Audio head on given trunk tokens `(..., audio_hidden)`: head LayerNorm -> projection -> L2 -> x 20.
        On the CLS token of `audio_model(...).last_hidden_state` this is the authors' audio embedding."""
        projected = self.audio_projection(self.audio_model.post_layernorm(tokens))
        return nn.functional.normalize(projected, dim=-1) * self.audio_scale

    def _run_vision(self, pixel_values: torch.Tensor) -> tuple[BaseModelOutputWithPooling, torch.Tensor]:
        tower = self.vision_model(pixel_values)
        return tower, nn.functional.normalize(self.visual_projection(tower.pooler_output), dim=-1)

    def _run_text(self, input_ids, inputs_embeds, eos_positions) -> tuple[BaseModelOutputWithPooling, torch.Tensor]:
        tower = self.text_model(input_ids=input_ids, inputs_embeds=inputs_embeds, eos_positions=eos_positions)
        return tower, nn.functional.normalize(self.text_projection(tower.pooler_output), dim=-1) * self.text_scale

    def _run_audio(self, input_features: torch.Tensor) -> tuple[BaseModelOutputWithPooling, torch.Tensor]:
        num_clips = input_features.shape[1] if input_features.ndim == 5 else None
        tower = self.audio_model(input_features.flatten(0, 1) if num_clips is not None else input_features)
        embeds = nn.functional.normalize(self.audio_projection(tower.pooler_output), dim=-1) * self.audio_scale
        if num_clips is not None:
            embeds = embeds.view(-1, num_clips, embeds.shape[-1]).mean(dim=1)
        return tower, embeds

    def get_image_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """`(batch, 3, H, W)` -> L2-normalised image embeddings `(batch, projection_dim)`."""
        return self._run_vision(pixel_values)[1]

    def get_text_features(
        self,
        input_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        eos_positions: torch.LongTensor | None = None,
    ) -> torch.Tensor:
        """Ids or embeddings (see [`ImageBindTextModel.forward`]) -> L2-normalised text embeddings times
        `min(exp(text_logit_scale), 100)`, shape `(batch, projection_dim)`."""
        return self._run_text(input_ids, inputs_embeds, eos_positions)[1]

    def get_audio_features(self, input_features: torch.Tensor) -> torch.Tensor:
        """`(batch, 1, 128, 204)` -> L2-normalised audio embeddings x 20, `(batch, projection_dim)`.

        5-D input `(batch, num_clips, 1, 128, 204)` (the feature extractor's output) is embedded clip by clip and
        averaged over clips without renormalising, as in the authors' model."""
        return self._run_audio(input_features)[1]

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        input_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        eos_positions: torch.LongTensor | None = None,
        input_features: torch.Tensor | None = None,
    ) -> ImageBindOutput:
        r"""Embed whichever modalities are given (see the `get_*_features` methods for shapes). An unknown keyword
        argument is an error (`TypeError`).

        Returns:
            [`ImageBindOutput`].
        """
        if pixel_values is None and input_ids is None and inputs_embeds is None and input_features is None:
            raise ValueError("Pass at least one of pixel_values, input_ids / inputs_embeds, input_features.")
        output = ImageBindOutput()
        if pixel_values is not None:
            output.vision_model_output, output.image_embeds = self._run_vision(pixel_values)
        if input_ids is not None or inputs_embeds is not None:
            output.text_model_output, output.text_embeds = self._run_text(input_ids, inputs_embeds, eos_positions)
        if input_features is not None:
            output.audio_model_output, output.audio_embeds = self._run_audio(input_features)
        return output
