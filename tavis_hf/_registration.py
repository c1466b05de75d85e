"""Registration of tavis_hf's classes and pipeline task with transformers, without importing transformers early.

`import tavis_hf` must be light (the `tavis-hf` command validates its arguments before any torch import), yet
`import tavis_hf; AutoModel.from_pretrained(tavis_folder)` and `pipeline("audio-visual-segmentation", ...)` must
work although they touch no tavis_hf attribute. transformers resolves model types through its registries, which
only exist once transformers is imported, so `install()` (called by `tavis_hf/__init__.py`):

- registers at once when transformers is already imported;
- otherwise adds a post-import hook to `sys.meta_path`: the next `import transformers` (anywhere) runs
  `register()` right after transformers' own `__init__` has run, before the importer gets the module back.

`register()` imports the modules that register themselves (`REGISTERING_MODULES`). The hook can fire while a
tavis_hf module is being imported (the first `from transformers import ...` of the process may be ours):
`tavis_hf/models/__init__.py` imports transformers first, so no model module is half-initialised then, and the
pipelines package only imports transformers before its own submodules. `tests/test_lazy_import.py` imports each
entry point in a fresh interpreter and checks the registries.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import warnings

REGISTERING_MODULES = ("tavis_hf.models.imagebind", "tavis_hf.models.tavis", "tavis_hf.pipelines")
"""Importing these registers the configs, models and processors (Auto classes) and the pipeline task."""
TRIGGER = "transformers"


def register() -> None:
    """Import the registering modules (a no-op for those already imported)."""
    for name in REGISTERING_MODULES:
        importlib.import_module(name)


class _PostImportLoader(importlib.abc.Loader):
    """Runs the real loader of transformers, restores it on the module, then registers tavis_hf."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader  # the module keeps its real loader
        self.loader.exec_module(module)
        try:
            register()
        except Exception as error:  # never break `import transformers` itself
            warnings.warn(
                f"tavis_hf could not register its models with transformers ({type(error).__name__}: {error}); "
                "import tavis_hf.models.tavis and tavis_hf.pipelines explicitly",
                ImportWarning,
                stacklevel=2,
            )

    def __getattr__(self, name):  # get_source, get_resource_reader, is_package, ...
        return getattr(self.loader, name)


class TransformersImportHook(importlib.abc.MetaPathFinder):
    """One-shot `sys.meta_path` finder: wraps the loader of `transformers` so that `register()` follows it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TRIGGER:
            return None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None  # not installed: the usual ModuleNotFoundError
        uninstall()
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PostImportLoader(spec.loader)
        return spec


def install() -> None:
    """Register now when transformers is imported, else when it is (idempotent)."""
    if TRIGGER in sys.modules:
        register()
    elif not any(isinstance(finder, TransformersImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, TransformersImportHook())


def uninstall() -> None:
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, TransformersImportHook)]
