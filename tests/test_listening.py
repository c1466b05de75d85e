"""The listening report (`tavis_hf.listening`, `tavis-hf evaluate --protocol listening`): what each sound condition
gives the model, the record with its chart, one-line errors on clips too short, and the card's listening section."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from datasets import DatasetDict
from PIL import Image

from tavis_hf.cli import main
from tavis_hf.evaluation import audio_derangement
from tavis_hf.listening import (
    CONDITIONS,
    check_listening_clips,
    off_screen_partners,
    rms,
    rms_matched_noise,
    score_listening_conditions,
)
from tavis_hf.training.data import decoded_waveform


def _synth(num_clips: int, num_frames: int = 2, mode: str = "single"):
    from tavis_hf.data import make_synthavs

    return make_synthavs({"test": num_clips}, mode=mode, image_size=32, num_frames=num_frames)["test"]


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    """3 SynthAVS test clips of 2 frames (2 s of audio: one audio window), saved by `tavis-hf synth`."""
    folder = tmp_path_factory.mktemp("listening") / "ds"
    args = ["synth", "--output-dir", folder, "--train", "0", "--val", "0", "--test", "3", "--image-size", "32"]
    assert main([str(a) for a in [*args, "--num-frames", "2", "--no-progress"]]) == 0
    return folder


@pytest.fixture(scope="module")
def listening_record(synth_dir, tiny_model_dir, tmp_path_factory):
    """`tavis-hf evaluate --protocol listening --output` on `synth_dir`: (the record file, the record printed)."""
    output = tmp_path_factory.mktemp("record") / "evaluation-listening.json"
    args = ["evaluate", "--model", tiny_model_dir, "--dataset", synth_dir, "--protocol", "listening"]
    args += ["--shuffle-audio", "5", "--output", output, "--no-progress"]
    assert main([str(a) for a in args]) == 0
    return output, json.loads(output.read_text())


def test_noise_has_the_clips_rms_and_its_colour():
    waveform = (0.3 * np.sin(np.linspace(0, 400, 32000)) * np.linspace(0, 1, 32000)).astype(np.float32)
    slopes = {}
    for colour in ("white", "pink"):
        noise = rms_matched_noise(waveform, colour, np.random.default_rng(0))
        assert noise.shape == waveform.shape and noise.dtype == waveform.dtype
        assert rms(noise) == pytest.approx(rms(waveform), rel=1e-5)
        assert np.array_equal(noise, rms_matched_noise(waveform, colour, np.random.default_rng(0)))  # seeded
        power = np.abs(np.fft.rfft(noise)[1:]) ** 2
        frequencies = np.fft.rfftfreq(noise.size)[1:]
        slopes[colour] = np.polyfit(np.log(frequencies), np.log(power), 1)[0]  # log-power vs log-frequency
    assert abs(slopes["white"]) < 0.1 and -1.1 < slopes["pink"] < -0.9
    with pytest.raises(ValueError, match="silent"):
        rms_matched_noise(np.zeros(100, dtype=np.float32), "white", np.random.default_rng(0))
    with pytest.raises(ValueError, match="colour"):
        rms_matched_noise(waveform, "brown", np.random.default_rng(0))


def test_off_screen_partners_share_no_class():
    class_ids = [[1], [1, 2], [3], [2, 4], [], [1, 2, 3, 4]]
    partners = off_screen_partners(class_ids, seed=0)
    for clip, partner in enumerate(partners):
        if partner >= 0:
            assert partner != clip and class_ids[partner] and not set(class_ids[partner]) & set(class_ids[clip])
    assert partners[5] == -1  # every other labelled clip shares a class with it: skipped
    assert partners[4] >= 0  # a clip with no labelled class can hear any labelled clip
    assert np.array_equal(partners, off_screen_partners(class_ids, seed=0))
    assert list(off_screen_partners([[1], [1]], seed=0)) == [-1, -1]


class _RecordingProcessor:
    """A processor that records every soundtrack given to it (then processes it as the real one does)."""

    def __init__(self, processor):
        self.processor, self.audio = processor, []

    def __getattr__(self, name):
        return getattr(self.processor, name)

    def __call__(self, videos, audio, sampling_rate):
        self.audio.append(np.array(audio, copy=True))
        return self.processor(videos=videos, audio=audio, sampling_rate=sampling_rate)


class _HearingModel(torch.nn.Module):
    """Stands in for TAViS: every pixel of a frame is foreground when its audio clip is not silence (a silent clip's
    log-mel is constant before the padding at its end), else background."""

    def forward(self, input_features, **inputs):
        heard = input_features[..., :100].flatten(2).std(dim=-1) > 1e-3  # (B, T)
        return SimpleNamespace(pred_masks=(heard.float() * 20 - 10)[..., None, None].expand(-1, -1, 8, 8))


def test_each_condition_gives_the_model_what_it_says(tiny_processor):
    from tavis_hf.metrics import AVSBenchMetric

    dataset = _synth(4, mode="mixed")  # clip 3 shares a class with every other clip: no off-screen partner
    own = [decoded_waveform(audio)[0] for audio in dataset["audio"]]
    recorder = _RecordingProcessor(tiny_processor)
    result, rows = score_listening_conditions(
        _HearingModel(), recorder, dataset, lambda: AVSBenchMetric("avsbench", videos_per_batch=1), seed=3,
        progress=False,
    )  # fmt: skip
    assert [row["name"] for row in rows] == list(CONDITIONS)
    partners = off_screen_partners(dataset["class_ids"], seed=3)
    kept = np.flatnonzero(partners >= 0)
    assert 0 < len(kept) < 4 and rows[-1]["num_videos"] == len(kept) and rows[-1]["skipped_videos"] == 4 - len(kept)
    heard, start = {}, 0
    for row in rows:
        heard[row["name"]] = recorder.audio[start : start + row["num_videos"]]
        start += row["num_videos"]
    assert start == len(recorder.audio)
    source = audio_derangement(4, seed=3)
    for clip in range(4):
        assert np.array_equal(heard["own"][clip], own[clip])
        assert np.array_equal(heard["shuffled"][clip], own[source[clip]]) and source[clip] != clip
        assert heard["silence"][clip].shape == own[clip].shape and not heard["silence"][clip].any()
        for noise in ("white-noise", "pink-noise"):
            assert rms(heard[noise][clip]) == pytest.approx(rms(own[clip]), rel=1e-5)
            assert not np.array_equal(heard[noise][clip], own[clip])
    for heard_audio, clip in zip(heard["off-screen"], kept):
        assert np.array_equal(heard_audio, own[partners[clip]])
        assert not set(dataset[int(partners[clip])]["class_ids"]) & set(dataset[int(clip)]["class_ids"])
    # the statistics: SynthAVS annotations are never empty, so only silence and off-screen have should-be-empty frames
    by_name = {row["name"]: row for row in rows}
    assert by_name["silence"]["empty_prediction_fraction"] == 1 and by_name["silence"]["false_positive_area"] == 0
    assert by_name["off-screen"]["empty_prediction_fraction"] == 0 and by_name["off-screen"]["false_positive_area"] == 1
    assert by_name["off-screen"]["false_positive_frames"] == 2 * len(kept)
    assert by_name["own"]["false_positive_area"] is None and by_name["own"]["false_positive_frames"] == 0
    assert result["jaccard"] == by_name["own"]["jaccard"] and by_name["silence"]["jaccard"] == 0


def test_listening_record_has_every_condition_and_a_chart(listening_record):
    path, record = listening_record
    assert record["protocol"]["name"] == "listening" and record["protocol"]["metric_protocol"] == "avsbench"
    assert record["protocol"]["seed"] == 5 and record["protocol"]["videos_per_batch"] == 1
    assert record["command"].startswith("tavis-hf evaluate ") and record["model"]["fingerprint"].startswith("sha256:")
    rows = {row["name"]: row for row in record["conditions"]}
    assert list(rows) == list(CONDITIONS)
    assert record["metrics"] == {"jaccard": rows["own"]["jaccard"], "fmeasure": rows["own"]["fmeasure"]}
    for name, row in rows.items():
        assert row["num_videos"] + row["skipped_videos"] == 3
        assert 0 <= row["empty_prediction_fraction"] <= 1
        if name in ("silence", "off-screen"):  # the ideal is empty on every frame
            assert row["ideal"] == "empty" and row["false_positive_frames"] == row["num_frames"]
            assert 0 <= row["false_positive_area"] <= 1
    assert record["chart"] == "evaluation-listening.png"
    with Image.open(path.parent / record["chart"]) as chart:
        chart.load()
        assert chart.format == "PNG" and chart.width > 300 and chart.height > 200


def test_clips_shorter_than_one_audio_window_fail_in_one_line(tiny_model_dir, tmp_path, capsys):
    short = _synth(2, num_frames=1)  # 1 s of audio, the window is 2 s
    with pytest.raises(ValueError, match="shorter than one 2-s audio window"):
        check_listening_clips(short, window_seconds=2.0)
    check_listening_clips(_synth(2, num_frames=2), window_seconds=2.0)
    DatasetDict({"test": short}).save_to_disk(str(tmp_path / "short"))
    args = ["evaluate", "--model", tiny_model_dir, "--dataset", tmp_path / "short", "--protocol", "listening"]
    assert main([str(a) for a in [*args, "--no-progress"]]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "shorter than one 2-s audio window" in err and "Traceback" not in err


def test_card_and_release_show_the_listening_section(listening_record, tiny_model_dir, tmp_path, capsys):
    from tavis_hf.hub import model_card_from_folder

    path, record = listening_record
    card = str(model_card_from_folder(tiny_model_dir, eval_records=[record]))
    section = card[card.index("### Listening report: SynthAVS synth-s4 test") : card.index("### Metric protocol")]
    assert f"]({record['chart']})" in section and record["command"] in section
    for row in record["conditions"]:
        assert f"| {row['name']} | " in section and f"{row['jaccard']:.3f}" in section
    assert "**`listening` — " in card and "**`avsbench` — " in card
    assert "| SynthAVS | synth-s4 | test | M_J" not in card  # not a results-table row nor a model-index entry
    assert "listening" not in card.split("---")[1]
    release = tmp_path / "release"
    args = ["push", tiny_model_dir, "--repo-id", "someone/tiny", "--dry-run", "--eval-results", path]
    assert main([str(a) for a in [*args, "--release-dir", release, "--no-progress"]]) == 0
    assert "### Listening report" in capsys.readouterr().out
    assert (release / record["chart"]).read_bytes() == (path.parent / record["chart"]).read_bytes()
