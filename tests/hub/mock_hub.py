"""An offline stand-in for the Hugging Face Hub HTTP API, plugged into huggingface_hub's client factories.

`huggingface_hub` (2.x) sends every request through the `httpx2.Client` returned by the factory given to
`huggingface_hub.set_client_factory`. `MockHub` installs an `httpx2.MockTransport` there (and in the async factory),
answers the handful of routes that `create_repo` and `upload_folder` use, records every request and decodes every
commit, so tests can assert exactly which files with which bytes were uploaded. Unknown routes answer 404, which makes
any unexpected call fail loudly instead of reaching the network.
"""

from __future__ import annotations

import base64
import json

import httpx2
import huggingface_hub
from huggingface_hub.utils._http import default_async_client_factory, default_client_factory

COMMIT_OID = "c" * 40


class MockHub:
    """Context manager: record Hub API calls and commits; restore the default HTTP clients on exit.

    Attributes:
        requests: `(method, path)` of every request, in order.
        repos: JSON bodies of `POST /api/repos/create`.
        commits: one dict per commit: `{"revision", "summary", "files": {path: bytes}}`.
        pull_requests: titles of the pull requests opened.
    """

    def __init__(self):
        self.requests: list[tuple[str, str]] = []
        self.repos: list[dict] = []
        self.commits: list[dict] = []
        self.pull_requests: list[str] = []

    def __enter__(self) -> MockHub:
        transport = httpx2.MockTransport(self._handle)
        huggingface_hub.set_client_factory(lambda: httpx2.Client(transport=transport, follow_redirects=True))
        huggingface_hub.set_async_client_factory(lambda: httpx2.AsyncClient(transport=transport, follow_redirects=True))
        return self

    def __exit__(self, *exc) -> None:
        huggingface_hub.set_client_factory(default_client_factory)
        huggingface_hub.set_async_client_factory(default_async_client_factory)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        method, path = request.method, request.url.path
        self.requests.append((method, path))
        if method == "POST" and path == "/api/repos/create":
            body = json.loads(request.content)
            self.repos.append(body)
            repo = f"{body['organization']}/{body['name']}"
            prefix = "" if body.get("type", "model") == "model" else f"{body['type']}s/"
            return httpx2.Response(200, json={"url": f"https://huggingface.co/{prefix}{repo}", "name": repo})
        if method == "POST" and path == "/api/validate-yaml":
            return httpx2.Response(200, json={"errors": [], "warnings": []})
        if method == "POST" and "/preupload/" in path:
            files = json.loads(request.content)["files"]
            modes = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
            return httpx2.Response(200, json={"files": modes})
        if method == "POST" and path.endswith("/discussions"):
            self.pull_requests.append(json.loads(request.content)["title"])
            return httpx2.Response(200, json={"num": len(self.pull_requests)})
        if method == "GET" and "/discussions/" in path:
            repo_type, repo = path.split("/")[2], "/".join(path.split("/")[3:5])
            details = {
                "title": self.pull_requests[-1],
                "num": len(self.pull_requests),
                "author": {"name": "tester"},
                "createdAt": "2026-01-01T00:00:00.000Z",
                "status": "draft",
                "repo": {"name": repo, "type": repo_type[:-1]},
                "isPullRequest": True,
                "events": [],
                "changes": {"base": "refs/heads/main"},
                "filesWithConflicts": [],
            }
            return httpx2.Response(200, json=details)
        if method == "POST" and "/commit/" in path:
            return self._commit(request, path)
        return httpx2.Response(404, json={"error": f"MockHub has no route for {method} {path}"})

    def _commit(self, request: httpx2.Request, path: str) -> httpx2.Response:
        commit = {"revision": path.split("/commit/", 1)[1], "summary": None, "files": {}}
        for line in request.content.decode().splitlines():
            entry = json.loads(line)
            if entry["key"] == "header":
                commit["summary"] = entry["value"]["summary"]
            elif entry["key"] == "file":
                value = entry["value"]
                assert value["encoding"] == "base64", value
                commit["files"][value["path"]] = base64.b64decode(value["content"])
            else:
                raise AssertionError(f"unexpected commit entry {entry['key']!r}")
        self.commits.append(commit)
        repo_url = "https://huggingface.co/" + "/".join(path.split("/")[3:5])
        return httpx2.Response(200, json={"commitUrl": f"{repo_url}/commit/{COMMIT_OID}", "commitOid": COMMIT_OID})
