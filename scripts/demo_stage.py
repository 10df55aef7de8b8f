"""The stage `make demo` plays on, all on 127.0.0.1: moto server (the local AWS); the proxy the
functions reach it through, which logs every call for the timeline and plays the part of
CodeDeploy that moto lacks; the template's EventBridge rules installed in moto; the six
functions, each its debug binary under `cargo lambda watch`'s runtime emulator with the
environment the template gives it; and the router that hands each rule's match to its function.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from contextlib import ExitStack
from pathlib import Path

import boto3

from local_lambda import ProxyHandler, QuietHandler, cargo_target_dir, free_port, serve, wait_for_port
from template_rules import ACCOUNT, LocalBus, Template

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PRIMARY, STANDBY = "us-east-1", "us-west-2"
CREDS = {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo"}


class CodeDeployStandIn:
    """What moto lacks of CodeDeploy, played here (a deployment's status stays `Created` in moto,
    and PutLifecycleEventHookExecutionStatus / StopDeployment answer HTTP 500): hook reports and
    stops are recorded, and the statuses the demo gives deployments (as CodeDeploy would move
    them) are what GetDeployment and ListDeployments answer."""

    def __init__(self):
        self.status: dict[str, str] = {}
        self.reports: list[dict] = []
        self.stops: list[dict] = []

    def install(self, handler: type[ProxyHandler]) -> None:
        handler.stand_ins = {
            "codedeploy:PutLifecycleEventHookExecutionStatus": self._report,
            "codedeploy:StopDeployment": self._stop,
        }
        handler.rewrites = {"codedeploy:GetDeployment": self._get, "codedeploy:ListDeployments": self._list}

    def _report(self, body: bytes):
        request = json.loads(body)
        self.reports.append(request)
        return 200, {"lifecycleEventHookExecutionId": request["lifecycleEventHookExecutionId"]}

    def _stop(self, body: bytes):
        request = json.loads(body)
        self.stops.append(request)
        self.status[request["deploymentId"]] = "Stopped"
        return 200, {"status": "Pending", "statusMessage": "Stopping"}

    def _get(self, request: bytes, answer: bytes) -> bytes:
        document = json.loads(answer)
        info = document.get("deploymentInfo", {})
        if info.get("deploymentId") in self.status:
            info["status"] = self.status[info["deploymentId"]]
        return json.dumps(document).encode()

    def _list(self, request: bytes, answer: bytes) -> bytes:
        wanted = json.loads(request).get("includeOnlyStatuses")
        document = json.loads(answer)
        if wanted:
            document["deployments"] = [d for d in document.get("deployments", []) if self.status.get(d, "Created") in wanted]
        return json.dumps(document).encode()


class RevisionServer:
    """The new revision behind the test listener, for the gate's probes: `/health` answers 200
    while the revision plays a good image and 500 while it plays a bad one."""

    def __init__(self):
        self.status = 200
        self.probes = 0
        server = self

        class Handler(QuietHandler):
            def do_GET(self):
                server.probes += 1
                self.reply(server.status, b"ok" if server.status == 200 else b"boom")

        self.url = f"http://127.0.0.1:{serve(Handler).server_address[1]}"


class Stage:
    """Everything the story runs on. `start()` inside a `with`; `route()` and `invoke()` after."""

    def __init__(self, logs: Path, overrides: dict[str, dict[str, str]]):
        self.logs = logs
        self.overrides = overrides
        self.calls: list[dict] = []
        self.codedeploy = CodeDeployStandIn()
        self.revision = RevisionServer()
        self.exits = ExitStack()

    def __enter__(self) -> "Stage":
        return self

    def __exit__(self, *exc) -> None:
        self.exits.close()

    def _background(self, command: list[str], log: str, env: dict) -> subprocess.Popen:
        out = open(self.logs / log, "w")
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        self.exits.callback(out.close)
        self.exits.callback(_stop, process)
        return process

    def start_aws(self) -> None:
        port = free_port()
        moto = self._background([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], "moto.log", dict(os.environ))
        wait_for_port(port, "moto_server", moto)
        self.endpoint = f"http://127.0.0.1:{port}"
        ProxyHandler.upstream = port
        ProxyHandler.calls = self.calls
        self.codedeploy.install(ProxyHandler)
        proxy = serve(ProxyHandler)
        self.exits.callback(proxy.shutdown)
        self.proxy = f"http://127.0.0.1:{proxy.server_address[1]}"

    def client(self, service: str, region: str = PRIMARY):
        """A boto3 client straight to moto: the demo setting the scene or playing an AWS service."""
        return _session(region).client(service, endpoint_url=self.endpoint)

    def start_functions(self, template: Path, parameters: dict, topic: str) -> None:
        """The template's rules in moto's EventBridge, and its functions under the emulator."""
        self.template = Template(template, parameters=parameters, resources={"NotificationTopic": topic})
        self.rules = self.template.rules()
        self.bus = LocalBus(_session(PRIMARY), self.endpoint)
        self.bus.install(self.rules)
        self.port = free_port()
        emulator = ["cargo", "lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1", "--invoke-port", str(self.port)]
        watch = self._background(emulator, "cargo-lambda-watch.log", dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"))
        wait_for_port(self.port, "cargo lambda watch", watch)
        target = cargo_target_dir() / "debug"
        self.functions = {}
        for function in self.template.functions():
            env = {
                **CREDS,
                "PATH": os.environ.get("PATH", ""),
                "AWS_REGION": PRIMARY,
                "AWS_ENDPOINT_URL": self.proxy,
                "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{self.port}/.rt/{function.binary}",
                "AWS_LAMBDA_FUNCTION_NAME": function.binary,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory or 128),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "RUST_LOG": "info",
                **function.environment,
                **self.overrides.get(function.logical_id, {}),
            }
            self._background([str(target / function.binary)], f"{function.binary}.log", env)
            self.functions[function.logical_id] = function.binary

    def route(self, event: dict) -> dict[str, list]:
        """PutEvents of `event` on the default bus: {function logical id: [payload delivered]}."""
        return self.bus.route(event)

    def invoke(self, binary: str, payload: dict, timeout: float = 150) -> dict:
        """The function's answer (its outcome, or `errorType` / `errorMessage` when it failed)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.request("POST", f"/2015-03-31/functions/{binary}/invocations", body=json.dumps(payload))
        return json.loads(conn.getresponse().read() or b"null")


def _session(region: str) -> boto3.session.Session:
    return boto3.session.Session(region_name=region, aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"], aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"])


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def account_restored(payload: dict) -> dict:
    """moto 5.2.5 leaves `account` out of what it delivers; AWS includes it."""
    return {"account": ACCOUNT, **payload} if isinstance(payload, dict) and "detail-type" in payload else payload

