"""The demo's six chapters. Each tells what happens, lets the functions act, and checks the result
in AWS (task definitions, services, deployments, records, tags) and in the notification inbox.
Where AWS itself would act (ECS finishing a rollout, CodeDeploy invoking a hook or rolling back,
an alarm changing state), the demo plays AWS and says so."""

from __future__ import annotations

import time

import demo_scene as scene
from demo_stage import PRIMARY, STANDBY, Stage
from demo_story import Story, sample
from demo_timeline import is_read

GOOD = sample("ecr-push-tagged.json")["detail"]["image-digest"]
BAD = "sha256:" + "bad0" * 16
HOOK = "traffic-gate (CodeDeploy's AfterAllowTestTraffic hook)"


def service(stage: Stage, name: str, region: str = PRIMARY) -> dict:
    return stage.client("ecs", region).describe_services(cluster=scene.CLUSTER, services=[name], include=["TAGS"])["services"][0]


def tags(stage: Stage, name: str, region: str = PRIMARY) -> dict:
    return {t["key"]: t["value"] for t in service(stage, name, region).get("tags", [])}


def image_of(stage: Stage, name: str) -> str:
    definition = service(stage, name)["taskDefinition"]
    return stage.client("ecs").describe_task_definition(taskDefinition=definition)["taskDefinition"]["containerDefinitions"][0]["image"]


