"""`cargo lambda deploy`, the README's second way in, against a local AWS (moto server).

Every function of template.yaml is deployed with `cargo lambda deploy` as the README shows it
(an IAM role, the variables in an env file, the timeout), and GetFunction must show what the
SAM stack would create: runtime provided.al2023, handler `bootstrap`, the architecture of the
binary, the environment the template gives the function, the role, timeout and memory; the
traffic gate under the `CodeDeployHook_` name CodeDeploy's managed role may invoke. A second
deploy of a function updates it in place.

What is exercised, and what is not (to keep CI cheap on a cold machine):
- The binaries are the debug builds of `cargo build --locked --workspace --bins` (target/debug), laid out
  the way `cargo lambda build` lays out its output (`<dir>/<binary>/bootstrap`), and passed to
  `cargo lambda deploy` with `--lambda-dir`. `cargo lambda build` itself is not run: for
  x86_64-unknown-linux-gnu it recompiles every dependency into another target directory (minutes
  on two cores), and for arm64 it needs zig and the aarch64 target, which this machine does not
  have. The deploy step reads the same layout either way.
- `make build ARCH=arm64` leaves `target/lambda/<binary>/bootstrap.zip`. That layout is deployed
  too, with an aarch64 ELF header on a copy of a binary: cargo lambda takes the function's
  architecture from the binary, so the function must come out `arm64`. The copy cannot run; moto
  never runs code.
- moto checks that the role exists and that Lambda may assume it; real IAM also checks who may
  pass it (`iam:PassRole`). Nothing is invoked: the functions' behaviour is tested elsewhere.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import zipfile
from pathlib import Path

from tests.stack.local_aws import ACCOUNT, REGION, ROOT, MotoServer, cargo_build_bins, cargo_target_dir, template_rules, venv_tool

# Every function exists (region-failover needs its record); x86_64, the binaries built here.
PARAMETERS = {
    "Architecture": "x86_64",
    "Clusters": "prod,staging",
    "FailoverRecordName": "api.example.com",
    "FailoverHostedZoneId": "Z0123456789ABCDEFGHIJ",
    "FailoverServices": "prod/web,prod/checkout",
}

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

ELF_MACHINE_OFFSET = 18  # e_machine in the ELF header
EM_AARCH64 = 0xB7


def env_file(path: Path, variables: dict[str, str]) -> Path:
    """The variables as `--env-file` reads them. `--env-var` cannot carry them all: it splits
    its value at commas (CLUSTERS=prod,staging) and refuses an empty value (GATE_ALARMS=). A value
    with spaces (GATE_ANALYSIS) is double-quoted, as the dotenv format wants."""
    quoted = lambda value: f'"{value}"' if " " in value else value  # noqa: E731
    path.write_text("".join(f"{key}={quoted(value)}\n" for key, value in variables.items()))
    return path


class CargoLambdaDeploy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.build_seconds = cargo_build_bins()
        cls.moto = MotoServer().__enter__()
        # Stopped even when the rest of setUpClass fails (tearDownClass would not run).
        cls.addClassCleanup(cls.moto.__exit__, None, None, None)
        cls.target = cargo_target_dir()
        cls.work = Path(tempfile.mkdtemp(prefix="deploy-", dir=cls.target))
        cls.lambda_client = cls.moto.client("lambda")
        iam = cls.moto.client("iam")
        cls.roles = {}
        topic = cls.moto.client("sns").create_topic(Name="deckhand")["TopicArn"]
        cls.template = template_rules.Template(parameters=PARAMETERS, resources={"NotificationTopic": topic})
        cls.functions = cls.template.functions()
        for function in cls.functions:
            role = iam.create_role(
                RoleName=f"deckhand-{function.binary}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
            )
            cls.roles[function.logical_id] = role["Role"]["Arn"]
        # The layout `cargo lambda build` writes: <lambda dir>/<binary>/bootstrap.
        cls.lambda_dir = cls.work / "lambda"
        for function in cls.functions:
            target = cls.lambda_dir / function.binary / "bootstrap"
            target.parent.mkdir(parents=True)
            link_or_copy(cls.target / "debug" / function.binary, target)
        cls.deploy_seconds = {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def deploy(self, name: str, binary: str, role: str, variables: dict[str, str], *extra: str) -> dict:
        """The README's command: `cargo lambda deploy NAME --iam-role ROLE --env-file FILE ...`."""
        command = [
            venv_tool("cargo-lambda"), "lambda", "deploy", name,
            "--iam-role", role,
            "--env-file", str(env_file(self.work / f"{name}.env", variables)),
            "--output-format", "json",
            *extra,
        ]  # fmt: skip
        if binary != name:
            command += ["--binary-name", binary]
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=self.moto.env(), capture_output=True, text=True, timeout=300)
        self.deploy_seconds[name] = time.monotonic() - started
        self.assertEqual(done.returncode, 0, f"cargo lambda deploy {name}:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout[done.stdout.index("{") :])

    def test_every_function_deploys_as_the_template_declares_it(self):
        self.assertEqual(
            sorted(f.binary for f in self.functions),
            sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "Cargo.toml").exists()),
            "every function of functions/ is in the template, and the other way round",
        )
        for function in self.functions:
            name = function.name or f"deckhand-{function.binary}"
            with self.subTest(function=function.logical_id):
                extra = ["--lambda-dir", str(self.lambda_dir), "--timeout", str(function.timeout), "--memory", str(function.memory)]
                answer = self.deploy(name, function.binary, self.roles[function.logical_id], function.environment, *extra)
                arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
                self.assertTrue(answer["function_arn"].startswith(arn), answer)

                config = self.lambda_client.get_function(FunctionName=name)["Configuration"]
                self.assertEqual(config["Runtime"], function.runtime)
                self.assertEqual(config["Runtime"], "provided.al2023")
                self.assertEqual(config["Handler"], function.handler)
                self.assertEqual(config["Handler"], "bootstrap")
                self.assertEqual(config["Architectures"], function.architectures)
                self.assertEqual(config["Role"], self.roles[function.logical_id])
                self.assertEqual(config["Timeout"], function.timeout)
                self.assertEqual(config["MemorySize"], function.memory)
                self.assertEqual(config["Environment"]["Variables"], function.environment)
                self.assertEqual(config["PackageType"], "Zip")
                self.assertGreater(config["CodeSize"], 0)

        gate = next(f for f in self.functions if f.binary == "traffic-gate")
        self.assertTrue(gate.name.startswith("CodeDeployHook_"), gate.name)
        rollout = next(f for f in self.functions if f.binary == "image-pushed")
        self.assertEqual(rollout.environment["CLUSTERS"], "prod,staging")
        print(
            f"\n  cargo build --bins: {self.build_seconds:.1f} s; deploys: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.deploy_seconds.items()),
            flush=True,
        )

    def test_a_second_deploy_updates_code_and_configuration(self):
        function = next(f for f in self.functions if f.binary == "deploy-events")
        name = "deckhand-redeploy"
        role = self.roles[function.logical_id]
        first = self.deploy(name, function.binary, role, function.environment, "--lambda-dir", str(self.lambda_dir))
        changed = {**function.environment, "CLUSTERS": "prod"}
        second = self.deploy(name, function.binary, role, changed, "--lambda-dir", str(self.lambda_dir), "--timeout", "90")
        self.assertNotEqual(first["version"], second["version"])
        config = self.lambda_client.get_function(FunctionName=name)["Configuration"]
        self.assertEqual((config["Environment"]["Variables"]["CLUSTERS"], config["Timeout"]), ("prod", 90))

    def test_an_arm64_zip_from_make_build_deploys_as_arm64(self):
        # `make build ARCH=arm64` = `cargo lambda build --release --arm64 --output-format zip`:
        # target/lambda/<binary>/bootstrap.zip holding an aarch64 `bootstrap`.
        function = next(f for f in self.functions if f.binary == "image-pushed")
        arm_dir = self.work / "lambda-arm64"
        (arm_dir / function.binary).mkdir(parents=True)
        binary = bytearray((self.target / "debug" / function.binary).read_bytes())
        binary[ELF_MACHINE_OFFSET : ELF_MACHINE_OFFSET + 2] = EM_AARCH64.to_bytes(2, "little")
        archive = arm_dir / function.binary / "bootstrap.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
            entry = zipfile.ZipInfo("bootstrap")
            entry.external_attr = 0o755 << 16
            zipped.writestr(entry, bytes(binary))
        name = "deckhand-image-pushed-arm64"
        self.deploy(name, function.binary, self.roles[function.logical_id], function.environment, "--lambda-dir", str(arm_dir))
        config = self.lambda_client.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(config["Architectures"], ["arm64"])
        # The zip is uploaded as built, not repackaged.
        self.assertEqual(config["CodeSha256"], base64.b64encode(hashlib.sha256(archive.read_bytes()).digest()).decode())

    def test_a_role_lambda_cannot_assume_is_refused(self):
        function = next(f for f in self.functions if f.binary == "scaler")
        command = [
            venv_tool("cargo-lambda"), "lambda", "deploy", "deckhand-no-role",
            "--binary-name", function.binary, "--lambda-dir", str(self.lambda_dir),
            "--iam-role", f"arn:aws:iam::{ACCOUNT}:role/does-not-exist",
        ]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, env=self.moto.env(), capture_output=True, text=True, timeout=300)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("cannot", done.stderr + done.stdout)


def link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


if __name__ == "__main__":
    unittest.main()
