"""`make demo`: what Deckhand is for, told on this machine in about 40 seconds.

All six functions run against the local AWS (moto server), wired as template.yaml wires them: the
template's EventBridge rules are created in moto (an SQS queue per function as their target),
every event is put on the bus, and what a rule matched is handed to the function the template
names, each its own binary under `cargo lambda watch`'s runtime emulator with the template's
environment. Hooks, schedules and operators invoke a function directly, as AWS does. The events
are the samples in events/, with this run's ids filled in. The story:

1. a good image pushed: a rolling and a blue/green deployment, the gate probing the new revision
   and passing it, the deployments' state changes told;
2. a bad image pushed: the gate fails it, CodeDeploy rolls back, a critical notification;
3. a failed build: the alert with the failed phase and the log link;
4. load: a CPU alarm scales web out, the scheduler's re-check keeps on to the maximum, the alarm
   clears, scale-in waits for its cooldown;
5. a regional outage: the standby pre-scaled, DNS moved, the primary frozen and a deployment
   there refused by the gate; the primary recovers and an operator fails back;
6. what changed in AWS, every notification, and the timeline (target/demo/timeline.html).

Exits non-zero when any step did not do what it announced.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import demo_scene as scene
from demo_chapters import CHAPTERS, GOOD
from demo_stage import PRIMARY, STANDBY, Stage
from demo_story import Story
from demo_timeline import Timeline

ROOT = Path(__file__).resolve().parent.parent
RUNNING = "sha256:" + "0" * 63 + "1"
# What the demo changes from the template's values, so that the story fits in a minute.
OVERRIDES = {
    "TrafficGateFunction": {"GATE_INTERVAL_MS": "200"},
    "RegionFailoverFunction": {"STABILIZATION_SECONDS": "3"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description="Deckhand's story on the local AWS.")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml", help="the SAM template whose rules and functions to run")
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "demo", help="where the timeline is written")
    args = parser.parse_args()
    template, out = args.template, args.out
    logs = Path(tempfile.mkdtemp(prefix="deckhand-demo-"))
    started = time.time()
    with Stage(logs, OVERRIDES) as stage:
        print("== The local AWS: moto server, reached through a proxy that logs each call")
        stage.start_aws()
        world = scene.seed(stage, RUNNING, GOOD)
        print(f"   {PRIMARY}: cluster prod: web (ECS rolling, tracks semver:^1.4, scales 2-4), checkout (CodeDeploy blue/green,\n"
              f"   tracks prefix:v1., the gate probes {stage.revision.url}/health), legacy (not opted in); all run shop/web:v1.4.1")
        print(f"   {STANDBY}: the same cluster at 1 task each. Route 53: {scene.RECORD} fails over {PRIMARY} -> {STANDBY}")
        parameters = {"Architecture": "x86_64", "Clusters": scene.CLUSTER, "FailoverRecordName": scene.RECORD,
                      "FailoverHostedZoneId": world["zone"], "FailoverServices": "prod/web,prod/checkout", "GateProbeHosts": "127.0.0.1"}
        stage.start_functions(template, parameters, world["topic"])
        print(f"\n== {template.name}: {len(stage.rules)} EventBridge rules created in moto; six functions under cargo lambda watch")
        print(f"   demo-only settings: {OVERRIDES}; scaling cooldowns {scene.OUT_COOLDOWN} s out / {scene.IN_COOLDOWN} s in "
              f"(service tags; defaults 60 / 300 s)")
        print(f"   function logs: {logs}")
        story = Story(stage, Timeline(started), world["queue"])
        try:
            for chapter in CHAPTERS:
                chapter(story, stage, world)
        finally:
            path = story.timeline.write(out, stage.calls, time.time())
            print(f"\n   timeline: {path} (picture: timeline.png)")
    if story.failures:
        print(f"\nThe demo did not do what it announced ({len(story.failures)}):\n  - " + "\n  - ".join(story.failures))
        print(f"   logs: {logs}")
        sys.exit(1)
    print(f"\nDemo finished in {time.time() - started:.0f} s: every step did what it announced.")


if __name__ == "__main__":
    main()
