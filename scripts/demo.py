"""`make demo`: Deckhand's main job, end to end, on this machine.

Starts a local AWS (moto server), seeds a cluster with two opted-in services (one ECS rolling,
one CodeDeploy blue/green), runs `image-pushed` under `cargo lambda watch`, sends the samples in
events/ through it with `cargo lambda invoke`, and reads back what changed in AWS.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
CLUSTER = "demo"


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


@contextmanager
def background(command: list[str], env: dict, log: Path):
    with open(log, "w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def step(text: str) -> None:
    print(f"\n== {text}")


def push_image(ecr, tag: str, image_digest: str) -> None:
    """An image of shop/web in the local ECR with this digest and tag, pushed now."""
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": image_digest},
                "layers": []}
    ecr.put_image(repositoryName="shop/web", imageTag=tag, imageDigest=image_digest, imageManifest=json.dumps(manifest))


def seed(endpoint: str) -> dict:
    session = boto3.session.Session(aws_access_key_id="demo", aws_secret_access_key="demo", region_name=REGION)
    ecs = session.client("ecs", endpoint_url=endpoint)
    codedeploy = session.client("codedeploy", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    ecr = session.client("ecr", endpoint_url=endpoint)

    # The registry: v1.4.1 (what runs), then, a second later, the image the push event names
    # (Deckhand asks ECR when each was pushed, and never moves a service to an older one).
    ecr.create_repository(repositoryName="shop/web")
    push_image(ecr, "v1.4.1", "sha256:" + "0" * 63 + "1")
    time.sleep(1.1)
    push_image(ecr, "v1.4.2", json.loads((ROOT / "events" / "ecr-push-tagged.json").read_text())["detail"]["image-digest"])
    ecs.create_cluster(clusterName=CLUSTER)
    task_definition = ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/web-exec",
        containerDefinitions=[
            {
                "name": "web",
                "image": f"{REGISTRY}/shop/web:v1.4.1",
                "essential": True,
                "portMappings": [{"containerPort": 8080}],
                "environment": [{"name": "DATABASE_PASSWORD", "value": "never-shown"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="web",
        taskDefinition=task_definition,
        desiredCount=2,
        tags=[{"key": "deckhand:track", "value": "semver:^1.4"}],
    )
    codedeploy.create_application(applicationName="shop", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="shop", deploymentGroupName="checkout-bg", serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/codedeploy"
    )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="checkout",
        taskDefinition=task_definition,
        desiredCount=2,
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[
            {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/checkout-blue/0123456789abcdef",
                "containerName": "web",
                "containerPort": 8080,
            }
        ],
        tags=[
            {"key": "deckhand:track", "value": "prefix:v1."},
            {"key": "deckhand:codedeploy-app", "value": "shop"},
            {"key": "deckhand:codedeploy-group", "value": "checkout-bg"},
        ],
    )
    ecs.create_service(cluster=CLUSTER, serviceName="legacy", taskDefinition=task_definition, desiredCount=1)
    topic = sns.create_topic(Name="deckhand")["TopicArn"]
    queue = sqs.create_queue(QueueName="deckhand-inbox")["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:deckhand-inbox")
    print(f"cluster {CLUSTER}: services web (ECS rolling, tracks semver:^1.4), checkout (CodeDeploy, tracks prefix:v1.), legacy (not opted in)")
    print(f"all three run {task_definition.rsplit('/', 1)[1]} with image {REGISTRY}/shop/web:v1.4.1")
    print(f"notifications: {topic} -> SQS queue deckhand-inbox")
    return {"ecs": ecs, "codedeploy": codedeploy, "sqs": sqs, "topic": topic, "queue": queue}


def invoke(event_file: str, port: int, env: dict) -> dict:
    result = subprocess.run(
        ["cargo", "lambda", "invoke", "image-pushed", "--invoke-port", str(port), "--data-file", f"events/{event_file}"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    if result.returncode != 0:
        sys.exit(f"cargo lambda invoke failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout)


def describe_outcome(outcome: dict) -> None:
    if "ignored" in outcome and not outcome.get("resources"):
        print(f"   ignored: {outcome['ignored']}")
    for resource in outcome.get("resources", []):
        line = f"   {resource['resource']}: {resource['result']}"
        if resource["result"] == "deployed":
            line += f" revision {resource['revision']} via {resource['controller']}, deployment {resource['deployment_id']}"
        else:
            line += f" ({resource.get('reason') or resource.get('error')})"
        print(line)


def main() -> None:
    moto_port, invoke_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    logs = Path(tempfile.mkdtemp(prefix="deckhand-demo-"))
    path = f"{ROOT / '.venv/bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, PATH=path, AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION)

    step("Local AWS: moto server")
    with background([str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)], env, logs / "moto.log") as moto:
        wait_for_port(moto_port, "moto_server", moto)
        print(f"listening on {endpoint}")
        aws = seed(endpoint)

        step("Function: cargo lambda watch (image-pushed, pointed at the local AWS by AWS_ENDPOINT_URL)")
        function_env = {"AWS_ENDPOINT_URL": endpoint, "CLUSTERS": CLUSTER, "NOTIFY_TOPIC_ARN": aws["topic"], "RUST_LOG": "info"}
        env_file = logs / "function.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in function_env.items()))
        watch = ["cargo", "lambda", "watch", "--invoke-port", str(invoke_port), "--ignore-changes", "--env-file", str(env_file), "-p", "image-pushed"]
        with background(watch, env, logs / "function.log") as function:
            wait_for_port(invoke_port, "cargo lambda watch", function, seconds=600)
            print(f"function logs: {logs / 'function.log'}")

            step("Event 1: events/ecr-push-tagged.json (shop/web:v1.4.2 pushed)")
            describe_outcome(invoke("ecr-push-tagged.json", invoke_port, env))
            step("Event 2: the same event delivered again (EventBridge is at-least-once)")
            describe_outcome(invoke("ecr-push-tagged.json", invoke_port, env))
            step("Event 3: events/ecr-push-untagged.json")
            describe_outcome(invoke("ecr-push-untagged.json", invoke_port, env))
            step("Event 4: events/ecr-delete.json")
            describe_outcome(invoke("ecr-delete.json", invoke_port, env))

        if not report(aws):
            sys.exit("the demo did not end as expected; see the logs in " + str(logs))
    print("\nDemo finished: one push, one revision, one rolling update, one blue/green deployment, two notifications.")


def report(aws: dict) -> bool:
    ok = True
    ecs, codedeploy, sqs = aws["ecs"], aws["codedeploy"], aws["sqs"]
    step("What changed in AWS")
    services = {s["serviceName"]: s for s in ecs.describe_services(cluster=CLUSTER, services=["web", "checkout", "legacy"])["services"]}
    revisions = ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"]
    print(f"task definition family web: {len(revisions)} revisions ({', '.join(r.rsplit('/', 1)[1] for r in revisions)})")
    web = services["web"]["taskDefinition"]
    image = ecs.describe_task_definition(taskDefinition=web)["taskDefinition"]["containerDefinitions"][0]["image"]
    print(f"service web now runs {web.rsplit('/', 1)[1]}: image {image}")
    ok &= image.endswith("@sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d") and len(revisions) == 2
    deployments = codedeploy.list_deployments(applicationName="shop", deploymentGroupName="checkout-bg")["deployments"]
    for deployment_id in deployments:
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        appspec = json.loads(info["revision"]["appSpecContent"]["content"])
        target = appspec["Resources"][0]["TargetService"]["Properties"]
        print(f"service checkout: CodeDeploy deployment {deployment_id} ({info['status']}) to {target['TaskDefinition'].rsplit('/', 1)[1]}, "
              f"container {target['LoadBalancerInfo']['ContainerName']}:{target['LoadBalancerInfo']['ContainerPort']}")
    ok &= len(deployments) == 1
    print(f"service legacy (not opted in) still runs {services['legacy']['taskDefinition'].rsplit('/', 1)[1]}")
    messages = sqs.receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
    print(f"\nnotifications delivered to the SQS queue: {len(messages)}")
    for message in messages:
        envelope = json.loads(message["Body"])
        attributes = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
        document = json.loads(envelope["Message"])
        print(f"-- subject: {envelope['Subject']}\n   attributes: {attributes}")
        print("   " + document["text"].rstrip().replace("\n", "\n   "))
        ok &= "never-shown" not in message["Body"]
    ok &= len(messages) == 2
    return ok


if __name__ == "__main__":
    main()
