"""template.yaml, read the way CloudFormation and SAM would, for local runs and tests.

- `Template` loads the SAM template (CloudFormation short tags such as `!Ref`, `!GetAtt`, `!Sub`
  and `!If` included), resolves parameters (their defaults, or the values you give), conditions
  and the intrinsic functions patterns and environments use, and lists
  - `functions()`: every `AWS::Serverless::Function` that exists under those parameters, with
    what `cargo lambda deploy` needs to create it as the stack would (binary, name, runtime,
    handler, architectures, timeout, memory, environment);
  - `rules()`: every EventBridge rule that routes bus events to a function — SAM
    `EventBridgeRule` / `CloudWatchEvent` events and `AWS::Events::Rule` resources with an
    `EventPattern` — with its pattern resolved;
  - `schedules()`: the schedules (`Schedule`, `ScheduleV2`, `AWS::Scheduler::Schedule`), which
    invoke functions directly and never match an event put on the bus.
- `LocalBus` creates those rules in a local EventBridge (moto server), with one SQS queue per
  function as the rule's target, so that `route(event)` answers which functions an event reaches.

Resources other than parameters resolve to stand-ins (an ARN of the right shape built from the
logical id) unless you pass their values in `resources`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "deckhand"

# The comparison operators of EventBridge event patterns. moto evaluates every one of these, but
# it treats an operator it does not know as matching everything (AWS refuses such a pattern at
# PutRule), and a scalar where AWS wants an array as matching nothing: `check_pattern` refuses
# both, so a broken pattern fails here rather than passing locally.
OPERATORS = {
    "prefix",
    "suffix",
    "anything-but",
    "numeric",
    "exists",
    "equals-ignore-case",
    "wildcard",
    "cidr",
}


class NoValue:
    """`AWS::NoValue`: the property or list item disappears."""


NO_VALUE = NoValue()


class _Loader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation's short tags as their long forms."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _short_tag)


def load(path: Path | str = TEMPLATE) -> dict[str, Any]:
    """The template as plain data, short tags turned into their long forms."""
    with open(path, encoding="utf-8") as file:
        return yaml.load(file, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


@dataclass
class Function:
    logical_id: str
    binary: str | None
    name: str | None
    runtime: str | None
    handler: str | None
    architectures: list[str]
    timeout: int | None
    memory: int | None
    environment: dict[str, str]


@dataclass
class Rule:
    """An EventBridge rule whose target is a function."""

    name: str
    function: str
    pattern: dict[str, Any]
    event_bus: str | None = None
    enabled: bool = True
    # What the rule's target passes on instead of the event, when set (SAM `Input`,
    # `InputPath`, `InputTransformer`).
    target_input: dict[str, Any] = field(default_factory=dict)


@dataclass
class Schedule:
    name: str
    function: str
    kind: str
    expression: str
    input: str | None


class Template:
    def __init__(
        self,
        path: Path | str = TEMPLATE,
        parameters: dict[str, Any] | None = None,
        resources: dict[str, str] | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
        stack_name: str = STACK,
    ):
        self.doc = load(path)
        self.account, self.region, self.stack_name = account, region, stack_name
        self.resources_doc: dict[str, Any] = self.doc.get("Resources", {})
        self.overrides = dict(resources or {})
        self.parameters = self._parameters(parameters or {})
        self._conditions: dict[str, bool] = {}

    # Parameters and conditions

    def _parameters(self, given: dict[str, Any]) -> dict[str, Any]:
        declared = self.doc.get("Parameters", {})
        unknown = set(given) - set(declared)
        if unknown:
            raise ValueError(f"not parameters of the template: {sorted(unknown)}")
        values = {}
        for name, spec in declared.items():
            if name in given:
                value = given[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise ValueError(f"parameter {name} has no default: give it a value")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [item.strip() for item in value.split(",")] if value else []
            elif not isinstance(value, list):
                value = str(value)
            allowed = spec.get("AllowedValues")
            if allowed and value not in [str(a) for a in allowed]:
                raise ValueError(f"parameter {name}: {value!r} is not one of {allowed}")
            pattern = spec.get("AllowedPattern")
            if pattern and isinstance(value, str) and not re.fullmatch(pattern, value):
                raise ValueError(f"parameter {name}: {value!r} does not match {pattern}")
            values[name] = value
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            expression = self.doc.get("Conditions", {}).get(name)
            if expression is None:
                raise ValueError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(expression))
        return self._conditions[name]

    def exists(self, logical_id: str) -> bool:
        condition = self.resources_doc.get(logical_id, {}).get("Condition")
        return condition is None or self.condition(condition)

    # Intrinsic functions

    def pseudo(self, name: str) -> Any:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/{uuid.UUID(int=0)}",
            "AWS::NoValue": NO_VALUE,
        }[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.overrides:
            return self.overrides[name]
        resource = self.resources_doc.get(name)
        if resource is None:
            raise ValueError(f"!Ref {name}: neither a parameter nor a resource")
        kind = resource.get("Type", "")
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self.region}:{self.account}:{self.stack_name}-{name}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.stack_name}-{name}"
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            return self.function_name(name)
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{self.account}:policy/{self.stack_name}-{name}"
        return f"{self.stack_name}-{name}"

    def get_att(self, name: str, attribute: str) -> Any:
        key = f"{name}.{attribute}"
        if key in self.overrides:
            return self.overrides[key]
        resource = self.resources_doc.get(name)
        if resource is None:
            raise ValueError(f"!GetAtt {key}: no such resource")
        kind = resource.get("Type", "")
        if attribute == "Arn":
            if kind == "AWS::SQS::Queue":
                return f"arn:aws:sqs:{self.region}:{self.account}:{self.stack_name}-{name}"
            if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
                return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name(name)}"
            if kind == "AWS::IAM::Role":
                return f"arn:aws:iam::{self.account}:role/{self.stack_name}-{name}"
            if kind == "AWS::SNS::Topic":
                return self.ref(name)
        return f"{self.stack_name}-{name}.{attribute}"

    def function_name(self, logical_id: str) -> str:
        """The FunctionName the template gives, or a CloudFormation-like generated name."""
        props = self.resources_doc.get(logical_id, {}).get("Properties", {})
        if "FunctionName" in props:
            return self.resolve(props["FunctionName"])
        return f"{self.stack_name}-{logical_id}"

    def _sub(self, template: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                value = self.get_att(*name.split(".", 1))
            else:
                value = self.ref(name)
            if isinstance(value, list):
                raise ValueError(f"!Sub ${{{name}}}: a list cannot be substituted")
            return str(value)

        return re.sub(r"\$\{([^}]+)\}", replace, template)

    def resolve(self, node: Any) -> Any:
        """`node` with every intrinsic function evaluated; `AWS::NoValue` removed."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Condition":
                return self.condition(value)
            if key == "Fn::GetAtt":
                return self.get_att(*value)
            if key == "Fn::Sub":
                if isinstance(value, list):
                    text, variables = value
                    return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
                return self._sub(value, {})
            if key == "Fn::Join":
                separator, items = value
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::Split":
                separator, text = value
                return self.resolve(text).split(separator)
            if key == "Fn::Select":
                index, items = value
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::If":
                name, then, otherwise = value
                return self.resolve(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in value)
                return str(left) == str(right) if not isinstance(left, list) else left == right
            if key == "Fn::Not":
                return not self.resolve(value[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in value)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in value)
            if key == "Fn::FindInMap":
                name, first, second = (self.resolve(v) for v in value)
                return self.doc["Mappings"][name][first][second]
            if key.startswith("Fn::"):
                raise ValueError(f"{key} is not supported here")
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    # What the template declares

    def _serverless_functions(self) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(logical id, resource, properties with the Globals merged in) of each existing function."""
        globals_ = self.doc.get("Globals", {}).get("Function", {})
        found = []
        for logical_id, resource in self.resources_doc.items():
            if resource.get("Type") != "AWS::Serverless::Function" or not self.exists(logical_id):
                continue
            props = dict(resource.get("Properties", {}))
            merged = {**globals_, **props}
            if "Environment" in globals_ or "Environment" in props:
                variables = {
                    **globals_.get("Environment", {}).get("Variables", {}),
                    **props.get("Environment", {}).get("Variables", {}),
                }
                merged["Environment"] = {"Variables": variables}
            found.append((logical_id, resource, merged))
        return found

    def functions(self) -> list[Function]:
        result = []
        for logical_id, resource, props in self._serverless_functions():
            variables = self.resolve(props.get("Environment", {}).get("Variables", {}))
            architectures = self.resolve(props.get("Architectures", ["x86_64"]))
            result.append(
                Function(
                    logical_id=logical_id,
                    binary=resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary"),
                    name=self.resolve(props["FunctionName"]) if "FunctionName" in props else None,
                    runtime=self.resolve(props.get("Runtime")),
                    handler=self.resolve(props.get("Handler")),
                    architectures=architectures,
                    timeout=_int_or_none(self.resolve(props.get("Timeout"))),
                    memory=_int_or_none(self.resolve(props.get("MemorySize"))),
                    environment={key: _env_string(value) for key, value in variables.items()},
                )
            )
        return result

    def rules(self) -> list[Rule]:
        result = []
        functions = {logical_id for logical_id, _, _ in self._serverless_functions()}
        for logical_id, _, props in self._serverless_functions():
            for event_name, event in props.get("Events", {}).items():
                if event.get("Type") not in ("EventBridgeRule", "CloudWatchEvent"):
                    continue
                spec = event.get("Properties", {})
                pattern = self.resolve(spec.get("Pattern", {}))
                check_pattern(pattern, f"{logical_id}.Events.{event_name}.Pattern")
                enabled = self.resolve(spec.get("Enabled", True)) not in (False, "false")
                enabled = enabled and self.resolve(spec.get("State", "ENABLED")) == "ENABLED"
                target_input = {
                    key: self.resolve(spec[key]) for key in ("Input", "InputPath", "InputTransformer") if key in spec
                }
                result.append(
                    Rule(
                        name=f"{logical_id}{event_name}",
                        function=logical_id,
                        pattern=pattern,
                        event_bus=self.resolve(spec.get("EventBusName")),
                        enabled=enabled,
                        target_input=target_input,
                    )
                )
        for logical_id, resource in self.resources_doc.items():
            if resource.get("Type") != "AWS::Events::Rule" or not self.exists(logical_id):
                continue
            props = resource.get("Properties", {})
            if "EventPattern" not in props:
                continue
            pattern = self.resolve(props["EventPattern"])
            if isinstance(pattern, str):
                pattern = json.loads(pattern)
            check_pattern(pattern, f"{logical_id}.EventPattern")
            for target in props.get("Targets", []):
                function = _function_of(target.get("Arn"), functions)
                if function is None:
                    continue
                target_input = {
                    key: self.resolve(target[key]) for key in ("Input", "InputPath", "InputTransformer") if key in target
                }
                result.append(
                    Rule(
                        name=logical_id,
                        function=function,
                        pattern=pattern,
                        event_bus=self.resolve(props.get("EventBusName")),
                        enabled=self.resolve(props.get("State", "ENABLED")) == "ENABLED",
                        target_input=target_input,
                    )
                )
        return result

    def schedules(self) -> list[Schedule]:
        result = []
        functions = {logical_id for logical_id, _, _ in self._serverless_functions()}
        for logical_id, _, props in self._serverless_functions():
            for event_name, event in props.get("Events", {}).items():
                if event.get("Type") in ("Schedule", "ScheduleV2"):
                    spec = self.resolve(event.get("Properties", {}))
                    result.append(
                        Schedule(f"{logical_id}{event_name}", logical_id, event["Type"], spec.get("Schedule") or spec.get("ScheduleExpression"), spec.get("Input"))
                    )
        for logical_id, resource in self.resources_doc.items():
            if resource.get("Type") != "AWS::Scheduler::Schedule" or not self.exists(logical_id):
                continue
            props = resource.get("Properties", {})
            target = props.get("Target", {})
            function = _function_of(target.get("Arn"), functions)
            if function is not None:
                result.append(
                    Schedule(logical_id, function, "AWS::Scheduler::Schedule", self.resolve(props.get("ScheduleExpression")), self.resolve(target.get("Input")))
                )
        return result


def _function_of(arn_node: Any, functions: set[str]) -> str | None:
    """The function logical id a target's `Arn` names (`!GetAtt Fn.Arn` or `!Ref Fn`)."""
    if isinstance(arn_node, dict):
        if "Fn::GetAtt" in arn_node and arn_node["Fn::GetAtt"][0] in functions:
            return arn_node["Fn::GetAtt"][0]
        if arn_node.get("Ref") in functions:
            return arn_node["Ref"]
    return None


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def check_pattern(pattern: Any, where: str = "pattern") -> set[str]:
    """Refuses what AWS refuses and moto would evaluate silently: values that are not arrays,
    unknown comparison operators. Returns the operators the pattern uses."""
    used: set[str] = set()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if not node:
                raise ValueError(f"{where}: {path or '(top)'} is an empty object")
            for key, value in node.items():
                if key == "$or":
                    if not isinstance(value, list) or not value:
                        raise ValueError(f"{where}: {path}.$or must be a non-empty array")
                    used.add("$or")
                    for option in value:
                        walk(option, path)
                else:
                    walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            if not node:
                raise ValueError(f"{where}: {path} is an empty array (it would match nothing)")
            for item in node:
                if isinstance(item, dict):
                    if len(item) != 1:
                        raise ValueError(f"{where}: {path}: a comparison is an object with one operator, got {item}")
                    (operator,) = item
                    if operator not in OPERATORS:
                        raise ValueError(f"{where}: {path}: unknown operator {operator!r}")
                    used.add(operator)
                elif isinstance(item, list):
                    raise ValueError(f"{where}: {path}: nested arrays are not a pattern")
        else:
            raise ValueError(f"{where}: {path} must be an array of values or an object, got {node!r}")

    walk(pattern, "")
    return used


