"""TAViS configuration: a composite of a SAM2 video config, an ImageBind config and the TAViS heads.

The fields marked *fidelity flag* reproduce a place where the authors' released code differs from the paper or from
clean practice (``docs/fidelity.md`` §9). The ``release`` values are what the authors' checkpoints were trained
and evaluated with; :meth:`TavisConfig.release` sets all the model-scope ones, and with ``reproduce_training_quirks``
the training-time ones too.
"""

from typing import Literal

from huggingface_hub.dataclasses import strict
from huggingface_hub.errors import HFValidationError
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from ..imagebind.configuration_imagebind import (
    ImageBindAudioConfig,
    ImageBindConfig,
    ImageBindTextConfig,
    ImageBindVisionConfig,
)

# AVSBench-semantic class order (label2idx order); index 0 is background. Kept here (not imported from the data
# package) so that the model folder is self-contained for remote-code export.
AVSBENCH_CLASSES = (
    "background", "accordion", "airplane", "axe", "baby", "bassoon", "bell", "bird", "boat", "boy", "bus", "car",
    "cat", "cello", "clarinet", "clipper", "clock", "dog", "donkey", "drum", "duck", "elephant", "emergency-car",
    "erhu", "flute", "frying-food", "girl", "goose", "guitar", "gun", "guzheng", "hair-dryer", "handpan",
    "harmonica", "harp", "helicopter", "hen", "horse", "keyboard", "leopard", "lion", "man", "marimba",
    "missile-rocket", "motorcycle", "mower", "parrot", "piano", "pig", "pipa", "saw", "saxophone", "sheep", "sitar",
    "sorna", "squirrel", "tabla", "tank", "tiger", "tractor", "train", "trombone", "truck", "trumpet", "tuba",
    "ukulele", "utv", "vacuum-cleaner", "violin", "wolf", "woman",
)  # fmt: skip

# ImageNet statistics (SAM2 input) and CLIP statistics (ImageBind vision input when ``imagebind_clip_normalize``).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

_HIERA_PRESETS = {
    # size: (hidden, heads per stage, blocks per stage, global blocks, windows, background pos-embed)
    "tiny": (96, [1, 2, 4, 8], [1, 2, 7, 2], [5, 7, 9], [8, 4, 14, 7], [7, 7]),
    "small": (96, [1, 2, 4, 8], [1, 2, 11, 2], [7, 10, 13], [8, 4, 14, 7], [7, 7]),
    "base_plus": (112, [2, 4, 8, 16], [2, 3, 16, 3], [12, 16, 20], [8, 4, 14, 7], [14, 14]),
    "large": (144, [2, 4, 8, 16], [2, 6, 36, 4], [23, 33, 43], [8, 4, 16, 8], [7, 7]),
}


