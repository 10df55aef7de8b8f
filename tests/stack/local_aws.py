"""A moto server of the tests' own, on a free loopback port, and what the stack tests share."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
sys.path.insert(0, str(ROOT / "scripts"))

import template_rules  # noqa: E402  (scripts/ is not a package)
from local_lambda import cargo_build_bins, cargo_target_dir  # noqa: E402,F401  (shared with the stack tests)

REGION = template_rules.REGION
ACCOUNT = template_rules.ACCOUNT


def venv_tool(name: str) -> str:
    """A tool of the virtualenv this interpreter runs in (`.venv/bin/NAME`), else NAME on PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def samples() -> list[str]:
    return sorted(path.name for path in EVENTS.glob("*.json"))


class MotoServer:
    """`moto_server -H 127.0.0.1 -p 0`: the server picks its port and announces it on stderr,
    which is read to the end in the background so the server never blocks on a full pipe."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.log: list[str] = []

    def __enter__(self) -> "MotoServer":
        self.process = subprocess.Popen(
            [venv_tool("moto_server"), "-H", "127.0.0.1", "-p", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        announced = threading.Event()

        def drain() -> None:
            assert self.process and self.process.stderr
            for line in self.process.stderr:
                self.log.append(line)
                found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
                if found and not self.url:
                    self.url = found.group(1)
                    announced.set()
            announced.set()

        threading.Thread(target=drain, daemon=True).start()
        if not announced.wait(60) or not self.url:
            self.__exit__(None, None, None)
            raise RuntimeError("moto_server did not announce its port:\n" + "".join(self.log[-20:]))
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def session(self) -> boto3.Session:
        # Dummy credentials of its own: nothing here may reach a real account.
        return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)

    def client(self, service: str, region: str = REGION):
        return self.session().client(service, endpoint_url=self.url, region_name=region)

    def env(self) -> dict[str, str]:
        """An environment for subprocesses that talk to this server and nothing else."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=self.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            AWS_EC2_METADATA_DISABLED="true",
        )
        return env

