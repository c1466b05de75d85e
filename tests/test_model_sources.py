"""`tavis_hf.model_sources`: what a model argument may be, checked before anything loads."""

import pytest

from tavis_hf.model_sources import check_model_source, hub_loading_errors


def test_a_model_folder_or_a_hub_id_passes(tiny_model_dir):
    assert check_model_source(tiny_model_dir) == str(tiny_model_dir)
    for hub_id in ("owner/name", "Org-1/tavis_s4.v2"):
        assert check_model_source(hub_id) == hub_id  # left to the Hub


@pytest.mark.parametrize("name", ["name-only", "a/b/c", "./runs/model", "/abs/path", "owner/..", "../up"])
def test_what_is_neither_is_a_missing_folder(name):
    with pytest.raises(FileNotFoundError, match=r"no such model folder: .* \(a Hub id has the form owner/name\)"):
        check_model_source(name)


def test_hub_errors_of_a_name_not_on_disk_say_so(tiny_model_dir):
    with pytest.raises(FileNotFoundError, match="no such model folder: me/absent, and the Hub did not give it either: "
                       "not found there"):  # fmt: skip
        with hub_loading_errors("me/absent"):
            raise OSError("not found there\nmore details")
    with pytest.raises(OSError, match="damaged weights") as raised, hub_loading_errors(str(tiny_model_dir)):
        raise OSError("damaged weights")  # a folder that exists: its own error, unchanged
    assert type(raised.value) is OSError
