"""TAViS (ICCV 2025): audio-visual segmentation with ImageBind-guided SAM2 prompts.

Frozen ImageBind (vision, text, audio) and a frozen SAM2 image encoder; trainable audio-guided Hiera adapters,
ImageBind-guided query decomposition (IBQD), a text-bridged pseudo-text prompt, sparse/dense prompt heads, and the
SAM2 mask decoder. Each frame is decoded with ``num_object_queries`` object prompts plus one global ("binary")
prompt. Every computation follows ``docs/fidelity.md`` (§2, §3); deviations of the authors' release are config flags.

[`TavisModel.forward`] runs named steps: [`~TavisModel.compute_prompts`] (ImageBind -> SAM2 prompts,
[`TavisPrompts`]), [`~TavisModel.decode_masks`] (SAM2 image encoder with the audio adapters, then per-frame decoding
or tracking, [`TavisMaskLogits`]), [`~TavisModel.compute_class_outputs`] (class logits, class probabilities and the
semantic map, [`TavisClassOutputs`]) and, with labels, the loss ([`TavisLoss`]).
"""

import math
from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from transformers import AutoModel, PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from ..imagebind.modeling_imagebind import ImageBindModel
from .configuration_tavis import IMAGENET_MEAN, IMAGENET_STD, TavisConfig, canonical_temporal
from .highlight_tavis import highlight_images
from .loss_tavis import TavisLoss, TavisLossTerms, filter_small_objects
from .sam2_tracking_tavis import (
    NO_OBJECT_SCORE,
    TavisSam2DecoderOutput,
    TavisSam2TrackingDriver,
    decode_frames_independently,
)


@dataclass
class TavisSegmentationOutput(ModelOutput):
    r"""Output of [`TavisModel`]. `B` videos, `T` frames, `N` object queries, `P = N + 1` prompts (the last one is
    the global/binary prompt), `C` classes of the active vocabulary, `S` the input size, `s = S / 4` the SAM2 low-res
    size.

    Args:
        loss (`torch.FloatTensor` of shape `()`, *optional*): weighted training loss (when `labels` are given).
        loss_terms ([`TavisLossTerms`], *optional*): every unweighted loss term, one field each (`loss_a2t`,
            `loss_i2t`, `loss_object_bce`, `loss_object_iou`, `loss_a2pt`, `loss_binary_bce`, `loss_binary_iou`,
            `loss_binary_presence`); also a mapping (`loss_terms.items()`).
        pred_masks (`torch.FloatTensor` of shape `(B, T, S, S)`): binary (sounding-object) mask logits at input
            resolution; `> 0` is foreground. This is what the authors evaluate on S4/MS3. With
            `config.binary_presence_threshold`, frames called absent hold -1024 in eval mode.
        object_masks (`torch.FloatTensor` of shape `(B, T, N, S, S)`): per-query object mask logits.
        object_score_logits (`torch.FloatTensor` of shape `(B, T, P)`): SAM2 object-score logits per prompt.
        iou_scores (`torch.FloatTensor` of shape `(B, T, P)`): predicted IoU of the selected mask per prompt.
        low_res_masks (`torch.FloatTensor` of shape `(B, T, P, s, s)`): selected SAM2 mask logits before upsampling.
        audio_class_logits (`torch.FloatTensor` of shape `(B, T, N, C)`, *optional*): audio-to-text class logits
            (refined audio token vs class-prompt embedding, scale 20·min(exp(logit_scale), 100)).
        image_class_logits (`torch.FloatTensor` of shape `(B, T, N, C)`, *optional*): image-to-text class logits of
            each query's highlight image (computed for the loss, NaN on frames outside `label_frame_mask`, and for
            AVSS with a `v2t`/`mean`/`sum` class source).
        class_probs (`torch.FloatTensor` of shape `(B, T, N, C)`, *optional*): per-query class probabilities (float32,
            no gradient) from the source `config.avss_class_source` names: the softmax of the audio-to-text logits
            (`"a2t"`), of the image-to-text logits (`"v2t"`), the mean of both (`"mean"`) or the softmax of their sum
            (`"sum"`). The semantic map is assembled from them, and the pipeline scores its segments with them.
            Present with the class logits (with labels and a `v2t`/`mean`/`sum` source, NaN where
            `image_class_logits` are).
        semantic_masks (`torch.LongTensor` of shape `(B, T, S, S)`, *optional*): class index per pixel (0 =
            background), assembled per `config.avss_assembly`; present when a vocabulary is available and no labels
            are given.
        pseudo_text_features (`torch.FloatTensor` of shape `(B, T, P, D_text)`): ImageBind text-trunk features
            (pre final LayerNorm) of the pseudo-text at its EOT position.
        sparse_prompts (`torch.FloatTensor` of shape `(B, T, P, 256)`): one sparse SAM2 prompt token per prompt.
        dense_prompts (`torch.FloatTensor` of shape `(B, T, 256)`): dense prompt (broadcast over the SAM2 grid).
        imagebind_audio_tokens (`torch.FloatTensor` of shape `(B, T, 1 + 228, D_audio)`): ImageBind audio trunk
            output (pre head LayerNorm), CLS first.
    """

    loss: torch.FloatTensor | None = None
    loss_terms: TavisLossTerms | None = None
    pred_masks: torch.FloatTensor | None = None
    object_masks: torch.FloatTensor | None = None
    object_score_logits: torch.FloatTensor | None = None
    iou_scores: torch.FloatTensor | None = None
    low_res_masks: torch.FloatTensor | None = None
    audio_class_logits: torch.FloatTensor | None = None
    image_class_logits: torch.FloatTensor | None = None
    class_probs: torch.FloatTensor | None = None
    semantic_masks: torch.LongTensor | None = None
    pseudo_text_features: torch.FloatTensor | None = None
    sparse_prompts: torch.FloatTensor | None = None
    dense_prompts: torch.FloatTensor | None = None
    imagebind_audio_tokens: torch.FloatTensor | None = None