def serving(stage: Stage, zone: str) -> str:
    """The set identifier of the record Route 53 treats as PRIMARY."""
    records = stage.client("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return next(r["SetIdentifier"] for r in records if r.get("Failover") == "PRIMARY" and r["Name"].rstrip(".") == scene.RECORD)


def pushed(tag: str, digest: str):
    def fill(event: dict) -> dict:
        event["detail"].update({"image-tag": tag, "image-digest": digest})
        return event

    return fill


def codedeploy_state(deployment: str):
    def fill(event: dict) -> dict:
        event["detail"].update({"deploymentId": deployment, "application": "shop", "deploymentGroup": "checkout-bg"})
        event["resources"] = [f"arn:aws:codedeploy:{PRIMARY}:{scene.ACCOUNT}:application:shop",
                              f"arn:aws:codedeploy:{PRIMARY}:{scene.ACCOUNT}:deploymentgroup:shop/checkout-bg"]
        return event

    return fill


def deployment_of(outcomes: list[dict], resource: str) -> dict | None:
    return next((r for o in outcomes for r in o.get("resources", []) if r["resource"] == resource and r["result"] == "deployed"), None)


def hook(story: Story, deployment: str) -> str:
    """CodeDeploy at the hook: the gate's answer, as CodeDeploy records it."""
    before = len(story.stage.codedeploy.reports)
    story.call("TrafficGateFunction", {**sample("codedeploy-hook.json"), "DeploymentId": deployment}, HOOK)
    reports = story.stage.codedeploy.reports[before:]
    return reports[-1]["status"] if reports else "no answer"


def good_push(story: Story, stage: Stage, world: dict) -> None:
    story.step("A good image is pushed: shop/web:v1.4.2")
    outcomes = story.put("ecr-push-tagged.json", "ImagePushedFunction", why="ECR, after `docker push`")
    rolling, blue_green = deployment_of(outcomes, "prod/web"), deployment_of(outcomes, "prod/checkout")
    story.check(rolling is not None and image_of(stage, "web").endswith("@" + GOOD), "web runs a new revision pinned to the pushed digest")
    story.check(blue_green is not None and blue_green["controller"] == "CODE_DEPLOY", "checkout got a CodeDeploy blue/green deployment")
    story.check(image_of(stage, "legacy").endswith(":v1.4.1"), "legacy (not opted in) is left alone")
    again = story.put("ecr-push-tagged.json", "ImagePushedFunction", why="the same push delivered again (EventBridge is at-least-once)")
    results = [r["result"] for o in again for r in o.get("resources", [])]
    story.check(results == ["unchanged", "unchanged"], "the redelivery changes nothing: both services unchanged")
    story.check(len(stage.client("ecs").list_task_definitions(familyPrefix="web")["taskDefinitionArns"]) == 2, "no revision registered twice")
    deployment = blue_green["deployment_id"] if blue_green else "?"
    story.say("(AWS: the green tasks of checkout start on v1.4.2; the revision server answers /health with 200)")
    stage.revision.status = 200
    story.check(hook(story, deployment) == "Succeeded" and stage.revision.probes > 0, "the gate probed the new revision and passed it")
    stage.codedeploy.status[deployment] = "Succeeded"
    story.put("codedeploy-success.json", "DeployEventsFunction", codedeploy_state(deployment), "CodeDeploy: traffic moved, deployment succeeded")
    ecs_deployment = service(stage, "web")["deployments"][0]["id"]

    def completed(event: dict) -> dict:
        event["detail"].update({"deploymentId": ecs_deployment, "reason": f"ECS deployment {ecs_deployment} completed."})
        return event

    story.put("ecs-deployment-completed.json", "DeployEventsFunction", completed, "ECS: web's rolling deployment completed")
    story.check(story.told(story.inbox(), "image.deployed", "image.deployed", "gate.passed", "deployment.succeeded", "deployment.succeeded"),
                "told: both rollouts, the gate's pass and both completions")


def bad_push(story: Story, stage: Stage, world: dict) -> None:
    story.step("A bad image is pushed: shop/web:v1.5.0-rc.1 (its /health answers 500)")
    scene.push_image(stage, "v1.5.0-rc.1", BAD)
    outcomes = story.put("ecr-push-tagged.json", "ImagePushedFunction", pushed("v1.5.0-rc.1", BAD), "ECR")
    deployment = deployment_of(outcomes, "prod/checkout")
    story.check(deployment is not None, "checkout (prefix:v1.) deploys it; web (semver:^1.4, releases only) does not")
    story.check(image_of(stage, "web").endswith("@" + GOOD), "web still runs v1.4.2")
    deployment_id = deployment["deployment_id"] if deployment else "?"
    story.say("(AWS: the green tasks start on v1.5.0-rc.1; the revision server answers /health with 500)")
    stage.revision.status = 500
    story.check(hook(story, deployment_id) == "Failed", "the gate failed the hook: CodeDeploy will not shift traffic")
    story.say("(AWS: CodeDeploy rolls the deployment back: traffic stays on blue)")
    stage.codedeploy.status[deployment_id] = "Failed"
    story.put("codedeploy-failure.json", "DeployEventsFunction", codedeploy_state(deployment_id), "CodeDeploy: deployment failed")
    notes = story.inbox()
    story.check(story.told(notes, "image.deployed", "gate.failed", "deployment.failed"), "told: the rollout, the gate's refusal, the failure")
    failure = [n for n in notes if n["attributes"].get("event") == "deployment.failed"]
    story.check(bool(failure) and failure[0]["attributes"].get("severity") == "critical", "the deployment's failure is critical")
    refusal = [n for n in notes if n["attributes"].get("event") == "gate.failed"]
    story.check(bool(refusal) and "HTTP 500" in refusal[0]["text"], "the gate's notice says why: HTTP 500 from the new revision")


def failed_build(story: Story, stage: Stage, world: dict) -> None:
    story.step("A build fails")
    story.put("codebuild-failed.json", "BuildFinishedFunction", why="CodeBuild")
    notes = story.inbox()
    link = sample("codebuild-failed.json")["detail"]["additional-information"]["logs"]["deep-link"]
    story.check(story.told(notes, "build.failed") and link in notes[0]["raw"], "one alert, with the log link")
    story.check(bool(notes) and "BUILD" in notes[0]["text"], "the alert names the failed phase")


def load(story: Story, stage: Stage, world: dict) -> None:
    story.step("Load: web's CPU climbs to 90 %")
    scene.cpu_load(stage, 90.0)
    scene.set_alarm(stage, "deckhand-scale-prod-web-cpu-high", "ALARM")
    story.put("cloudwatch-alarm-scale-out.json", "ScalerFunction", why="CloudWatch: CPU above 70 %")
    story.check(service(stage, "web")["desiredCount"] == 3, "web scaled out from 2 to 3 tasks")
    story.say(f"(waiting out the {scene.OUT_COOLDOWN} s scale-out cooldown; the alarm stays in ALARM and sends no further event)")
    time.sleep(scene.OUT_COOLDOWN + 0.5)
    scene.cpu_load(stage, 90.0)
    story.call("ScalerFunction", sample("scheduled-recheck.json"), "EventBridge Scheduler (ScalerFunctionRecheck, every minute)")
    story.check(service(stage, "web")["desiredCount"] == 4, "the re-check scaled on to the maximum, 4 tasks")
    story.say("(the load falls to 20 %)")
    for _ in range(3):
        scene.cpu_load(stage, 20.0)
    scene.set_alarm(stage, "deckhand-scale-prod-web-cpu-high", "OK")
    story.put("cloudwatch-alarm-ok.json", None, why="CloudWatch: the high-CPU alarm clears (the scaler's rule takes ALARM only)")
    scene.set_alarm(stage, "deckhand-scale-prod-web-cpu-low", "ALARM")
    held = story.put("cloudwatch-alarm-scale-in.json", "ScalerFunction", why="CloudWatch: CPU below 30 %")
    waits = [r for o in held for r in o.get("resources", []) if r["result"] == "held" and r.get("decision") == "cooldown"]
    story.check(bool(waits) and service(stage, "web")["desiredCount"] == 4, f"scale-in waits: the last scaling was under {scene.IN_COOLDOWN} s ago")
    remaining = waits[0].get("remaining_seconds", scene.IN_COOLDOWN) if waits else scene.IN_COOLDOWN
    story.say(f"(waiting out the {remaining} s left of the {scene.IN_COOLDOWN} s scale-in cooldown)")
    time.sleep(remaining + 1)
    story.call("ScalerFunction", sample("scheduled-recheck.json"), "EventBridge Scheduler (ScalerFunctionRecheck, every minute)")
    story.check(service(stage, "web")["desiredCount"] == 3, "after the cooldown the re-check scaled in to 3 tasks")
    scene.set_alarm(stage, "deckhand-scale-prod-web-cpu-low", "OK")
    story.check(story.told(story.inbox(), "scaling.out", "scaling.out", "scaling.in"), "told: each scaling")


def outage(story: Story, stage: Stage, world: dict) -> None:
    story.step(f"A regional outage: {PRIMARY} loses its healthy hosts")
    scene.set_alarm(stage, f"deckhand-health-{PRIMARY}", "ALARM")
    story.put("failover-primary-alarm.json", "RegionFailoverFunction", why="CloudWatch: the primary's health alarm")
    primary_web = service(stage, "web")["desiredCount"]
    story.check(service(stage, "web", STANDBY)["desiredCount"] == primary_web and service(stage, "checkout", STANDBY)["desiredCount"] == 2,
                f"the standby was pre-scaled to the primary's counts (web {primary_web}, checkout 2)")
    story.check(serving(stage, world["zone"]) == STANDBY, f"Route 53: {scene.RECORD} now points to {STANDBY}")
    story.check(all(tags(stage, name).get("deckhand:freeze") for name in ("web", "checkout")), f"{PRIMARY}'s services are frozen (deckhand:freeze)")
    story.check(story.told(story.inbox(), "failover.failed_over"), "the failover is told")
    story.say("(someone starts a CodeDeploy deployment of checkout in the frozen region by hand; its new revision is healthy)")
    stage.revision.status = 200
    attempt = stage.client("codedeploy").create_deployment(
        applicationName="shop", deploymentGroupName="checkout-bg",
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}})["deploymentId"]
    story.check(hook(story, attempt) == "Failed", "the gate refused it")
    notes = story.inbox()
    story.check(story.told(notes, "gate.failed") and "deployments are frozen" in notes[0]["text"], "because deployments there are frozen")
    stage.codedeploy.status[attempt] = "Failed"
    story.say(f"(AWS: {PRIMARY} recovers)")
    scene.set_alarm(stage, f"deckhand-health-{PRIMARY}", "OK")
    recovered = story.put("failover-primary-recovered.json", "RegionFailoverFunction", why="CloudWatch: the primary's health alarm is OK again")
    plans = [(o.get("details") or {}).get("plan", {}).get("plan") for o in recovered]
    story.check(plans == ["hold"] and serving(stage, world["zone"]) == STANDBY,
                "traffic stays on the standby: failback is an operator's call (AutoFailback off)")
    story.say("(the primary stays healthy through the stabilization window: 3 s in the demo, 600 s by default)")
    time.sleep(3.5)
    story.call("RegionFailoverFunction", sample("failover-failback.json"), "An operator (`aws lambda invoke --payload file://events/failover-failback.json`)")
    story.check(serving(stage, world["zone"]) == PRIMARY, f"Route 53: {scene.RECORD} points home to {PRIMARY}")
    story.check(not any(tags(stage, name).get("deckhand:freeze") for name in ("web", "checkout")), f"{PRIMARY}'s services are unfrozen")
    story.check(story.told(story.inbox(), "failover.failed_back"), "the failback is told")


