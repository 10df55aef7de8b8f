//! Service tags Deckhand reads and writes. Values are documented in the README.

/// Which pushed tags deploy this service; its presence opts the service in.
pub const TRACK: &str = "deckhand:track";
/// The one container to update (default: every container using the pushed repository).
pub const CONTAINER: &str = "deckhand:container";
/// CodeDeploy application and deployment group for services with the `CODE_DEPLOY` controller.
pub const CODEDEPLOY_APP: &str = "deckhand:codedeploy-app";
pub const CODEDEPLOY_GROUP: &str = "deckhand:codedeploy-group";
/// CodeDeploy deployment configuration (traffic shift) for this service's blue/green deployments.
pub const TRAFFIC: &str = "deckhand:traffic";
/// How an ECS-native deployment (BLUE_GREEN, LINEAR, CANARY) shifts traffic, over the service's
/// own deployment configuration: `canary=10 step-bake=5m bake=15m` (`image_pushed::shift`).
pub const SHIFT: &str = "deckhand:shift";
/// Traffic gate: base URLs of the production and test listeners, the health path, alarms,
/// the target group serving the new revision, healthy status codes.
pub const GATE_URL: &str = "deckhand:gate-url";
pub const GATE_TEST_URL: &str = "deckhand:gate-test-url";
pub const GATE_PATH: &str = "deckhand:gate-path";
pub const GATE_ALARMS: &str = "deckhand:gate-alarms";
pub const GATE_TARGET_GROUP: &str = "deckhand:gate-target-group";
pub const GATE_STATUS: &str = "deckhand:gate-status";
/// Traffic gate: how the new revision's target group is compared with the old one's during a
/// linear or canary production shift (`off`, or `requests=N errors=P latency=P window=Nm`).
pub const ANALYSIS: &str = "deckhand:analysis";
/// Present (and not `false`): deployments are frozen; the traffic gate fails every shift.
pub const FREEZE: &str = "deckhand:freeze";
/// Present (and not blank or `false`): a person answers the service's ECS pause hooks; the value
/// names who (`person`, a team). The gate asks them instead of answering itself.
pub const APPROVAL: &str = "deckhand:approval";
/// Written by the traffic gate once its notice about a pause hook went out (its answer, or the
/// approval request): the hook's id. A redelivery of the hook's event finds it and does nothing.
pub const PAUSE_ANNOUNCED: &str = "deckhand:pause-announced";
/// How long a deployment may be in flight before the gate's schedule calls it stuck: `45m`,
/// `2h`, `90` (minutes); default `GATE_PROGRESS_DEADLINE` (60 minutes).
pub const PROGRESS_DEADLINE: &str = "deckhand:progress-deadline";
/// `true`: the gate's schedule rolls a stuck deployment back (StopServiceDeployment) before it
/// alerts; anything else (or absent): it only alerts.
pub const STUCK_ROLLBACK: &str = "deckhand:stuck-rollback";
/// Written by the traffic gate once its stuck-deployment alert went out: the deployment's id
/// (the last part of its ARN), so that each stuck deployment is alerted once.
pub const STUCK_ALERTED: &str = "deckhand:stuck-alerted";
/// Written by region failover on each region's services: the last flip (`standby:EPOCH`).
pub const LAST_FLIP: &str = "deckhand:last-flip";
/// Written by region failover on the standby's services while the primary serves: the primary's
/// desired count of the same service, so that a failover while the primary cannot be read still
/// pre-scales the standby to it.
pub const PRIMARY_DESIRED: &str = "deckhand:primary-desired";
/// How a `deckhand:freeze` value written by region failover begins (`failover to us-west-2 at …`):
/// failback lifts only such freezes; one with any other value was set by a person and stays.
pub const FAILOVER_FREEZE_PREFIX: &str = "failover to ";
/// Opts a service in to scaling (any value); the bound and cooldown tags only configure it.
pub const SCALE: &str = "deckhand:scale";
pub const SCALE_MIN: &str = "deckhand:scale-min";
pub const SCALE_MAX: &str = "deckhand:scale-max";
pub const SCALE_OUT_COOLDOWN: &str = "deckhand:scale-out-cooldown";
pub const SCALE_IN_COOLDOWN: &str = "deckhand:scale-in-cooldown";
/// Written by a rollout on each task-definition revision it registers: the revision it copied.
/// A retry finds the revision an earlier attempt registered by it, instead of registering another.
pub const REVISED_FROM: &str = "deckhand:revised-from";
/// Written by a rollout on the service once its deployment notice is published: the digest.
/// A retry that finds the service at a digest it has not announced sends the notice it owes.
pub const ANNOUNCED: &str = "deckhand:announced";
/// Written by the scaler: an intended step (`out:EPOCH:FROM:TO`, before UpdateService) or a step
/// done and announced (`out:EPOCH`); the cooldown's memory.
pub const LAST_SCALE: &str = "deckhand:last-scale";
/// Written by the scaler once its `scaling.at_max` warning is sent: the id of the alarm event it
/// warned about, so that a redelivery of that event does not warn twice.
pub const SCALE_WARNED: &str = "deckhand:scale-warned";

/// Opts a service in to the scan gate: which findings block a pushed image's deployment and what
/// a missing scan means, e.g. `critical`, `high deadline=30m missing=deploy` (`image_pushed::scan_gate`).
pub const SCAN: &str = "deckhand:scan";
/// Written by the scan gate when it defers a deployment until the image's scan arrives:
/// `DIGEST:EPOCH` (the digest, and when it deferred); removed once the deferral is settled.
pub const SCAN_PENDING: &str = "deckhand:scan-pending";
/// Written by the scan gate once its warning that a digest is blocked is published: the digest,
/// so that each blocked image is announced once.
pub const SCAN_BLOCKED: &str = "deckhand:scan-blocked";

/// A tag value recording what Deckhand did and when, `WHAT:EPOCH` (`out:1795000000`,
/// `standby:1795000000`): what, and the seconds since the epoch.
pub fn marker(value: &str) -> Option<(&str, u64)> {
    let (what, at) = value.split_once(':')?;
    Some((what, at.parse().ok()?))
}

pub fn marker_value(what: &str, at: u64) -> String {
    format!("{what}:{at}")
}
