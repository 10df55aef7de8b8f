//! Never an older image on an event. EventBridge redelivers for up to an hour, Lambda retries,
//! and a busy CodeDeploy group fails a service on purpose so that its event comes back: a push
//! can arrive after a newer one. Before a rollout replaces what a service runs, or a deployment in
//! flight, the pushed image's `imagePushedAt` is compared with theirs and, for `semver:` tracking,
//! the version its tag names with theirs: an older (or lower) push is `ignored` with the reason.
//! Going back is an operator's explicit rollback. What ECR cannot tell (an image it does not know,
//! or without a push time) does not block the rollout: its notice says what was not compared.

mod lookup;
#[cfg(test)]
mod tests;

pub use lookup::{Lookups, check};

use super::image::ImageRef;
use super::plan::{ImagePush, short_digest};
use super::tag_policy::version_of;
use crate::notify::{Notification, field};
use crate::ports::RegistryImage;
use crate::quote::quote;
use crate::runtime::rfc3339;
use semver::Version;
use serde_json::json;

/// How every refusal ends: what the event cannot do, and what can.
const WAY_BACK: &str = "an event never moves a service to an older image; an operator's explicit rollback does";

/// One image the push is compared with, as a task definition names it, and ECR's record of it
/// (`None`: ECR does not know it: deleted, or another registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub image: String,
    pub found: Option<RegistryImage>,
}

/// The deployment in flight that a rollout would replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deploying {
    /// What it is: `CodeDeploy deployment d-1`, `service deployment arn:…`.
    pub deployment: String,
    /// The images it deploys from the pushed repository; `None` when its revision is unknown.
    pub images: Option<Vec<Seen>>,
}

/// What ECR says of the pushed image and of the images it would replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// ECR's record of the pushed digest; `None`: deleted since the push.
    pub pushed: Option<RegistryImage>,
    /// The images of the service's containers that the push would replace.
    pub running: Vec<Seen>,
    pub deploying: Option<Deploying>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Order {
    /// Not older than anything it replaces; `unchecked`: what could not be compared, for the notice.
    Deploy { unchecked: Vec<String> },
    /// Older (or a lower version) than what runs or deploys, or gone from ECR: why.
    Refuse(String),
}

/// Whether `push` may replace what `observed` saw; `semver`: the service tracks `semver:`.
pub fn order(push: &ImagePush, semver: bool, observed: &Observed) -> Order {
    let Some(pushed) = &observed.pushed else {
        return Order::Refuse(format!(
            "ECR no longer has {} in {}: deleted since the push, nothing to deploy",
            short_digest(&push.digest),
            quote(&push.repository)
        ));
    };
    let mut unchecked = Vec::new();
    if pushed.pushed_at.is_none() {
        unchecked.push(format!("ECR has no push time for the pushed image {}: push times not compared", short_digest(&push.digest)));
    }
    let version = semver.then(|| push.tag.as_deref().and_then(version_of)).flatten();
    let running = observed.running.iter().map(|seen| (seen, "what runs", "running".to_owned()));
    let deploying = match &observed.deploying {
        Some(Deploying { deployment, images: None }) => {
            unchecked.push(format!("{deployment} names no task definition: not compared"));
            None
        }
        Some(Deploying { deployment, images: Some(images) }) if images.is_empty() => {
            unchecked.push(format!("{deployment} deploys no image of {}: not compared", quote(&push.repository)));
            None
        }
        Some(Deploying { deployment, images: Some(images) }) => Some((images, deployment)),
        None => None,
    };
    let deploying = deploying
        .into_iter()
        .flat_map(|(images, deployment)| images.iter().map(move |seen| (seen, "what is deploying", format!("deploying in {deployment}"))));
    for (seen, what, role) in running.chain(deploying) {
        if let Err(reason) = compare(pushed, version.as_ref(), seen, (what, &role), &mut unchecked) {
            return Order::Refuse(reason);
        }
    }
    let mut distinct = std::collections::BTreeSet::new();
    unchecked.retain(|note| distinct.insert(note.clone()));
    Order::Deploy { unchecked }
}

/// The pushed image (`version`: its tag's, under `semver:` tracking) against one it would
/// replace, `what` (`what runs`) and its `role` (`running`): the refusal when it is older or a
/// lower version; what could not be compared goes to `unchecked`.
fn compare(
    pushed: &RegistryImage,
    version: Option<&Version>,
    seen: &Seen,
    (what, role): (&str, &str),
    unchecked: &mut Vec<String>,
) -> Result<(), String> {
    let referenced = ImageRef::parse(&seen.image).ok().and_then(|image| image.tag);
    let Some(found) = &seen.found else {
        unchecked.push(format!("ECR does not know {} (deleted, or another registry): push times not compared", quote(&seen.image)));
        // The tag it is referenced by may still name a version.
        return lower_version(pushed, version, referenced.iter().filter_map(|tag| version_of(tag)).max(), &quote(&seen.image), what);
    };
    if found.digest == pushed.digest {
        return Ok(());
    }
    let theirs = format!("{} ({role})", short_digest(&found.digest));
    match (pushed.pushed_at, found.pushed_at) {
        (Some(ours), Some(at)) if ours < at => {
            return Err(format!(
                "older than {what}: {} was pushed {}, {theirs} was pushed {}; {WAY_BACK}",
                short_digest(&pushed.digest),
                rfc3339(ours),
                rfc3339(at)
            ));
        }
        (_, None) => unchecked.push(format!("ECR has no push time for {theirs}: push times not compared")),
        _ => {}
    }
    let highest = referenced.iter().chain(&found.tags).filter_map(|tag| version_of(tag)).max();
    lower_version(pushed, version, highest, &theirs, what)
}

/// The refusal when the pushed `version` is below `theirs`, the highest version the other image's tags name.
fn lower_version(
    pushed: &RegistryImage,
    version: Option<&Version>,
    theirs: Option<Version>,
    other: &str,
    what: &str,
) -> Result<(), String> {
    match (version, theirs) {
        (Some(ours), Some(at)) if *ours < at => {
            Err(format!("lower version than {what}: {ours} ({}) is below {at}, {other}; {WAY_BACK}", short_digest(&pushed.digest)))
        }
        _ => Ok(()),
    }
}

/// The deployment notice, saying what was not compared by push time or version.
pub fn noted(mut notification: Notification, unchecked: &[String]) -> Notification {
    if unchecked.is_empty() {
        return notification;
    }
    for note in unchecked {
        notification.text.push_str(&format!("Not compared: {}\n", field(note)));
    }
    notification.details["not_compared"] = json!(unchecked);
    notification
}
