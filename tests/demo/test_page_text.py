"""The demo page says what the preselected model knows (its config's classes) and how to load a real checkpoint."""

import json

from tavis_hf.data.synthetic import SYNTHAVS_CLASSES
from tavis_hf.pipelines import DEFAULT_MODEL_DIR


def _default_classes() -> list[str]:
    id2label = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())["id2label"]
    return [label for key, label in sorted((int(k), v) for k, v in id2label.items()) if key != 0]


def test_the_default_model_is_described_from_its_config(app, tmp_path):
    classes = _default_classes()
    assert classes == list(SYNTHAVS_CLASSES[1:])  # the embedded model knows the synthetic classes
    for model in (None, str(DEFAULT_MODEL_DIR)):  # its dropdown value or its folder
        text = app.describe_model(app.DemoHandler(model, output_root=tmp_path))
        assert text.startswith(f"The embedded default model ({DEFAULT_MODEL_DIR.name}) knows only SynthAVS's "
                               f"{len(classes)} synthetic sound classes ({', '.join(classes)}), not real objects")  # fmt: skip
        assert "`tavis-hf convert --official s4`" in text and "`tavis-hf demo --model DIR`" in text
        assert "`python -m tavis_hf.demo --model DIR`" in text


def test_another_model_is_described_by_its_classes(app, tiny_model, tiny_model_dir, tmp_path):
    text = app.describe_model(app.DemoHandler(str(tiny_model_dir), output_root=tmp_path))
    labels = [tiny_model.config.id2label[i] for i in range(1, len(tiny_model.config.id2label))]
    assert text.startswith(f"The model {tiny_model_dir} knows {len(labels)} classes ({', '.join(labels[:12])}")
    assert "tavis-hf convert" not in text  # already a model of its own
    hub = app.describe_model(app.DemoHandler("someone/tavis-model", output_root=tmp_path))
    assert hub == "The model someone/tavis-model names the classes of its config once it is loaded."


def test_the_page_shows_the_sentence(app, examples_dir, tmp_path):
    demo = app.build_demo(examples_dir=examples_dir, output_root=tmp_path)
    texts = [str(c["props"].get("value")) for c in demo.config["components"] if c["type"] == "markdown"]
    assert app.describe_model(demo.handler) in texts
