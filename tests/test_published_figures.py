"""Every figure the README and examples/README.md publish equals a record a command wrote.

- The embedded default model's figures come from its evaluation records
  (`tavis_hf/checkpoints/tavis-tiny/evaluation-*.json`, written by `examples/evaluate_avsbench.py --output`, and the
  listening reports `evaluation-*-listening.json`, written by `tavis-hf evaluate --protocol listening --output` with
  their charts), which must have been made on the weights that ship.
- The parity table comes from `docs/parity.json`, written by the parity tests with `TAVIS_HF_PARITY_RECORD`.

A figure edited by hand, or a record regenerated without updating the text, fails here.
"""

import json
import re
from pathlib import Path

import pytest

from tavis_hf.hub import weights_fingerprint
from tavis_hf.pipelines import DEFAULT_MODEL_DIR

REPO_ROOT = Path(__file__).resolve().parents[1]
LISTENING_FILES = sorted(DEFAULT_MODEL_DIR.glob("evaluation-*-listening.json"))
RECORD_FILES = sorted(set(DEFAULT_MODEL_DIR.glob("evaluation-*.json")) - set(LISTENING_FILES))
PARITY_RECORD = REPO_ROOT / "docs" / "parity.json"
METRIC_FIGURE = re.compile(r"(?<![\d.])\d\.\d{3}(?![\d])")
"""How metric figures are written in the docs: three decimals (0.688)."""


def _records() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in RECORD_FILES}


def _figures(record: dict) -> dict[str, str]:
    """Every figure a record backs, as the docs write it: own metrics, shuffled-audio metrics and drops."""
    figures = {f"metrics.{key}": value for key, value in record["metrics"].items()}
    for part in ("metrics", "drop"):
        figures.update({f"shuffled_audio.{part}.{key}": v for key, v in record["shuffled_audio"][part].items()})
    return {name: f"{value:.3f}" for name, value in figures.items()}


def _listening_records() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in LISTENING_FILES}


def _listening_figures(record: dict) -> dict[str, str]:
    """Every figure a listening record backs, as the docs write it: each condition's M_J, M_F, frames predicted
    empty and false-positive area."""
    keys = ("jaccard", "fmeasure", "empty_prediction_fraction", "false_positive_area")
    rows = record["conditions"]
    return {f"{row['name']}.{key}": f"{row[key]:.3f}" for row in rows for key in keys if row[key] is not None}


def _backed() -> set[str]:
    """Every figure some record of the default model backs."""
    figures = {figure for record in _records().values() for figure in _figures(record).values()}
    return figures | {
        figure for record in _listening_records().values() for figure in _listening_figures(record).values()
    }


