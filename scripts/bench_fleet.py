"""`make bench`, fleet part (issue 17): what a push costs as the fleet grows, beside the
scan-every-cluster baseline (image-pushed as of commit ac17a2f: ListServices + DescribeServices of
every service of every cluster in CLUSTERS, on every push).

Fleets of 1, 100 and 1,000 services across 1, 10 and 20 clusters, each in a region of its own in
moto (the tag index answers per region), every service tracking pushes (`deckhand:track`): the
index's worst case. Per fleet, a push matching 1 service, 10 services and none, each in a fresh
process (cold) and then 5 more in it (warm); every matching push deploys (a new digest each time).
Then a burst of 20 pushes in a row on a warm function, each deploying another service. Seeded
straight into moto, not through the counting proxy: seeding is not what is measured.

`run(moto_port, proxy)` returns the `fleet` part of results.json; `table` and `draw` report it.
"""

import json
import math
import os
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import ACCOUNT, RELEASE, ROOT, Function, event, pct
from local_lambda import Proxy, put_image

BASELINE = Path(os.environ.get("DECKHAND_BASELINE_BINARY", ROOT / "target" / "bench-baseline" / "image-pushed"))
BASELINE_COMMIT = "ac17a2f"
# (services, clusters, region): one region per fleet, so that each index lists its fleet only.
FLEETS = [(1, 1, "eu-west-1"), (100, 10, "eu-west-2"), (1000, 20, "eu-central-1")]
MATCHED = [1, 10, 0]
WARM_PUSHES = 5
BURST = 20
# Services 0..10 are the ones pushes match (`one-`: service 0; `ten-`: services 1..10); the burst
# deploys services 11..30, one each; every other service tracks a prefix of its own.
TEN = range(1, 11)
BURSTED = range(11, 11 + BURST)


def policy(i: int) -> tuple[str, str]:
    """Service i's `deckhand:track` and the ECR repository its container runs from."""
    if i == 0:
        return "prefix:one-", "fleet/one"
    if i in TEN:
        return "prefix:ten-", "fleet/ten"
    return f"prefix:svc{i}-", "fleet/app"


def family(i: int) -> str:
    """A revision family of its own for each service a push deploys; the rest share one."""
    return f"fleet-{i}" if i < 11 + BURST else "fleet-shared"


def minimum(services: int, clusters: int, matched: int, cold: bool) -> dict:
    """The fewest calls a push matching `matched` services can be done in, by term. Cold, the index
    is read whole (AWS pages 100 resources): nothing else tells which services track a tag; warm,
    within 10 s of that read, the function answers from it (image_pushed/tracked_index.rs). Only the
    matched are described, per cluster, 10 a call; cold, each one's revision once. A deployment
    asks ECR when the pushed and the running image were pushed (once each), and per service: the
    family's newest revision (a retry reuses its own), RegisterTaskDefinition, UpdateService,
    Publish, and the `deckhand:announced` marker (Reliability in the README)."""
    spread = [sum(1 for i in matching(matched, services) if i % clusters == c) for c in range(clusters)]
    terms = {
        "index": math.ceil(services / 100) if cold else 0,
        "describe_services": sum(math.ceil(n / 10) for n in spread),
        "describe_task_definition": matched if cold else 0,
        "describe_images": 2 if matched else 0,
        "per_deployed_service": 5 * matched,
    }
    return {"total": sum(terms.values()), **terms}


def matching(matched: int, services: int) -> list:
    return {1: [0], 10: list(TEN), 0: []}[matched] if matched <= services else []