class LocalBus:
    """The template's rules in a local EventBridge, one SQS queue per function as their target.

    `install(rules)` creates them; `route(event)` puts an event on the bus as its AWS service would
    and returns {function logical id: [the payload delivered]} for the functions it reached.
    moto 5.2.5 leaves `account` out of the payload it delivers (AWS includes it): feed a function
    the event you put, not the delivered copy.
    """

    def __init__(self, session, endpoint_url: str, region: str = REGION, prefix: str = "deckhand-rules"):
        self.events = session.client("events", endpoint_url=endpoint_url, region_name=region)
        self.sqs = session.client("sqs", endpoint_url=endpoint_url, region_name=region)
        self.prefix = prefix
        self.queues: dict[str, str] = {}

    def install(self, rules: list[Rule]) -> None:
        buses = {rule.event_bus for rule in rules if rule.event_bus and rule.event_bus != "default"}
        existing = {bus["Name"] for bus in self.events.list_event_buses()["EventBuses"]}
        for bus in buses - existing:
            self.events.create_event_bus(Name=bus)
        for rule in rules:
            queue_url = self._queue(rule.function)
            queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            bus = {"EventBusName": rule.event_bus} if rule.event_bus else {}
            self.events.put_rule(
                Name=rule.name,
                EventPattern=json.dumps(rule.pattern),
                State="ENABLED" if rule.enabled else "DISABLED",
                **bus,
            )
            target = {"Id": rule.function, "Arn": queue_arn, **_target_input(rule.target_input)}
            failed = self.events.put_targets(Rule=rule.name, Targets=[target], **bus)
            if failed.get("FailedEntryCount"):
                raise RuntimeError(f"PutTargets {rule.name}: {failed['FailedEntries']}")

    def uninstall(self, rules: list[Rule]) -> None:
        """Removes the rules (and their targets); the queues stay."""
        for rule in rules:
            bus = {"EventBusName": rule.event_bus} if rule.event_bus else {}
            self.events.remove_targets(Rule=rule.name, Ids=[rule.function], **bus)
            self.events.delete_rule(Name=rule.name, **bus)

    def _queue(self, function: str) -> str:
        if function not in self.queues:
            self.queues[function] = self.sqs.create_queue(QueueName=f"{self.prefix}-{function}")["QueueUrl"]
        return self.queues[function]

    def put(self, event: dict[str, Any], event_bus: str | None = None) -> None:
        """PutEvents of `event` (an EventBridge event as delivered: `source`, `detail-type`, ...)."""
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event.get("resources", []),
        }
        if event_bus:
            entry["EventBusName"] = event_bus
        answer = self.events.put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents: {answer['Entries']}")

    def drain(self, wait_seconds: float = 0.0) -> dict[str, list[Any]]:
        """What each function's queue received since the last drain (deleted as read)."""
        deadline = time.monotonic() + wait_seconds
        received: dict[str, list[Any]] = {}
        while True:
            for function, url in self.queues.items():
                while True:
                    messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                    if not messages:
                        break
                    for message in messages:
                        received.setdefault(function, []).append(json.loads(message["Body"]))
                        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if received or time.monotonic() >= deadline:
                return received
            time.sleep(0.05)

    def route(self, event: dict[str, Any], event_bus: str | None = None) -> dict[str, list[Any]]:
        self.drain()
        self.put(event, event_bus)
        # moto delivers to the targets within the PutEvents call itself.
        return self.drain()


def _target_input(spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if "Input" in spec:
        result["Input"] = spec["Input"] if isinstance(spec["Input"], str) else json.dumps(spec["Input"])
    if "InputPath" in spec:
        result["InputPath"] = spec["InputPath"]
    if "InputTransformer" in spec:
        transformer = spec["InputTransformer"]
        result["InputTransformer"] = {
            "InputPathsMap": transformer.get("InputPathsMap", {}),
            "InputTemplate": transformer["InputTemplate"],
        }
    return result
