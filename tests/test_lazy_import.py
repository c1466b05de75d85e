"""`import tavis_hf` is light (no torch, transformers, datasets, gradio) yet keeps its public contract: every public
name, and the Auto classes / pipeline task registered as soon as transformers is imported (`tavis_hf._registration`).

Each check runs in a fresh interpreter: the test process has long imported everything.
"""

import json
import subprocess
import sys

import pytest

import tavis_hf

HEAVY = ("torch", "transformers", "datasets", "gradio", "accelerate", "numpy")


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def _heavy_modules_code(statement: str) -> str:
    """Code that runs `statement`, then prints the loaded heavy modules as JSON."""
    return f"{statement}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"


def test_import_is_light():
    code = _heavy_modules_code("import tavis_hf, tavis_hf.cli\nassert set(tavis_hf.__all__) <= set(dir(tavis_hf))")
    assert json.loads(_python(code).stdout) == []


REGISTRIES = """
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
from transformers.pipelines import PIPELINE_REGISTRY
import transformers, tavis_hf._registration as registration
print(json.dumps({
    "model_types": sorted({"tavis", "imagebind"} & set(CONFIG_MAPPING)),
    "task": "audio-visual-segmentation" in PIPELINE_REGISTRY.get_supported_tasks(),
    "hooks": sum(isinstance(f, registration.TransformersImportHook) for f in sys.meta_path),
    "loader": type(transformers.__spec__.loader).__name__,
}))
"""


@pytest.mark.parametrize(
    "first_import",
    [
        "import tavis_hf; import transformers",
        "import transformers; import tavis_hf",
        "import tavis_hf.models.imagebind",
        "import tavis_hf.models.tavis",
        "import tavis_hf.pipelines",
        "import tavis_hf.segmentation",
        "import tavis_hf.hub",
        "import tavis_hf.evaluation",
    ],
)
def test_registered_whichever_module_imports_transformers_first(first_import):
    """The hook may fire while a tavis_hf module is half-imported (its `from transformers import ...`): registering
    must still succeed (no warning) and leave transformers with its own loader."""
    result = _python(f"import json, sys\n{first_import}\n{REGISTRIES}")
    assert "could not register" not in result.stderr, result.stderr
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert state == {"model_types": ["imagebind", "tavis"], "task": True, "hooks": 0, "loader": "SourceFileLoader"}


def test_auto_classes_and_pipeline_after_a_bare_import(tiny_model_dir):
    """The public contract: `import tavis_hf`, then transformers' Auto classes and `pipeline` on a TAViS folder."""
    code = """
import sys
import tavis_hf
from transformers import AutoConfig, AutoModel, AutoProcessor, pipeline
folder = sys.argv[1]
print(type(AutoConfig.from_pretrained(folder)).__name__, type(AutoModel.from_pretrained(folder)).__name__,
      type(AutoProcessor.from_pretrained(folder)).__name__,
      type(pipeline("audio-visual-segmentation", model=folder)).__name__)
"""
    result = _python(code, str(tiny_model_dir))
    assert result.stdout.split() == ["TavisConfig", "TavisModel", "TavisProcessor", "AudioVisualSegmentationPipeline"]


def test_public_names_resolve_to_their_objects():
    from tavis_hf import corpus, data, metrics, models, pipelines, segmentation

    expected = {
        "data": data,
        "metrics": metrics,
        "AudioVisualSegmentationPipeline": pipelines.AudioVisualSegmentationPipeline,
        "segment_video": segmentation.segment_video,
        "segment_corpus": corpus.segment_corpus,
        **{name: getattr(models.imagebind, name) for name in tavis_hf.__all__ if name.startswith("ImageBind")},
        **{name: getattr(models.tavis, name) for name in tavis_hf.__all__ if name.startswith("Tavis")},
    }
    assert set(tavis_hf.__all__) == {"__version__", *expected} == {"__version__", *tavis_hf._LAZY_ATTRIBUTES}
    for name, value in expected.items():
        assert getattr(tavis_hf, name) is value, name
    namespace = {}
    exec("from tavis_hf import *", namespace)
    assert namespace["TavisModel"] is models.tavis.TavisModel
    assert tavis_hf.media.__name__ == "tavis_hf.media"  # any submodule is an attribute, as when all were eager
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        tavis_hf.NoSuchName  # noqa: B018
