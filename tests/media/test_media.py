"""tavis_hf.media: containers, frame/window sampling, audio conversion, bad inputs, the plain video writer."""

import math
import re
import tracemalloc

import numpy as np
import pytest

from tavis_hf.media import FrameSampling, MediaError, VideoArrays, VideoFile, prepare_audio_array, write_video

from ..helpers import ffmpeg, make_video, requires_ffmpeg

pytestmark = requires_ffmpeg


def test_sampling_plan_follows_avsbench():
    plan = FrameSampling()  # 1 fps, 5-s windows, frame near the end of each second
    assert plan.frames_per_window == 5
    assert plan.num_frames(5.0) == 5 and plan.num_frames(5.0004) == 5 and plan.num_frames(12.3) == 13
    assert plan.num_frames(0.4) == 1  # shorter than one interval: still one frame
    assert plan.timestamps(5.0, 4.96) == [0.9375, 1.9375, 2.9375, 3.9375, 4.9375]
    assert plan.timestamps(2.5, 2.46)[-1] == 2.46  # clamped to the last frame
    assert plan.window_span(1) == (5.0, 10.0) and plan.window_span(2) == (10.0, 15.0)  # cut where the audio ends
    two_fps = FrameSampling(fps=2.0)
    assert two_fps.frames_per_window == 10 and two_fps.timestamps(1.0, 0.96) == [0.46875, 0.96]
    with pytest.raises(ValueError, match="fps"):
        FrameSampling(fps=0)


@pytest.mark.parametrize("backend", ["torchcodec", "pyav"])
def test_windows_frames_and_audio(clip_mp4, backend):
    with VideoFile(clip_mp4, backend=backend) as video:
        assert video.info.backend == backend
        assert video.num_frames == 7
        windows = list(video.windows())
    assert [w.frame_indices for w in windows] == [[0, 1, 2, 3, 4], [5, 6]]
    assert windows[0].frames.shape == (5, 64, 96, 3) and windows[0].frames.dtype == np.uint8
    assert windows[0].audio.dtype == np.float32
    assert abs(len(windows[0].audio) - 80000) <= 160 and abs(len(windows[1].audio) - 32000) <= 1100
    # a 440-Hz tone at 16 kHz: dominant frequency preserved
    spectrum = np.abs(np.fft.rfft(windows[0].audio))
    assert abs(np.argmax(spectrum) * 16000 / len(windows[0].audio) - 440) < 2


def test_backends_agree(clip_mp4):
    with VideoFile(clip_mp4, backend="torchcodec") as a, VideoFile(clip_mp4, backend="pyav") as b:
        for wa, wb in zip(a.windows(), b.windows()):
            assert np.array_equal(wa.frames, wb.frames)
            n = min(len(wa.audio), len(wb.audio))
            assert np.abs(wa.audio[:n] - wb.audio[:n]).max() < 1e-2
        # after the windows, the whole soundtrack (PyAV decodes again from the start)
        ta, tb = a.soundtrack(), b.soundtrack()
        assert abs(len(ta) - 7 * 16000) <= 1100 and abs(len(ta) - len(tb)) <= 1100
        n = min(len(ta), len(tb))
        assert np.abs(ta[:n] - tb[:n]).max() < 1e-2


@pytest.mark.parametrize(
    "suffix,vcodec,acodec",
    [("avi", "mpeg4", "mp3"), ("mkv", "libx264", "aac"), ("webm", "libvpx", "libopus"), ("mov", "libx264", "aac")],
)
def test_common_containers(tmp_path, suffix, vcodec, acodec):
    path = make_video(tmp_path / f"v.{suffix}", duration=2.0, vcodec=vcodec, acodec=acodec,
                      audio="sine=frequency=440:sample_rate=48000")  # fmt: skip
    with VideoFile(path) as video:
        windows = list(video.windows())
    # one frame per started second (the AVI muxer adds a 0.1-s frame for the mp3 delay: 2.1 s -> 3 frames)
    assert video.num_frames == math.ceil(video.info.duration - 1e-3) and video.num_frames in (2, 3)
    assert windows[0].frames.shape[1:] == (64, 96, 3)
    assert abs(len(windows[0].audio) - 32000) < 1100 and np.abs(windows[0].audio).max() > 0.1


