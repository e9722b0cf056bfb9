"""A small HTTP server on 127.0.0.1 that speaks the few endpoints the Argo runner uses, and
records every request: Argo Server REST (`/api/v1/workflows/{ns}`: create, get, list) and the
Kubernetes API (`/api/v1/namespaces/{ns}/configmaps`, `/apis/argoproj.io/v1alpha1/...`).

Workflows it holds advance through the `phases` a test scripts, one step per GET, so that
`watch` and `launch` see a workflow run and end.

Like the real servers: the Kubernetes API serves a Workflow as stored (nodes compressed or
offloaded, `offloaded` holds the latter), the Argo Server's GetWorkflow hydrates it
(workflow/hydrator/hydrator.go via server/workflow/workflow_server.go), and both honour Argo's
`fields` (util/fields: only the listed paths are returned). `fail` makes the next requests
answer an HTTP error, as an API server restarting does.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from s1tiling_cloud.argo.nodes import decode_compressed


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeArgo:
    requests: list[Recorded] = field(default_factory=list)
    workflows: dict[str, dict] = field(default_factory=dict)
    #: name -> successive `status` dicts served by GET (the last one stays).
    script: dict[str, list[dict]] = field(default_factory=dict)
    url: str = ""
    #: name -> the node map the controller offloaded to its database.
    offloaded: dict[str, dict] = field(default_factory=dict)
    #: HTTP statuses the next requests answer, in order (then normal service).
    fail: list[int] = field(default_factory=list)
    #: Workflows deleted, in order.
    deleted: list[dict] = field(default_factory=list)

    def step(self, name: str) -> dict:
        workflow = self.workflows[name]
        statuses = self.script.get(name) or []
        if statuses:
            workflow["status"] = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return workflow


def hydrated(workflow: dict, offloaded: dict[str, dict]) -> dict:
    """The workflow as the Argo Server's GetWorkflow serves it: nodes decompressed or read back."""
    status = dict(workflow.get("status") or {})
    if status.get("compressedNodes"):
        status["nodes"] = decode_compressed(status.pop("compressedNodes"))
    if status.get("offloadNodeStatusVersion"):
        status["nodes"] = offloaded[workflow["metadata"]["name"]]
        status.pop("offloadNodeStatusVersion")
    return {**workflow, "status": status}


def only_fields(document: dict, fields: str) -> dict:
    """The document with only the dotted paths of Argo's `fields` parameter."""
    kept: dict = {}
    for path in filter(None, fields.split(",")):
        source, target, keys = document, kept, path.split(".")
        for key in keys[:-1]:
            if not isinstance(source, dict) or key not in source:
                break
            source, target = source[key], target.setdefault(key, {})
        else:
            if isinstance(source, dict) and keys[-1] in source:
                target[keys[-1]] = source[keys[-1]]
    return kept


_WORKFLOWS = re.compile(r"^/(?:api/v1/workflows|apis/argoproj.io/v1alpha1/namespaces)/([^/]+)"
                        r"(?:/workflows)?(?:/([^/]+))?$")


def _handler(state: FakeArgo):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _reply(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> Recorded:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            record = Recorded(self.command, url.path, parse_qs(url.query), dict(self.headers),
                              json.loads(raw) if raw else None)
            state.requests.append(record)
            return record

        def do_POST(self):  # noqa: N802
            record = self._record()
            if state.fail:
                return self._reply(state.fail.pop(0), {"message": "unavailable"})
            if re.match(r"^/api/v1/namespaces/[^/]+/configmaps$", record.path):
                return self._reply(201, record.body)
            found = _WORKFLOWS.match(record.path)
            if not found:
                return self._reply(404, {"message": "not found"})
            workflow = record.body.get("workflow", record.body)  # Argo server wraps it
            metadata = workflow.setdefault("metadata", {})
            name = metadata.get("name") or metadata["generateName"] + "x7k2p"
            if name in state.workflows:
                return self._reply(409, {"kind": "Status", "code": 409, "reason": "AlreadyExists"})
            metadata.update(name=name, namespace=found.group(1), uid=f"uid-{name}")
            state.workflows[name] = workflow
            return self._reply(200, workflow)

        def do_PATCH(self):  # noqa: N802 (a merge patch of the Kubernetes API)
            record = self._record()
            found = _WORKFLOWS.match(record.path)
            if state.fail:
                return self._reply(state.fail.pop(0), {"message": "unavailable"})
            if not found or found.group(2) not in state.workflows:
                return self._reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
            workflow = state.workflows[found.group(2)]
            for key, value in record.body.items():
                workflow.setdefault(key, {}).update(value)
            return self._reply(200, workflow)

        def do_DELETE(self):  # noqa: N802
            record = self._record()
            found = _WORKFLOWS.match(record.path)
            if not found or found.group(2) not in state.workflows:
                return self._reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
            state.deleted.append(state.workflows.pop(found.group(2)))
            return self._reply(200, {"kind": "Status", "status": "Success"})

        def do_GET(self):  # noqa: N802
            record = self._record()
            if state.fail:
                return self._reply(state.fail.pop(0), {"message": "unavailable"})
            found = _WORKFLOWS.match(record.path)
            if not found:
                return self._reply(404, {"message": "not found"})
            argo_server = record.path.startswith("/api/v1/workflows/")
            fields = (record.query.get("fields") or [""])[0]
            name = found.group(2)
            if name:
                if name not in state.workflows:
                    return self._reply(404, {"code": 5, "message": "not found"})
                workflow = state.step(name)
                if argo_server and "status.nodes" in (fields or "status.nodes"):
                    workflow = hydrated(workflow, state.offloaded)
                return self._reply(200, only_fields(workflow, fields) if fields else workflow)
            selector = (record.query.get("listOptions.labelSelector") or [""])[0]
            key, _, value = selector.partition("=")
            items = [state.step(n) for n, w in list(state.workflows.items())
                     if not key or (w.get("metadata", {}).get("labels") or {}).get(key) == value]
            if fields:  # the Argo Server's list: `items.` paths
                items = [only_fields(i, fields.replace("items.", "")) for i in items]
            return self._reply(200, {"metadata": {}, "items": items})

    return Handler


class ArgoServerThread:
    def __init__(self) -> None:
        self.state = FakeArgo()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.state.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeArgo:
        self.thread.start()
        return self.state

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
