"""The local pieces `make demo`, `make bench` and the stack tests share: the functions' debug
builds, images put in the local ECR, and on 127.0.0.1 free ports, quiet HTTP servers, the name of the AWS call a request
makes, and the proxy between the functions and the local AWS (moto server) that counts calls,
logs them and answers the few calls moto lacks.
"""

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs


ROOT = Path(__file__).resolve().parent.parent


def cargo_build_bins() -> float:
    """`cargo build --locked --workspace --bins` (a no-op when they are fresh); its duration in
    seconds. `--workspace` selects the same packages as `make test`'s `cargo test --workspace`,
    so the dependencies resolve to the same features and are reused, not built a second time:
    what this adds is the six function crates."""
    started = time.monotonic()
    subprocess.run(["cargo", "build", "--locked", "--workspace", "--bins", "--quiet"], cwd=ROOT, check=True)
    return time.monotonic() - started


def cargo_target_dir() -> Path:
    """Where cargo puts its builds: `target/`, or wherever CARGO_TARGET_DIR (or a cargo config)
    says, as cargo itself reports it."""
    metadata = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return Path(json.loads(metadata.stdout)["target_directory"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, what: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} exited early with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not listen on 127.0.0.1:{port} within {seconds:.0f} s")


def put_image(ecr, repository: str, tag: str, image_digest: str) -> None:
    """An image in the local ECR with this digest and tag, pushed now (`ecr`: a boto3 client):
    Deckhand asks ECR when the images it compares were pushed."""
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": image_digest},
                "layers": []}
    ecr.put_image(repositoryName=repository, imageTag=tag, imageDigest=image_digest, imageManifest=json.dumps(manifest))


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no access log, and no Nagle: headers and body go out in two writes,
    and Nagle + delayed ACK would add ~40 ms to every exchange."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, status: int, body: bytes, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    """A process that exits drops its keep-alive connections (to a runtime API, to the proxy)
    mid-read: expected, not worth a traceback. Any other handler error still prints one."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def serve(handler: type, port: int = 0) -> QuietServer:
    """`handler` served on 127.0.0.1:`port` (0: a free one) from a daemon thread."""
    server = QuietServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def operation(headers, body: bytes, path: str, method: str) -> str:
    """`service:Operation` of a signed AWS request (JSON, query and Route 53's REST-XML protocols)."""
    auth = headers.get("Authorization", "")
    service = auth.split("Credential=")[1].split("/")[3] if "Credential=" in auth else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.split('.')[-1]}"
    if body and b"Action=" in body:
        return f"{service}:{parse_qs(body.decode(errors='replace')).get('Action', ['?'])[0]}"
    if "/rrset" in path:
        return f"{service}:{'ChangeResourceRecordSets' if method == 'POST' else 'ListResourceRecordSets'}"
    if "/change/" in path:
        return f"{service}:GetChange"
    return f"{service}:{method} {path.split('?')[0]}"


class ProxyHandler(QuietHandler):
    """Forwards every request to moto on `upstream`, counting calls by operation and the time spent
    in the local AWS. `calls`, when a list, receives one record per call (for the demo's timeline).
    `stand_ins` answer operations moto does not implement: {operation: fn(request body) -> (status,
    JSON body)}; `rewrites` amend moto's answer to others: {operation: fn(request body, answer body)
    -> answer body}. `/__proxy/stats` and `/__proxy/reset` read and reset the counts."""

    upstream = 0
    lock = threading.Lock()
    stats = {"calls": 0, "ms": 0.0, "ops": {}}
    calls: list | None = None
    stand_ins: dict = {}
    rewrites: dict = {}
    local = threading.local()

    def do_GET(self):
        self.forward()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def forward(self):
        if self.path.startswith("/__proxy/"):
            with self.lock:
                if self.path == "/__proxy/reset":
                    ProxyHandler.stats = {"calls": 0, "ms": 0.0, "ops": {}}
                body = json.dumps(ProxyHandler.stats).encode()
            return self.reply(200, body)
        started = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        op = operation(self.headers, body, self.path, self.command)
        stand_in = self.stand_ins.get(op)
        if stand_in is not None:
            status, answer = stand_in(body)
            data, passed = json.dumps(answer).encode(), [("Content-Type", "application/x-amz-json-1.1")]
        else:
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            status, data = response.status, response.read()
            if op in self.rewrites and status == 200:
                data = self.rewrites[op](body, data)
            passed = [(k, v) for k, v in response.getheaders() if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        # Counted and logged before the caller has its answer: whoever reads the log after a
        # function returned finds every call it made.
        with self.lock:
            stats = ProxyHandler.stats
            stats["calls"] += 1
            stats["ms"] += (time.perf_counter() - started) * 1000
            stats["ops"][op] = stats["ops"].get(op, 0) + 1
            if self.calls is not None:
                self.calls.append({"at": time.time(), "op": op, "status": status, "stand_in": stand_in is not None})
        self.reply(status, data, passed)


def run_proxy(listen: int, upstream: int) -> None:
    ProxyHandler.upstream = upstream
    QuietServer(("127.0.0.1", listen), ProxyHandler).serve_forever()


class Proxy:
    """The counts of a proxy running in another process."""

    def __init__(self, port: int):
        self.port = port

    def _get(self, path: str) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path)
        return json.loads(conn.getresponse().read())

    def reset(self) -> None:
        self._get("/__proxy/reset")

    def stats(self) -> dict:
        return self._get("/__proxy/stats")
