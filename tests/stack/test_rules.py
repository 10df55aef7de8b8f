"""The template's EventBridge rules, in a local EventBridge: each sample reaches exactly the
functions meant for it, and near misses reach none.

The rules and their patterns are read from template.yaml (scripts/template_rules.py), created in
moto server's EventBridge with one SQS queue per function as the target, and every EventBridge
sample of events/ is put on the bus as its AWS service would send it. What each queue receives is
what the rule would have invoked that function with.

What this does not prove, and why:
- PutEvents with an `aws.*` source stands in for the service's own delivery; real EventBridge
  refuses that source from callers, so these events can only be replayed against moto.
- moto's pattern matching is its own implementation. The template's patterns use exact values
  and one comparison operator, `prefix` (the scaler's alarm names), which moto 5.2.5 evaluates
  like AWS; a near miss below proves it (the prefix must be at the start). `OPERATORS_PROVEN`
  lists the operators a near miss here covers: a pattern that starts using another one
  (`anything-but`, `exists`, `numeric`, `wildcard`, ...) fails this test until a near miss
  proves moto evaluates it as AWS does. moto treats an operator it does not know as a match and
  a scalar (not an array) as no match, where AWS refuses both at PutRule:
  `template_rules.check_pattern` refuses them first.
- moto does not look inside arrays of objects in an event (AWS does); no pattern here needs it.
- moto delivers the event without its `account` field (AWS keeps it): the payload check below
  compares source, detail-type, detail and resources.
"""

import copy
import json
import unittest

from tests.stack.local_aws import MotoServer, sample, samples, template_rules

# Parameters under which every function and rule of the template exists (region-failover needs a
# record name); everything else keeps its default.
PARAMETERS = {"Clusters": "prod,staging", "FailoverRecordName": "api.example.com"}

IMAGE_PUSHED = "ImagePushedFunction"
BUILD_FINISHED = "BuildFinishedFunction"
DEPLOY_EVENTS = "DeployEventsFunction"
SCALER = "ScalerFunction"
REGION_FAILOVER = "RegionFailoverFunction"
TRAFFIC_GATE = "TrafficGateFunction"

# Every sample that EventBridge delivers from the bus, and the functions it must reach.
ON_THE_BUS = {
    "cloudwatch-alarm-scale-out.json": {SCALER},
    "cloudwatch-alarm-scale-in.json": {SCALER},
    # A scaling alarm back to OK: the scaler's rule wants ALARM only.
    "cloudwatch-alarm-ok.json": set(),
    "codebuild-succeeded.json": {BUILD_FINISHED},
    "codebuild-failed.json": {BUILD_FINISHED},
    "codebuild-stopped.json": {BUILD_FINISHED},
    "codebuild-timed-out.json": {BUILD_FINISHED},
    # Only with NotifyBuildStarted=true (test_build_started_reaches_build_finished_when_asked).
    "codebuild-in-progress.json": set(),
    "codedeploy-start.json": {DEPLOY_EVENTS},
    "codedeploy-success.json": {DEPLOY_EVENTS},
    "codedeploy-ready.json": {DEPLOY_EVENTS},
    "codedeploy-failure.json": {DEPLOY_EVENTS},
    "codedeploy-stop.json": {DEPLOY_EVENTS},
    "ecr-push-tagged.json": {IMAGE_PUSHED},
    # An untagged push is a successful push: image-pushed is invoked and ignores it itself.
    "ecr-push-untagged.json": {IMAGE_PUSHED},
    "ecr-delete.json": set(),
    # Scan results resume a deployment the scan gate deferred.
    "ecr-image-scan.json": {IMAGE_PUSHED},
    "inspector2-scan.json": {IMAGE_PUSHED},
    "ecs-deployment-in-progress.json": {DEPLOY_EVENTS},
    "ecs-deployment-completed.json": {DEPLOY_EVENTS},
    "ecs-deployment-failed.json": {DEPLOY_EVENTS},
    "ecs-deployment-rollback.json": {DEPLOY_EVENTS},
    "ecs-service-task-start-impaired.json": {DEPLOY_EVENTS},
    # A pause hook awaiting action: the gate answers it, deploy-events reports it.
    "ecs-hook-awaiting-action.json": {DEPLOY_EVENTS, TRAFFIC_GATE},
    "failover-primary-alarm.json": {REGION_FAILOVER},
    "failover-primary-recovered.json": {REGION_FAILOVER},
}

