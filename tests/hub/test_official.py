"""The authors' released files: download from a local HTTP server (the mirror variable), resume, checks, no network,
and `tavis-hf convert --official` / `--kind tavis --checkpoint` around the converter."""

import dataclasses
import hashlib
import http.server
import re
import socket
import threading

import pytest

from tavis_hf import cli
from tavis_hf.hub import official
from tavis_hf.hub.official import BASE_URL_VARIABLE, OFFICIAL_FILES, convert_official, fetch_official_file

CHECKPOINT_BYTES = bytes(range(256)) * 64  # 16 KiB stand-in for a released .pth
VOCABULARY_BYTES = b"\x1f\x8b stand-in vocabulary " * 100


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """GET `/<name>` of `server.files`, honouring `Range: bytes=N-` (206); records `(path, Range header)`."""

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("Range")))
        body = self.server.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        start = 0
        if match := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", "")):
            start = int(match[1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        try:
            self.wfile.write(body[start:])
        except (BrokenPipeError, ConnectionResetError):  # the client closed the first response to ask for a range
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A threaded HTTP server on 127.0.0.1 serving `server.files` (name -> bytes); `server.url` is its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    httpd.files, httpd.requests = {}, []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port_url():
    """The URL of a 127.0.0.1 port nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _publish(monkeypatch, name: str, content: bytes) -> None:
    """Give `OFFICIAL_FILES[name]` the size and SHA-256 of `content` (what the test server sends)."""
    checked = dataclasses.replace(OFFICIAL_FILES[name], size=len(content), sha256=hashlib.sha256(content).hexdigest())
    monkeypatch.setitem(OFFICIAL_FILES, name, checked)


def test_cli_choices_are_the_released_subsets():
    assert cli.OFFICIAL_SUBSETS == official.OFFICIAL_SUBSETS
    assert set(OFFICIAL_FILES) == {*official.OFFICIAL_SUBSETS, "vocabulary"}


def test_download_is_checked_then_served_from_the_cache(server, tmp_path, monkeypatch):
    server.files["bpe_simple_vocab_16e6.txt.gz"] = VOCABULARY_BYTES
    _publish(monkeypatch, "vocabulary", VOCABULARY_BYTES)
    path = fetch_official_file("vocabulary", tmp_path, base_url=server.url, progress=False)
    assert path == tmp_path / "bpe_simple_vocab_16e6.txt.gz"
    assert path.read_bytes() == VOCABULARY_BYTES
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no partial file left behind
    assert fetch_official_file("vocabulary", tmp_path, base_url=server.url, progress=False) == path
    assert len(server.requests) == 1  # the checked copy in the cache is used without a request


def test_partial_download_is_resumed_from_its_part_file(server, tmp_path, monkeypatch):
    server.files["tavis_s4.pth"] = CHECKPOINT_BYTES
    monkeypatch.setenv(BASE_URL_VARIABLE, server.url)
    half = len(CHECKPOINT_BYTES) // 2
    (tmp_path / "tavis_s4.pthabcd1234.part").write_bytes(CHECKPOINT_BYTES[:half])  # what an interrupted gdown leaves
    path = fetch_official_file("s4", tmp_path, progress=False)
    assert path.read_bytes() == CHECKPOINT_BYTES
    assert ("/tavis_s4.pth", f"bytes={half}-") in server.requests
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tavis_s4.pth"]


def test_size_or_checksum_mismatch_is_one_line_and_the_file_is_removed(server, tmp_path, monkeypatch):
    server.files["bpe_simple_vocab_16e6.txt.gz"] = b"not the vocabulary"
    with pytest.raises(ValueError, match=r"is 18 bytes, not 1356917 \(removed\)") as size_error:
        fetch_official_file("vocabulary", tmp_path, base_url=server.url, progress=False)
    _publish(monkeypatch, "vocabulary", VOCABULARY_BYTES)
    server.files["bpe_simple_vocab_16e6.txt.gz"] = VOCABULARY_BYTES[::-1]  # right size, wrong bytes
    with pytest.raises(ValueError, match="has SHA-256 [0-9a-f]{64}, not") as checksum_error:
        fetch_official_file("vocabulary", tmp_path, base_url=server.url, progress=False)
    for error in (size_error, checksum_error):
        assert "\n" not in str(error.value) and OFFICIAL_FILES["vocabulary"].published_at in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_no_network_says_where_to_download_by_hand(closed_port_url, tmp_path):
    with pytest.raises(ConnectionError) as error:
        fetch_official_file("s4", tmp_path, base_url=closed_port_url, progress=False)
    message = str(error.value)
    assert "\n" not in message and "no connection to 127.0.0.1" in message
    assert OFFICIAL_FILES["s4"].published_at in message and "tavis-hf convert --kind tavis --checkpoint" in message


def test_cli_without_network_is_one_line_with_the_manual_steps(closed_port_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(BASE_URL_VARIABLE, closed_port_url)
    status = cli.main(["convert", "--official", "v2", "--cache-dir", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("tavis-hf convert: error: ConnectionError: ")
    assert OFFICIAL_FILES["v2"].published_at in err and "--checkpoint TAVIS.pth" in err


def test_baidu_checkpoint_needs_a_browser_unless_it_is_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(BASE_URL_VARIABLE, raising=False)
    with pytest.raises(FileNotFoundError, match=r"pan\.baidu\.com/s/1pBNo0RSaO0ufu86fA9w1UQ\?pwd=dm2u.*dm2u"):
        fetch_official_file("ms3", tmp_path, progress=False)
    (tmp_path / "tavis_ms3.pth").write_bytes(CHECKPOINT_BYTES)  # downloaded by hand into the cache
    assert fetch_official_file("ms3", tmp_path, progress=False) == tmp_path / "tavis_ms3.pth"


@pytest.fixture
def recorded_conversions(monkeypatch):
    """`convert_tavis_checkpoint` replaced by a recorder (the released files are too large for a test)."""
    from tavis_hf.models.tavis import convert_tavis

    calls = []

    def record(checkpoint_path, output_dir, config=None, bpe_path=None):
        calls.append({"checkpoint": checkpoint_path, "output_dir": output_dir, "config": config, "bpe": bpe_path})
        output_dir.mkdir()

    monkeypatch.setattr(convert_tavis, "convert_tavis_checkpoint", record)
    return calls


def test_cli_official_downloads_converts_and_prints_the_folder(
    server, tmp_path, monkeypatch, capsys, recorded_conversions
):
    from tavis_hf.models.tavis import TavisConfig

    server.files.update({"tavis_v2.pth": CHECKPOINT_BYTES, "bpe_simple_vocab_16e6.txt.gz": VOCABULARY_BYTES})
    _publish(monkeypatch, "vocabulary", VOCABULARY_BYTES)
    monkeypatch.setenv(BASE_URL_VARIABLE, server.url)
    output, cache = tmp_path / "tavis-v2-hf", tmp_path / "cache"
    argv = ["convert", "--official", "v2", "--output-dir", str(output), "--cache-dir", str(cache), "--no-progress"]
    status = cli.main(argv)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out.splitlines() == [str(output)]
    [call] = recorded_conversions
    assert call["checkpoint"].read_bytes() == CHECKPOINT_BYTES and call["bpe"].read_bytes() == VOCABULARY_BYTES
    assert call["checkpoint"].parent == call["bpe"].parent == cache and call["output_dir"] == output
    assert call["config"].to_dict() == TavisConfig.release().to_dict()


def test_convert_official_runs_the_converter_on_the_download(server, tmp_path, monkeypatch):
    """A tiny checkpoint in the authors' format (one TAViS head) reaches the real converter, which lists what the
    release configuration misses; nothing is written."""
    import torch

    checkpoint = tmp_path / "tiny.pth"
    torch.save({"query_fea_W.weight": torch.zeros(5, 768)}, checkpoint)
    server.files.update({"tavis_s4.pth": checkpoint.read_bytes(), "bpe_simple_vocab_16e6.txt.gz": VOCABULARY_BYTES})
    _publish(monkeypatch, "vocabulary", VOCABULARY_BYTES)
    output = tmp_path / "tavis-s4-hf"
    with pytest.raises(
        ValueError, match=r"does not match the configuration:\n  missing \(\d+\): \['adapter_audio_proj"
    ):
        convert_official("s4", output, tmp_path / "cache", base_url=server.url, progress=False)
    assert not output.exists()


def test_convert_official_rejects_an_unknown_subset(tmp_path):
    with pytest.raises(ValueError, match=r"no official TAViS checkpoint for subset 'avss'; choose one of"):
        convert_official("avss", tmp_path / "out", tmp_path)


def test_cli_checkpoint_without_bpe_path_downloads_the_vocabulary(server, tmp_path, monkeypatch, capsys):
    from tavis_hf.models.tavis import convert_tavis

    seen = []
    monkeypatch.setattr(convert_tavis, "main", seen.append)
    server.files["bpe_simple_vocab_16e6.txt.gz"] = VOCABULARY_BYTES
    _publish(monkeypatch, "vocabulary", VOCABULARY_BYTES)
    monkeypatch.setenv(BASE_URL_VARIABLE, server.url)
    checkpoint = tmp_path / "tavis_s4.pth"
    checkpoint.write_bytes(CHECKPOINT_BYTES)
    argv = ["convert", "--kind", "tavis", "--checkpoint", str(checkpoint), "--cache-dir", str(tmp_path / "cache")]
    status = cli.main([*argv, "--no-progress", "--", "--preset", "official_reduced"])
    assert status == 0, capsys.readouterr().err
    assert seen == [
        ["--checkpoint", str(checkpoint), "--output-dir", "tavis_s4-hf", "--bpe-path",
         str(tmp_path / "cache" / "bpe_simple_vocab_16e6.txt.gz"), "--preset", "official_reduced"],
    ]  # fmt: skip


def test_official_with_converter_options_is_a_one_line_error(capsys):
    status = cli.main(["convert", "--official", "s4", "--checkpoint", "x.pth"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "--official downloads its own files" in err