@pytest.mark.parametrize("backend", ["torchcodec", "pyav"])
def test_stereo_44k_is_mixed_and_resampled(tmp_path, backend):
    """Left: 440-Hz tone (amplitude 1/8), right: silence, 44.1 kHz -> 16-kHz mono (L + R) / 2: a 1/16 tone."""
    path = tmp_path / "stereo.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
           "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-filter_complex", "[1:a][2:a]amerge=inputs=2[a]",
           "-map", "0:v", "-map", "[a]", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le",
           str(path))  # fmt: skip
    with VideoFile(path, backend=backend) as video:
        assert video.info.audio_sample_rate == 44100 and video.info.audio_channels == 2
        audio = next(video.windows()).audio
    assert abs(len(audio) - 32000) <= 16
    assert abs(np.abs(audio[1000:-1000]).max() - 0.125 / 2) < 2e-3
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * 16000 / len(audio) - 440) < 2
    dict_audio = prepare_audio_array(np.stack([np.ones(4410, np.float32), np.zeros(4410, np.float32)]), 44100)
    assert len(dict_audio) == 1600 and abs(float(np.median(dict_audio)) - 0.5) < 1e-2


def test_4k_is_downscaled_while_decoding(tmp_path):
    path = make_video(tmp_path / "uhd.mp4", duration=1.0, size="3840x2160", rate=2)
    tracemalloc.start()
    with VideoFile(path) as video:
        frames = next(video.windows()).frames
        _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (video.info.source_width, video.info.source_height) == (3840, 2160)
    assert frames.shape == (1, 576, 1024, 3)
    assert peak < 64 * 2**20  # Python-side allocations stay far below one 4K RGB window


@pytest.mark.parametrize(
    "maker,message",
    [
        ("no_audio", "no audio stream"),
        ("audio_only", "no video stream"),
        ("truncated", "not a readable media file"),
        ("not_media", "not a readable media file"),
        ("empty", "empty file"),
        ("zero_frames", "zero-length"),
        ("missing", "no such media file"),
    ],
)
def test_bad_inputs_raise_clear_errors(tmp_path, clip_mp4, maker, message):
    path = tmp_path / f"{maker}.mp4"
    if maker == "no_audio":
        make_video(path, duration=1.0, audio=None)
    elif maker == "audio_only":
        path = tmp_path / "audio.wav"
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", str(path))
    elif maker == "truncated":
        path.write_bytes(clip_mp4.read_bytes()[:3000])
    elif maker == "not_media":
        path.write_text("this is not a video\n" * 100)
    elif maker == "empty":
        path.write_bytes(b"")
    elif maker == "zero_frames":
        path = make_video(tmp_path / "z.mkv", duration=0)  # FFmpeg writes the headers and no frame
    with pytest.raises(MediaError, match=message):
        VideoFile(path)


def test_bytes_and_unreachable_url(clip_mp4):
    with VideoFile(clip_mp4.read_bytes()) as video:
        assert video.num_frames == 7
    with pytest.raises(MediaError, match="could not fetch"):
        VideoFile("http://127.0.0.1:9/missing.mp4")
    with pytest.raises(TypeError, match="media source"):
        VideoFile(12345)


def test_video_arrays_windows():
    frames = np.zeros((7, 8, 8, 3), dtype=np.uint8)
    audio = np.zeros((2, 7 * 22050), dtype=np.float32)
    video = VideoArrays(frames, audio, 22050)
    windows = list(video.windows())
    assert [len(w.frame_indices) for w in windows] == [5, 2]
    assert len(windows[0].audio) == 80000 and len(windows[1].audio) == 32000
    with pytest.raises(ValueError, match="uint8"):
        VideoArrays(frames.astype(np.float32), audio, 22050)
    with pytest.raises(ValueError, match="channels, samples"):
        VideoArrays(frames, audio.T, 22050)


