"""Hub release tooling: model cards, release folders and publishing.

Two layers, as in the transformers/huggingface_hub examples:

- local work, fully testable offline: `model_card_from_folder` (every claim of the model card read from the model
  folder's own files) and `build_release_folder` (a folder ready to upload, card included);
- one network step: `publish` (`dry_run=True` returns the same plan without any network call).

One module per concept:

- `facts`: what a card may say about a model, derived from a model folder (`model_facts`, `config_facts`,
  `count_parameters` on the meta device, `weights_fingerprint`, the training records a folder may hold);
- `records`: evaluation records, the plain dicts of scores a card shows (`eval_record_from_metric`,
  `folder_eval_records`), and their parsing;
- `cards`: card rendering from the templates of the repository's `hub_card/` folder (`render_card`,
  `make_model_card`, `model_card_from_folder`, `load_citation`);
- `release`: release folders (`build_release_folder`, `load_model_checked`);
- `publish`: the upload (`publish`, `PublishPlan`, `release_files`, `check_repo_id`);
- `official`: the authors' released files, where they are published (`OFFICIAL_FILES`), their checked, resumable
  download (`fetch_official_file`) and conversion (`convert_official`, what `tavis-hf convert --official` runs).

Every public name of these modules is importable from `tavis_hf.hub` itself.
"""

from .cards import (
    CITATION_FILE,
    HUB_CARD_DIR,
    LICENSE,
    METRIC_PROTOCOLS_FILE,
    MODEL_CARD_TEMPLATE,
    PIPELINE_TAG,
    TASK_TAG,
    generated_card_repo_id,
    load_citation,
    make_model_card,
    model_card_from_folder,
    render_card,
)
from .facts import (
    BASE_MODEL,
    IMAGEBIND_URL,
    PROVENANCE_FILES,
    SUBSET_DATA,
    ModelFacts,
    config_facts,
    count_parameters,
    model_facts,
    weights_fingerprint,
)
from .official import (
    BASE_URL_VARIABLE,
    DEFAULT_CACHE_DIR,
    OFFICIAL_FILES,
    OFFICIAL_SUBSETS,
    OfficialFile,
    convert_official,
    fetch_official_file,
)
from .publish import PICKLE_SUFFIXES, PublishPlan, check_repo_id, publish, release_files
from .records import METRIC_NAMES, eval_record_from_metric, folder_eval_records, folder_eval_records_in
from .release import build_release_folder, load_model_checked

__all__ = [
    "BASE_MODEL",
    "BASE_URL_VARIABLE",
    "CITATION_FILE",
    "DEFAULT_CACHE_DIR",
    "HUB_CARD_DIR",
    "IMAGEBIND_URL",
    "LICENSE",
    "METRIC_NAMES",
    "METRIC_PROTOCOLS_FILE",
    "MODEL_CARD_TEMPLATE",
    "OFFICIAL_FILES",
    "OFFICIAL_SUBSETS",
    "PICKLE_SUFFIXES",
    "PIPELINE_TAG",
    "PROVENANCE_FILES",
    "SUBSET_DATA",
    "TASK_TAG",
    "ModelFacts",
    "OfficialFile",
    "PublishPlan",
    "build_release_folder",
    "check_repo_id",
    "config_facts",
    "convert_official",
    "count_parameters",
    "eval_record_from_metric",
    "fetch_official_file",
    "folder_eval_records",
    "folder_eval_records_in",
    "generated_card_repo_id",
    "load_citation",
    "load_model_checked",
    "make_model_card",
    "model_card_from_folder",
    "model_facts",
    "publish",
    "release_files",
    "render_card",
    "weights_fingerprint",
]