# Samples that are not put on the bus: Lambda is invoked with them directly.
INVOKED_DIRECTLY = {
    "codedeploy-hook.json": "traffic-gate: CodeDeploy invokes the AppSpec hook",
    "ecs-hook-reconcile-service.json": "traffic-gate: ECS invokes the lifecycle hook",
    "ecs-hook-pre-scale-up.json": "traffic-gate: ECS invokes the lifecycle hook",
    "ecs-hook-post-scale-up.json": "traffic-gate: ECS invokes the lifecycle hook",
    "ecs-hook-test-traffic-shift.json": "traffic-gate: ECS invokes the lifecycle hook",
    "ecs-hook-test-traffic.json": "traffic-gate: ECS invokes the lifecycle hook",
    "ecs-hook-production-traffic-shift.json": "traffic-gate: ECS invokes the lifecycle hook",
    "ecs-hook-post-production-traffic-shift.json": "traffic-gate: ECS invokes the lifecycle hook",
    "failover-dry-run.json": "region-failover: an operator's aws lambda invoke",
    "failover-failback.json": "region-failover: an operator's aws lambda invoke",
    "failover-manual.json": "region-failover: an operator's aws lambda invoke",
    "failover-status.json": "region-failover: an operator's aws lambda invoke",
    "failover-recheck.json": "region-failover: the RegionFailoverRecheck schedule (EventBridge Scheduler, its Input)",
    "scheduled-recheck.json": "scaler's Recheck, traffic-gate's StuckCheck and image-pushed's ScanRecheck ScheduleV2 (EventBridge Scheduler)",
}

# Operators of the template's patterns that a near miss below proves moto evaluates like AWS.
OPERATORS_PROVEN = {"prefix"}


def variant(name: str, **changes) -> dict:
    """A sample with some fields changed: `detail__result="FAILURE"` sets detail.result."""
    event = copy.deepcopy(sample(name))
    for path, value in changes.items():
        *parents, last = path.replace("_dash_", "-").split("__")
        node = event
        for key in parents:
            node = node[key]
        node[last] = value
    return event


# Events one field away from a sample, that no function may receive.
NEAR_MISSES = {
    "ECR push that failed": variant("ecr-push-tagged.json", detail__result="FAILURE"),
    "ECR delete that failed": variant("ecr-delete.json", detail__result="FAILURE"),
    "ECR push from another source": variant("ecr-push-tagged.json", source="aws.ecr-public"),
    "ECR Image Scan of the pushed image": variant("ecr-push-tagged.json", detail_dash_type="ECR Image Scan"),
    "ECR image scan still in progress": variant("ecr-image-scan.json", detail__scan_dash_status="IN_PROGRESS"),
    "Inspector2 scan of an EC2 instance": variant("inspector2-scan.json", detail__repository_dash_name="i-0123456789abcdef0"),
    "ECR Replication Action": variant("ecr-push-tagged.json", detail_dash_type="ECR Replication Action"),
    "detail-type in other case": variant("ecr-push-tagged.json", detail_dash_type="ecr image action"),
    "CodeBuild phase change": variant("codebuild-failed.json", detail_dash_type="CodeBuild Build Phase Change"),
    "CodeBuild state change from another source": variant("codebuild-failed.json", source="aws.codepipeline"),
    "ECS service action": variant("ecs-deployment-failed.json", detail_dash_type="ECS Service Action"),
    "ECS service action that is no alert": variant("ecs-service-task-start-impaired.json", detail__eventName="SERVICE_STEADY_STATE"),
    "ECS hook that only started": variant("ecs-hook-awaiting-action.json", detail__eventName="HOOK_IN_PROGRESS"),
    "ECS task state change": variant("ecs-deployment-failed.json", detail_dash_type="ECS Task State Change"),
    "CodeDeploy instance state change": variant(
        "codedeploy-failure.json", detail_dash_type="CodeDeploy Instance State-change Notification"
    ),
    "scaling alarm into INSUFFICIENT_DATA": variant(
        "cloudwatch-alarm-scale-out.json", detail__state__value="INSUFFICIENT_DATA"
    ),
    "scaling alarm's configuration changed": variant(
        "cloudwatch-alarm-scale-out.json", detail_dash_type="CloudWatch Alarm Configuration Change"
    ),
    # `prefix` matches at the start only.
    "alarm whose name only contains the scaling prefix": variant(
        "cloudwatch-alarm-scale-out.json", detail__alarmName="prod-deckhand-scale-web-cpu-high"
    ),
    "another alarm in ALARM": variant("cloudwatch-alarm-scale-out.json", detail__alarmName="shop-5xx-high"),
    "a health alarm of another name": variant("failover-primary-alarm.json", detail__alarmName="deckhand-health-eu-west-1"),
    # What a schedule sends (here the failover re-check's Input): schedules invoke directly, and no
    # rule of the bus may pick such an event up.
    "a Scheduled Event on the bus": sample("failover-recheck.json"),
}


