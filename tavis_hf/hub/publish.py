"""Publishing a release folder: one network step.

`publish` is `HfApi.create_repo` + one `HfApi.upload_folder` commit (optionally as a pull request), uploading exactly
`release_files(folder)`. `publish(..., dry_run=True)` returns the same plan (`PublishPlan`) without any network call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import DatasetCard, HfApi, ModelCard
from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects, validate_repo_id

_GLOB_CHARACTERS = set("*?[]")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")
"""Weight files `publish` refuses in a model folder (pickle-based formats)."""


def release_files(folder: str | Path) -> list[tuple[str, int]]:
    """The files `publish` uploads from `folder`: sorted `(relative POSIX path, size in bytes)` pairs.

    Same selection as `HfApi.upload_folder` (every file except `.git/` and `.cache/huggingface/`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No such folder: {folder}")
    paths = {p.relative_to(folder).as_posix(): p for p in sorted(folder.glob("**/*")) if p.is_file()}
    kept = filter_repo_objects(list(paths), ignore_patterns=DEFAULT_IGNORE_PATTERNS)
    return [(rel, paths[rel].stat().st_size) for rel in kept]


def check_repo_id(repo_id: str) -> None:
    """Raise `ValueError` unless `repo_id` is a valid `"namespace/name"` Hub id."""
    validate_repo_id(repo_id)
    if "/" not in repo_id:
        raise ValueError(f"repo_id must be 'namespace/name', got {repo_id!r}")


@dataclass
class PublishPlan:
    """What `publish` uploads (or would upload, with `dry_run=True`).

    Attributes:
        repo_id / repo_type / private / create_pr: the target.
        files: `(relative path, size in bytes)` of every file of the commit, sorted.
        card: the full text of `README.md`.
        commit_url / pr_url: set after a real upload (`pr_url` only with `create_pr=True`).
    """

    repo_id: str
    repo_type: str
    private: bool
    create_pr: bool
    files: list[tuple[str, int]]
    card: str
    commit_url: str | None = None
    pr_url: str | None = None

    def describe(self) -> str:
        """Human-readable plan: target, file list with sizes, then the card text."""
        target = f"{self.repo_type} repo {self.repo_id} ({'private' if self.private else 'public'})"
        lines = [f"Target: {target}{', as a pull request' if self.create_pr else ''}"]
        lines.append(f"Files ({len(self.files)}, {sum(size for _, size in self.files):,} bytes):")
        lines += [f"  {path}  ({size:,} bytes)" for path, size in self.files]
        lines += ["Card (README.md):", self.card]
        return "\n".join(lines)


def publish(
    folder: str | Path,
    repo_id: str,
    *,
    repo_type: str = "model",
    private: bool = True,
    create_pr: bool = False,
    dry_run: bool = False,
    token: str | None = None,
    commit_message: str = "Upload with tavis_hf",
) -> PublishPlan:
    """Upload a release folder to the Hub in one commit: `HfApi.create_repo` (exist_ok) + `HfApi.upload_folder`.

    Args:
        folder: a folder from `build_release_folder` (model) or a dataset folder with its card.
        repo_id: `"namespace/name"`.
        repo_type: `"model"` or `"dataset"`.
        private: create the repository as private (ignored when it already exists).
        create_pr: open a pull request instead of committing to `main`.
        dry_run: make no network call; return the plan (files and card) only.
        token: Hub token (default: the locally saved one).

    Returns:
        The `PublishPlan` (with `commit_url`/`pr_url` filled after a real upload).

    Raises:
        FileNotFoundError: `folder` does not exist or has no `README.md`.
        ValueError: bad `repo_id`/`repo_type`, a card without a licence, or a model folder without `config.json` or
            safetensors weights, or with pickle weights.
    """
    if repo_type not in ("model", "dataset"):
        raise ValueError(f"repo_type must be 'model' or 'dataset', got {repo_type!r}")
    check_repo_id(repo_id)
    folder = Path(folder)
    files = release_files(folder)
    names = [path for path, _ in files]
    if "README.md" not in names:
        raise FileNotFoundError(f"{folder} has no README.md card: build it with build_release_folder or render_card")
    card_class = ModelCard if repo_type == "model" else DatasetCard
    card_text = (folder / "README.md").read_text(encoding="utf-8")
    card = card_class(card_text)
    if not card.data.get("license"):
        raise ValueError(f"The card {folder / 'README.md'} declares no licence in its front matter")
    if repo_type == "model":
        if "config.json" not in names or not any(n.endswith(".safetensors") for n in names):
            raise ValueError(f"{folder} is not a model release folder (needs config.json and safetensors weights)")
        pickles = [n for n in names if n.endswith(PICKLE_SUFFIXES)]
        if pickles:
            raise ValueError(f"{folder} holds pickle weights {pickles}: releases ship safetensors only")
    odd = [n for n in names if _GLOB_CHARACTERS & set(n)]
    if odd:
        raise ValueError(f"File names with glob characters cannot be uploaded exactly: {odd}")
    plan = PublishPlan(repo_id, repo_type, private, create_pr, files, card_text)
    if dry_run:
        return plan

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
    commit = api.upload_folder(
        repo_id=repo_id,
        repo_type=repo_type,
        folder_path=folder,
        commit_message=commit_message,
        create_pr=create_pr,
        allow_patterns=names,  # exactly the planned files
    )
    plan.commit_url, plan.pr_url = commit.commit_url, commit.pr_url
    return plan
