"""The demo's timeline as a picture: events, decisions, AWS calls and notifications on one time
axis (`target/demo/timeline.png`), and a page with the picture and every entry in time order
(`target/demo/timeline.html`)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

FUNCTIONS = ["image-pushed", "traffic-gate", "build-finished", "deploy-events", "scaler", "region-failover"]
LANES = ["events", *FUNCTIONS, "AWS writes", "AWS reads", "notifications"]
SEVERITY = {"info": "#2b8a3e", "warning": "#f08c00", "critical": "#e03131"}
# Operations that only read; every other call changes something.
READS = ("Describe", "List", "Get", "BatchGet")


def is_read(call: dict) -> bool:
    return call["op"].split(":")[-1].startswith(READS)


@dataclass
class Timeline:
    started: float
    steps: list[tuple[float, str]] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    invocations: list[tuple[float, float, str, str, bool]] = field(default_factory=list)
    notifications: list[tuple[float, str, str]] = field(default_factory=list)

    def step(self, at: float, title: str) -> None:
        self.steps.append((at, title))

    def event(self, at: float, label: str) -> None:
        self.events.append((at, label))

    def invocation(self, start: float, end: float, function: str, decision: str, ok: bool) -> None:
        self.invocations.append((start, end, function, decision, ok))

    def notification(self, at: float, severity: str, subject: str) -> None:
        self.notifications.append((at, severity, subject))

    def write(self, out: Path, calls: list[dict], ended: float) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        picture = out / "timeline.png"
        self.draw(picture, calls, ended)
        rows = "".join(f"<tr><td style='text-align:right'>{at - self.started:.2f} s</td><td>{html.escape(text)}</td></tr>"
                       for at, text in self.entries(calls))
        image = base64.b64encode(picture.read_bytes()).decode()
        (out / "timeline.html").write_text(
            "<!doctype html><meta charset='utf-8'><title>Deckhand demo timeline</title><body style='font-family:sans-serif'>"
            f"<h1>Deckhand demo: what happened, when</h1><img style='max-width:100%' src='data:image/png;base64,{image}'>"
            f"<table>{rows}</table></body>")
        return out / "timeline.html"

    def entries(self, calls: list[dict]) -> list[tuple[float, str]]:
        items = [(at, f"== {title}") for at, title in self.steps]
        items += [(at, f"event: {label}") for at, label in self.events]
        items += [(start, f"{fn}: {decision} ({(end - start) * 1000:.0f} ms)") for start, end, fn, decision, _ in self.invocations]
        items += [(c["at"], f"AWS {c['op']}{' (stand-in for what moto lacks)' if c['stand_in'] else ''}: HTTP {c['status']}") for c in calls]
        items += [(at, f"notification [{severity}] {subject}") for at, severity, subject in self.notifications]
        return sorted(items, key=lambda item: item[0])

    def draw(self, path: Path, calls: list[dict], ended: float) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        def t(at: float) -> float:
            return at - self.started

        row = {lane: len(LANES) - index for index, lane in enumerate(LANES)}
        fig, ax = plt.subplots(figsize=(15, 6.8))
        bounds = [t(at) for at, _ in self.steps] + [t(ended)]
        for index, (at, title) in enumerate(self.steps):
            ax.axvspan(bounds[index], bounds[index + 1], color="#f1f3f5" if index % 2 else "#ffffff", zorder=0)
            ax.text((bounds[index] + bounds[index + 1]) / 2, len(LANES) + 0.8, title.split(".")[0], ha="center", fontsize=11, weight="bold")
        fig.text(0.01, 0.01, "   ".join(title for _, title in self.steps), fontsize=8, wrap=True)
        ax.scatter([t(at) for at, _ in self.events], [row["events"]] * len(self.events), marker="|", s=300, color="#7048e8")
        for start, end, function, _, ok in self.invocations:
            ax.broken_barh([(t(start), max(end - start, 0.15))], (row[function] - 0.3, 0.6), color="#1c7ed6" if ok else "#e03131")
        for lane, chosen in (("AWS writes", [c for c in calls if not is_read(c)]), ("AWS reads", [c for c in calls if is_read(c)])):
            ax.vlines([t(c["at"]) for c in chosen], row[lane] - 0.3, row[lane] + 0.3, color="#d9480f" if lane == "AWS writes" else "#868e96", linewidth=0.7)
        for severity, colour in SEVERITY.items():
            chosen = [t(at) for at, s, _ in self.notifications if s == severity]
            ax.scatter(chosen, [row["notifications"]] * len(chosen), marker="D", s=40, color=colour, label=f"notification: {severity}", zorder=3)
        ax.set_yticks(list(row.values()), list(row.keys()))
        ax.set_ylim(0.3, len(LANES) + 1.6)
        ax.set_xlim(bounds[0] - 0.3 if self.steps else 0, t(ended) + 0.3)
        ax.set_xlabel("seconds since the demo started (the local AWS and the functions start before step 1)")
        writes = sum(not is_read(c) for c in calls)
        ax.set_title(f"make demo: {len(self.events)} events, {len(self.invocations)} invocations, {len(calls)} AWS calls "
                     f"({writes} changes), {len(self.notifications)} notifications", fontsize=11, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 0.25), fontsize=8)
        ax.grid(axis="x", color="#f1f3f5")
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        fig.savefig(path, dpi=100)
        plt.close(fig)
