"""`make bench`: Deckhand's speed, memory and API cost, measured on this machine, beside the peer
(`ecs-deploy`, the usual "new image -> new task definition -> update service" tool) in the same run.

Parts, all on 127.0.0.1:
- moto server: the local AWS;
- a counting proxy (its own process, scripts/local_lambda.py) between the functions and moto: it
  counts API calls by operation and measures the time spent inside the local AWS;
- a minimal Lambda Runtime API (this process): the functions' release binaries poll it exactly as
  they poll Lambda's. Cold start = exec until the first poll for an event.

Writes target/bench/results.json, results.md and bench.png, and prints the table.
"""

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path

from local_lambda import Proxy, QuietHandler, QuietServer, free_port, put_image, run_proxy, serve, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
RELEASE = Path(os.environ.get("DECKHAND_RELEASE_DIR", ROOT / "target" / "release"))
OUT = ROOT / "target" / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
REGION, STANDBY, ACCOUNT = "us-east-1", "us-west-2", "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
CREDS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}

TARGETS = {"cold_ms": 10.0, "overhead_ms": 2.0, "rss_mb": 20.0, "binary_mb": 10.0, "zip_mb": 5.0, "speedup": 10.0}

# The fewest AWS calls each job can be done in, with the design's discovery by tags. A function's
# scenarios run in turn in one process: the first cold, the others warm.
MINIMUM_CALLS = {
    # Cold: GetResources (the tag index: the services tracking a tag) + DescribeServices (the one
    # whose policy the tag satisfies), DescribeTaskDefinition (the current revision),
    # DescribeImages x2 (when the pushed and the running image were pushed: never an older
    # image), RegisterTaskDefinition, UpdateService, Publish; and the exactly-once calls
    # (Reliability in the README): DescribeTaskDefinition of the family's newest revision (a retry
    # reuses its own) and TagResource (the `deckhand:announced` marker). As bench_fleet.minimum.
    "image-pushed: push deploys one service": 10,
    # None, warm: the index read a moment ago says no service tracks the tag (cold: GetResources).
    "image-pushed: push matches nothing": 0,
    # DescribeServices, to see the digest already runs; warm, the index is the one read a moment
    # ago, and the revision the service runs is one this process registered (a revision never
    # changes: not described again).
    "image-pushed: duplicate push": 1,
    # Publish.
    "build-finished: failed build": 1,
    # DescribeServices (the deployment's revisions) + Publish.
    "deploy-events: ECS deployment failed": 2,
    # DescribeAlarms (comparison operator, metric) + GetMetricStatistics (the load now: the alarm's
    # own datapoints go stale while it stays in ALARM) + DescribeServices + TagResource (cooldown)
    # + UpdateService + Publish.
    "scaler: alarm scales out": 6,
    # DescribeServices (tags: URLs, target group) + DescribeTargetHealth; the probe is HTTP, not AWS.
    "traffic-gate: ECS hook, one round": 2,
    # DescribeAlarms x2, DescribeServices x2, ListResourceRecordSets, UpdateService, DescribeServices
    # (running?), ChangeResourceRecordSets, GetChange, TagResource (freeze), TagResource (flip), Publish.
    "region-failover: primary alarm fails over": 12,
}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]


# ---------------------------------------------------------------- a minimal Lambda Runtime API

