"""Image processor for TAViS (PIL/NumPy backend, no torchvision).

Each video frame gives two views, as in the authors' data pipeline (docs/fidelity.md §5.1):

* the **SAM2 view** `pixel_values`: RGB frame resized to `size` (224 px for the released model; PIL bilinear, which
  antialiases when shrinking), scaled to [0, 1], ImageNet-normalised. With `frame_resize_roundtrip=True` the frame
  first goes to `roundtrip_size` (1024) and then to `size`, both with PIL bilinear, as the authors' loader does
  (bit-level parity with their preprocessing; the default resizes directly).
* the **ImageBind view** `imagebind_pixel_values`: the same resized [0, 1] frame, resized to `imagebind_size` (112 px
  for the release) with bilinear interpolation (`torch.nn.functional.interpolate`, `align_corners=False`, no
  antialiasing), CLIP-normalised only when `do_imagebind_normalize` (release: not normalised).

Segmentation maps (class-index images) are resized with NEAREST only and returned as `labels` (int64).
"""

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from transformers.image_processing_backends import PilBackend
from transformers.image_processing_utils import BatchFeature, get_size_dict
from transformers.image_utils import (
    IMAGENET_DEFAULT_MEAN,
    IMAGENET_DEFAULT_STD,
    OPENAI_CLIP_MEAN,
    OPENAI_CLIP_STD,
    ChannelDimension,
    ImageInput,
    PILImageResampling,
    SizeDict,
)
from transformers.processing_utils import ImagesKwargs, Unpack
from transformers.utils import TensorType

__all__ = ["TavisImageProcessorKwargs", "TavisImageProcessorPil"]


class TavisImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    imagebind_size (`dict[str, int]`, *optional*, defaults to `{"height": 112, "width": 112}`):
        Size of the ImageBind view.
    do_imagebind_normalize (`bool`, *optional*, defaults to `False`):
        CLIP-normalise the ImageBind view (the authors' release does not).
    imagebind_image_mean, imagebind_image_std (`list[float]`, *optional*, default to OpenAI CLIP's):
        Statistics of the ImageBind view normalisation.
    frame_resize_roundtrip (`bool`, *optional*, defaults to `False`):
        Resize frames to `roundtrip_size` before `size` (the authors' 224 -> 1024 -> 224 round trip).
    roundtrip_size (`int`, *optional*, defaults to 1024):
        Intermediate square size of the round trip.
    """

    imagebind_size: dict[str, int]
    do_imagebind_normalize: bool
    imagebind_image_mean: list[float]
    imagebind_image_std: list[float]
    frame_resize_roundtrip: bool
    roundtrip_size: int


class TavisImageProcessorPil(PilBackend):
    r"""Frames -> SAM2 view `(N, 3, S, S)` + ImageBind view `(N, 3, s, s)`; segmentation maps -> `(N, S, S)` labels.

    Defaults match the released TAViS model (`TavisConfig.release()`): `S = 224`, `s = 112`, ImageNet normalisation
    for SAM2, no normalisation for ImageBind. Use [`TavisImageProcessorPil.from_tavis_config`] to follow a config
    (the tiny test config, the paper preset's 224-px CLIP-normalised ImageBind view, ...).
    """

    valid_kwargs = TavisImageProcessorKwargs
    model_input_names = ["pixel_values", "imagebind_pixel_values"]
    resample = PILImageResampling.BILINEAR
    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
    size = {"height": 224, "width": 224}
    default_to_square = True
    do_resize = True
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    do_convert_rgb = True
    imagebind_size = {"height": 112, "width": 112}
    do_imagebind_normalize = False
    imagebind_image_mean = OPENAI_CLIP_MEAN
    imagebind_image_std = OPENAI_CLIP_STD
    frame_resize_roundtrip = False
    roundtrip_size = 1024

    def __init__(self, **kwargs: Unpack[TavisImageProcessorKwargs]):
        super().__init__(**kwargs)

    @classmethod
    def from_tavis_config(cls, config, **kwargs) -> "TavisImageProcessorPil":
        """The processor a [`TavisConfig`] expects: `image_size`, `imagebind_image_size`, `imagebind_clip_normalize`
        and the ImageBind statistics; `kwargs` override (e.g. `frame_resize_roundtrip=True`)."""
        defaults = {
            "size": {"height": config.image_size, "width": config.image_size},
            "imagebind_size": {"height": config.imagebind_image_size, "width": config.imagebind_image_size},
            "do_imagebind_normalize": config.imagebind_clip_normalize,
            "imagebind_image_mean": list(config.imagebind_image_mean),
            "imagebind_image_std": list(config.imagebind_image_std),
        }
        return cls(**{**defaults, **kwargs})

    def preprocess(
        self,
        images: ImageInput,
        segmentation_maps: ImageInput | None = None,
        **kwargs: Unpack[TavisImageProcessorKwargs],
    ) -> BatchFeature:
        r"""
        Args:
            images (`ImageInput`): RGB frames (PIL images, `(H, W, 3)` uint8 arrays or tensors, or a list of them).
            segmentation_maps (`ImageInput`, *optional*): class-index maps `(H, W)` matching `images`.

        Returns:
            [`BatchFeature`] with `pixel_values` `(N, 3, S, S)` float32, `imagebind_pixel_values` `(N, 3, s, s)`
            float32 and, with segmentation maps, `labels` `(N, S, S)` int64.
        """
        return super().preprocess(images, segmentation_maps, **kwargs)

    def _standardize_kwargs(self, imagebind_size=None, imagebind_image_mean=None, imagebind_image_std=None, **kwargs):
        kwargs = super()._standardize_kwargs(**kwargs)
        if imagebind_size is not None and not isinstance(imagebind_size, SizeDict):
            imagebind_size = SizeDict(**get_size_dict(imagebind_size, param_name="imagebind_size"))
        kwargs["imagebind_size"] = imagebind_size
        kwargs["imagebind_image_mean"] = tuple(imagebind_image_mean) if imagebind_image_mean is not None else None
        kwargs["imagebind_image_std"] = tuple(imagebind_image_std) if imagebind_image_std is not None else None
        return kwargs

    def _preprocess_image_like_inputs(
        self,
        images: ImageInput,
        segmentation_maps: ImageInput | None,
        do_convert_rgb: bool,
        input_data_format: ChannelDimension,
        return_tensors: str | TensorType | None,
        **kwargs,
    ) -> BatchFeature:
        images = self._prepare_image_like_inputs(
            images=images, do_convert_rgb=do_convert_rgb, input_data_format=input_data_format
        )
        data = self._preprocess(images, **kwargs)
        if segmentation_maps is not None:
            maps = self._prepare_image_like_inputs(
                images=segmentation_maps,
                expected_ndims=2,
                do_convert_rgb=False,
                input_data_format=ChannelDimension.FIRST,
            )
            if len(maps) != len(images):
                raise ValueError(f"{len(maps)} segmentation maps for {len(images)} frames")
            size = kwargs["size"]
            # NEAREST on 32-bit integer images keeps every class id exactly (no 8-bit PIL round trip).
            data["labels"] = np.stack(
                [
                    np.asarray(
                        Image.fromarray(m[0].astype(np.int32)).resize((size.width, size.height), Image.NEAREST)
                    ).astype(np.int64)
                    for m in maps
                ]
            )
        return BatchFeature(data=data, tensor_type=return_tensors)

    def _preprocess(
        self,
        images: list[np.ndarray],
        do_resize: bool,
        size: SizeDict,
        resample: PILImageResampling,
        do_rescale: bool,
        rescale_factor: float,
        do_normalize: bool,
        image_mean: tuple[float, ...],
        image_std: tuple[float, ...],
        imagebind_size: SizeDict,
        do_imagebind_normalize: bool,
        imagebind_image_mean: tuple[float, ...],
        imagebind_image_std: tuple[float, ...],
        frame_resize_roundtrip: bool,
        roundtrip_size: int,
        **kwargs,
    ) -> dict[str, np.ndarray]:
        if not images:
            raise ValueError("no frames to process")
        raw = []
        for image in images:
            if image.dtype != np.uint8:
                raise ValueError(f"frames must be uint8 RGB images (0-255); got dtype {image.dtype}")
            if do_resize:
                if frame_resize_roundtrip:
                    image = self.resize(image, SizeDict(height=roundtrip_size, width=roundtrip_size), resample)
                image = self.resize(image, size, resample)
            if do_rescale:
                image = self.rescale(image, rescale_factor)
            raw.append(image.astype(np.float32))
        raw = np.stack(raw)  # (N, 3, S, S) in [0, 1]
        pixel_values = raw
        if do_normalize:
            pixel_values = np.stack([self.normalize(image, image_mean, image_std) for image in raw])
        ib = torch.from_numpy(raw)
        if (imagebind_size.height, imagebind_size.width) != tuple(ib.shape[-2:]):
            ib = F.interpolate(
                ib, size=(imagebind_size.height, imagebind_size.width), mode="bilinear", align_corners=False
            )
        if do_imagebind_normalize:
            mean = torch.tensor(imagebind_image_mean, dtype=ib.dtype).view(1, 3, 1, 1)
            std = torch.tensor(imagebind_image_std, dtype=ib.dtype).view(1, 3, 1, 1)
            ib = (ib - mean) / std
        return {"pixel_values": pixel_values.astype(np.float32), "imagebind_pixel_values": ib.numpy()}