@dataclass
class TavisPrompts(ModelOutput):
    r"""What [`TavisModel.compute_prompts`] derives from ImageBind for `F` frames (docs/fidelity.md §2.2–2.5). `N`
    object queries, `P = N + 1` prompts (the global one last), `L` ImageBind audio patch tokens (228), `D_audio` /
    `D_text` the ImageBind audio / text widths, `W` the SAM2 prompt width (`config.prompt_hidden_dim`, 256).

    Args:
        audio_hidden_states (`torch.FloatTensor` of shape `(F, 1 + L, D_audio)`): ImageBind audio trunk output (pre
            head LayerNorm), CLS first.
        ibqd_queries (`torch.FloatTensor` of shape `(F, N, D_audio)`): the IBQD object queries Q' after attending to
            the audio tokens.
        refined_audio_tokens (`torch.FloatTensor` of shape `(F, N, D_audio)`): the object-specific audio tokens
            after the IBQD token refiner (their projection gives the audio-to-text class logits).
        pseudo_text_features (`torch.FloatTensor` of shape `(F, P, D_text)`): pseudo-text features of the refined
            tokens and (last) of the audio CLS token.
        text_prompts (`torch.FloatTensor` of shape `(F, P, W)`): projected pseudo-text features.
        audio_prompts (`torch.FloatTensor` of shape `(F, P, W)`): object-query prompts and (last) the global audio
            prompt.
        sparse_prompts (`torch.FloatTensor` of shape `(F, P, W)`): the SAM2 sparse prompt of each prompt.
        dense_prompts (`torch.FloatTensor` of shape `(F, W)`): the SAM2 dense prompt of each frame (from the
            ImageBind vision CLS token).
        adapter_input (`torch.FloatTensor` of shape `(F, adapter_input_dim)`): input of the audio-guided Hiera
            adapters.
    """

    audio_hidden_states: torch.FloatTensor | None = None
    ibqd_queries: torch.FloatTensor | None = None
    refined_audio_tokens: torch.FloatTensor | None = None
    pseudo_text_features: torch.FloatTensor | None = None
    text_prompts: torch.FloatTensor | None = None
    audio_prompts: torch.FloatTensor | None = None
    sparse_prompts: torch.FloatTensor | None = None
    dense_prompts: torch.FloatTensor | None = None
    adapter_input: torch.FloatTensor | None = None


@dataclass
class TavisMaskLogits:
    r"""The masks [`TavisModel.decode_masks`] decodes for `F` frames, `N` object queries, `P = N + 1` prompts.

    Args:
        object_logits (`torch.FloatTensor` of shape `(F, N, S, S)`): per-query mask logits at input resolution.
        binary_logits (`torch.FloatTensor` of shape `(F, S, S)`): sounding-object mask logits (the global prompt's,
            or the max over the queries without `config.binary_prompt`; -1024 on frames called absent by
            `config.binary_presence_threshold` in eval mode).
        low_res_masks (`torch.FloatTensor` of shape `(F, P, S/4, S/4)`): SAM2's selected masks (float32).
        iou_scores (`torch.FloatTensor` of shape `(F, P)`): their predicted IoU.
        object_score_logits (`torch.FloatTensor` of shape `(F, P)`): SAM2 object-score logit per prompt.
    """

    object_logits: torch.FloatTensor
    binary_logits: torch.FloatTensor
    low_res_masks: torch.FloatTensor
    iou_scores: torch.FloatTensor
    object_score_logits: torch.FloatTensor

    @property
    def presence_logits(self) -> torch.FloatTensor:
        """`(F,)`: the global prompt's object-score logit (is what is heard visible?)."""
        return self.object_score_logits[:, -1]


@dataclass
class TavisClassOutputs:
    r"""The class outputs [`TavisModel.compute_class_outputs`] gives for `F` frames, `N` queries, `C` classes.

    Args:
        audio_class_logits (`torch.FloatTensor` of shape `(F, N, C)`): audio-to-text class logits.
        image_class_logits (`torch.FloatTensor` of shape `(F, N, C)`, *optional*): highlight-image-to-text logits
            (at inference with a `v2t`/`mean` class source; with labels the loss computes them).
        class_probs (`torch.FloatTensor` of shape `(F, N, C)`, *optional*): see [`TavisSegmentationOutput`].
        semantic_masks (`torch.LongTensor` of shape `(F, S, S)`, *optional*): the semantic map (inference only).
    """

    audio_class_logits: torch.FloatTensor
    image_class_logits: torch.FloatTensor | None = None
    class_probs: torch.FloatTensor | None = None
    semantic_masks: torch.LongTensor | None = None


class TavisMLP(nn.Module):
    """`num_layers` Linear layers with ReLU between them (none after the last), SAM2's MLP layout."""

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, num_layers: int):
        super().__init__()
        dims = [input_dim] + [hidden_dim] * (num_layers - 1) + [output_dim]
        self.layers = nn.ModuleList(nn.Linear(d_in, d_out) for d_in, d_out in zip(dims[:-1], dims[1:]))

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            hidden_states = layer(hidden_states)
            if i < len(self.layers) - 1:
                hidden_states = F.relu(hidden_states)
        return hidden_states


class TavisAudioAdapter(nn.Module):
    """Audio-guided Hiera adapter: `(F, adapter_input_dim)` -> per-frame channel bias `(F, block_width)` added to
    every position of the block input."""

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, output_dim)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(audio)))


class TavisCrossAttentionLayer(nn.Module):
    """Post-norm cross-attention: `LN(x + MHA(q = x + query_pos, k = memory, v = memory))` (no key positions)."""

    def __init__(self, hidden_size: int, num_heads: int):
        super().__init__()
        self.multihead_attn = nn.MultiheadAttention(hidden_size, num_heads, batch_first=True)
        self.norm = nn.LayerNorm(hidden_size)

    def forward(
        self, hidden_states: torch.Tensor, memory: torch.Tensor, query_pos: torch.Tensor | None = None
    ) -> torch.Tensor:
        """`hidden_states (batch, queries, D)`, `memory (batch, keys, D)` -> `(batch, queries, D)`."""
        query = hidden_states if query_pos is None else hidden_states + query_pos
        attn_output = self.multihead_attn(query, memory, memory, need_weights=False)[0]
        return self.norm(hidden_states + attn_output)


