//! Deckhand's shared library. Data flows one way:
//! event (decoded strictly) → decision (pure) → actions through small AWS traits → outcome.

pub mod aws;
pub mod build_finished;
pub mod config;
pub mod deploy_events;
pub mod deployer;
pub mod error;
pub mod event;
pub mod image_pushed;
pub mod notify;
pub mod outcome;
pub mod recent;
pub mod rollout;
pub mod runtime;
pub mod scaler;
pub mod scaling;

/// Service tags Deckhand reads. Values are documented in the README.
pub mod tags {
    /// Which pushed tags deploy this service; its presence opts the service in.
    pub const TRACK: &str = "deckhand:track";
    /// The one container to update (default: every container using the pushed repository).
    pub const CONTAINER: &str = "deckhand:container";
    /// CodeDeploy application and deployment group for services with the `CODE_DEPLOY` controller.
    pub const CODEDEPLOY_APP: &str = "deckhand:codedeploy-app";
    pub const CODEDEPLOY_GROUP: &str = "deckhand:codedeploy-group";
    /// Opts a service in to scaling (any value); the bound and cooldown tags only configure it.
    pub const SCALE: &str = "deckhand:scale";
    pub const SCALE_MIN: &str = "deckhand:scale-min";
    pub const SCALE_MAX: &str = "deckhand:scale-max";
    pub const SCALE_OUT_COOLDOWN: &str = "deckhand:scale-out-cooldown";
    pub const SCALE_IN_COOLDOWN: &str = "deckhand:scale-in-cooldown";
    /// Written by the scaler: the last action and its time (`out:EPOCH`), the cooldown's memory.
    pub const LAST_SCALE: &str = "deckhand:last-scale";
}
