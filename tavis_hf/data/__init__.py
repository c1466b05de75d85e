"""AVSBench (local, gated) and SynthAVS (procedural) as ``datasets.DatasetDict`` objects with one shared schema.

See :mod:`tavis_hf.data.avsbench` for the schema and :mod:`tavis_hf.data.layout` for the on-disk layouts.
"""

from .avsbench import (
    SPLITS,
    SUBSETS,
    avsbench_build_info,
    avsbench_features,
    load_avsbench,
    push_avsbench_to_hub,
    read_label2idx,
    render_dataset_card,
    resolve_semantic_uid,
)
from .layout import (
    AVSBENCH_CLASSES,
    AVSBENCH_PALETTE,
    AVSClip,
    decode_palette_mask,
    encode_palette_mask,
    palette,
    write_avsbench_tree,
)
from .open_vocabulary import (
    AVSBENCH_OV_UNSEEN_CLASSES,
    OPEN_VOCABULARY_SPLITS,
    SYNTHAVS_OV_UNSEEN_CLASSES,
    OpenVocabularySplit,
    make_open_vocabulary,
    open_vocabulary_info,
    resolve_open_vocabulary_split,
)
from .synthetic import (
    SYNTHAVS_CLASSES,
    SYNTHAVS_ID2LABEL,
    generate_clip,
    make_synthavs,
    write_synthavs_tree,
    write_synthavs_video,
)

#: id → name mapping of :data:`AVSBENCH_CLASSES` (71 classes, background = 0).
AVSBENCH_ID2LABEL: dict[int, str] = dict(enumerate(AVSBENCH_CLASSES))

__all__ = [
    "AVSBENCH_CLASSES",
    "AVSBENCH_ID2LABEL",
    "AVSBENCH_OV_UNSEEN_CLASSES",
    "AVSBENCH_PALETTE",
    "OPEN_VOCABULARY_SPLITS",
    "SPLITS",
    "SUBSETS",
    "SYNTHAVS_CLASSES",
    "SYNTHAVS_ID2LABEL",
    "SYNTHAVS_OV_UNSEEN_CLASSES",
    "AVSClip",
    "OpenVocabularySplit",
    "avsbench_build_info",
    "avsbench_features",
    "decode_palette_mask",
    "encode_palette_mask",
    "generate_clip",
    "load_avsbench",
    "make_open_vocabulary",
    "make_synthavs",
    "open_vocabulary_info",
    "palette",
    "push_avsbench_to_hub",
    "read_label2idx",
    "render_dataset_card",
    "resolve_open_vocabulary_split",
    "resolve_semantic_uid",
    "write_avsbench_tree",
    "write_synthavs_tree",
    "write_synthavs_video",
]