class TemplateRulesRouteTheSamples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = MotoServer().__enter__()
        # Stopped even when the rest of setUpClass fails (tearDownClass would not run).
        cls.addClassCleanup(cls.moto.__exit__, None, None, None)
        cls.template = template_rules.Template(parameters=PARAMETERS)
        cls.rules = cls.template.rules()
        cls.bus = template_rules.LocalBus(cls.moto.session(), cls.moto.url)
        cls.bus.install(cls.rules)

    def reached(self, event) -> set[str]:
        return set(self.bus.route(event))

    def test_every_sample_is_classified(self):
        unclassified = set(samples()) - set(ON_THE_BUS) - set(INVOKED_DIRECTLY)
        self.assertFalse(
            unclassified,
            "new samples in events/: add each to ON_THE_BUS (with the functions it must reach) or to INVOKED_DIRECTLY",
        )
        self.assertFalse(set(ON_THE_BUS) & set(INVOKED_DIRECTLY))
        missing = (set(ON_THE_BUS) | set(INVOKED_DIRECTLY)) - set(samples())
        self.assertFalse(missing, "samples listed here but gone from events/")

    def test_each_sample_reaches_exactly_its_functions(self):
        for name, expected in sorted(ON_THE_BUS.items()):
            with self.subTest(sample=name):
                event = sample(name)
                delivered = self.bus.route(event)
                self.assertEqual(set(delivered), expected)
                for function, payloads in delivered.items():
                    self.assertEqual(len(payloads), 1, f"{function} received {name} more than once")
                    payload = payloads[0]
                    # No rule transforms its input: the function gets the event as sent.
                    self.assertEqual(
                        (payload["source"], payload["detail-type"], payload["detail"]),
                        (event["source"], event["detail-type"], event["detail"]),
                    )
                    self.assertEqual(payload["resources"], event["resources"])

    def test_near_misses_reach_no_function(self):
        for what, event in NEAR_MISSES.items():
            with self.subTest(near_miss=what):
                self.assertEqual(self.reached(event), set())

    def test_the_standby_health_alarm_reaches_region_failover_only(self):
        standby = self.template.parameters["StandbyHealthAlarm"]
        event = variant("failover-primary-alarm.json", detail__alarmName=standby, region="us-west-2")
        self.assertEqual(self.reached(event), {REGION_FAILOVER})
        # Both ways: the failover rule has no state filter, the function reads the alarms itself.
        self.assertEqual(self.reached(variant("failover-primary-recovered.json", detail__alarmName=standby)), {REGION_FAILOVER})

    def test_every_rule_is_exercised_by_a_sample(self):
        reached = set().union(*ON_THE_BUS.values())
        self.assertEqual({rule.function for rule in self.rules}, reached)

    def test_operators_used_are_proven_against_moto(self):
        used = set().union(*(template_rules.check_pattern(rule.pattern, rule.name) for rule in self.rules))
        self.assertLessEqual(
            used,
            OPERATORS_PROVEN,
            "a pattern uses an operator no near miss here proves moto evaluates like AWS: add one",
        )

    def test_schedules_invoke_directly_with_the_sampled_payload(self):
        # The schedules invoke their functions directly: they are no bus rules, and the samples of
        # their payloads are what the template makes them send.
        scaler = [s for s in self.template.schedules() if s.function == SCALER]
        self.assertTrue(scaler, "the scaler's re-check schedule")
        # The gate's stuck-deployment check: no Input, so Scheduler's own payload (the sample).
        gate = [s for s in self.template.schedules() if s.function == TRAFFIC_GATE]
        self.assertEqual([(s.kind, s.input) for s in gate], [("ScheduleV2", None)])
        with_failback = template_rules.Template(parameters={**PARAMETERS, "AutoFailback": "true"})
        failover = [s for s in with_failback.schedules() if s.function == REGION_FAILOVER]
        self.assertEqual(len(failover), 1, "the failover re-check schedule (AutoFailback=true)")
        self.assertEqual(json.loads(failover[0].input), sample("failover-recheck.json"))
        self.assertFalse([s for s in self.template.schedules() if s.function == REGION_FAILOVER], "only with AutoFailback")