def summary(story: Story, stage: Stage, world: dict) -> None:
    story.step("What changed in AWS, and what people were told")
    ecs = stage.client("ecs")
    for family in ("web", "checkout", "legacy"):
        revisions = ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
        story.say(f"task definition family {family}: {len(revisions)} revision(s)")
    for region in (PRIMARY, STANDBY):
        for name in ("web", "checkout"):
            found = service(stage, name, region)
            story.say(f"{region} prod/{name}: {found['desiredCount']} tasks, {found['taskDefinition'].rsplit('/', 1)[-1]}")
    statuses = stage.codedeploy.status
    story.say(f"CodeDeploy shop/checkout-bg: {len(statuses)} deployments: " + ", ".join(f"{d} {s}" for d, s in statuses.items()))
    story.say(f"Route 53 {scene.RECORD}: PRIMARY record {serving(stage, world['zone'])}")
    writes = [c for c in stage.calls if not is_read(c)]
    story.say(f"AWS calls by the functions: {len(stage.calls)} ({len(writes)} changes); stand-ins for what moto lacks: "
              f"{sum(c['stand_in'] for c in stage.calls)}")
    story.say(f"notifications delivered: {len(story.delivered)}")
    for note in story.delivered:
        story.say(f"  [{note['attributes'].get('severity'):8}] {note['subject']}")
    story.check(all("never-shown" not in n["raw"] for n in story.delivered), "no notification carries a container's secret value")


CHAPTERS = [good_push, bad_push, failed_build, load, outage, summary]
