"""A small loopback stand-in for the Hugging Face Hub: the routes `upload_folder` and `hf_hub_download` use.

Repos live in memory as a list of commits; `main` (or any branch) names the newest commit on it.
"""

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class Hub:
    def __init__(self):
        self.repos: dict[str, dict] = {}  # repo -> {"commits": {sha: files}, "branches": {name: sha}}

    def files(self, repo, rev):
        data = self.repos.get(repo)
        if data is None:
            return None, None
        sha = data["branches"].get(rev, rev)
        return sha, data["commits"].get(sha)


class Handler(BaseHTTPRequestHandler):
    hub: Hub

    def log_message(self, *args):
        pass

    def _json(self, obj, status=200):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_POST(self):
        path, body = unquote(self.path.split("?")[0]), self._body()
        if path == "/api/repos/create":
            request = json.loads(body)
            repo = f"{request.get('organization') or 'user'}/{request['name']}" if "/" not in request["name"] else request["name"]
            if repo in self.hub.repos:
                return self._json({"error": "exists", "url": f"http://{self.headers['Host']}/{repo}"}, 409)
            self.hub.repos[repo] = {"commits": {}, "branches": {"main": None}}
            return self._json({"url": f"http://{self.headers['Host']}/{repo}"})
        if path == "/api/validate-yaml":
            return self._json({"errors": [], "warnings": []})
        parts = path.split("/")  # /api/models/ORG/NAME/(preupload|commit)/REV
        repo, action, rev = "/".join(parts[3:5]), parts[5], "/".join(parts[6:])
        if action == "preupload":
            files = json.loads(body)["files"]
            return self._json({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
        if action == "commit":
            data = self.hub.repos[repo]
            _, parent = self.hub.files(repo, rev)
            files = dict(parent or {})
            for line in body.decode().splitlines():
                item = json.loads(line)
                if item["key"] == "file":
                    files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
            sha = hashlib.sha1(json.dumps(sorted((k, hashlib.sha1(v).hexdigest()) for k, v in files.items())).encode() + str(len(data["commits"])).encode()).hexdigest()
            data["commits"][sha] = files
            data["branches"][rev] = sha
            return self._json({"commitUrl": f"http://{self.headers['Host']}/{repo}/commit/{sha}", "commitOid": sha, "pullRequestUrl": None})
        self._json({"error": "not found"}, 404)

    def _resolve(self, head):
        parts = unquote(self.path.split("?")[0]).strip("/").split("/")  # ORG/NAME/resolve/REV/PATH
        repo, rev, name = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
        sha, files = self.hub.files(repo, rev)
        if files is None or name not in files:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound" if files is not None else "RepoNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        content = files[name]
        self.send_response(200)
        self.send_header("X-Repo-Commit", sha)
        self.send_header("ETag", f'"{hashlib.sha256(content).hexdigest()}"')
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if not head:
            self.wfile.write(content)

    def do_HEAD(self):
        self._resolve(head=True)

    def do_GET(self):
        path = unquote(self.path.split("?")[0])
        if path.startswith("/api/models/"):
            parts = path.split("/")
            repo, action, rev = "/".join(parts[3:5]), parts[5], parts[6] if len(parts) > 6 else "main"
            sha, files = self.hub.files(repo, rev)
            if files is None:
                return self._json({"error": "not found"}, 404)
            if action == "revision":
                return self._json({"sha": sha, "siblings": [{"rfilename": f} for f in files]})
            return self._json([{"type": "file", "path": f, "size": len(c), "oid": hashlib.sha1(c).hexdigest()} for f, c in files.items()])
        if "/resolve/" in path:
            return self._resolve(head=False)
        self._json({"error": "not found"}, 404)


def serve() -> tuple[ThreadingHTTPServer, Hub]:
    hub = Hub()
    handler = type("BoundHandler", (Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hub