class RulesFollowTheirParameters(unittest.TestCase):
    """The patterns that use parameters, under other values than the defaults."""

    @classmethod
    def setUpClass(cls):
        cls.moto = MotoServer().__enter__()
        # Stopped even when the rest of setUpClass fails (tearDownClass would not run).
        cls.addClassCleanup(cls.moto.__exit__, None, None, None)
        cls.bus = template_rules.LocalBus(cls.moto.session(), cls.moto.url)

    def routed(self, parameters: dict, events: list) -> list[set[str]]:
        rules = template_rules.Template(parameters={**PARAMETERS, **parameters}).rules()
        self.bus.install(rules)
        try:
            return [set(self.bus.route(event)) for event in events]
        finally:
            self.bus.uninstall(rules)

    def test_build_started_reaches_build_finished_when_asked(self):
        started = sample("codebuild-in-progress.json")
        self.assertEqual(self.routed({"NotifyBuildStarted": "true"}, [started]), [{BUILD_FINISHED}])
        self.assertEqual(self.routed({"NotifyBuildStarted": "false"}, [started]), [set()])

    def test_scaling_alarms_follow_the_prefix(self):
        ours = variant("cloudwatch-alarm-scale-out.json", detail__alarmName="team-a-scale-prod-web-cpu-high")
        default_name = sample("cloudwatch-alarm-scale-out.json")
        self.assertEqual(self.routed({"ScalingAlarmPrefix": "team-a-scale-"}, [ours, default_name]), [{SCALER}, set()])

    def test_health_alarms_follow_their_names(self):
        primary = variant("failover-primary-alarm.json", detail__alarmName="shop-health-east")
        default_name = sample("failover-primary-alarm.json")
        self.assertEqual(
            self.routed({"PrimaryHealthAlarm": "shop-health-east"}, [primary, default_name]), [{REGION_FAILOVER}, set()]
        )

    def test_without_a_failover_record_no_alarm_reaches_region_failover(self):
        template = template_rules.Template(parameters={"Clusters": "prod"})
        self.assertNotIn(REGION_FAILOVER, {rule.function for rule in template.rules()})
        self.assertEqual(self.routed({"FailoverRecordName": ""}, [sample("failover-primary-alarm.json")]), [set()])


class PatternsAreCheckedBeforeMoto(unittest.TestCase):
    """What AWS refuses at PutRule and moto would evaluate anyway."""

    def test_unknown_operators_and_scalars_are_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown operator"):
            template_rules.check_pattern({"detail": {"name": [{"begins-with": "x"}]}})
        with self.assertRaisesRegex(ValueError, "must be an array"):
            template_rules.check_pattern({"source": "aws.ecr"})
        with self.assertRaisesRegex(ValueError, "empty array"):
            template_rules.check_pattern({"source": []})
        self.assertEqual(template_rules.check_pattern({"detail": {"name": [{"prefix": "x"}, "y"]}}), {"prefix"})


if __name__ == "__main__":
    unittest.main()