def sam2_video_config_dict(
    size: str = "large",
    version: Literal["2.0", "2.1"] = "2.0",
    image_size: int = 224,
    window_size_per_stage: list[int] | None = None,
) -> dict:
    """A ``Sam2VideoConfig`` as a dict for a Hiera ``size`` ("tiny", "small", "base_plus", "large").

    ``version="2.0"`` gives SAM 2.0 (what TAViS used: no occlusion embedding, no temporal encoding of object
    pointers); ``"2.1"`` enables both. ``image_size`` sets the backbone feature sizes (/4, /8, /16), the prompt
    encoder grid (/16) and the memory-attention RoPE grid (/16); it must be a multiple of 32.
    """
    if size not in _HIERA_PRESETS:
        raise ValueError(f"Unknown Hiera size {size!r}; expected one of {sorted(_HIERA_PRESETS)}")
    if version not in ("2.0", "2.1"):
        raise ValueError(f"Unknown SAM2 version {version!r}; expected '2.0' or '2.1'")
    if image_size % 32:
        raise ValueError(f"SAM2 image_size must be a multiple of 32, got {image_size}")
    hidden, heads, blocks, global_blocks, windows, bkg = _HIERA_PRESETS[size]
    dims = [hidden * 2**i for i in range(4)]
    s = image_size
    return {
        "model_type": "sam2_video",
        "image_size": s,
        "vision_config": {
            "model_type": "sam2_vision_model",
            "backbone_config": {
                "model_type": "sam2_hiera_det_model",
                "hidden_size": hidden,
                "num_attention_heads": heads[0],
                "embed_dim_per_stage": dims,
                "num_attention_heads_per_stage": heads,
                "blocks_per_stage": blocks,
                "global_attention_blocks": global_blocks,
                "window_size_per_stage": windows if window_size_per_stage is None else window_size_per_stage,
                "window_positional_embedding_background_size": bkg,
            },
            "backbone_channel_list": dims[::-1],
            "backbone_feature_sizes": [[s // 4, s // 4], [s // 8, s // 8], [s // 16, s // 16]],
        },
        "prompt_encoder_config": {"image_size": s},
        "memory_attention_rope_feat_sizes": [s // 16, s // 16],
        "enable_occlusion_spatial_embedding": version == "2.1",
        "enable_temporal_pos_encoding_for_object_pointers": version == "2.1",
    }


TEMPORAL_MODES = ("per-frame", "tracking")
"""How frames are decoded: each on its own (`"per-frame"`, the authors' evaluation) or tracked through SAM2's memory
over a window of frames (`"tracking"`)."""

AVSS_CLASS_SOURCES = ("a2t", "v2t", "mean", "sum")
"""Rules for a query's class distribution (`TavisConfig.avss_class_source`): softmax of the audio-to-text logits, of
the image-to-text logits, the mean of both softmaxes, or the softmax of both logits summed (coefficient 1)."""

_TEMPORAL_ALIASES = {"clip": "tracking"}  # the name of "tracking" before 0.2, kept loadable


def canonical_temporal(value: str) -> str:
    """`value` as one of `TEMPORAL_MODES` (`"clip"`, the former name of `"tracking"`, is accepted).

    Raises:
        ValueError: `value` names no temporal mode.
    """
    value = _TEMPORAL_ALIASES.get(value, value)
    if value not in TEMPORAL_MODES:
        raise ValueError(f"temporal must be one of {TEMPORAL_MODES}, got {value!r}")
    return value


def _parse_optional(value: str):
    """`none`/`null` -> None; a number -> a `float` (the optional numeric fields are floats); else the string."""
    if value.lower() in ("none", "null"):
        return None
    try:
        return float(value)
    except ValueError:
        return value


@strict
class TavisConfig(PreTrainedConfig):
    r"""Configuration of [`TavisModel`].

    Args:
        sam2_config (`dict` or `Sam2VideoConfig`): the SAM2 video model (Hiera + FPN, prompt encoder, mask decoder,
            memory attention/encoder). Build one with [`sam2_video_config_dict`]; the authors used SAM **2.0**
            Hiera-L at 224 px.
        imagebind_config (`dict` or `ImageBindConfig`): the frozen ImageBind towers (vision, text, audio).
        num_object_queries (`int`, defaults to 5): IBQD object queries N; each becomes one SAM2 prompt.
        pseudo_text_length (`int`, defaults to 6): generated pseudo-text token embeddings per source vector (the
            EOT position is chosen among them).
        ibqd_num_layers (`int`, defaults to 4): layers of the IBQD query stage and of the token refiner.
        ibqd_query_num_heads (`int`, defaults to 8), ibqd_refiner_num_heads (`int`, defaults to 4): attention heads.
        adapter_input_dim (`int`, defaults to 128), adapter_hidden_dim (`int`, defaults to 512): audio-guided
            Hiera adapters (Linear in→hidden, GELU, Linear hidden→block width).
        prompt_hidden_dim (`int`, defaults to 256): width of the SAM2 prompts (must equal the SAM2 decoder width).
        id2label (`dict[int, str]`): the class vocabulary; index 0 is background. Defaults to the 71 AVSBench
            classes. It can be replaced at inference with [`TavisModel.set_vocabulary`].
        prompt_template (`str`, defaults to `"A {}"`): text prompt of a class name (hyphens kept, "A" even before
            vowels, as released).
        image_size (`int`, defaults to 224): SAM2 input size S in pixels (square); must match `sam2_config`.
        imagebind_image_size (`int`, defaults to 112): *fidelity flag*. Side of the frame and highlight images given
            to ImageBind vision (release: 112; paper/clean: 224).
        imagebind_clip_normalize (`bool`, defaults to `False`): *fidelity flag*. Whether the ImageBind vision input
            is CLIP-normalised (release: no normalisation).
        imagebind_image_mean / imagebind_image_std (`list[float]`): CLIP statistics used when normalising.
        ibqd_query_layers (`str`, defaults to `"last_only"`): *fidelity flag*. `"last_only"`: only the last query
            layer acts on the initial queries (release; only that layer is built). `"stacked"`: chain all layers.
        ibqd_token_memory_alignment (`str`, defaults to `"interleave"`): *fidelity flag* (training). `"interleave"`:
            each refined token attends to its own frame's audio. `"tile"`: the release's training bug (row 5f+q
            attends to frame (5f+q) mod F).
        train_pseudo_text (`bool`, defaults to `False`): *fidelity flag*. Release: pseudo-text features are detached
            (the generator never trains, the a2pt loss is inert). `True` lets gradients reach the generator.
        binary_prompt (`bool`, defaults to `True`): *fidelity flag*. Release: the 6th (global audio) prompt gives the
            binary mask. `False`: the binary logit map is the max over the object logits.
        multimask_best_iou (`bool`, defaults to `True`): *fidelity flag*. Release: decode 3 masks and keep the one
            with the highest predicted IoU. `False`: the single-mask token 0 (in eval mode SAM2 falls back to the
            best multimask output when that mask is unstable, unless
            `sam2_config.mask_decoder_config.dynamic_multimask_via_stability` is off, as in the tiny default model).
        object_score_suppression (`bool`, defaults to `False`): *fidelity flag*. Stock SAM2 replaces masks of absent
            objects (score logit ≤ threshold) by -1024; the release does not.
        object_pointer_threshold (`float`, defaults to -2.0): *fidelity flag*. Object-score logit above which an
            object counts as present for the object pointer gate (release −2; stock SAM2 0).
        fill_hole_area (`int`, defaults to 0): *fidelity flag*. Hole filling of the released build (8) needs a CUDA
            extension and is skipped on CPU; only 0 is implemented.
        temporal (`str`, defaults to `"per-frame"`): *fidelity flag* `use_memory_at_inference`, one of
            [`TEMPORAL_MODES`]. `"per-frame"`: every frame is decoded independently (the authors' evaluation
            protocol). `"tracking"`: SAM2 tracks the prompts through each window of frames (memory attention, frame 0
            the conditioning frame), as MS3 was trained. `"clip"`, its name before 0.2, is read as `"tracking"`.
        tracking_memory_bfloat16 (`bool`, defaults to `False`): *fidelity flag* (tracking). The release stores SAM2
            memory features in bf16 between frames; `False` keeps them in the compute dtype. Formerly
            `clip_memory_bfloat16`: that key (in a `config.json` or as an argument) sets this field.
        imagebind_train_mode (`bool`, defaults to `False`): *fidelity flag* (training). Release: the ImageBind audio
            trunk's drop path is active while training.
        ce_double_normalization (`bool`, defaults to `True`): *fidelity flag* (training). Class CE is a weighted mean
            then divided again by the number of matches, as released.
        min_object_area (`int`, defaults to 20): *fidelity flag* (training). Classes with total area ≤ this many
            pixels over a video (all its frames) are reset to background.
        highlight_blur (`str`, defaults to `"box"`): *fidelity flag* (training). Background blur of the highlight
            images: `"box"` (release, 75×75 zero-padded average) or `"gaussian"` (paper).
        highlight_kernel_size (`int`, defaults to 75): blur window. highlight_sigma (`float`, *optional*): Gaussian
            sigma (default: OpenCV rule from the kernel size, 11.6 for 75).
        avss_assembly (`str`, defaults to `"soft"`): *fidelity flag* (not released). How the semantic map is built
            from the object masks and class distributions (`"soft"` or `"hard"`, docs/fidelity.md §2.9).
        avss_class_source (`str`, defaults to `"mean"`): class distribution used for AVSS: `"a2t"`, `"v2t"`,
            `"mean"` of both, or `"sum"`: the softmax of the audio-to-text plus image-to-text logits (text similarity
            of the audio and of the image embedding added with coefficient 1, the zero-shot rule of
            `tavis_hf.zero_shot`); v2t, mean and sum need highlight images, i.e. one extra ImageBind vision pass per
            query.
        background_class_weight (`float`, defaults to 0.1): CE weight of class 0.
        loss_weight_* (`float`): weights of the seven loss terms (a2t 0.5, i2t 0.5, object_bce 1, object_iou 1,
            a2pt 0.3, binary_bce 1, binary_iou 1), and of the eighth, `loss_weight_binary_presence` (defaults to 0,
            not in TAViS): BCE of the global prompt's SAM2 object-score logit against whether the frame has a sounding
            object, which trains SAM2's presence head to say whether what is heard is visible.
        binary_presence_threshold (`float`, *optional*): not in TAViS (`None`: off). In eval mode, frames whose
            global-prompt object-score logit is `<=` this threshold get an empty binary mask (-1024 logits), as stock
            SAM2 suppresses absent objects; meant for a model trained with `loss_weight_binary_presence > 0`.
        num_matching_points (`int`, defaults to 12544): random points per frame of the Hungarian matcher.
        matcher_cost_weights (4 `float`s, defaults to 5 each): matcher costs (audio class, image class, mask BCE,
            dice).
    """

    model_type = "tavis"
    # names before 0.2, still read (from a config.json, as arguments and as attributes)
    attribute_map = {"clip_memory_bfloat16": "tracking_memory_bfloat16"}
    sub_configs_defaults = {
        "sam2_config": SubConfigSpec(config_class=AutoConfig, model_type="sam2_video"),
        "imagebind_config": ImageBindConfig,
    }

    sam2_config: dict | PreTrainedConfig | None = None
    imagebind_config: dict | PreTrainedConfig | None = None
    num_object_queries: int = 5
    pseudo_text_length: int = 6
    ibqd_num_layers: int = 4
    ibqd_query_num_heads: int = 8
    ibqd_refiner_num_heads: int = 4
    adapter_input_dim: int = 128
    adapter_hidden_dim: int = 512
    prompt_hidden_dim: int = 256
    prompt_template: str = "A {}"
    image_size: int = 224
    imagebind_image_size: int = 112
    imagebind_clip_normalize: bool = False
    imagebind_image_mean: list[float] | tuple[float, ...] = CLIP_MEAN
    imagebind_image_std: list[float] | tuple[float, ...] = CLIP_STD
    ibqd_query_layers: str = "last_only"
    ibqd_token_memory_alignment: str = "interleave"
    train_pseudo_text: bool = False
    binary_prompt: bool = True
    multimask_best_iou: bool = True
    object_score_suppression: bool = False
    object_pointer_threshold: float = -2.0
    fill_hole_area: int = 0
    temporal: str = "per-frame"
    tracking_memory_bfloat16: bool = False
    imagebind_train_mode: bool = False
    ce_double_normalization: bool = True
    min_object_area: int = 20
    highlight_blur: str = "box"
    highlight_kernel_size: int = 75
    highlight_sigma: float | None = None
    avss_assembly: str = "soft"
    avss_class_source: str = "mean"
    background_class_weight: float = 0.1
    loss_weight_a2t: float = 0.5
    loss_weight_i2t: float = 0.5
    loss_weight_object_bce: float = 1.0
    loss_weight_object_iou: float = 1.0
    loss_weight_a2pt: float = 0.3
    loss_weight_binary_bce: float = 1.0
    loss_weight_binary_iou: float = 1.0
    loss_weight_binary_presence: float = 0.0
    binary_presence_threshold: float | None = None
    num_matching_points: int = 12544
    matcher_cost_weights: list[float] | tuple[float, ...] = (5.0, 5.0, 5.0, 5.0)
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        if self.id2label is None:
            self.id2label = dict(enumerate(AVSBENCH_CLASSES))
            self.label2id = {v: k for k, v in self.id2label.items()}
        self.temporal = _TEMPORAL_ALIASES.get(self.temporal, self.temporal)  # stored under its current name
        super().__post_init__(**kwargs)

    def validate_architecture(self):
        """Check the choices and the consistency between the TAViS fields and the sub-configs."""
        super().validate_architecture()
        choices = {
            "ibqd_query_layers": ("last_only", "stacked"),
            "ibqd_token_memory_alignment": ("interleave", "tile"),
            "temporal": TEMPORAL_MODES,
            "highlight_blur": ("box", "gaussian"),
            "avss_assembly": ("soft", "hard"),
            "avss_class_source": AVSS_CLASS_SOURCES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"TavisConfig.{name} must be one of {allowed}, got {getattr(self, name)!r}")
        uses_presence = self.loss_weight_binary_presence != 0 or self.binary_presence_threshold is not None
        if uses_presence and not self.binary_prompt:
            raise ValueError(
                "TavisConfig.loss_weight_binary_presence/binary_presence_threshold need binary_prompt=True"
            )
        if self.fill_hole_area != 0:
            raise ValueError("TavisConfig.fill_hole_area: only 0 (no hole filling, as the release runs) is supported")
        if "{}" not in self.prompt_template:
            raise ValueError(f"TavisConfig.prompt_template must contain '{{}}', got {self.prompt_template!r}")
        if self.sam2_config is None:
            return
        if self.sam2_config.image_size != self.image_size:
            raise ValueError(
                f"TavisConfig.image_size={self.image_size} does not match sam2_config.image_size="
                f"{self.sam2_config.image_size}; build the SAM2 config with sam2_video_config_dict(image_size=...)"
            )
        if self.sam2_config.mask_decoder_config.hidden_size != self.prompt_hidden_dim:
            raise ValueError("TavisConfig.prompt_hidden_dim must equal the SAM2 mask decoder hidden_size")

    def update_from_string(self, update_str: str):
        """[`PretrainedConfig.update_from_string`] that also reaches into the sub-configs with dotted keys, e.g.
        ``"multimask_best_iou=false,sam2_config.mask_decoder_config.dynamic_multimask_via_stability=false"``. Each
        key must already exist; values are parsed by the owning (sub-)config's `update_from_string`, except for an
        optional field (`None` now, or set to `none`): `none`/`null` is `None`, a number is a `float`."""
        for item in update_str.split(","):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"config override {item!r} is not of the form key=value")
            *path, name = key.split(".")
            target = self
            for part in path:
                target = getattr(target, part, None)
                if not isinstance(target, PreTrainedConfig):
                    raise ValueError(f"{key!r}: {part!r} is not a sub-config of {type(self).__name__}")
            if hasattr(target, name) and (getattr(target, name) is None or value.lower() in ("none", "null")):
                setattr(target, name, _parse_optional(value))
            else:
                PreTrainedConfig.update_from_string(target, f"{name}={value}")
        self.temporal = _TEMPORAL_ALIASES.get(self.temporal, self.temporal)

    @classmethod
    def get_config_dict(cls, pretrained_model_name_or_path, **kwargs):
        """[`PretrainedConfig.get_config_dict`] that refuses another model's config: `TavisConfig.from_pretrained` and
        `TavisModel.from_pretrained` of a folder or repository whose `model_type` is not `"tavis"` raise a
        `ValueError` naming it and the type found (transformers would only warn, then fail on a missing field), and of
        a name that is neither a folder on disk nor a Hub id a `FileNotFoundError` saying so (instead of the Hub's
        "Repo id must be in the form ...")."""
        try:
            config_dict, kwargs = super().get_config_dict(pretrained_model_name_or_path, **kwargs)
        except OSError as error:
            if isinstance(error.__cause__, HFValidationError):
                raise FileNotFoundError(
                    f"no such model folder: {pretrained_model_name_or_path} (a Hub id has the form owner/name)"
                ) from error
            raise
        found = config_dict.get("model_type")
        if found is not None and found != cls.model_type:
            raise ValueError(
                f"{pretrained_model_name_or_path} holds a {found!r} model (config.json model_type), not a TAViS model "
                f"({cls.model_type!r}); load it with its own class, e.g. AutoModel.from_pretrained"
            )
        return config_dict, kwargs

    @property
    def num_prompts(self) -> int:
        """Prompts decoded per frame: the object queries plus the global (binary) prompt."""
        return self.num_object_queries + 1

    # ----------------------------------------------------------------------------------------------------- presets
    @classmethod
    def release(cls, reproduce_training_quirks: bool = False, **kwargs) -> "TavisConfig":
        """The authors' released model: SAM 2.0 Hiera-L + ImageBind-huge at 224 px, every model-scope fidelity flag
        at its release value (what ``convert_tavis.py`` writes for the S4, MS3 and V2 checkpoints; the outputs of
        the authors' ``infer`` are reproduced). Training-scope flags keep their defaults (docs/fidelity.md §9.3)
        unless ``reproduce_training_quirks``, which also sets the release's training-time behaviour: IBQD memory
        tiling across frames, ImageBind audio drop path in training and bf16 tracking memories."""
        defaults = {
            "sam2_config": sam2_video_config_dict("large", "2.0", 224),
            "imagebind_config": ImageBindConfig.imagebind_huge().to_dict(),
        }
        if reproduce_training_quirks:
            defaults.update(
                ibqd_token_memory_alignment="tile", imagebind_train_mode=True, tracking_memory_bfloat16=True
            )
        return cls(**{**defaults, **kwargs})

    @classmethod
    def paper(cls, **kwargs) -> "TavisConfig":
        """The model as the paper describes it: same architecture as :meth:`release` (SAM 2.0 Hiera-L +
        ImageBind-huge, 224 px) with the paper's behaviour where it differs from the release: stacked IBQD query
        layers, Gaussian highlight blur, a trained pseudo-text generator, ImageBind at 224 px with CLIP
        normalisation. Not compatible with the released weights' behaviour."""
        defaults = {
            "ibqd_query_layers": "stacked",
            "highlight_blur": "gaussian",
            "train_pseudo_text": True,
            "imagebind_image_size": 224,
            "imagebind_clip_normalize": True,
            "ce_double_normalization": False,
        }
        return cls.release(**{**defaults, **kwargs})

    @classmethod
    def official_reduced(cls, **kwargs) -> "TavisConfig":
        """The reduced configuration of the official-code oracle (``tavis_official_reduced_config.json``): Hiera-T
        trunk with Hiera-L's window sizes [8,4,16,8] and one head, ImageBind with 2 vision/text/audio blocks,
        release flags. Converts the oracle's ``--save-random-state`` file for parity tests."""
        defaults = {
            "sam2_config": sam2_video_config_dict("tiny", "2.0", 224, window_size_per_stage=[8, 4, 16, 8]),
            "imagebind_config": ImageBindConfig(
                vision_config=ImageBindVisionConfig(num_hidden_layers=2),
                text_config=ImageBindTextConfig(num_hidden_layers=2),
                audio_config=ImageBindAudioConfig(num_hidden_layers=2),
            ).to_dict(),
        }
        return cls(**{**defaults, **kwargs})

    @classmethod
    def tiny(cls, **kwargs) -> "TavisConfig":
        """A tiny random configuration for tests (CPU, < 1 s forward): SAM2 video at 64 px with a small Hiera and
        128-wide decoder/memory, tiny ImageBind towers, 3 object queries, 4 classes."""
        sam2 = sam2_video_config_dict("tiny", "2.0", 64)
        backbone = sam2["vision_config"]["backbone_config"]
        backbone.update(
            hidden_size=12,
            embed_dim_per_stage=[12, 24, 48, 96],
            num_attention_heads_per_stage=[1, 1, 2, 2],
            blocks_per_stage=[1, 1, 2, 1],
            global_attention_blocks=[3],
            window_size_per_stage=[4, 2, 2, 1],
            window_positional_embedding_background_size=[4, 4],
        )
        sam2["vision_config"].update(backbone_channel_list=[96, 48, 24, 12], fpn_hidden_size=128)
        sam2["prompt_encoder_config"].update(hidden_size=128, mask_input_channels=8)
        sam2["mask_decoder_config"] = {"hidden_size": 128, "mlp_dim": 64, "num_attention_heads": 4,
                                       "iou_head_hidden_dim": 32}  # fmt: skip
        sam2.update(
            memory_attention_hidden_size=128,
            memory_attention_feed_forward_hidden_size=64,
            memory_attention_num_layers=1,
            memory_encoder_hidden_size=128,
            mask_downsampler_embed_dim=128,
            memory_fuser_embed_dim=128,
            memory_fuser_intermediate_dim=64,
            memory_fuser_num_layers=1,
            num_maskmem=3,
        )
        defaults = {
            "sam2_config": sam2,
            "imagebind_config": ImageBindConfig.tiny().to_dict(),
            "num_object_queries": 3,
            "pseudo_text_length": 4,
            "ibqd_num_layers": 2,
            "ibqd_query_num_heads": 2,
            "ibqd_refiner_num_heads": 2,
            "adapter_input_dim": 8,
            "adapter_hidden_dim": 16,
            "prompt_hidden_dim": 128,
            "image_size": 64,
            "imagebind_image_size": 28,
            "id2label": dict(enumerate(["background", "dog", "guitar", "man"])),
            "highlight_kernel_size": 7,
            "num_matching_points": 256,
            "min_object_area": 2,
        }
        return cls(**{**defaults, **kwargs})


__all__ = [
    "AVSBENCH_CLASSES",
    "AVSS_CLASS_SOURCES",
    "TEMPORAL_MODES",
    "TavisConfig",
    "canonical_temporal",
    "sam2_video_config_dict",
]
