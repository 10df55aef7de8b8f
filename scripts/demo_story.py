"""How the demo tells a step: the event as AWS sends it (a sample from events/ with this run's ids),
where the template's rules route it, what each function decided, what a person receives, and a
check of each thing the step announced."""

from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from demo_stage import Stage, account_restored
from demo_timeline import Timeline, is_read

EVENTS = Path(__file__).resolve().parent.parent / "events"
# Lines of a notification's text printed; the rest is counted.
TEXT_LINES = 14


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def fresh(event: dict) -> dict:
    """A new delivery of a sample: its own id, sent now."""
    event = copy.deepcopy(event)
    if "detail-type" in event:
        event["id"] = str(uuid.uuid4())
        event["time"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def decisions(outcome: dict) -> list[str]:
    """What a function decided, one line per resource, from its outcome envelope."""
    if not isinstance(outcome, dict):
        return [f"answered {outcome!r}"]
    if "errorType" in outcome:
        return [f"FAILED ({outcome['errorType']}): {outcome.get('errorMessage', '')[:300]}"]
    if "hookStatus" in outcome:
        return [f"hook answer {outcome['hookStatus']}"]
    lines = [f"ignored: {outcome['ignored']}"] if outcome.get("ignored") else []
    for resource in outcome.get("resources", []):
        result = resource.get("result", "?")
        if result == "deployed":
            detail = f"revision {resource['task_definition'].rsplit('/', 1)[-1]} via {resource['controller']}, deployment {resource['deployment_id']}"
        elif result == "scaled":
            metric = f", CPU {resource['metric']:.0f} %" if resource.get("metric") is not None else ""
            detail = f"{resource['from']} -> {resource['to']} tasks ({resource['direction']}{metric})"
        elif result == "step":
            detail = f"{resource['step']}: {resource['status']} ({resource['detail']})"
        elif result == "held":
            detail = f"{resource['decision']} ({resource['direction']}{', %s s left' % resource['remaining_seconds'] if 'remaining_seconds' in resource else ''})"
        elif result == "gated":
            detail = f"{resource.get('verdict')}: {'; '.join(resource.get('reasons', [])) or 'every check passed'}"
        else:
            detail = resource.get("reason") or resource.get("error") or json.dumps({k: v for k, v in resource.items() if k not in ("resource", "result")})
        lines.append(f"{resource['resource']}: {result} - {detail}")
    plan = (outcome.get("details") or {}).get("plan")
    if isinstance(plan, dict):
        lines.append(f"plan: {plan.get('plan')}{' - ' + plan['reason'] if plan.get('reason') else ''}")
    if outcome.get("notification"):
        sent = outcome["notification"]
        lines.append(f"notified [{sent['severity']}] {sent['subject']}")
    return lines or ["nothing to do"]


class Story:
    def __init__(self, stage: Stage, timeline: Timeline, queue: str):
        self.stage, self.timeline, self.queue = stage, timeline, queue
        self.failures: list[str] = []
        self.delivered: list[dict] = []
        self.number = 0

    def step(self, title: str) -> None:
        self.number += 1
        print(f"\n\n=== {self.number}. {title}")
        self.timeline.step(time.time(), f"{self.number}. {title}")

    def say(self, text: str) -> None:
        print(f"   {text}")

    def check(self, ok: bool, what: str) -> bool:
        print(f"   {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures.append(f"step {self.number}: {what}")
        return ok

    def put(self, name: str, expect: str | None, fill=lambda event: event, why: str = "") -> list[dict]:
        """`events/NAME` (filled in) put on the bus; it must reach `expect` (a function's logical id)
        or, when None, no function. The outcomes of the functions it reached."""
        event = fill(fresh(sample(name)))
        print(f"\n   event: events/{name} ({event['source']} / {event['detail-type']}){' - ' + why if why else ''}")
        self.timeline.event(time.time(), f"{event['detail-type']} ({name})")
        routed = self.stage.route(event)
        reached = ", ".join(f"{self.stage.functions[f]} (rule {self._rule(f, event)})" for f in routed) or "no function"
        wanted = {expect} if expect else set()
        self.check(set(routed) == wanted, f"the template's rules route it to {self.stage.functions.get(expect, 'no function') if expect else 'no function'} (reached: {reached})")
        outcomes = []
        for function, payloads in routed.items():
            for payload in payloads:
                outcomes.append(self._invoke(function, account_restored(payload)))
        return outcomes

    def _rule(self, function: str, event: dict) -> str:
        """The function's rule(s) for this kind of event (moto's queue says which function, not which rule)."""
        names = [rule.name for rule in self.stage.rules if rule.function == function
                 and event["source"] in rule.pattern.get("source", []) and event["detail-type"] in rule.pattern.get("detail-type", [])]
        return " or ".join(names) or "?"

    def call(self, function: str, payload: dict, via: str) -> dict:
        """A direct invocation: a lifecycle hook, a schedule, an operator."""
        print(f"\n   {via} invokes {self.stage.functions[function]} directly")
        self.timeline.event(time.time(), via)
        return self._invoke(function, fresh(payload))

    def _invoke(self, function: str, payload: dict) -> dict:
        binary = self.stage.functions[function]
        start, first_call = time.time(), len(self.stage.calls)
        outcome = self.stage.invoke(binary, payload)
        lines = decisions(outcome)
        failed = isinstance(outcome, dict) and "errorType" in outcome
        self.timeline.invocation(start, time.time(), binary, " | ".join(lines), not failed)
        print(f"   -> {binary} ({(time.time() - start) * 1000:.0f} ms):")
        for line in lines:
            print(f"        {line}")
        self.check(not failed, f"{binary} handled it without an error")
        changes = [c["op"] + (" (answered by the demo's CodeDeploy stand-in)" if c["stand_in"] else "")
                   for c in self.stage.calls[first_call:] if not is_read(c)]
        if changes:
            print(f"      AWS changes: {', '.join(changes)}")
        return outcome

    def inbox(self) -> list[dict]:
        """The notifications delivered since the last look (SNS -> SQS), printed as a person reads them."""
        sqs = self.stage.client("sqs")
        received = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
            if not messages:
                break
            for message in messages:
                sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
                envelope = json.loads(message["Body"])
                attributes = {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
                document = json.loads(envelope["Message"])
                note = {"subject": envelope.get("Subject", ""), "attributes": attributes, "text": document.get("text", ""), "raw": message["Body"]}
                received.append(note)
                at = datetime.fromisoformat(envelope["Timestamp"].replace("Z", "+00:00")).timestamp() if "Timestamp" in envelope else time.time()
                self.timeline.notification(at, attributes.get("severity", "?"), note["subject"])
        for note in received:
            print(f"\n   notification [{note['attributes'].get('severity')}] {note['attributes'].get('event')}: {note['subject']}")
            lines = note["text"].rstrip().splitlines()
            for line in lines[:TEXT_LINES]:
                print(f"   | {line}")
            if len(lines) > TEXT_LINES:
                print(f"   | ... ({len(lines) - TEXT_LINES} more lines)")
        self.delivered += received
        return received

    def told(self, notes: list[dict], *events: str) -> bool:
        """Whether `notes` hold exactly these notifications (their `event` attribute), in any order."""
        return sorted(n["attributes"].get("event", "?") for n in notes) == sorted(events)