class TavisQueryDecomposition(nn.Module):
    """IBQD: learnable queries decompose the ImageBind audio tokens into object queries Q', which seed
    object-specific residuals on the audio CLS token; each seeded token is then refined by attending (alone) to its
    frame's audio tokens."""

    def __init__(self, config: TavisConfig):
        super().__init__()
        dim = config.imagebind_config.audio_config.hidden_size
        num_query_layers = 1 if config.ibqd_query_layers == "last_only" else config.ibqd_num_layers
        self.query_layers_mode = config.ibqd_query_layers
        self.queries = nn.Embedding(config.num_object_queries, dim)
        self.query_pos = nn.Embedding(config.num_object_queries, dim)
        self.query_layers = nn.ModuleList(
            TavisCrossAttentionLayer(dim, config.ibqd_query_num_heads) for _ in range(num_query_layers)
        )
        self.token_residual_proj = nn.Linear(dim, dim)
        self.token_refiner = nn.ModuleList(
            TavisCrossAttentionLayer(dim, config.ibqd_refiner_num_heads) for _ in range(config.ibqd_num_layers)
        )

    def forward(
        self, audio_tokens: torch.Tensor, audio_cls: torch.Tensor, tile_memory: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """
        Args:
            audio_tokens (`(F, L, D)`): ImageBind audio patch tokens (pre head-LN). audio_cls (`(F, D)`): audio CLS.
            tile_memory (`bool`): reproduce the release's training-time misalignment (token row `N*f + q` attends to
                frame `(N*f + q) mod F`) instead of each token attending to its own frame.

        Returns:
            `(query_out (F, N, D), refined_tokens (F, N, D))`.
        """
        num_frames = audio_tokens.shape[0]
        queries = self.queries.weight.unsqueeze(0).expand(num_frames, -1, -1)
        query_pos = self.query_pos.weight.unsqueeze(0).expand(num_frames, -1, -1)
        query_out = queries
        for layer in self.query_layers:
            # "last_only" has a single layer; "stacked" chains every layer.
            query_out = layer(query_out, audio_tokens, query_pos=query_pos)
        num_queries = query_out.shape[1]
        tokens = (audio_cls.unsqueeze(1) + self.token_residual_proj(query_out)).reshape(-1, 1, audio_cls.shape[-1])
        if tile_memory:
            memory = audio_tokens.repeat(num_queries, 1, 1)
        else:
            memory = audio_tokens.repeat_interleave(num_queries, dim=0)
        for layer in self.token_refiner:
            tokens = layer(tokens, memory)
        return query_out, tokens.view(num_frames, num_queries, -1)


class TavisPseudoTextGenerator(nn.Module):
    """Maps an audio token to `length` pseudo-text token embeddings and logits over their EOT position."""

    def __init__(self, config: TavisConfig):
        super().__init__()
        audio_dim = config.imagebind_config.audio_config.hidden_size
        text_dim = config.imagebind_config.text_config.hidden_size
        self.length = config.pseudo_text_length
        self.eot_logits = nn.Linear(audio_dim, self.length)
        self.token_embeds = nn.Linear(audio_dim, self.length * text_dim)

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`(M, D_audio)` -> `(eot_positions (M,) long, token_embeds (M, length, D_text))`."""
        eot_positions = self.eot_logits(audio).argmax(dim=-1)
        return eot_positions, self.token_embeds(audio).view(audio.shape[0], self.length, -1)


def _torch_default_linear_init(linear: nn.Linear) -> None:
    """`nn.Linear.reset_parameters` through `transformers.initialization` (which leaves loaded weights alone):
    weight Kaiming-uniform with `a=sqrt(5)`, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias U(-1/sqrt(fan_in),
    1/sqrt(fan_in))."""
    init.kaiming_uniform_(linear.weight, a=math.sqrt(5))
    if linear.bias is not None:
        bound = 1 / math.sqrt(linear.in_features)
        init.uniform_(linear.bias, -bound, bound)


class TavisPreTrainedModel(PreTrainedModel):
    config: TavisConfig
    base_model_prefix = "tavis"
    main_input_name = "pixel_values"
    input_modalities = ("video", "audio", "text")
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _no_split_modules = [
        "TavisCrossAttentionLayer",
        "TavisAudioAdapter",
        "Sam2MultiScaleBlock",
        "Sam2VideoTwoWayAttentionBlock",
        "Sam2VideoMemoryAttentionLayer",
    ]

    def _release_init_rules(self) -> dict[int, str]:
        """`id(module) -> rule` for the parameter-holding modules of the TAViS heads (see `_init_weights`)."""
        ibqd = self.ibqd
        attentions = [layer.multihead_attn for layer in (*ibqd.query_layers, *ibqd.token_refiner)]
        mlp_linears = [
            linear
            for head in (self.audio_prompt_mlp, self.sparse_prompt_mlp, self.pseudo_text)
            for linear in head.modules()
            if isinstance(linear, nn.Linear)
        ]
        groups = {
            "adapter": [linear for adapter in self.audio_adapters for linear in (adapter.fc1, adapter.fc2)],
            "xavier": [*attentions, *(attention.out_proj for attention in attentions)],
            "queries": [ibqd.queries, ibqd.query_pos],
            "torch_default": [*mlp_linears, self.text_prompt_proj, self.query_proj, self.global_audio_prompt_proj,
                              self.dense_prompt_proj, self.adapter_audio_proj, ibqd.token_residual_proj],
        }  # fmt: skip
        return {id(module): rule for rule, modules in groups.items() for module in modules}

    @torch.no_grad()
    def _init_weights(self, module):
        """Release initialisation of the TAViS heads: adapters trunc-normal(0.02) with zero biases; IBQD attention
        Xavier-uniform with zero biases; IBQD queries and their positions N(0, 1); the prompt heads
        (`text_prompt_proj`, `query_proj`, `audio_prompt_mlp`, `global_audio_prompt_proj`, `sparse_prompt_mlp`,
        `dense_prompt_proj`, `adapter_audio_proj`), the IBQD residual projection and the pseudo-text generator keep
        PyTorch's default `nn.Linear` initialisation, as the released code creates them; other layers (norms) by the
        base rule. Transformers calls this once per module that holds parameters itself, so the rules name those
        modules."""
        rule = self._release_init_rules().get(id(module))
        if rule == "adapter":
            init.trunc_normal_(module.weight, std=self.config.initializer_range)
            init.zeros_(module.bias)
        elif rule == "xavier":
            attention = isinstance(module, nn.MultiheadAttention)
            init.xavier_uniform_(module.in_proj_weight if attention else module.weight)
            init.zeros_(module.in_proj_bias if attention else module.bias)
        elif rule == "queries":
            init.normal_(module.weight, std=1.0)
        elif rule == "torch_default":
            _torch_default_linear_init(module)
        else:
            super()._init_weights(module)


class TavisModel(TavisPreTrainedModel):
    """TAViS: SAM2 video model + frozen ImageBind + TAViS heads.

    State-dict layout: `sam2.*` (a transformers `Sam2VideoModel`; the audio adapters are applied in front of its Hiera
    blocks by [`TavisModel.get_image_features`]), `imagebind.*` (`ImageBindModel`), `audio_adapters.{i}.fc1/fc2`,
    `ibqd.*`, `pseudo_text.*`, `text_prompt_proj`, `query_proj`, `audio_prompt_mlp`, `global_audio_prompt_proj`,
    `sparse_prompt_mlp`, `dense_prompt_proj`, `adapter_audio_proj`.

    Trainable: everything except ImageBind, the SAM2 image encoder (Hiera + FPN) and, unless
    `config.train_pseudo_text`, the pseudo-text generator (which the release never trains).
    """

    def __init__(self, config: TavisConfig):
        super().__init__(config)
        self.sam2 = AutoModel.from_config(config.sam2_config)
        self.imagebind = ImageBindModel._from_config(config.imagebind_config)
        audio_dim = config.imagebind_config.audio_config.hidden_size
        text_dim = config.imagebind_config.text_config.hidden_size
        vision_dim = config.imagebind_config.vision_config.hidden_size
        prompt_dim = config.prompt_hidden_dim
        blocks = self.sam2.vision_encoder.backbone.blocks
        self.audio_adapters = nn.ModuleList(
            TavisAudioAdapter(config.adapter_input_dim, config.adapter_hidden_dim, block.dim) for block in blocks
        )
        self.adapter_audio_proj = nn.Linear(audio_dim, config.adapter_input_dim)
        self.ibqd = TavisQueryDecomposition(config)
        self.pseudo_text = TavisPseudoTextGenerator(config)
        self.text_prompt_proj = nn.Linear(text_dim, prompt_dim)
        self.query_proj = nn.Linear(audio_dim, prompt_dim)
        self.audio_prompt_mlp = TavisMLP(prompt_dim, prompt_dim, prompt_dim, 3)
        self.global_audio_prompt_proj = nn.Linear(audio_dim, prompt_dim)
        self.sparse_prompt_mlp = TavisMLP(2 * prompt_dim, prompt_dim, prompt_dim, 3)
        self.dense_prompt_proj = nn.Linear(vision_dim, prompt_dim)
        self.criterion = TavisLoss(config)  # parameter-free
        self._vocabulary: dict | None = None
        self.post_init()
        self.freeze_frozen_modules()

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        """`PreTrainedModel.from_pretrained`, then [`freeze_frozen_modules`]: loading replaces the parameters with new
        ones that all require gradients, which would silently make ImageBind and the SAM2 image encoder trainable."""
        loaded = super().from_pretrained(*args, **kwargs)
        (loaded[0] if isinstance(loaded, tuple) else loaded).freeze_frozen_modules()
        return loaded

    @classmethod
    def from_pretrained_backbones(
        cls, config: TavisConfig, sam2: str | PreTrainedModel, imagebind: str | PreTrainedModel
    ) -> "TavisModel":
        """A new TAViS model (heads at the release initialisation) on pretrained backbones, to train from scratch.

        Args:
            config ([`TavisConfig`]): must describe the same SAM2 and ImageBind architectures as the checkpoints.
            sam2 (`str` or `Sam2VideoModel`): a transformers SAM2 video checkpoint (TAViS: `facebook/sam2-hiera-large`,
                SAM 2.0) or model. Its weights do not depend on the image size: a 1024-px checkpoint serves 224 px.
            imagebind (`str` or `ImageBindModel`): a folder written by `convert_imagebind` (or a model).

        Raises:
            RuntimeError: listing missing/unexpected keys or shape mismatches (strict loading).
        """
        model = cls(config)
        if isinstance(sam2, str):
            sam2 = AutoModel.from_pretrained(sam2)
        if isinstance(imagebind, str):
            imagebind = ImageBindModel.from_pretrained(imagebind)
        model.sam2.load_state_dict(sam2.state_dict(), strict=True)
        model.imagebind.load_state_dict(imagebind.state_dict(), strict=True)
        return model

    # ------------------------------------------------------------------------------------------------- freezing
    def freeze_frozen_modules(self) -> None:
        """Set `requires_grad=False` on ImageBind, the SAM2 image encoder and (unless `train_pseudo_text`) the
        pseudo-text generator; everything else is trainable."""
        for module in (self.imagebind, self.sam2.vision_encoder):
            module.requires_grad_(False)
        self.pseudo_text.requires_grad_(self.config.train_pseudo_text)

    def train(self, mode: bool = True):
        """As `nn.Module.train`, but ImageBind stays in eval mode unless `config.imagebind_train_mode` (the release
        trains with the audio tower's drop path active)."""
        super().train(mode)
        if mode and not self.config.imagebind_train_mode:
            self.imagebind.eval()
        return self

    # ----------------------------------------------------------------------------------------------- vocabulary
    @torch.no_grad()
    def _encode_vocabulary(self, class_input_ids: torch.LongTensor) -> dict:
        if class_input_ids.ndim != 2:
            raise ValueError(f"class_input_ids must have shape (num_classes, 77); got {tuple(class_input_ids.shape)}")
        ids = class_input_ids.to(self.imagebind.text_logit_scale.device)
        text_model = self.imagebind.text_model
        hidden = text_model(input_ids=ids).last_hidden_state
        hidden = hidden[torch.arange(ids.shape[0], device=ids.device), ids.argmax(dim=-1)]
        return {"input_ids": ids.clone(), "hidden": hidden, "embeds": self.imagebind.project_text_tokens(hidden)}

    def set_vocabulary(self, class_input_ids: torch.LongTensor, labels: list[str] | None = None) -> None:
        """Encode and cache the class prompts (`(C, 77)` token ids of `config.prompt_template` filled with each
        label, class 0 = background) once; later forwards without `class_input_ids` use them. With `labels`, the
        config's `id2label`/`label2id` are replaced (open-vocabulary inference)."""
        if labels is not None:
            if len(labels) != class_input_ids.shape[0]:
                raise ValueError(f"{len(labels)} labels for {class_input_ids.shape[0]} class prompts")
            self.config.id2label = dict(enumerate(labels))
            self.config.label2id = {label: i for i, label in enumerate(labels)}
        self._vocabulary = self._encode_vocabulary(class_input_ids)

    def _get_vocabulary(self, class_input_ids: torch.LongTensor | None) -> dict | None:
        """The cached vocabulary, (re-)encoded when new ids are given or the model moved to another device/dtype."""
        cached = self._vocabulary
        if class_input_ids is None and cached is None:
            return None
        ids = cached["input_ids"] if class_input_ids is None else class_input_ids
        reference = self.imagebind.text_logit_scale
        if (
            cached is None
            or cached["hidden"].device != reference.device
            or cached["hidden"].dtype != reference.dtype
            or cached["input_ids"].shape != ids.shape
            or not torch.equal(cached["input_ids"], ids.to(cached["input_ids"].device))
        ):
            self._vocabulary = self._encode_vocabulary(ids)
        return self._vocabulary

    # --------------------------------------------------------------------------------------------- components
    def get_image_features(
        self, pixel_values: torch.Tensor, adapter_input: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        """SAM2 image encoder with the audio adapters added before every Hiera block.

        Args:
            pixel_values (`(F, 3, S, S)`): ImageNet-normalised frames. adapter_input (`(F, adapter_input_dim)`).

        Returns:
            `(top (F, 256, S/16, S/16), [s0 (F, 32, S/4, S/4), s1 (F, 64, S/8, S/8)] after conv_s0/conv_s1,
            top_position_encoding (F, 256, S/16, S/16))`.
        """
        vision = self.sam2.vision_encoder
        backbone = vision.backbone
        hidden_states = backbone.patch_embed(pixel_values)
        hidden_states = hidden_states + backbone._get_pos_embed(hidden_states.shape[1:3])
        stage_outputs = []
        for i, block in enumerate(backbone.blocks):
            bias = self.audio_adapters[i](adapter_input).to(hidden_states.dtype)
            hidden_states = block(hidden_states + bias[:, None, None, :])
            if i in backbone.stage_ends:
                stage_outputs.append(hidden_states)
        fpn_states, fpn_positions = vision.neck(tuple(stage_outputs))
        levels = vision.num_feature_levels
        fpn_states, fpn_positions = fpn_states[-levels:][::-1], fpn_positions[-levels:][::-1]
        decoder = self.sam2.mask_decoder
        high_res = [decoder.conv_s0(fpn_states[0]), decoder.conv_s1(fpn_states[1])]
        return fpn_states[-1], high_res, fpn_positions[-1]

    def _pseudo_text_features(self, sources: torch.Tensor) -> torch.Tensor:
        """Pseudo-text features `(M, D_text)` of audio tokens `(M, D_audio)`: the ImageBind text trunk (pre final-LN)
        at the predicted EOT position of the generated token embeddings (no start token, causal mask).

        Because of the causal mask the feature at position k depends only on positions 0..k, so the trunk is run on
        the first `max(k) + 1` (≤ `pseudo_text_length`) positions instead of 77 padded ones: identical results."""
        grad = self.config.train_pseudo_text and torch.is_grad_enabled()
        with nullcontext() if grad else torch.no_grad():
            eot_positions, token_embeds = self.pseudo_text(sources)
            length = int(eot_positions.max()) + 1
            hidden = self.imagebind.text_model(
                inputs_embeds=token_embeds[:, :length], eos_positions=eot_positions
            ).last_hidden_state
            features = hidden[torch.arange(hidden.shape[0], device=hidden.device), eot_positions]
        return features

    def _imagebind_view(self, frames: torch.Tensor) -> torch.Tensor:
        """[0, 1] frames `(M, 3, H, W)` -> ImageBind vision input (bilinear resize, optional CLIP normalisation)."""
        size = self.config.imagebind_image_size
        if frames.shape[-1] != size or frames.shape[-2] != size:
            frames = F.interpolate(frames, size=(size, size), mode="bilinear", align_corners=False)
        if self.config.imagebind_clip_normalize:
            mean, std = (
                torch.tensor(stat, dtype=frames.dtype, device=frames.device).view(1, 3, 1, 1)
                for stat in (self.config.imagebind_image_mean, self.config.imagebind_image_std)
            )
            frames = (frames - mean) / std
        return frames

    def compute_prompts(self, imagebind_pixel_values: torch.Tensor, input_features: torch.Tensor) -> TavisPrompts:
        """Prompts of `F` frames from ImageBind (docs/fidelity.md §2.2–2.5).

        Args:
            imagebind_pixel_values (`(F, 3, s, s)`): ImageBind vision input (see `forward`).
            input_features (`(F, 1, 128, 204)`): normalised ImageBind log-mel of each frame's audio clip.

        Returns:
            [`TavisPrompts`].
        """
        # ImageBind is frozen in TAViS; a tower whose parameters were made trainable (a model trained from scratch,
        # see the training recipe's `train_imagebind_audio`) runs with gradient.
        audio_model = self.imagebind.audio_model
        audio_grad = torch.is_grad_enabled() and any(p.requires_grad for p in audio_model.parameters())
        with nullcontext() if audio_grad else torch.no_grad():
            audio_hidden = audio_model(input_features).last_hidden_state
        with torch.no_grad():
            vision_cls = self.imagebind.vision_model(imagebind_pixel_values).last_hidden_state[:, 0]
        audio_cls, audio_tokens = audio_hidden[:, 0], audio_hidden[:, 1:]
        tile = self.training and self.config.ibqd_token_memory_alignment == "tile"
        query_out, refined = self.ibqd(audio_tokens, audio_cls, tile_memory=tile)
        num_frames, num_queries = refined.shape[:2]
        sources = torch.cat([refined.reshape(num_frames * num_queries, -1), audio_cls], dim=0)
        pseudo = self._pseudo_text_features(sources)
        pseudo = torch.cat([pseudo[: num_frames * num_queries].view(num_frames, num_queries, -1),
                            pseudo[num_frames * num_queries :, None]], dim=1)  # fmt: skip
        text_prompts = self.text_prompt_proj(pseudo)
        audio_prompts = torch.cat(
            [self.audio_prompt_mlp(self.query_proj(query_out)), self.global_audio_prompt_proj(audio_cls)[:, None]],
            dim=1,
        )
        return TavisPrompts(
            audio_hidden_states=audio_hidden,
            ibqd_queries=query_out,
            refined_audio_tokens=refined,
            pseudo_text_features=pseudo,
            text_prompts=text_prompts,
            audio_prompts=audio_prompts,
            sparse_prompts=self.sparse_prompt_mlp(torch.cat([audio_prompts, text_prompts], dim=-1)),
            dense_prompts=self.dense_prompt_proj(vision_cls),
            adapter_input=self.adapter_audio_proj(audio_tokens).mean(dim=1),
        )

    def image_class_logits(
        self, object_logits: torch.Tensor, raw_frames: torch.Tensor, class_embeds: torch.Tensor
    ) -> torch.Tensor:
        """Image-to-text logits of each query's highlight image (frozen ImageBind vision, gradient into the masks).

        `object_logits (F, N, S, S)`, `raw_frames (F, 3, S, S)` in [0, 1], `class_embeds (C, D)` -> `(F, N, C)`."""
        highlights = highlight_images(
            torch.sigmoid(object_logits.float()),
            raw_frames.float(),
            blur=self.config.highlight_blur,
            kernel_size=self.config.highlight_kernel_size,
            **({"sigma": self.config.highlight_sigma} if self.config.highlight_blur == "gaussian" else {}),
        )
        num_frames, num_queries = highlights.shape[:2]
        pixels = self._imagebind_view(highlights.flatten(0, 1)).to(class_embeds.dtype)
        cls = self.imagebind.vision_model(pixels).last_hidden_state[:, 0]
        image_embeds = self.imagebind.project_image_tokens(cls).view(num_frames, num_queries, -1)
        return image_embeds @ class_embeds.T

    def assemble_semantic_masks(
        self, object_logits: torch.Tensor, binary_logits: torch.Tensor, class_probs: torch.Tensor
    ) -> torch.LongTensor:
        """AVSS map from object masks and per-query class distributions (docs/fidelity.md §2.9, inferred).

        `object_logits (F, N, S, S)`, `binary_logits (F, S, S)`, `class_probs (F, N, C)` (softmax, class 0 =
        background) -> `(F, S, S)` long. `"soft"`: argmax over classes c ≥ 1 of Σ_q p_q(c)·σ(m_q); `"hard"`: each
        query paints its argmax class where σ(m_q) > 0.5, most confident last. Both keep only the binary
        foreground (binary logit > 0)."""
        object_probs = torch.sigmoid(object_logits.float())
        class_probs = class_probs.float()
        if self.config.avss_assembly == "soft":
            scores = torch.einsum("fnc,fnhw->fchw", class_probs[..., 1:], object_probs)
            semantic = scores.argmax(dim=1) + 1
        else:
            confidence, classes = class_probs.max(dim=-1)
            semantic = torch.zeros_like(binary_logits, dtype=torch.long)
            order = confidence.argsort(dim=1)
            frames = torch.arange(object_probs.shape[0], device=object_probs.device)
            for rank in range(order.shape[1]):
                query = order[:, rank]
                cls = classes[frames, query]
                paint = (object_probs[frames, query] > 0.5) & (cls[:, None, None] > 0)
                semantic = torch.where(paint, cls[:, None, None], semantic)
        return torch.where(binary_logits > 0, semantic, torch.zeros_like(semantic))

    # ------------------------------------------------------------------------------------------------- forward
    def _check_inputs(self, pixel_values, imagebind_pixel_values, input_features, labels, label_frame_mask):
        if pixel_values is None or input_features is None:
            raise ValueError("TavisModel needs pixel_values (B, T, 3, S, S) and input_features (B, T, 1, 128, 204)")
        if pixel_values.ndim != 5 or pixel_values.shape[2] != 3:
            raise ValueError(f"pixel_values must have shape (B, T, 3, S, S); got {tuple(pixel_values.shape)}")
        size = self.config.image_size
        if tuple(pixel_values.shape[-2:]) != (size, size):
            raise ValueError(
                f"pixel_values are {pixel_values.shape[-2]}x{pixel_values.shape[-1]} but the SAM2 config supports "
                f"{size}x{size} only (config.image_size); resize the frames or build a config for that size"
            )
        batch_size, num_frames = pixel_values.shape[:2]
        if input_features.ndim != 5 or tuple(input_features.shape[:2]) != (batch_size, num_frames):
            raise ValueError(
                f"input_features must have shape (B, T, 1, 128, 204) with one audio clip per frame "
                f"(B={batch_size}, T={num_frames}); got {tuple(input_features.shape)}"
            )
        if imagebind_pixel_values is not None and (
            imagebind_pixel_values.ndim != 5 or tuple(imagebind_pixel_values.shape[:2]) != (batch_size, num_frames)
        ):
            raise ValueError(
                f"imagebind_pixel_values must have shape (B, T, 3, s, s) with B={batch_size}, T={num_frames}; "
                f"got {tuple(imagebind_pixel_values.shape)}"
            )
        if labels is not None and tuple(labels.shape) != (batch_size, num_frames, size, size):
            raise ValueError(
                f"labels must have shape (B, T, S, S) = {(batch_size, num_frames, size, size)}; "
                f"got {tuple(labels.shape)}"
            )
        if label_frame_mask is not None and tuple(label_frame_mask.shape) != (batch_size, num_frames):
            raise ValueError(f"label_frame_mask must have shape (B, T); got {tuple(label_frame_mask.shape)}")

    def _class_vocabulary(self, class_input_ids, labels, return_class_outputs) -> dict | None:
        """The vocabulary the class outputs use (`None`: no class work), checked against `labels`."""
        if return_class_outputs is None:
            return_class_outputs = class_input_ids is not None or labels is not None
        if labels is not None and not return_class_outputs:
            raise ValueError("the training loss needs the class outputs: do not pass return_class_outputs=False")
        if not return_class_outputs:
            return None
        vocabulary = self._get_vocabulary(class_input_ids)
        if vocabulary is None:
            raise ValueError(
                "no class vocabulary, which class outputs and labels need: pass class_input_ids or call "
                "model.set_vocabulary(...)"
            )
        if labels is not None:
            num_classes = vocabulary["hidden"].shape[0]
            if bool(((labels < 0) | (labels >= num_classes)).any()):
                unknown = sorted(set(labels[(labels < 0) | (labels >= num_classes)].unique().tolist()))
                raise ValueError(f"labels contain class ids {unknown} outside the vocabulary of {num_classes} classes")
        return vocabulary

    def _sam2_frames(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`(B, T, 3, S, S)` normalised frames -> `(F, 3, S, S)` in the SAM2 dtype and the raw [0, 1] frames (float32,
        un-normalised: for the ImageBind view and the highlight images)."""
        frames = pixel_values.flatten(0, 1).to(self.sam2.mask_decoder.iou_token.weight.dtype)
        mean, std = (
            torch.tensor(stat, device=frames.device).view(1, 3, 1, 1) for stat in (IMAGENET_MEAN, IMAGENET_STD)
        )
        return frames, frames.float() * std + mean

    def decode_masks(
        self, frames: torch.Tensor, prompts: TavisPrompts, batch_size: int, temporal: str
    ) -> TavisMaskLogits:
        """SAM2 with the audio adapters on `F = B * T` frames, decoded with their prompts: every frame on its own
        (`temporal="per-frame"`) or tracked through each video's `T` frames (`"tracking"`, frame 0 conditioning).

        Args:
            frames (`(F, 3, S, S)`): ImageNet-normalised frames in the SAM2 dtype, video-major.
            prompts ([`TavisPrompts`]): the frames' prompts. batch_size (`int`): `B`.
            temporal (`str`): one of `TEMPORAL_MODES` (canonical name).
        """
        dtype = frames.dtype
        sparse, dense = prompts.sparse_prompts.to(dtype), prompts.dense_prompts.to(dtype)
        top, high_res, top_position = self.get_image_features(frames, prompts.adapter_input.to(dtype))

        def video_view(tensor):  # (F, ...) -> (B, T, ...)
            return tensor.reshape(batch_size, -1, *tensor.shape[1:])

        height, width = top.shape[-2:]
        dense_maps = video_view(dense[:, :, None, None].expand(-1, -1, height, width))
        high_res = tuple(video_view(feature) for feature in high_res)
        decoder_flags = {
            "multimask_best_iou": self.config.multimask_best_iou,
            "object_score_suppression": self.config.object_score_suppression,
        }
        if temporal == "per-frame":
            decoded = decode_frames_independently(
                self.sam2, video_view(top), high_res, video_view(sparse), dense_maps,
                object_score_threshold=self.config.object_pointer_threshold, **decoder_flags,
            )  # fmt: skip
        else:
            driver = TavisSam2TrackingDriver(
                self.sam2,
                object_pointer_threshold=self.config.object_pointer_threshold,
                memory_dtype=torch.bfloat16 if self.config.tracking_memory_bfloat16 else None,
                **decoder_flags,
            )
            decoded = driver(
                vision_features=(video_view(top), video_view(top_position), high_res),
                sparse_prompts=video_view(sparse),
                dense_prompts=dense_maps,
                image_size=self.config.image_size,
            )
        return self._mask_logits(decoded.map(lambda value: value.flatten(0, 1)))

    def _mask_logits(self, decoded: TavisSam2DecoderOutput) -> TavisMaskLogits:
        """Upsample SAM2's `(F, P, s, s)` selection to the input size and split it into object and binary logits."""
        size = self.config.image_size
        low_res = decoded.low_res_masks.float()
        masks = F.interpolate(low_res, size=(size, size), mode="bilinear", align_corners=False)
        object_logits = masks[:, : self.config.num_object_queries]
        binary_logits = masks[:, -1] if self.config.binary_prompt else object_logits.max(dim=1).values
        presence_logits = decoded.object_score_logits[:, -1]  # the global prompt's SAM2 object score
        threshold = self.config.binary_presence_threshold
        if threshold is not None and not self.training:  # nothing that is heard is visible: empty binary mask
            absent = (presence_logits <= threshold)[:, None, None]
            binary_logits = binary_logits.masked_fill(absent, NO_OBJECT_SCORE)
        return TavisMaskLogits(
            object_logits=object_logits,
            binary_logits=binary_logits,
            low_res_masks=low_res,
            iou_scores=decoded.iou_scores,
            object_score_logits=decoded.object_score_logits,
        )

    def compute_class_outputs(
        self,
        masks: TavisMaskLogits,
        prompts: TavisPrompts,
        raw_frames: torch.Tensor,
        vocabulary: dict,
        with_labels: bool = False,
    ) -> TavisClassOutputs:
        """Audio-to-text class logits of every query; without labels also the image-to-text logits the class source
        needs, the class probabilities and the semantic map (docs/fidelity.md §2.9). With labels
        (`with_labels=True`) only the audio-to-text logits: the loss computes the image-to-text ones on the
        annotated frames, then [`class_probabilities`] gives the probabilities."""
        class_embeds = vocabulary["embeds"].to(self.imagebind.text_logit_scale.dtype)
        audio_embeds = self.imagebind.project_audio_tokens(prompts.refined_audio_tokens)
        outputs = TavisClassOutputs(audio_class_logits=audio_embeds @ class_embeds.T)
        if with_labels:
            return outputs
        if self.config.avss_class_source != "a2t":
            outputs.image_class_logits = self.image_class_logits(masks.object_logits, raw_frames, class_embeds)
        outputs.class_probs = self.class_probabilities(outputs.audio_class_logits, outputs.image_class_logits)
        outputs.semantic_masks = self.assemble_semantic_masks(
            masks.object_logits.detach(), masks.binary_logits.detach(), outputs.class_probs
        )
        return outputs

    def class_probabilities(
        self, audio_class_logits: torch.Tensor, image_class_logits: torch.Tensor | None
    ) -> torch.FloatTensor:
        """Per-query class probabilities `(..., N, C)` (float32, detached) from the source `config.avss_class_source`
        names: softmax of the audio-to-text logits (`"a2t"`), of the image-to-text logits (`"v2t"`), their mean
        (`"mean"`), or the softmax of the two logits summed (`"sum"`, the zero-shot rule)."""
        if self.config.avss_class_source == "sum":
            return (audio_class_logits.float() + image_class_logits.float()).softmax(-1).detach()
        sources = {"a2t": [audio_class_logits], "v2t": [image_class_logits]}.get(
            self.config.avss_class_source, [audio_class_logits, image_class_logits]
        )
        return (sum(logits.float().softmax(-1) for logits in sources) / len(sources)).detach()

    def forward(
        self,
        pixel_values: torch.FloatTensor | None = None,
        imagebind_pixel_values: torch.FloatTensor | None = None,
        input_features: torch.FloatTensor | None = None,
        class_input_ids: torch.LongTensor | None = None,
        labels: torch.LongTensor | None = None,
        label_frame_mask: torch.BoolTensor | None = None,
        temporal: str | None = None,
        return_class_outputs: bool | None = None,
        return_dict: bool = True,
    ) -> TavisSegmentationOutput | tuple:
        r"""
        Args:
            pixel_values (`torch.FloatTensor` of shape `(B, T, 3, S, S)`): ImageNet-normalised frames (SAM2 view),
                `S = config.image_size`. The raw [0, 1] frames used for the highlight images (and for the ImageBind
                view when `imagebind_pixel_values` is omitted) are recovered by un-normalising these.
            imagebind_pixel_values (`torch.FloatTensor` of shape `(B, T, 3, s, s)`, *optional*): ImageBind vision
                view of the frames (`s = config.imagebind_image_size`; release: 112 px bilinear, unnormalised). If
                omitted it is derived from `pixel_values`.
            input_features (`torch.FloatTensor` of shape `(B, T, 1, 128, 204)`): the normalised ImageBind log-mel
                of each frame's audio clip.
            class_input_ids (`torch.LongTensor` of shape `(C, 77)`, *optional*): tokenised class prompts
                (`config.prompt_template` of each label, class 0 background). Encoded once and cached; without it,
                the vocabulary set by [`set_vocabulary`] is used. Needed for class logits, semantic masks and loss.
            labels (`torch.LongTensor` of shape `(B, T, S, S)`, *optional*): class-index maps (0 = background). When
                given, the training loss is computed on the annotated frames.
            label_frame_mask (`torch.BoolTensor` of shape `(B, T)`, *optional*): which frames are annotated
                (default: all).
            temporal (`str`, *optional*): one of `TEMPORAL_MODES`: `"per-frame"` (every frame decoded independently,
                the authors' evaluation) or `"tracking"` (SAM2 memory over the `T` frames, frame 0 conditioning;
                `"clip"`, its former name, is accepted); default `config.temporal`.
            return_class_outputs (`bool`, *optional*): compute the class logits and the semantic map. Default: when
                `class_input_ids` or `labels` are given. `True` without `class_input_ids` uses the vocabulary set by
                [`set_vocabulary`]; binary-only calls (`False`) skip all class work, cached vocabulary or not.
            return_dict (`bool`): return a [`TavisSegmentationOutput`] (default) or a tuple.
        """
        self._check_inputs(pixel_values, imagebind_pixel_values, input_features, labels, label_frame_mask)
        temporal = canonical_temporal(self.config.temporal if temporal is None else temporal)
        vocabulary = self._class_vocabulary(class_input_ids, labels, return_class_outputs)
        batch_size = pixel_values.shape[0]
        frames, raw_frames = self._sam2_frames(pixel_values)
        if imagebind_pixel_values is None:
            imagebind_pixels = self._imagebind_view(raw_frames)
        else:
            imagebind_pixels = imagebind_pixel_values.flatten(0, 1)
        imagebind_dtype = self.imagebind.text_logit_scale.dtype
        prompts = self.compute_prompts(
            imagebind_pixels.to(imagebind_dtype), input_features.flatten(0, 1).to(imagebind_dtype)
        )
        masks = self.decode_masks(frames, prompts, batch_size, temporal)
        classes = loss = loss_terms = None
        if vocabulary is not None:
            classes = self.compute_class_outputs(masks, prompts, raw_frames, vocabulary, labels is not None)
        if labels is not None:
            loss, loss_terms, classes.image_class_logits = self._compute_loss(
                labels, label_frame_mask, masks, classes.audio_class_logits, raw_frames, prompts, vocabulary
            )
            classes.class_probs = self.class_probabilities(classes.audio_class_logits, classes.image_class_logits)
        output = self._segmentation_output(batch_size, masks, classes, prompts, loss, loss_terms)
        return output if return_dict else output.to_tuple()

    @staticmethod
    def _segmentation_output(batch_size, masks, classes, prompts, loss, loss_terms) -> TavisSegmentationOutput:
        """Gather the steps' results into a [`TavisSegmentationOutput`], frames back in `(B, T, ...)` layout."""

        def video_view(tensor):
            return None if tensor is None else tensor.reshape(batch_size, -1, *tensor.shape[1:])

        classes = classes or TavisClassOutputs(audio_class_logits=None)
        return TavisSegmentationOutput(
            loss=loss,
            loss_terms=loss_terms,
            pred_masks=video_view(masks.binary_logits),
            object_masks=video_view(masks.object_logits),
            object_score_logits=video_view(masks.object_score_logits),
            iou_scores=video_view(masks.iou_scores),
            low_res_masks=video_view(masks.low_res_masks),
            audio_class_logits=video_view(classes.audio_class_logits),
            image_class_logits=video_view(classes.image_class_logits),
            class_probs=video_view(classes.class_probs),
            semantic_masks=video_view(classes.semantic_masks),
            pseudo_text_features=video_view(prompts.pseudo_text_features),
            sparse_prompts=video_view(prompts.sparse_prompts),
            dense_prompts=video_view(prompts.dense_prompts),
            imagebind_audio_tokens=video_view(prompts.audio_hidden_states),
        )

    def _compute_loss(self, labels, label_frame_mask, masks, audio_class_logits, raw_frames, prompts, vocabulary):
        """Loss on the annotated frames. Returns `(loss, terms (TavisLossTerms), image_class_logits (F, N, C))`, the
        logits NaN on frames that are not annotated (highlight images are only computed where the loss needs
        them)."""
        labels = filter_small_objects(labels, self.config.min_object_area).flatten(0, 1)
        if label_frame_mask is None:
            selected = torch.arange(labels.shape[0], device=labels.device)
        else:
            selected = label_frame_mask.flatten().nonzero().squeeze(1).to(labels.device)
        if selected.numel() == 0:
            raise ValueError("label_frame_mask selects no annotated frame")
        class_embeds = vocabulary["embeds"].to(audio_class_logits.dtype)
        object_logits = masks.object_logits
        image_class_logits = self.image_class_logits(object_logits[selected], raw_frames[selected], class_embeds)
        num_queries = self.config.num_object_queries
        result = self.criterion(
            object_logits=object_logits[selected],
            binary_logits=masks.binary_logits[selected],
            binary_presence_logits=masks.presence_logits[selected],
            audio_class_logits=audio_class_logits[selected],
            image_class_logits=image_class_logits,
            pseudo_text_features=prompts.pseudo_text_features[selected, :num_queries],
            class_text_hidden=vocabulary["hidden"],
            labels=labels[selected],
        )
        all_frames = image_class_logits.new_full((labels.shape[0], *image_class_logits.shape[1:]), float("nan"))
        all_frames[selected] = image_class_logits
        return result.loss, result.terms, all_frames


__all__ = [
    "TavisClassOutputs",
    "TavisMaskLogits",
    "TavisModel",
    "TavisPreTrainedModel",
    "TavisPrompts",
    "TavisSegmentationOutput",
]
