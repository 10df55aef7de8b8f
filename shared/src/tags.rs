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
/// Traffic gate: base URLs of the production and test listeners, the health path, alarms,
/// the target group serving the new revision, healthy status codes.
pub const GATE_URL: &str = "deckhand:gate-url";
pub const GATE_TEST_URL: &str = "deckhand:gate-test-url";
pub const GATE_PATH: &str = "deckhand:gate-path";
pub const GATE_ALARMS: &str = "deckhand:gate-alarms";
pub const GATE_TARGET_GROUP: &str = "deckhand:gate-target-group";
pub const GATE_STATUS: &str = "deckhand:gate-status";
/// Present (and not `false`): deployments are frozen; the traffic gate fails every shift.
pub const FREEZE: &str = "deckhand:freeze";
/// Written by region failover on each region's services: the last flip (`standby:EPOCH`).
pub const LAST_FLIP: &str = "deckhand:last-flip";
/// Opts a service in to scaling (any value); the bound and cooldown tags only configure it.
pub const SCALE: &str = "deckhand:scale";
pub const SCALE_MIN: &str = "deckhand:scale-min";
pub const SCALE_MAX: &str = "deckhand:scale-max";
pub const SCALE_OUT_COOLDOWN: &str = "deckhand:scale-out-cooldown";
pub const SCALE_IN_COOLDOWN: &str = "deckhand:scale-in-cooldown";
/// Written by the scaler: the last action and its time (`out:EPOCH`), the cooldown's memory.
pub const LAST_SCALE: &str = "deckhand:last-scale";

/// A tag value recording what Deckhand did and when, `WHAT:EPOCH` (`out:1795000000`,
/// `standby:1795000000`): what, and the seconds since the epoch.
pub fn marker(value: &str) -> Option<(&str, u64)> {
    let (what, at) = value.split_once(':')?;
    Some((what, at.parse().ok()?))
}

pub fn marker_value(what: &str, at: u64) -> String {
    format!("{what}:{at}")
}