def _section(path: Path, heading: str) -> str:
    """The lines of `path` from `heading` to the next heading of the same or a higher level (outside code blocks)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading)
    level = len(heading.split(" ", 1)[0])
    in_code = False
    for end in range(start + 1, len(lines)):
        in_code ^= lines[end].startswith("```")
        if not in_code and re.match(rf"#{{1,{level}}} ", lines[end]):
            return "\n".join(lines[start:end])
    return "\n".join(lines[start:])


def test_default_model_listening_records_describe_the_shipped_weights():
    from tavis_hf.listening import CONDITIONS

    records = _listening_records()
    assert {"evaluation-synth-ms3-listening.json", "evaluation-synth-s4-listening.json"} <= set(records)
    fingerprint = weights_fingerprint(DEFAULT_MODEL_DIR)
    for name, record in records.items():
        assert record["model"]["fingerprint"] == fingerprint, f"{name} was made on other weights: re-run its command"
        assert record["command"].startswith("tavis-hf evaluate ") and "--protocol listening" in record["command"]
        assert [row["name"] for row in record["conditions"]] == list(CONDITIONS)
        assert (DEFAULT_MODEL_DIR / record["chart"]).is_file()
        own = {"jaccard": record["conditions"][0]["jaccard"], "fmeasure": record["conditions"][0]["fmeasure"]}
        assert record["metrics"] == own


def test_default_model_records_describe_the_shipped_weights():
    records = _records()
    assert {"evaluation-synth-ms3.json", "evaluation-synth-s4.json"} <= set(records)
    fingerprint = weights_fingerprint(DEFAULT_MODEL_DIR)
    for name, record in records.items():
        assert record["model"]["fingerprint"] == fingerprint, f"{name} was made on other weights: re-run its command"
        assert record["command"].startswith("python examples/evaluate_avsbench.py ") and "--output" in record["command"]
        assert record["shuffled_audio"]["seed"] is not None
        for key, value in record["metrics"].items():
            assert record["shuffled_audio"]["drop"][key] == value - record["shuffled_audio"]["metrics"][key]


@pytest.mark.parametrize(
    ("document", "heading"),
    [
        ("README.md", "### The embedded default model"),
        ("examples/README.md", "## Training from a random initialisation"),
    ],
)
def test_default_model_figures_equal_the_records(document, heading):
    records = _records()
    backed = _backed()
    text = _section(REPO_ROOT / document, heading)
    published = METRIC_FIGURE.findall(text)
    unbacked = sorted(set(published) - backed)
    assert not unbacked, f"{document} ({heading}) publishes figures no evaluation record backs: {unbacked}"
    if document == "README.md":  # the README's table shows every headline figure of every record
        for name, record in records.items():
            for what, figure in _figures(record).items():
                if what.endswith(("jaccard", "fmeasure")) and "drop.fmeasure" not in what:
                    assert figure in published, f"README lacks {what} = {figure} of {name}"
        for name, record in _listening_records().items():  # and every silence and off-screen row
            for what, figure in _listening_figures(record).items():
                if what.startswith(("silence.", "off-screen.")) and "fmeasure" not in what:
                    assert figure in published, f"README lacks {what} = {figure} of {name}"


def _parity_value(values: list[float]) -> str:
    return " / ".join("0" if value == 0 else f"{value:.1e}" for value in values)


def test_parity_table_equals_the_parity_record():
    record = json.loads(PARITY_RECORD.read_text(encoding="utf-8"))
    diff, blocks = record["max_abs_diff"], record["settings"]["imagebind/blocks_per_tower"]
    rows = {
        f"ImageBind vision tower, 224 / 112 px (full width, {blocks} blocks): trunk tokens, embeddings": [
            diff["imagebind/vision_224px"],
            diff["imagebind/vision_112px"],
        ],
        f"ImageBind text / audio towers (full width, {blocks} blocks): trunk tokens, embeddings": [
            diff["imagebind/text"],
            diff["imagebind/audio"],
        ],
        "TAViS (reduced oracle config, converted checkpoint): binary / object logits": [
            diff["tavis/binary_logits"],
            diff["tavis/object_logits"],
        ],
        "TAViS intermediates (audio tokens, IBQD queries, pseudo-text features, prompts)": [
            diff["tavis/intermediates"]
        ],
        "TAViS SAM2 path (FPN, high-resolution features, low-res masks, IoU and object scores)": [
            diff["tavis/sam2_path"]
        ],
        "AVSBench metrics (`mask_iou`, `Eval_Fmeasure`, AVSS mIoU/F) vs AVSBench's code": [diff["metrics/avsbench"]],
        "J and F on logits vs the TAViS release's `utility.py`": [diff["metrics/tavis_release"]],
        "Audio front end (log-mel) vs a float64 Kaldi fbank written from the Kaldi formulas": [
            diff["imagebind/log_mel_vs_float64_kaldi"]
        ],
    }
    readme = _section(REPO_ROOT / "README.md", "### Parity with the authors' code")
    for label, values in rows.items():
        line = f"| {label} | {_parity_value(values)} |"
        assert line in readme, f"README's parity table should have the row\n{line}\n(from {PARITY_RECORD.name})"
    assert record["command"] in readme, "README should show the command that wrote docs/parity.json"


def test_default_model_card_is_generated_from_its_folder(tmp_path, monkeypatch):
    """The embedded card is exactly what `tavis-hf card tavis_hf/checkpoints/tavis-tiny --output .../README.md`
    writes now: its claims and figures come from the folder's config, records and evaluation records."""
    from tavis_hf.hub import model_card_from_folder

    monkeypatch.chdir(REPO_ROOT)
    folder = DEFAULT_MODEL_DIR.relative_to(REPO_ROOT)
    model_card_from_folder(folder).save(tmp_path / "README.md")
    regenerated = (tmp_path / "README.md").read_text(encoding="utf-8")
    committed = (DEFAULT_MODEL_DIR / "README.md").read_text(encoding="utf-8")
    assert regenerated == committed, f"regenerate it: tavis-hf card {folder} --output {folder}/README.md"
    backed = {figure for record in _records().values() for figure in _figures(record).values()}
    listening = committed[committed.index("### Listening control") : committed.index("### Listening report")]
    assert set(METRIC_FIGURE.findall(listening)) <= backed and len(METRIC_FIGURE.findall(listening)) == 12
    reports = committed[committed.index("### Listening report") : committed.index("### Metric protocol")]
    assert set(METRIC_FIGURE.findall(reports)) <= _backed() and reports.count("![Listening report") == 2


BENCHMARK_RECORDS = sorted((REPO_ROOT / "benchmarks" / "results").glob("corpus-cpu-*.json"))
"""The CPU corpus benchmark's outputs (`python benchmarks/corpus.py --output benchmarks/results/...`)."""


def _corpus_table_rows(record: dict) -> list[str]:
    """The rows benchmarks/README.md's corpus table shows for one benchmark record."""
    threads = record["settings"]["omp_num_threads"]
    rows = [
        f"| {threads} | {way} | {f['seconds']} | {f['videos_per_second']} | {f['frames_per_second']} | "
        f"{f['peak_rss_mb']} | {f['children_peak_rss_mb']} |"
        for way, f in ((way, record[way]) for way in ("naive", "local", "ray"))
    ]
    ratio = record["local_over_naive_frames_per_second"]
    return [*rows, f"| {threads} | local / naive frames/s | | | **{ratio:.2f}x** | | |"]


@pytest.mark.skipif(not BENCHMARK_RECORDS, reason="no benchmarks/results/corpus-cpu-*.json committed")
def test_corpus_benchmark_table_is_its_records():
    """Every row of the corpus table in benchmarks/README.md is a benchmark record's, and its commands are shown."""
    text = _section(REPO_ROOT / "benchmarks" / "README.md", "## Corpus inference (`corpus.py`)")
    table = [line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    expected = [row for path in BENCHMARK_RECORDS for row in _corpus_table_rows(json.loads(path.read_text()))]
    assert sorted(table) == sorted(expected), "regenerate the table from benchmarks/results/corpus-cpu-*.json"
    for path in BENCHMARK_RECORDS:
        record = json.loads(path.read_text())
        assert record["command"] in text and record["settings"]["omp_num_threads"] is not None