class Runtime:
    """Serves /2018-06-01/runtime/... to one function process at a time."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()
        self.done: dict = {}
        self.ready_at = None
        runtime = self

        class Handler(QuietHandler):
            def do_GET(self):
                if runtime.ready_at is None:
                    runtime.ready_at = time.perf_counter()
                item = runtime.events.get()
                if item is None:
                    return
                request_id, payload, record = item
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 300_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:bench")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                record["sent"] = time.perf_counter()
                self.wfile.write(body)
                self.wfile.flush()

            def do_POST(self):
                received = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                parts = self.path.split("/")
                if "invocation" in parts:
                    request_id = parts[parts.index("invocation") + 1]
                    record = runtime.done.get(request_id)
                    if record is not None:
                        record.update(received=received, body=body, error=parts[-1] == "error")
                        record["event"].set()

        self.port = free_port()
        self.server = QuietServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, payload: dict, timeout: float = 120) -> dict:
        request_id = str(uuid.uuid4())
        record = {"event": threading.Event()}
        self.done[request_id] = record
        self.events.put((request_id, payload, record))
        if not record["event"].wait(timeout):
            raise RuntimeError(f"no response within {timeout} s for {json.dumps(payload)[:200]}")
        if record["error"]:
            raise RuntimeError(f"the function answered an error: {record['body'][:500]!r}")
        record["ms"] = (record["received"] - record["sent"]) * 1000
        return record

    def close(self):
        self.events.put(None)
        self.server.shutdown()


class Function:
    """One release binary, started against a fresh Runtime API; peak RSS read when it ends."""

    def __init__(self, name: str, env: dict, proxy_port: int):
        self.runtime = Runtime()
        lambda_env = {
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.runtime.port}",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": "WARN",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy_port}",
            "PATH": os.environ.get("PATH", ""),
        }
        self.started = time.perf_counter()
        self.process = subprocess.Popen([str(RELEASE / name)], env={**CREDS, **lambda_env, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=False)

    def ready_ms(self, timeout: float = 30) -> float:
        deadline = time.monotonic() + timeout
        while self.runtime.ready_at is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.process.args[0]} never polled for an event (exit {self.process.poll()})")
            time.sleep(0.0002)
        return (self.runtime.ready_at - self.started) * 1000

    def stop(self) -> float:
        """Ends the process; its peak RSS in MB. Read from /proc (VmHWM): wait4's ru_maxrss would
        carry the high-water mark of the Python process it was spawned from."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
        self.process.kill()
        self.process.wait()
        self.runtime.close()
        return peak_kb / 1024


# ---------------------------------------------------------------- the scenarios

class Aws:
    """Seeding straight into moto (not through the proxy: seeding is not what is measured)."""

    def __init__(self, moto_port: int, region: str = REGION):
        import boto3

        session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=region)
        endpoint = f"http://127.0.0.1:{moto_port}"
        for name in ("ecs", "codedeploy", "sns", "sqs", "cloudwatch", "elbv2", "route53", "ecr"):
            setattr(self, name, session.client(name, endpoint_url=endpoint))

    def image(self, repository: str, tag: str, image_digest: str) -> None:
        """The pushed image in ECR, as after a real push: the rollout asks ECR when it was pushed."""
        try:
            self.ecr.create_repository(repositoryName=repository)
        except self.ecr.exceptions.RepositoryAlreadyExistsException:
            pass
        put_image(self.ecr, repository, tag, image_digest)

    def service(self, cluster: str, name: str, desired: int = 2, tags=()) -> str:
        self.ecs.create_cluster(clusterName=cluster)
        td = self.ecs.register_task_definition(
            family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "web", "image": f"{REGISTRY}/shop/web:v0", "essential": True,
                                   "environment": [{"name": "MODE", "value": "bench"}], "portMappings": [{"containerPort": 8080}]}],
        )["taskDefinition"]["taskDefinitionArn"]
        arn = self.ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=desired,
                                      tags=[{"key": k, "value": v} for k, v in tags])["service"]["serviceArn"]
        self.ecs.update_service(cluster=cluster, service=name, desiredCount=desired)  # moto: tasks "running"
        return arn

    def alarm(self, name: str, above: bool, state: str, cluster="bench", service="web"):
        self.cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="AWS/ECS", MetricName="CPUUtilization", Statistic="Average", Period=60, EvaluationPeriods=1,
            Threshold=70.0 if above else 30.0, ComparisonOperator="GreaterThanThreshold" if above else "LessThanThreshold",
            Dimensions=[{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": service}],
        )
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="bench",
                                        StateReasonData=json.dumps({"recentDatapoints": [95.0 if above else 10.0]}))


def event(name: str) -> dict:
    return json.loads((ROOT / "events" / name).read_text())


def digest() -> str:
    return "sha256:" + uuid.uuid4().hex + uuid.uuid4().hex


# Where pushes land before their event is delivered (set once moto is up; seeding is not measured).
PUSHED_TO: list = []


def push(tag="v1", repository="shop/web", fixed_digest=None) -> dict:
    e = event("ecr-push-tagged.json")
    e["id"] = str(uuid.uuid4())
    e["detail"].update({"image-tag": tag, "repository-name": repository, "image-digest": fixed_digest or digest()})
    for registry in PUSHED_TO:
        registry.image(repository, tag, e["detail"]["image-digest"])
    return e


def fresh_id(e: dict) -> dict:
    e = json.loads(json.dumps(e))
    e["id"] = str(uuid.uuid4())
    return e


