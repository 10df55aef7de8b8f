"""The account `make demo` starts from, in the local AWS: what a platform team would have before
Deckhand's first event. Names follow the samples in events/ (cluster prod, repository shop/web,
CodeDeploy application shop, alarms deckhand-scale-prod-web-cpu-* and deckhand-health-REGION).

us-east-1 (primary): ECR shop/web with v1.4.1 (running) and v1.4.2; cluster prod with
- web: ECS rolling, tracks `semver:^1.4`, scales 2-4 tasks on its CPU alarms, short cooldowns;
- checkout: CodeDeploy blue/green (shop/checkout-bg), tracks `prefix:v1.`, the gate probes the
  new revision's test URL;
- legacy: not opted in;
the health alarm, a topic with an SQS queue subscribed (the notifications a person would read).
us-west-2 (standby): cluster prod with web and checkout at 1 task each, its health alarm, and
shop/web replicated. Route 53: failover CNAME records for api.example.com.
"""

from __future__ import annotations

import time

from demo_stage import PRIMARY, STANDBY, Stage
from local_lambda import put_image

ACCOUNT = "123456789012"
CLUSTER = "prod"
REPOSITORY = "shop/web"
RECORD = "api.example.com"
# The demo's cooldowns (the defaults are 60 s out / 300 s in), so that the story fits in minutes.
OUT_COOLDOWN, IN_COOLDOWN = 3, 12


def registry(region: str) -> str:
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com"


def push_image(stage: Stage, tag: str, image_digest: str, region: str = PRIMARY) -> None:
    """An image of shop/web in the local ECR with this digest and tag, pushed now."""
    put_image(stage.client("ecr", region), REPOSITORY, tag, image_digest)


def _green_target_group(stage: Stage) -> str:
    """checkout's green target group with its two new tasks registered (healthy, as moto reports)."""
    elb = stage.client("elbv2")
    arn = elb.create_target_group(Name="checkout-green", TargetType="lambda")["TargetGroups"][0]["TargetGroupArn"]
    for task in range(2):
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": f"arn:aws:lambda:{PRIMARY}:{ACCOUNT}:function:green-{task}"}])
    return arn


def _services(stage: Stage, region: str, desired: int, revision_url: str | None) -> None:
    ecs = stage.client("ecs", region)
    ecs.create_cluster(clusterName=CLUSTER)

    def task_definition(family: str) -> str:
        return ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
            containerDefinitions=[{
                "name": "web", "image": f"{registry(region)}/{REPOSITORY}:v1.4.1", "essential": True,
                "portMappings": [{"containerPort": 8080}],
                "environment": [{"name": "DATABASE_PASSWORD", "value": "never-shown"}],
            }],
        )["taskDefinition"]["taskDefinitionArn"]

    web_tags = [{"key": "deckhand:track", "value": "semver:^1.4"}, {"key": "deckhand:scale", "value": "cpu"},
                {"key": "deckhand:scale-out-cooldown", "value": str(OUT_COOLDOWN)},
                {"key": "deckhand:scale-in-cooldown", "value": str(IN_COOLDOWN)}]
    ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=task_definition("web"), desiredCount=desired, tags=web_tags)
    checkout_tags = [{"key": "deckhand:track", "value": "prefix:v1."},
                     {"key": "deckhand:codedeploy-app", "value": "shop"},
                     {"key": "deckhand:codedeploy-group", "value": "checkout-bg"}]
    if revision_url:
        checkout_tags += [{"key": "deckhand:gate-test-url", "value": revision_url},
                          {"key": "deckhand:gate-target-group", "value": _green_target_group(stage)}]
    ecs.create_service(
        cluster=CLUSTER, serviceName="checkout", taskDefinition=task_definition("checkout"), desiredCount=desired,
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[{"targetGroupArn": f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:targetgroup/checkout-blue/0123456789abcdef",
                        "containerName": "web", "containerPort": 8080}],
        tags=checkout_tags,
    )
    if region == PRIMARY:
        ecs.create_service(cluster=CLUSTER, serviceName="legacy", taskDefinition=task_definition("legacy"), desiredCount=1)
    # moto reports tasks running once a service's count is updated, as after a real start.
    for name in ("web", "checkout"):
        ecs.update_service(cluster=CLUSTER, service=name, desiredCount=desired)


