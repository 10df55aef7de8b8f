"""template.yaml as SAM translates it: what a deployed stack gets, checked without deploying.

The template is translated with the SAM translator (the same package CloudFormation's transform
runs), and the resulting CloudFormation resources are checked for what the stack must do once
deployed: dead letters that reach FailedEventsQueue, log retention, alarms that reach the topic,
schedules that two stacks can share an account with, scoped IAM, an optional VPC for the gate,
DNS records made once across two regions. Parameter-built values (ARN lists, conditions) are
evaluated here for sample parameters by `Evaluator`, a small CloudFormation intrinsic evaluator.

Also checked, because `sam local invoke` and `cargo build` read them beside the template: the
shipped env-vars file, samconfig.toml and the workspace's default members.

What this does not prove: that IAM accepts the policies (a real account does; the actions and
resource types follow the Service Authorization Reference, see the comments in template.yaml).
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
import unittest
from pathlib import Path
from typing import Any
from unittest import mock

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
LOCAL_ENV = ROOT / "local" / "env.json"

ACCOUNT = "123456789012"
REGION = "us-east-1"
STANDBY = "us-west-2"
STACK = "deckhand"
QUEUE = "FailedEventsQueue"
TOPIC = "NotificationTopic"
FUNCTIONS = [
    "ImagePushedFunction",
    "BuildFinishedFunction",
    "DeployEventsFunction",
    "ScalerFunction",
    "TrafficGateFunction",
    "RegionFailoverFunction",
]
NO_VALUE = object()

# The translator warns of its own unpublished usage metrics when it is garbage-collected.
logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)


class _NoManagedPolicies:
    """The translator asks for AWS's managed-policy map only for policies named without an ARN;
    the template names none."""

    def load(self) -> dict[str, str]:
        return {}


def sam_template() -> dict:
    return yaml_parse(TEMPLATE.read_text())


def translate(parameters: dict[str, str] | None = None) -> dict:
    """The CloudFormation template SAM makes of template.yaml (code from a stand-in S3 object)."""
    template = sam_template()
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://deckhand-artifacts/deckhand.zip"
    values = {"Clusters": "prod", **(parameters or {})}
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        return transform(template, values, _NoManagedPolicies())


class Evaluator:
    """CloudFormation's intrinsic functions and conditions, for given parameter values (the
    template's defaults otherwise). Resources evaluate to stand-ins: `GetAtt X.Arn` → `<X.Arn>`."""

    def __init__(self, template: dict, parameters: dict[str, str] | None = None, region: str = REGION):
        self.template = template
        self.values: dict[str, Any] = {}
        for name, spec in template.get("Parameters", {}).items():
            value = (parameters or {}).get(name, spec.get("Default"))
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = value.split(",")
            self.values[name] = value
        self.values.update(
            {
                "AWS::AccountId": ACCOUNT,
                "AWS::Region": region,
                "AWS::Partition": "aws",
                "AWS::StackName": STACK,
                "AWS::NoValue": NO_VALUE,
            }
        )

    def condition(self, name: str) -> bool:
        return bool(self.eval(self.template["Conditions"][name]))

    def eval(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self.eval(item) for item in node) if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                if arg in self.values:
                    return self.values[arg]
                return f"<{arg}>"
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::GetAtt":
                target = arg if isinstance(arg, str) else ".".join(arg)
                return f"<{target}>"
            if key == "Fn::Join":
                delimiter, items = arg
                return delimiter.join(str(item) for item in self.eval(items))
            if key == "Fn::Split":
                delimiter, source = arg
                return str(self.eval(source)).split(delimiter)
            if key == "Fn::Select":
                index, items = arg
                return self.eval(items)[int(self.eval(index))]
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                scope = {**self.values, **{k: self.eval(v) for k, v in variables.items()}}
                for name, value in scope.items():
                    if isinstance(value, str):
                        text = text.replace("${" + name + "}", value)
                return text
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.eval(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                left, right = (self.eval(side) for side in arg)
                return left == right
            if key == "Fn::Not":
                return not self.eval(arg[0])
            if key == "Fn::And":
                return all(self.eval(item) for item in arg)
            if key == "Fn::Or":
                return any(self.eval(item) for item in arg)
        return {key: value for key, value in ((k, self.eval(v)) for k, v in node.items()) if value is not NO_VALUE}

    def exists(self, resource: dict) -> bool:
        return "Condition" not in resource or self.condition(resource["Condition"])


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def statements(document: dict) -> list[dict]:
    return as_list(document.get("Statement", []))


def statements_with(policy_documents: list[dict], action: str) -> list[dict]:
    return [s for doc in policy_documents for s in statements(doc) if action in as_list(s.get("Action", []))]


def role_documents(resources: dict, role: str) -> list[dict]:
    """The policy documents of a role: inline, and the managed policies of this template it attaches."""
    properties = resources[role]["Properties"]
    documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    for arn in properties.get("ManagedPolicyArns", []):
        for candidate in _refs(arn):
            if resources.get(candidate, {}).get("Type") == "AWS::IAM::ManagedPolicy":
                documents.append(resources[candidate]["Properties"]["PolicyDocument"])
    return documents


def _refs(node: Any) -> list[str]:
    """Every resource or parameter named by a Ref inside node."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return [node["Ref"]]
        return [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def function_role(resources: dict, function: str) -> str:
    role = resources[function]["Properties"]["Role"]
    return role["Fn::GetAtt"][0]


class TranslatedTemplate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Every function and schedule exists: region-failover with automatic failback.
        cls.parameters = {"FailoverRecordName": "api.example.com", "AutoFailback": "true"}
        cls.cfn = translate(cls.parameters)
        cls.resources = cls.cfn["Resources"]

    def of_type(self, kind: str) -> dict[str, dict]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}

    # -- dead letters ------------------------------------------------------------------------

    def test_rule_dead_letters_go_to_the_failed_events_queue_and_no_other_queue_exists(self):
        queue_arn = {"Fn::GetAtt": [QUEUE, "Arn"]}
        dead_lettered = []
        for name, rule in self.of_type("AWS::Events::Rule").items():
            for target in rule["Properties"]["Targets"]:
                if "DeadLetterConfig" in target:
                    self.assertEqual(target["DeadLetterConfig"], {"Arn": queue_arn}, name)
                    dead_lettered.append(name)
        self.assertEqual(
            sorted(dead_lettered),
            sorted(
                [
                    "ImagePushedFunctionEcrPush",
                    "ImagePushedFunctionEcrImageScan",
                    "ImagePushedFunctionInspectorImageScan",
                    "BuildFinishedFunctionBuildStateChange",
                    "DeployEventsFunctionEcsDeployment",
                    "DeployEventsFunctionEcsHookState",
                    "DeployEventsFunctionEcsServiceAction",
                    "DeployEventsFunctionCodeDeployDeployment",
                    "TrafficGateFunctionPauseHook",
                ]
            ),
        )
        # SAM creates a queue of its own for a DeadLetterConfig it does not understand.
        self.assertEqual(list(self.of_type("AWS::SQS::Queue")), [QUEUE])
        # EventBridge needs the queue's permission to dead-letter into it: those rules only.
        (policy,) = self.of_type("AWS::SQS::QueuePolicy").values()
        (statement,) = statements(policy["Properties"]["PolicyDocument"])
        self.assertEqual(statement["Principal"], {"Service": "events.amazonaws.com"})
        self.assertEqual(statement["Action"], "sqs:SendMessage")
        sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        self.assertEqual(sorted(s["Fn::GetAtt"][0] for s in sources), sorted(dead_lettered))

    # -- logs and alarms ---------------------------------------------------------------------

    def test_every_function_logs_to_a_log_group_with_retention(self):
        self.assertEqual(sorted(self.of_type("AWS::Lambda::Function")), sorted(FUNCTIONS))
        log_groups = self.of_type("AWS::Logs::LogGroup")
        seen = set()
        for name in FUNCTIONS:
            function = self.resources[name]
            group = function["Properties"]["LoggingConfig"]["LogGroup"]
            self.assertEqual(set(group), {"Ref"}, name)
            group_name = group["Ref"]
            self.assertIn(group_name, log_groups, name)
            self.assertEqual(log_groups[group_name]["Properties"]["RetentionInDays"], {"Ref": "LogRetentionDays"})
            self.assertEqual(log_groups[group_name].get("Condition"), function.get("Condition"), name)
            # The JSON format and levels of Globals are kept beside the group.
            self.assertEqual(function["Properties"]["LoggingConfig"]["LogFormat"], "JSON", name)
            seen.add(group_name)
        self.assertEqual(len(seen), len(FUNCTIONS), "one log group per function")
        evaluator = Evaluator(sam_template(), self.parameters)
        names = {evaluator.eval(log_groups[group]["Properties"]["LogGroupName"]) for group in seen}
        self.assertEqual(len(names), len(FUNCTIONS))
        self.assertTrue(all(name.startswith(f"/aws/lambda/{STACK}/") for name in names), names)

    def test_alarms_watch_the_failed_events_queue_and_every_function_and_reach_the_topic(self):
        alarms = self.of_type("AWS::CloudWatch::Alarm")
        topic = [{"Ref": TOPIC}]
        queue = [
            a["Properties"]
            for a in alarms.values()
            if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        ]
        self.assertEqual(len(queue), 1)
        self.assertEqual(queue[0]["Dimensions"], [{"Name": "QueueName", "Value": {"Fn::GetAtt": [QUEUE, "QueueName"]}}])
        self.assertEqual((queue[0]["ComparisonOperator"], queue[0]["Threshold"]), ("GreaterThanThreshold", 0))
        self.assertEqual(queue[0]["AlarmActions"], topic)
        errors = {}
        for name, alarm in alarms.items():
            properties = alarm["Properties"]
            if (properties.get("Namespace"), properties.get("MetricName")) == ("AWS/Lambda", "Errors"):
                (dimension,) = properties["Dimensions"]
                errors[dimension["Value"]["Ref"]] = alarm
                self.assertEqual((properties["ComparisonOperator"], properties["Threshold"]), ("GreaterThanThreshold", 0))
                self.assertEqual(properties["AlarmActions"], topic, name)
        self.assertEqual(sorted(errors), sorted(FUNCTIONS))
        self.assertEqual(errors["RegionFailoverFunction"].get("Condition"), "EnableFailover")

    def test_cloudwatch_alarms_may_use_the_topic_key(self):
        # CloudWatch cannot publish to a topic encrypted with the AWS managed alias/aws/sns.
        key = self.resources[TOPIC]["Properties"]["KmsMasterKeyId"]
        self.assertEqual(key, {"Ref": "NotificationKey"})
        policy = self.resources["NotificationKey"]["Properties"]["KeyPolicy"]
        cloudwatch = [s for s in statements(policy) if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
        self.assertEqual(len(cloudwatch), 1)
        self.assertEqual(sorted(cloudwatch[0]["Action"]), ["kms:Decrypt", "kms:GenerateDataKey*"])
        self.assertTrue(self.resources["NotificationKey"]["Properties"]["EnableKeyRotation"])

    # -- schedules ---------------------------------------------------------------------------

    def test_no_schedule_has_a_fixed_name(self):
        schedules = self.of_type("AWS::Scheduler::Schedule")
        self.assertEqual(sorted(schedules), ["ImagePushedFunctionScanRecheck", "RegionFailoverRecheck", "ScalerFunctionRecheck", "TrafficGateFunctionStuckCheck"])
        for name, schedule in schedules.items():
            given = schedule["Properties"].get("Name")
            # A name must be unique per account and region: none (CloudFormation makes one), or the stack's.
            self.assertTrue(given is None or "AWS::StackName" in json.dumps(given), f"{name}: {given}")

    def test_the_failover_recheck_retries_briefly_then_dead_letters(self):
        target = self.resources["RegionFailoverRecheck"]["Properties"]["Target"]
        retry = target["RetryPolicy"]
        self.assertLessEqual(retry["MaximumRetryAttempts"], 3)
        self.assertLessEqual(retry["MaximumEventAgeInSeconds"], 900)
        self.assertEqual(target["DeadLetterConfig"], {"Arn": {"Fn::GetAtt": [QUEUE, "Arn"]}})
        # Scheduler sends the dead letter with the schedule's role.
        role = target["RoleArn"]["Fn::GetAtt"][0]
        (send,) = statements_with(role_documents(self.resources, role), "sqs:SendMessage")
        self.assertEqual(send["Resource"], {"Fn::GetAtt": [QUEUE, "Arn"]})
        # The payload stays the one region-failover decodes (an EventBridge-style scheduled event).
        self.assertEqual(json.loads(target["Input"])["detail-type"], "Scheduled Event")

    # -- IAM ---------------------------------------------------------------------------------

    def test_service_trust_policies_name_this_account(self):
        trusting = {}
        for name, role in self.of_type("AWS::IAM::Role").items():
            for statement in statements(role["Properties"]["AssumeRolePolicyDocument"]):
                services = as_list(statement["Principal"].get("Service", []))
                # Lambda's execution roles are left as SAM makes them.
                if services and services != ["lambda.amazonaws.com"]:
                    trusting[name] = statement
        self.assertEqual(
            sorted(trusting), ["ImagePushedScheduleRole", "RegionFailoverRecheckRole", "ScalerRecheckRole", "TrafficGateInvokeRole", "TrafficGateScheduleRole"]
        )
        # ECS's hook role stays as AWS documents it (see the template's comment on it).
        self.assertNotIn("Condition", trusting.pop("TrafficGateInvokeRole"))
        for name, statement in trusting.items():
            condition = statement.get("Condition", {}).get("StringEquals", {})
            self.assertEqual(condition.get("aws:SourceAccount"), {"Ref": "AWS::AccountId"}, name)

    def test_the_gate_joins_a_vpc_only_when_given_subnets_and_security_groups(self):
        gate = self.resources["TrafficGateFunction"]["Properties"]
        condition, inside, outside = gate["VpcConfig"]["Fn::If"]
        self.assertEqual(inside, {"SubnetIds": {"Ref": "GateSubnetIds"}, "SecurityGroupIds": {"Ref": "GateSecurityGroupIds"}})
        self.assertEqual(outside, {"Ref": "AWS::NoValue"})
        role = function_role(self.resources, "TrafficGateFunction")
        vpc_access = [
            arn
            for arn in self.resources[role]["Properties"]["ManagedPolicyArns"]
            if "AWSLambdaVPCAccessExecutionRole" in json.dumps(arn)
        ]
        self.assertEqual(len(vpc_access), 1)
        self.assertEqual(vpc_access[0]["Fn::If"][0], condition)
        template = sam_template()
        cases = {
            ("subnet-1,subnet-2", "sg-1"): True,
            ("subnet-1", ""): False,
            ("", "sg-1"): False,
            ("", ""): False,
        }
        for (subnets, groups), expected in cases.items():
            evaluator = Evaluator(template, {"GateSubnetIds": subnets, "GateSecurityGroupIds": groups})
            self.assertEqual(evaluator.condition(condition), expected, (subnets, groups))
        # No other function gets the VPC permissions.
        for name in FUNCTIONS:
            if name != "TrafficGateFunction":
                self.assertNotIn("VPCAccess", json.dumps(self.resources[function_role(self.resources, name)]))

    def test_pass_role_only_for_the_named_task_roles_and_only_to_ecs_tasks(self):
        task_roles, hook_role = statements_with([self.resources["RolloutPolicy"]["Properties"]["PolicyDocument"]], "iam:PassRole")
        # The lifecycle hooks' role, which UpdateService re-sends: the gate's, to ECS only; the
        # gate's own rollback (UpdateService) passes it too.
        gate_policy = self.resources["TrafficGatePassHookRole"]["Properties"]
        self.assertEqual(gate_policy["Roles"], [{"Ref": "TrafficGateRole"}])
        for statement in (hook_role, *statements_with([gate_policy["PolicyDocument"]], "iam:PassRole")):
            self.assertEqual(statement["Resource"], {"Fn::GetAtt": ["TrafficGateInvokeRole", "Arn"]})
            self.assertEqual(statement["Condition"], {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}})
        statement = task_roles
        self.assertEqual(statement["Condition"], {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})
        template = sam_template()
        resources = Evaluator(template, {"TaskRoleNames": "shop-task,ecsTaskExecutionRole"}).eval(statement["Resource"])
        self.assertEqual(resources, ["arn:*:iam::*:role/shop-task", "arn:*:iam::*:role/ecsTaskExecutionRole"])
        defaults = Evaluator(template).eval(statement["Resource"])
        self.assertEqual(defaults, ["arn:*:iam::*:role/ecsTaskExecutionRole", "arn:*:iam::*:role/ecs-*"])

    def test_codedeploy_actions_without_a_resource_type_are_granted_on_star(self):
        # The Service Authorization Reference lists StopDeployment and
        # PutLifecycleEventHookExecutionStatus with no resource type: only "*" matches them.
        rollout = [self.resources["RolloutPolicy"]["Properties"]["PolicyDocument"]]
        gate = role_documents(self.resources, function_role(self.resources, "TrafficGateFunction"))
        for documents, action in (
            (rollout, "codedeploy:StopDeployment"),
            (gate, "codedeploy:PutLifecycleEventHookExecutionStatus"),
        ):
            (statement,) = statements_with(documents, action)
            self.assertEqual(statement["Resource"], "*", action)
            self.assertEqual(as_list(statement["Action"]), [action], f"{action} shares its '*' with nothing")

    def test_deployments_only_in_the_named_groups(self):
        (statement,) = statements_with(
            [self.resources["RolloutPolicy"]["Properties"]["PolicyDocument"]], "codedeploy:CreateDeployment"
        )
        self.assertEqual(as_list(statement["Action"]), ["codedeploy:CreateDeployment"])
        template = sam_template()
        evaluator = Evaluator(template, {"DeploymentGroups": "shop/web,shop/checkout-*"})
        self.assertEqual(
            evaluator.eval(statement["Resource"]),
            ["arn:*:codedeploy:*:*:deploymentgroup:shop/web", "arn:*:codedeploy:*:*:deploymentgroup:shop/checkout-*"],
        )
        self.assertEqual(evaluator.eval(statement["Condition"]), {"StringEquals": {"aws:RequestedRegion": REGION}})

    def test_register_task_definition_is_scoped_to_task_definitions(self):
        (statement,) = statements_with(
            [self.resources["RolloutPolicy"]["Properties"]["PolicyDocument"]], "ecs:RegisterTaskDefinition"
        )
        resource = Evaluator(sam_template()).eval(statement["Resource"])
        self.assertEqual(resource, f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/*")

    def test_region_failover_changes_only_its_services_and_its_record(self):
        role = function_role(self.resources, "RegionFailoverFunction")
        documents = role_documents(self.resources, role)
        evaluator = Evaluator(sam_template(), {**self.parameters, "FailoverServices": "prod/web,prod/api"})
        expected = ["arn:*:ecs:*:*:service/prod/web", "arn:*:ecs:*:*:service/prod/api"]
        for action in ("ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource"):
            (statement,) = statements_with(documents, action)
            self.assertEqual(evaluator.eval(statement["Resource"]), expected, action)
            regions = evaluator.eval(statement["Condition"]["StringEquals"]["aws:RequestedRegion"])
            self.assertEqual(regions, [REGION, STANDBY], action)
        (change,) = statements_with(documents, "route53:ChangeResourceRecordSets")
        self.assertEqual(as_list(change["Action"]), ["route53:ChangeResourceRecordSets"])
        condition = evaluator.eval(change["Condition"]["ForAllValues:StringEquals"])
        self.assertEqual(condition["route53:ChangeResourceRecordSetsNormalizedRecordNames"], ["api.example.com"])
        self.assertEqual(condition["route53:ChangeResourceRecordSetsRecordTypes"], ["CNAME"])

    def test_the_scaler_may_read_the_current_load(self):
        documents = role_documents(self.resources, function_role(self.resources, "ScalerFunction"))
        (statement,) = statements_with(documents, "cloudwatch:GetMetricStatistics")
        self.assertEqual(statement["Resource"], "*")

    def test_build_finished_rolls_out_only_the_configured_projects(self):
        function = self.resources["BuildFinishedFunction"]["Properties"]
        variable = function["Environment"]["Variables"]["ROLLOUT_PROJECTS"]
        template = sam_template()
        self.assertEqual(Evaluator(template, {"RolloutProjects": "shop-web,shop-api"}).eval(variable), "shop-web,shop-api")
        self.assertEqual(Evaluator(template).eval(variable), "")
        # Without projects it only notifies: the rollout policy is not attached.
        role = self.resources[function_role(self.resources, "BuildFinishedFunction")]["Properties"]
        (attached,) = [arn for arn in role["ManagedPolicyArns"] if "RolloutPolicy" in json.dumps(arn)]
        self.assertEqual(attached["Fn::If"][0], "RolloutFromBuilds")
        self.assertTrue(Evaluator(template, {"RolloutProjects": "shop-web"}).condition("RolloutFromBuilds"))
        self.assertFalse(Evaluator(template).condition("RolloutFromBuilds"))

    # -- two regions -------------------------------------------------------------------------

    def test_dns_records_and_health_checks_are_created_by_the_primary_regions_stack_only(self):
        template = sam_template()
        parameters = {
            "FailoverRecordName": "api.example.com",
            "PrimaryEndpoint": "primary.example.com",
            "StandbyEndpoint": "standby.example.com",
        }
        global_kinds = {"AWS::Route53::RecordSet", "AWS::Route53::HealthCheck"}
        names = [n for n, r in template["Resources"].items() if r["Type"] in global_kinds]
        self.assertEqual(len(names), 4)
        for region, expected in ((REGION, True), (STANDBY, False)):
            evaluator = Evaluator(template, parameters, region=region)
            for name in names:
                self.assertEqual(evaluator.exists(template["Resources"][name]), expected, (region, name))
            # Everything else (functions, rules, alarms) exists in both stacks.
            self.assertTrue(evaluator.exists(template["Resources"]["RegionFailoverFunction"]))


class LocalInvoke(unittest.TestCase):
    """`sam local invoke` resolves `!Ref SomeResource` in an environment to the logical id: the
    shipped env-vars file gives every variable that names a resource or parameter a real value."""

    def test_the_env_file_covers_every_function_and_variable(self):
        translated = translate({"FailoverRecordName": "api.example.com"})["Resources"]
        shipped = json.loads(LOCAL_ENV.read_text())
        for name in FUNCTIONS:
            declared = translated[name]["Properties"]["Environment"]["Variables"]
            self.assertIn(name, shipped)
            self.assertEqual(sorted(shipped[name]), sorted(declared), name)
            for variable, value in shipped[name].items():
                self.assertIsInstance(value, str, (name, variable))
                referenced = [ref for ref in _refs(declared[variable]) if ref in translated]
                # A resource: the file must not leave what SAM local would put there.
                for resource in referenced:
                    self.assertNotIn(value, ("", resource), (name, variable))
            topic = shipped[name]["NOTIFY_TOPIC_ARN"]
            self.assertRegex(topic, r"^arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$")

    def test_samconfig_builds_and_runs_one_architecture_and_ships_the_env_file(self):
        config = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]

        def architecture(command: str) -> str | None:
            overrides = config.get(command, {}).get("parameters", {}).get("parameter_overrides", "")
            pairs = dict(pair.split("=", 1) for pair in overrides.split())
            return pairs.get("Architecture")

        built = architecture("build") or sam_template()["Parameters"]["Architecture"]["Default"]
        self.assertEqual(architecture("local_invoke"), built)
        self.assertEqual(architecture("deploy"), built)
        env_vars = config["local_invoke"]["parameters"]["env_vars"]
        self.assertEqual(ROOT / env_vars, LOCAL_ENV)


class Workspace(unittest.TestCase):
    def test_default_members_are_the_functions_and_shared_not_the_tests(self):
        workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]
        members = workspace["default-members"]
        self.assertNotIn("tests", members)
        self.assertIn("shared", members)
        functions = sorted(path.parent.name for path in (ROOT / "functions").glob("*/Cargo.toml"))
        self.assertEqual(len(functions), len(FUNCTIONS))
        listed = {Path(member).name for member in members if member.startswith("functions/")}
        self.assertTrue(members.count("functions/*") == 1 or listed == set(functions), members)


if __name__ == "__main__":
    unittest.main()