class HealthServer:
    """The new revision, for the traffic gate: answers 200."""

    def __init__(self):
        class Handler(QuietHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.port = serve(Handler).server_address[1]


def setups(moto: int, health: HealthServer):
    """Per function: (env, main event factory, API-call scenarios) after seeding moto."""
    aws = Aws(moto)
    west = Aws(moto, STANDBY)
    PUSHED_TO.append(aws)
    topic = aws.sns.create_topic(Name="deckhand")["TopicArn"]
    aws.service("bench", "web", tags=[("deckhand:track", "prefix:v"), ("deckhand:scale", "on"), ("deckhand:scale-out-cooldown", "0"),
                                      ("deckhand:scale-max", "100000"), ("deckhand:gate-test-url", f"http://127.0.0.1:{health.port}")])
    group = aws.elbv2.create_target_group(Name="bench-green", TargetType="lambda")["TargetGroups"][0]["TargetGroupArn"]
    aws.elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:green-{i}"} for i in range(2)])
    aws.ecs.tag_resource(resourceArn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/bench/web", tags=[{"key": "deckhand:gate-target-group", "value": group}])
    aws.alarm("deckhand-scale-bench-web-cpu-high", True, "ALARM")
    deployment = aws.ecs.describe_services(cluster="bench", services=["web"])["services"][0]["deployments"][0]["id"]
    # Region failover: primary and standby services, health alarms, failover records.
    aws.service("edge", "api", desired=4)
    west.service("edge", "api", desired=2)
    aws.alarm("health-primary", False, "OK", "edge", "api")
    west.alarm("health-standby", False, "OK", "edge", "api")
    zone = aws.route53.create_hosted_zone(Name="example.com", CallerReference="bench")["HostedZone"]["Id"]
    aws.route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": "api.example.com", "Type": "A", "SetIdentifier": region, "Failover": role,
                                                   "TTL": 60, "ResourceRecords": [{"Value": ip}]}}
        for region, role, ip in ((REGION, "PRIMARY", "192.0.2.10"), (STANDBY, "SECONDARY", "198.51.100.20"))]})

    ecs_failed = event("ecs-deployment-failed.json")
    ecs_failed["resources"] = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/bench/web"]
    ecs_failed["detail"]["deploymentId"] = deployment
    alarm = event("cloudwatch-alarm-scale-out.json")
    alarm["detail"]["alarmName"] = "deckhand-scale-bench-web-cpu-high"
    hook = event("ecs-hook-test-traffic.json")
    hook["executionDetails"]["serviceArn"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/bench/web"
    failover_env = {"PRIMARY_HEALTH_ALARM": "health-primary", "STANDBY_HEALTH_ALARM": "health-standby", "SERVICES": "edge/api",
                    "HOSTED_ZONE_ID": zone.split("/")[-1], "RECORD_NAME": "api.example.com", "SCALE_WAIT_SECONDS": "5", "DNS_WAIT_SECONDS": "5"}
    primary_alarm = event("failover-primary-alarm.json")
    primary_alarm["detail"]["alarmName"] = "health-primary"

    def fail_primary():
        aws.alarm("health-primary", False, "ALARM", "edge", "api")

    base = {"NOTIFY_TOPIC_ARN": topic}
    duplicate = push("v9", fixed_digest=digest())
    return {
        "image-pushed": ({**base, "CLUSTERS": "bench"}, lambda: push(f"v{uuid.uuid4().hex[:6]}"), [
            ("image-pushed: push deploys one service", lambda: push("v1"), None),
            ("image-pushed: push matches nothing", lambda: push("nightly"), None),
            ("image-pushed: duplicate push", lambda: duplicate, lambda run: run(duplicate)),
        ]),
        "build-finished": (base, lambda: fresh_id(event("codebuild-failed.json")), [
            ("build-finished: failed build", lambda: fresh_id(event("codebuild-failed.json")), None)]),
        "deploy-events": ({**base, "CLUSTERS": "bench"}, lambda: fresh_id(ecs_failed), [
            ("deploy-events: ECS deployment failed", lambda: fresh_id(ecs_failed), None)]),
        "scaler": ({**base, "CLUSTERS": "bench"}, lambda: fresh_id(alarm), [("scaler: alarm scales out", lambda: fresh_id(alarm), None)]),
        "traffic-gate": ({**base, "GATE_TIMEOUT_MS": "2000"}, lambda: dict(hook), [("traffic-gate: ECS hook, one round", lambda: dict(hook), None)]),
        # Warm: dry runs (observe + plan) keep the state; the API count is a real failover.
        "region-failover": ({**base, **failover_env}, lambda: {"action": "failover", "dryRun": True},
                            [("region-failover: primary alarm fails over", lambda: fresh_id(primary_alarm), lambda run: fail_primary())]),
    }


# ---------------------------------------------------------------- measuring

def measure_function(name, env, make_event, proxy: Proxy, starts: int, invokes: int) -> dict:
    cold, first, rss = [], [], []
    for _ in range(starts):
        function = Function(name, env, proxy.port)
        try:
            cold.append(function.ready_ms())
            first.append(function.runtime.invoke(make_event())["ms"])
        finally:
            rss.append(function.stop())
    function = Function(name, env, proxy.port)
    warm, aws_ms = [], []
    try:
        function.ready_ms()
        function.runtime.invoke(make_event())
        cpu_before = cpu_seconds(function.process.pid)
        for _ in range(invokes):
            payload = make_event()
            proxy.reset()
            warm.append(function.runtime.invoke(payload)["ms"])
            aws_ms.append(proxy.stats()["ms"])
        cpu_ms = (cpu_seconds(function.process.pid) - cpu_before) * 1000 / invokes
    finally:
        rss.append(function.stop())
    overhead = [w - a for w, a in zip(warm, aws_ms)]
    binary = RELEASE / name
    zipped = OUT / f"{name}.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(binary, "bootstrap")
    return {
        "cold_start_ms": {"median": statistics.median(cold), "p95": pct(cold, 95), "n": len(cold)},
        "first_invoke_ms": {"median": statistics.median(first), "p95": pct(first, 95)},
        "warm_invoke_ms": {"median": statistics.median(warm), "p99": pct(warm, 99), "n": len(warm)},
        "local_aws_ms": {"median": statistics.median(aws_ms)},
        "overhead_ms": {"median": statistics.median(overhead), "p99": pct(overhead, 99)},
        # The function's own CPU time per warm invoke (user + system, from /proc): what of the
        # overhead is computation rather than waiting on sockets.
        "cpu_ms_per_invoke": cpu_ms,
        "peak_rss_mb": max(rss),
        "binary_mb": binary.stat().st_size / 1e6,
        "zip_mb": zipped.stat().st_size / 1e6,
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_calls(name, env, scenarios, proxy: Proxy) -> list:
    rows = []
    function = Function(name, env, proxy.port)
    try:
        function.ready_ms()
        run = function.runtime.invoke
        for label, make_event, prepare in scenarios:
            if prepare is not None:
                prepare(run)
            proxy.reset()
            run(make_event())
            stats = proxy.stats()
            rows.append({"scenario": label, "calls": stats["calls"], "minimum": MINIMUM_CALLS[label], "ops": stats["ops"]})
    finally:
        function.stop()
    return rows


PEER_WARM = """
import json, sys, time
from ecs_deploy.cli import deploy
args, n = json.loads(sys.argv[1]), int(sys.argv[2])
times = []
for i in range(n + 1):
    started = time.perf_counter()
    try:
        deploy.main([a.replace("DIGEST", "%064x" % (i + 1)) for a in args], standalone_mode=False)
    except SystemExit:
        pass
    times.append((time.perf_counter() - started) * 1000)
print(json.dumps(times[1:]))
"""


def measure_peer(moto: int, proxy: Proxy, runs: int, warm_runs: int) -> dict:
    aws = Aws(moto)
    aws.service("peer", "web")
    env = {**os.environ, **CREDS, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"}
    args = ["deploy", "peer", "web", "--image", "web", f"{REGISTRY}/shop/web@sha256:DIGEST", "--timeout", "-1", "--region", REGION]
    cold, rss, calls = [], [], []
    for i in range(runs):
        run_args = [a.replace("DIGEST", uuid.uuid4().hex * 2) for a in args]
        proxy.reset()
        started = time.perf_counter()
        process = subprocess.Popen([str(VENV_BIN / "ecs"), *run_args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak_kb = 0
        while process.poll() is None:
            try:
                status_text = Path(f"/proc/{process.pid}/status").read_text()
                peak_kb = max(peak_kb, int(next(l.split()[1] for l in status_text.splitlines() if l.startswith("VmHWM:"))))
            except (OSError, StopIteration):
                pass
            time.sleep(0.002)
        status = process.returncode
        cold.append((time.perf_counter() - started) * 1000)
        rss.append(peak_kb / 1024)
        calls.append(proxy.stats()["calls"])
        if status != 0:
            sys.exit(f"ecs deploy failed (status {status}); run it by hand: {' '.join(run_args)}")
    proxy.reset()
    out = subprocess.run([str(VENV_BIN / "python"), "-c", PEER_WARM, json.dumps(args[1:]), str(warm_runs)],
                         env=env, capture_output=True, text=True, check=True)
    warm = json.loads(out.stdout.strip().splitlines()[-1])
    warm_calls = proxy.stats()["calls"] / (warm_runs + 1)
    return {
        "cold_ms": {"median": statistics.median(cold), "p95": pct(cold, 95), "n": len(cold)},
        "warm_ms": {"median": statistics.median(warm), "p99": pct(warm, 99), "n": len(warm)},
        "calls_per_deploy": statistics.median(calls),
        "calls_per_deploy_warm": warm_calls,
        "peak_rss_mb": max(rss),
    }


def duplicate_stacks() -> dict:
    out = subprocess.run(["cargo", "tree", "--workspace", "-d", "-e", "normal", "--prefix", "none"], cwd=ROOT, capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("hyper", "rustls", "h2", "http", "ring"):
            found.setdefault(parts[0], set()).add(parts[1])
    return {name: sorted(versions) for name, versions in found.items() if len(versions) > 1}


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, {rustc}"


# ---------------------------------------------------------------- report

def report(results: dict) -> str:
    t = TARGETS
    lines = [f"Machine: {results['machine']}", "",
             "| function | cold start median / p95 | first invoke | warm median / p99 | local AWS | own overhead median / p99 | CPU per invoke | peak RSS | binary | zip |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results["functions"].items():
        lines.append(
            f"| {name} | {r['cold_start_ms']['median']:.1f} / {r['cold_start_ms']['p95']:.1f} ms ({r['cold_start_ms']['median'] / t['cold_ms']:.2f}x target) "
            f"| {r['first_invoke_ms']['median']:.1f} ms | {r['warm_invoke_ms']['median']:.2f} / {r['warm_invoke_ms']['p99']:.2f} ms "
            f"| {r['local_aws_ms']['median']:.2f} ms | {r['overhead_ms']['median']:.2f} / {r['overhead_ms']['p99']:.2f} ms ({r['overhead_ms']['median'] / t['overhead_ms']:.2f}x) "
            f"| {r['cpu_ms_per_invoke']:.2f} ms "
            f"| {r['peak_rss_mb']:.1f} MB ({r['peak_rss_mb'] / t['rss_mb']:.2f}x) | {r['binary_mb']:.1f} MB ({r['binary_mb'] / t['binary_mb']:.2f}x) "
            f"| {r['zip_mb']:.1f} MB ({r['zip_mb'] / t['zip_mb']:.2f}x) |")
    lines += ["", "| scenario | AWS calls | minimum | distance | calls |", "|---|---|---|---|---|"]
    for row in results["calls"]:
        ops = ", ".join(f"{op.split(':')[1]}{' x' + str(n) if n > 1 else ''}" for op, n in sorted(row["ops"].items()))
        lines.append(f"| {row['scenario']} | {row['calls']} | {row['minimum']} | {row['calls'] - row['minimum']:+d} | {ops} |")
    peer, ours = results["peer"], results["functions"]["image-pushed"]
    ours_cold = ours["cold_start_ms"]["median"] + ours["first_invoke_ms"]["median"]
    deploy_calls = next(r["calls"] for r in results["calls"] if r["scenario"].endswith("deploys one service"))
    lines += ["", "Same job (new image -> new task definition -> update service), same local AWS, same run:", "",
              "| | cold (start to done) | warm | AWS calls | peak RSS |", "|---|---|---|---|---|",
              f"| ecs-deploy 1.17 (Python, boto3) | {peer['cold_ms']['median']:.0f} ms | {peer['warm_ms']['median']:.1f} ms | {peer['calls_per_deploy']:.0f} | {peer['peak_rss_mb']:.1f} MB |",
              f"| Deckhand image-pushed | {ours_cold:.1f} ms | {ours['warm_invoke_ms']['median']:.1f} ms | {deploy_calls} | {ours['peak_rss_mb']:.1f} MB |",
              f"| ratio | {peer['cold_ms']['median'] / ours_cold:.0f}x faster | {peer['warm_ms']['median'] / ours['warm_invoke_ms']['median']:.1f}x faster "
              f"| {peer['calls_per_deploy'] - deploy_calls:+.0f} | {peer['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x less |",
              "", "Duplicate HTTP/TLS crates (`cargo tree -d -e normal`): "
              + (", ".join(f"{k} {' & '.join(v)}" for k, v in results["duplicate_stacks"].items()) or "none")]
    if "fleet" in results:
        import bench_fleet

        lines += ["", bench_fleet.table(results["fleet"])]
    return "\n".join(lines)


def chart(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["functions"])
    rows = 2 if "fleet" in results else 1
    fig, axes = plt.subplots(rows, 2, figsize=(13, 4.8 * rows), squeeze=False)
    (left, right) = axes[0]
    if "fleet" in results:
        import bench_fleet

        bench_fleet.draw(results["fleet"], *axes[1])
    cold = [results["functions"][n]["cold_start_ms"]["median"] for n in names]
    over = [results["functions"][n]["overhead_ms"]["median"] for n in names]
    x = range(len(names))
    left.bar([i - 0.2 for i in x], cold, 0.4, label="cold start (median)")
    left.bar([i + 0.2 for i in x], over, 0.4, label="warm overhead beyond local AWS (median)")
    left.axhline(TARGETS["cold_ms"], color="tab:blue", linestyle="--", linewidth=1, label="cold-start target 10 ms")
    left.axhline(TARGETS["overhead_ms"], color="tab:orange", linestyle=":", linewidth=1, label="overhead target 2 ms")
    left.set_xticks(list(x), names, rotation=20, ha="right")
    left.set_ylabel("ms")
    left.set_title("Deckhand functions")
    left.legend(fontsize=8)
    peer, ours = results["peer"], results["functions"]["image-pushed"]
    labels = ["cold", "warm"]
    peer_ms = [peer["cold_ms"]["median"], peer["warm_ms"]["median"]]
    ours_ms = [ours["cold_start_ms"]["median"] + ours["first_invoke_ms"]["median"], ours["warm_invoke_ms"]["median"]]
    right.bar([i - 0.2 for i in range(2)], peer_ms, 0.4, label="ecs-deploy", color="tab:gray")
    right.bar([i + 0.2 for i in range(2)], ours_ms, 0.4, label="image-pushed", color="tab:green")
    right.set_yscale("log")
    right.set_xticks(range(2), labels)
    right.set_ylabel("ms per deploy (log)")
    right.set_title("Same job: new image -> revision -> update service")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "bench.png", dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy", nargs=2, type=int, metavar=("LISTEN", "UPSTREAM"), help=argparse.SUPPRESS)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--invokes", type=int, default=200)
    parser.add_argument("--peer-runs", type=int, default=10)
    args = parser.parse_args()
    if args.proxy:
        return run_proxy(*args.proxy)
    OUT.mkdir(parents=True, exist_ok=True)
    moto_port, proxy_port = free_port(), free_port()
    env = {**os.environ, **CREDS}
    moto = subprocess.Popen([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy_process = subprocess.Popen([sys.executable, __file__, "--proxy", str(proxy_port), str(moto_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    health = HealthServer()
    try:
        wait_for_port(moto_port, "moto_server", moto)
        wait_for_port(proxy_port, "the counting proxy", proxy_process)
        proxy = Proxy(proxy_port)
        plan = setups(moto_port, health)
        results = {"machine": machine(), "functions": {}, "calls": []}
        for name, (fn_env, make_event, scenarios) in plan.items():
            print(f"measuring {name} ...", flush=True)
            results["calls"] += count_calls(name, fn_env, scenarios, proxy)
            results["functions"][name] = measure_function(name, fn_env, make_event, proxy, args.starts, args.invokes)
        print("measuring the peer (ecs-deploy) ...", flush=True)
        results["peer"] = measure_peer(moto_port, proxy, args.peer_runs, 20)
        print("measuring the fleet (1, 100, 1,000 services) ...", flush=True)
        import bench_fleet

        results["fleet"] = bench_fleet.run(moto_port, proxy)
        results["duplicate_stacks"] = duplicate_stacks()
        results["targets"] = TARGETS
        (OUT / "results.json").write_text(json.dumps(results, indent=2))
        table = report(results)
        (OUT / "results.md").write_text(table + "\n")
        chart(results)
        print("\n" + table + f"\n\nWritten: {OUT / 'results.json'}, {OUT / 'results.md'}, {OUT / 'bench.png'}")
    finally:
        for process in (proxy_process, moto):
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
