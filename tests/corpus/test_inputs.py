"""tavis_hf.corpus.inputs: every kind of corpus source -> the same list of video references; bad sources -> one-line
errors that say what to give instead."""

import os

import pytest

from tavis_hf.corpus import is_corpus_source, list_videos

from .conftest import GOOD_CLIPS


@pytest.fixture
def clips(tmp_path):
    """Two video names in nested folders and a text file (a listing reads names, not contents)."""
    (tmp_path / "clips" / "deep").mkdir(parents=True)
    for name in ("clips/one.mp4", "clips/deep/two.MKV", "clips/notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def test_folder_is_searched_recursively_for_video_files(clips):
    assert list_videos(clips / "clips") == [str(clips / "clips/deep/two.MKV"), str(clips / "clips/one.mp4")]


def test_glob(clips):
    assert list_videos(str(clips / "clips/**/*.mp4")) == [str(clips / "clips/one.mp4")]


def test_list_file_relative_paths_comments_urls_and_duplicates(clips):
    listing = clips / "list.txt"
    listing.write_text("# my corpus\nclips/one.mp4\n\nhttps://example.com/v.mp4\nclips/one.mp4\nmissing.mp4\n")
    assert list_videos(listing) == [
        str(clips / "clips/one.mp4"),
        "https://example.com/v.mp4",
        str(clips / "missing.mp4"),  # kept: it gets an error row, nothing is lost silently
    ]


def test_csv_column_found_by_name_or_given(clips):
    table = clips / "videos.csv"
    table.write_text("id,path\n1,clips/one.mp4\n2,clips/deep/two.MKV\n")
    assert list_videos(table) == [str(clips / "clips/one.mp4"), str(clips / "clips/deep/two.MKV")]
    assert list_videos(table, video_column="path") == list_videos(table)
    with pytest.raises(ValueError, match="no column 'clip'.*--video-column"):
        list_videos(table, video_column="clip")
    (clips / "other.csv").write_text("id,thing\n1,clips/one.mp4\n")
    with pytest.raises(ValueError, match="no video column.*--video-column"):
        list_videos(clips / "other.csv")


def test_parquet_table_and_saved_dataset(clips):
    from datasets import Dataset, DatasetDict

    paths = [str(clips / "clips/one.mp4"), str(clips / "clips/deep/two.MKV")]
    Dataset.from_dict({"clip": paths, "label": [0, 1]}).to_parquet(str(clips / "t.parquet"))
    assert list_videos(clips / "t.parquet", video_column="clip") == paths
    DatasetDict({"train": Dataset.from_dict({"video": paths[:1]}), "test": Dataset.from_dict({"video": paths[1:]})}
                ).save_to_disk(str(clips / "saved"))  # fmt: skip
    assert list_videos(clips / "saved") == paths


def test_python_list_and_corpus_detection(corpus_dir):
    videos = [str(corpus_dir / name) for name in GOOD_CLIPS]
    assert list_videos(videos + videos[:1]) == videos
    assert is_corpus_source(corpus_dir) and is_corpus_source(str(corpus_dir / "*.mp4"))
    assert not is_corpus_source(corpus_dir / "a.mp4") and not is_corpus_source("https://example.com/x*.mp4")
    assert not is_corpus_source(corpus_dir / "nothing.mp4")  # a missing single file stays a single-video error


def test_bad_sources_are_one_line_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"the folder .*empty holds no existing video file") as error:
        list_videos(tmp_path / "empty")
    assert "\n" not in str(error.value) and "a glob, a list file" in str(error.value)
    (tmp_path / "list.txt").write_text("# nothing valid\nmissing.mp4\n/nowhere/else.mp4\n")
    with pytest.raises(ValueError, match=r"the list file .*list.txt holds no existing video file .*\(2 entries\)"):
        list_videos(tmp_path / "list.txt")
    with pytest.raises(FileNotFoundError, match="no such folder, file or glob match"):
        list_videos(tmp_path / "absent")
    with pytest.raises(ValueError, match="the glob .* holds no existing video file"):
        list_videos(os.path.join(tmp_path, "empty", "*.mp4"))