def _cpu_alarm(stage: Stage, name: str, above: bool, threshold: float) -> None:
    stage.client("cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace="AWS/ECS", MetricName="CPUUtilization", Statistic="Average", Period=60, EvaluationPeriods=3,
        Threshold=threshold, ComparisonOperator="GreaterThanThreshold" if above else "LessThanThreshold",
        Dimensions=[{"Name": "ClusterName", "Value": CLUSTER}, {"Name": "ServiceName", "Value": "web"}],
    )


def _health_alarm(stage: Stage, region: str) -> None:
    """As in events/failover-primary-alarm.json: no healthy host behind the region's load balancer."""
    name = f"deckhand-health-{region}"
    stage.client("cloudwatch", region).put_metric_alarm(
        AlarmName=name, Namespace="AWS/ApplicationELB", MetricName="HealthyHostCount", Statistic="Minimum", Period=60,
        EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="LessThanThreshold",
        Dimensions=[{"Name": "LoadBalancer", "Value": "app/shop-web/50dc6c495c0c9188"}, {"Name": "TargetGroup", "Value": "targetgroup/web/73e2d6bc24d8a067"}],
    )
    set_alarm(stage, name, "OK", region)


def set_alarm(stage: Stage, name: str, state: str, region: str = PRIMARY) -> None:
    stage.client("cloudwatch", region).set_alarm_state(AlarmName=name, StateValue=state, StateReason="demo")


def cpu_load(stage: Stage, percent: float) -> None:
    """web's CPU now, as ECS would report it (the scaler reads the metric, not the alarm's reason)."""
    stage.client("cloudwatch").put_metric_data(Namespace="AWS/ECS", MetricData=[{
        "MetricName": "CPUUtilization", "Value": percent, "Unit": "Percent",
        "Dimensions": [{"Name": "ClusterName", "Value": CLUSTER}, {"Name": "ServiceName", "Value": "web"}],
    }])


def failover_zone(stage: Stage) -> str:
    route53 = stage.client("route53")
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="demo")["HostedZone"]["Id"].split("/")[-1]

    def record(region: str, role: str, target: str) -> dict:
        return {"Action": "CREATE", "ResourceRecordSet": {"Name": RECORD, "Type": "CNAME", "SetIdentifier": region, "Failover": role,
                                                           "TTL": 60, "ResourceRecords": [{"Value": target}]}}

    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        record(PRIMARY, "PRIMARY", "api.us-east-1.example.net"), record(STANDBY, "SECONDARY", "api.us-west-2.example.net")]})
    return zone


def seed(stage: Stage, running_digest: str, pushed_digest: str) -> dict:
    """The account before Deckhand's first event: {topic, queue, zone}."""
    for region in (PRIMARY, STANDBY):
        stage.client("ecr", region).create_repository(repositoryName=REPOSITORY)
        push_image(stage, "v1.4.1", running_digest, region)
    # The pushed image a second later (ECR keeps whole seconds: the rollout never moves a
    # service to an older push), replicated to the standby region as ECR replication would.
    time.sleep(1.1)
    for region in (PRIMARY, STANDBY):
        push_image(stage, "v1.4.2", pushed_digest, region)
    _services(stage, PRIMARY, 2, stage.revision.url)
    _services(stage, STANDBY, 1, None)
    stage.client("codedeploy").create_application(applicationName="shop", computePlatform="ECS")
    stage.client("codedeploy").create_deployment_group(
        applicationName="shop", deploymentGroupName="checkout-bg", serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/codedeploy",
        ecsServices=[{"clusterName": CLUSTER, "serviceName": "checkout"}])
    _cpu_alarm(stage, "deckhand-scale-prod-web-cpu-high", True, 70.0)
    _cpu_alarm(stage, "deckhand-scale-prod-web-cpu-low", False, 30.0)
    for region in (PRIMARY, STANDBY):
        _health_alarm(stage, region)
    sns, sqs = stage.client("sns"), stage.client("sqs")
    topic = sns.create_topic(Name="deckhand")["TopicArn"]
    queue = sqs.create_queue(QueueName="deckhand-inbox")["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{PRIMARY}:{ACCOUNT}:deckhand-inbox")
    return {"topic": topic, "queue": queue, "zone": failover_zone(stage)}