def test_write_video_round_trip(tmp_path):
    """The plain writer: the frames come back (H.264 at high quality: within a few grey levels), an odd size is cropped
    to even, the soundtrack is muxed as AAC mono; no frames is a MediaError."""
    rng = np.random.default_rng(0)
    frames = [np.full((33, 47, 3), 40 * k, dtype=np.uint8) for k in range(4)]
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(4 * 16000) / 16000)).astype(np.float32)
    path = write_video(tmp_path / "sub" / "plain.mp4", iter(frames), fps=2.0, audio=tone)
    with VideoFile(path, fps=2.0, frame_offset=0.5) as video:
        assert (video.info.width, video.info.height) == (46, 32) and video.info.video_fps == pytest.approx(2.0)
        decoded = np.concatenate([w.frames for w in video.windows()])
        audio = video.soundtrack()
    assert decoded.shape == (4, 32, 46, 3)
    assert np.abs(decoded.astype(int) - np.stack(frames)[:, :32, :46].astype(int)).max() <= 3
    n = min(len(audio), len(tone))
    assert abs(n - len(tone)) < 1100 and np.corrcoef(audio[1000 : n - 1000], tone[1000 : n - 1000])[0, 1] > 0.99
    silent = write_video(tmp_path / "silent.mp4", frames, fps=1.0, audio=rng.standard_normal(0).astype(np.float32))
    import av

    with av.open(silent) as container:
        assert len(container.streams.video) == 1 and not container.streams.audio
    with pytest.raises(MediaError, match="no frames"):
        write_video(tmp_path / "empty.mp4", [], fps=1.0)


@pytest.mark.parametrize("backend", ["torchcodec", "pyav"])
def test_cut_short_file_fails_with_one_clear_error(tmp_path, backend):
    """A file that opens but ends mid-stream (its first 60%, the index at the front): a MediaError naming the file,
    the time reached and the fix from windows(), not the decoder's own error."""
    whole, cut = tmp_path / "whole.mp4", tmp_path / "cut.mp4"
    ffmpeg("-t", "6", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "6", "-f", "lavfi", "-i",
           "sine=frequency=440:sample_rate=16000", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(whole))  # fmt: skip
    data = whole.read_bytes()
    cut.write_bytes(data[: int(0.6 * len(data))])
    message = r"cut\.mp4' could not be decoded at \d+\.\d\d-\d+\.\d\d s .*cut short; download it again, or re-encode"
    with VideoFile(cut, backend=backend) as video:
        with pytest.raises(MediaError, match=message):
            list(video.windows())
        try:  # the overlay's pass: stops after the frames that are there, or the same error
            assert 0 < sum(1 for _ in video.iter_frames()) < 6 * 25
        except MediaError as error:
            assert re.search(message, str(error))


@pytest.mark.parametrize("name,image_format", [("photo.mp4", "PNG"), ("photo.jpg", "JPEG")])
def test_still_image_is_not_a_video(tmp_path, name, image_format):
    from PIL import Image

    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / name, format=image_format)
    with pytest.raises(MediaError, match="is a still image .*, not a video") as error:
        VideoFile(tmp_path / name)
    assert "audio stream" not in str(error.value)


TORCHCODEC_LOAD_FAILURE = """Could not load libtorchcodec. Likely causes:
          1. FFmpeg is not properly installed in your environment.
[start of libtorchcodec loading traceback]
FFmpeg version 8:
Traceback (most recent call last):
OSError: libavutil.so.60: cannot open shared object file: No such file or directory
[end of libtorchcodec loading traceback]."""


def test_torchcodec_without_ffmpeg_falls_back_to_pyav_with_one_line(clip_mp4, monkeypatch, caplog, capfd):
    """torchcodec failing to load FFmpeg's libraries at import (as it does without a system FFmpeg): PyAV decodes,
    and one warning line is logged for the whole process, with no traceback."""
    import importlib.abc
    import logging
    import sys

    from tavis_hf.media import backends

    class TorchcodecWithoutFFmpeg(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] == "torchcodec":
                raise RuntimeError(TORCHCODEC_LOAD_FAILURE)
            return None

    for name in [name for name in sys.modules if name.split(".")[0] == "torchcodec"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [TorchcodecWithoutFFmpeg(), *sys.meta_path])
    backends.torchcodec_decoders.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="tavis_hf.media"):
            for _ in range(2):
                with VideoFile(clip_mp4) as video:
                    assert video.info.backend == "pyav" and next(video.windows()).frames.shape[0] == 5
    finally:
        backends.torchcodec_decoders.cache_clear()
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "Could not load libtorchcodec" in warnings[0] and "install FFmpeg" in warnings[0]
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err + caplog.text