class Fleet:
    """One fleet seeded in its region of moto: clusters, ECR repositories, services, a topic."""

    def __init__(self, moto_port: int, services: int, clusters: int, region: str):
        import boto3

        self.services, self.clusters, self.region = services, clusters, region
        self.registry = f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com"
        session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=region)
        endpoint = f"http://127.0.0.1:{moto_port}"
        self.ecs, self.ecr, sns, index = (session.client(name, endpoint_url=endpoint)
                                          for name in ("ecs", "ecr", "sns", "resourcegroupstaggingapi"))
        self.topic = sns.create_topic(Name="deckhand")["TopicArn"]
        self.cluster_names = [f"c{c:02d}" for c in range(clusters)]
        for name in self.cluster_names:
            self.ecs.create_cluster(clusterName=name)
        for repository in ("fleet/one", "fleet/ten", "fleet/app"):
            self.ecr.create_repository(repositoryName=repository)
            self.image(repository, "v0")
        families = {}
        for i in range(services):
            families.setdefault(family(i), policy(i)[1])
        revisions = {name: self.register(name, repository) for name, repository in families.items()}
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: self.create(i, revisions[family(i)]), range(services)))
        # moto builds a region's backends on their first call: here, not in the first measured push.
        index.get_resources(ResourceTypeFilters=["ecs:service"], ResourcesPerPage=1)
        self.ecr.describe_images(repositoryName="fleet/one")
        sns.publish(TopicArn=self.topic, Message="warm-up")

    def register(self, name: str, repository: str) -> str:
        container = {"name": "app", "image": f"{self.registry}/{repository}:v0", "essential": True, "memory": 256}
        return self.ecs.register_task_definition(family=name, containerDefinitions=[container])["taskDefinition"]["taskDefinitionArn"]

    def create(self, i: int, task_definition: str) -> None:
        track, _ = policy(i)
        self.ecs.create_service(cluster=self.cluster_names[i % self.clusters], serviceName=f"s{i}", taskDefinition=task_definition,
                                desiredCount=1, tags=[{"key": "deckhand:track", "value": track}])

    def image(self, repository: str, tag: str) -> str:
        """A new image in ECR, as after a real push; its digest."""
        digest = "sha256:" + uuid.uuid4().hex + uuid.uuid4().hex
        put_image(self.ecr, repository, tag, digest)
        return digest

    def push(self, matched: int) -> dict:
        """The ECR event of a new image matching `matched` services (in ECR first)."""
        repository, prefix = {1: ("fleet/one", "one-"), 10: ("fleet/ten", "ten-"), 0: ("fleet/app", "nomatch-")}[matched]
        return self.push_of(repository, f"{prefix}{uuid.uuid4().hex[:8]}")

    def push_of(self, repository: str, tag: str) -> dict:
        e = event("ecr-push-tagged.json")
        e.update(id=str(uuid.uuid4()), region=self.region)
        e["detail"].update({"repository-name": repository, "image-tag": tag, "image-digest": self.image(repository, tag)})
        return e

    def env(self) -> dict:
        return {"CLUSTERS": ",".join(self.cluster_names), "NOTIFY_TOPIC_ARN": self.topic, "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region}


def start(binary: Path | None, fleet: Fleet, proxy: Proxy) -> Function:
    """image-pushed for `fleet`: this build's, or `binary` (Function runs RELEASE / name, so a
    path relative to RELEASE names another binary)."""
    name = "image-pushed" if binary is None else os.path.relpath(binary, RELEASE)
    function = Function(name, fleet.env(), proxy.port)
    function.ready_ms()
    return function


def invoke(function: Function, proxy: Proxy, payload: dict) -> dict:
    proxy.reset()
    ms = function.runtime.invoke(payload)["ms"]
    stats = proxy.stats()
    return {"calls": stats["calls"], "latency_ms": ms, "aws_ms": stats["ms"], "ops": stats["ops"]}


def rows_of(code: str, binary: Path, fleet: Fleet, matched: int, proxy: Proxy) -> list:
    """A fresh process: its first push (cold), then `WARM_PUSHES` more (warm)."""
    function = start(binary, fleet, proxy)
    try:
        cold = invoke(function, proxy, fleet.push(matched))
        warm = [invoke(function, proxy, fleet.push(matched)) for _ in range(WARM_PUSHES)]
    finally:
        function.stop()
    base = {"code": code, "services": fleet.services, "clusters": fleet.clusters, "matched": matched}
    rows = [{**base, "phase": "cold", **cold}]
    latencies = [w["latency_ms"] for w in warm]
    rows.append({**base, "phase": "warm", "calls": statistics.median(w["calls"] for w in warm), "latency_ms": statistics.median(latencies),
                 "latency_p95_ms": pct(latencies, 95), "aws_ms": statistics.median(w["aws_ms"] for w in warm), "ops": warm[-1]["ops"]})
    for row in rows:
        if code == "deckhand":
            row["minimum"] = minimum(fleet.services, fleet.clusters, matched, row["phase"] == "cold")
    return rows


def burst(code: str, binary: Path, fleet: Fleet, proxy: Proxy) -> dict:
    """20 pushes in a row on a warm function, each deploying another service."""
    function = start(binary, fleet, proxy)
    try:
        function.runtime.invoke(fleet.push(0))
        pushes = [fleet.push_of("fleet/app", f"svc{i}-{uuid.uuid4().hex[:8]}") for i in BURSTED]
        proxy.reset()
        started = time.perf_counter()
        for payload in pushes:
            function.runtime.invoke(payload)
        seconds = time.perf_counter() - started
        stats = proxy.stats()
    finally:
        function.stop()
    describes = sum(n for op, n in stats["ops"].items() if op.split(":")[1] in ("ListServices", "DescribeServices"))
    return {"code": code, "services": fleet.services, "clusters": fleet.clusters, "pushes": BURST, "calls": stats["calls"],
            "ecs_list_and_describe_services": describes, "seconds": seconds, "aws_ms": stats["ms"], "ops": stats["ops"]}


def run(moto_port: int, proxy: Proxy) -> dict:
    codes = [("deckhand", None)] + ([("baseline", BASELINE)] if BASELINE.exists() else [])
    if len(codes) == 1:
        print(f"   (no baseline binary at {BASELINE}: the fleet part measures Deckhand alone)", flush=True)
    rows, bursts = [], []
    for services, clusters, region in FLEETS:
        started = time.perf_counter()
        fleet = Fleet(moto_port, services, clusters, region)
        print(f"   fleet of {services} services in {clusters} clusters seeded in {time.perf_counter() - started:.1f} s", flush=True)
        for code, binary in codes:
            for matched in MATCHED:
                if matched <= services:
                    rows += rows_of(code, binary, fleet, matched, proxy)
            if services > max(BURSTED):
                bursts.append(burst(code, binary, fleet, proxy))
    return {"baseline": f"image-pushed as of commit {BASELINE_COMMIT}" if len(codes) > 1 else None, "rows": rows, "bursts": bursts}


# ---------------------------------------------------------------- report

def table(fleet: dict) -> str:
    lines = ["Fleet: what a push costs as the fleet grows (every service tracked; warm = median of 5 pushes in a warm process)", "",
             "| services / clusters | push matches | phase | Deckhand calls | minimum | latency | local AWS | baseline calls | baseline latency |",
             "|---|---|---|---|---|---|---|---|---|"]
    baseline = {(r["services"], r["matched"], r["phase"]): r for r in fleet["rows"] if r["code"] == "baseline"}
    for r in (r for r in fleet["rows"] if r["code"] == "deckhand"):
        least = r["minimum"]["total"]
        b = baseline.get((r["services"], r["matched"], r["phase"]))
        theirs = f"{b['calls']:.0f} | {b['latency_ms']:.0f} ms" if b else "- | -"
        lines.append(f"| {r['services']} / {r['clusters']} | {r['matched']} | {r['phase']} | {r['calls']:.0f} | {least} ({r['calls'] - least:+.0f}) "
                     f"| {r['latency_ms']:.0f} ms | {r['aws_ms']:.0f} ms | {theirs} |")
    for b in fleet["bursts"]:
        lines.append(f"\nBurst ({b['code']}): {b['pushes']} pushes in a row, {b['services']} services: {b['calls']} calls "
                     f"({b['ecs_list_and_describe_services']} ListServices/DescribeServices) in {b['seconds']:.1f} s")
    return "\n".join(lines)


def draw(fleet: dict, calls_axis, latency_axis) -> None:
    """Calls and warm latency against fleet size, per number of services matched: Deckhand solid,
    its minimum dotted, the baseline dashed."""
    styles = {"deckhand": ("-", "Deckhand"), "baseline": ("--", f"baseline ({BASELINE_COMMIT})")}
    colors = {1: "tab:green", 10: "tab:blue", 0: "tab:gray"}
    for code, (line, label) in styles.items():
        for matched in MATCHED:
            warm = sorted((r for r in fleet["rows"] if r["code"] == code and r["matched"] == matched and r["phase"] == "warm"),
                          key=lambda r: r["services"])
            if not warm:
                continue
            sizes = [r["services"] for r in warm]
            name = f"{label}, push matches {matched}"
            calls_axis.plot(sizes, [r["calls"] for r in warm], line, marker="o", color=colors[matched], label=name)
            if code == "deckhand":
                least = [r["minimum"]["total"] for r in warm]
                calls_axis.plot(sizes, least, ":", color=colors[matched], linewidth=1, label=f"minimum, push matches {matched}")
            latency_axis.plot(sizes, [r["latency_ms"] for r in warm], line, marker="o", color=colors[matched], label=name)
    for axis, title, unit in ((calls_axis, "AWS calls per push (warm)", "calls"), (latency_axis, "Latency per push (warm)", "ms")):
        axis.set_xscale("log")
        if axis is calls_axis:
            # A warm push that matches nothing makes no call, which a log scale cannot draw.
            axis.set_yscale("symlog", linthresh=1)
            axis.set_ylim(bottom=0)
        else:
            axis.set_yscale("log")
        axis.set_xlabel("tracked services in the fleet")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.legend(fontsize=7)


def main() -> None:
    """The fleet part alone: its own moto server and counting proxy; prints the table."""
    import subprocess
    import sys

    from local_lambda import free_port, wait_for_port

    moto_port, proxy_port = free_port(), free_port()
    moto = subprocess.Popen([str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "bench.py"), "--proxy", str(proxy_port), str(moto_port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(moto_port, "moto_server", moto)
        wait_for_port(proxy_port, "the counting proxy", proxy)
        fleet = run(moto_port, Proxy(proxy_port))
        (ROOT / "target" / "bench").mkdir(parents=True, exist_ok=True)
        (ROOT / "target" / "bench" / "fleet.json").write_text(json.dumps(fleet, indent=2))
        print(table(fleet))
    finally:
        for process in (proxy, moto):
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
