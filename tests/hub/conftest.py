from .fixtures import saved_model_dir, tiny_model, tiny_processor  # noqa: F401  (pytest fixtures)
