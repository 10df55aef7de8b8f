//! What `push_order` compares, read from ECR: one DescribeImages per distinct image in an event.

use super::{Deploying, Observed, Order, Seen, order};
use crate::ports::{AwsResult, ImageUpdate, Registry, RegistryImage, Service};
use crate::tags;
use crate::usecase::image_pushed::image::ImageRef;
use crate::usecase::image_pushed::plan::{ActiveRollout, Decision, ImagePush, RolloutPlan, decide};
use crate::usecase::image_pushed::tag_policy::TagPolicy;
use std::collections::HashMap;

/// ECR's answers within one event, by digest and by tag. Every image looked up is in the pushed
/// repository (`plan::decide` replaces no other), so a digest or a tag alone is the key.
#[derive(Debug, Default)]
pub struct Lookups {
    by_digest: HashMap<String, Option<RegistryImage>>,
    by_tag: HashMap<String, Option<RegistryImage>>,
}

impl Lookups {
    /// Answers already read in this event: by digest, and by each tag the image carries.
    pub fn knowing(images: impl IntoIterator<Item = RegistryImage>) -> Self {
        let mut lookups = Self::default();
        for image in images {
            for tag in &image.tags {
                lookups.by_tag.insert(tag.clone(), Some(image.clone()));
            }
            lookups.by_digest.insert(image.digest.clone(), Some(image));
        }
        lookups
    }

    async fn by_digest<G: Registry>(&mut self, registry: &G, push: &ImagePush, digest: &str) -> AwsResult<Option<RegistryImage>> {
        if let Some(known) = self.by_digest.get(digest) {
            return Ok(known.clone());
        }
        let found = registry.image_by_digest(&push.account, &push.repository, digest).await?;
        self.by_digest.insert(digest.to_owned(), found.clone());
        Ok(found)
    }

    /// The image a reference names: by its digest, else by its tag (`latest` when it names none).
    async fn by_reference<G: Registry>(&mut self, registry: &G, push: &ImagePush, image: &str) -> AwsResult<Option<RegistryImage>> {
        let Ok(image) = ImageRef::parse(image) else { return Ok(None) };
        if let Some(digest) = &image.digest {
            return self.by_digest(registry, push, digest).await;
        }
        let tag = image.tag.unwrap_or_else(|| "latest".to_owned());
        if let Some(known) = self.by_tag.get(&tag) {
            return Ok(known.clone());
        }
        let found = registry.image_by_tag(&push.account, &push.repository, &tag).await?;
        if let Some(image) = &found {
            self.by_digest.insert(image.digest.clone(), found.clone());
        }
        self.by_tag.insert(tag, found.clone());
        Ok(found)
    }

    /// The distinct images `updates` would replace, with ECR's record of each.
    async fn replaced<G: Registry>(&mut self, registry: &G, push: &ImagePush, updates: &[ImageUpdate]) -> AwsResult<Vec<Seen>> {
        let mut seen: Vec<Seen> = Vec::new();
        for update in updates {
            if seen.iter().all(|s| s.image != update.from) {
                let found = self.by_reference(registry, push, &update.from).await?;
                seen.push(Seen { image: update.from.clone(), found });
            }
        }
        Ok(seen)
    }
}

/// Whether `decided`, the plan for `service`, may replace what the service runs and the `active`
/// deployment (`plan` found it). Plans that replace nothing need no ECR call; a failed call is
/// the service's error (Lambda retries), never a blind deployment.
pub async fn check<G: Registry>(
    registry: &G,
    lookups: &mut Lookups,
    push: &ImagePush,
    service: &Service,
    decided: &RolloutPlan,
    active: Option<&ActiveRollout>,
) -> AwsResult<Order> {
    let (updates, kind) = match decided {
        RolloutPlan::Rolling { updates } => (updates, None),
        RolloutPlan::Native(native) => (&native.updates, Some("service deployment")),
        RolloutPlan::BlueGreen(blue_green) => (&blue_green.updates, Some("CodeDeploy deployment")),
        RolloutPlan::Ignore(_) | RolloutPlan::Unchanged { .. } => return Ok(Order::Deploy { unchecked: Vec::new() }),
    };
    let pushed = lookups.by_digest(registry, push, &push.digest).await?;
    if pushed.is_none() {
        return Ok(order(push, false, &Observed { pushed, running: Vec::new(), deploying: None }));
    }
    let running = lookups.replaced(registry, push, updates).await?;
    let deploying = match kind.zip(active) {
        Some((kind, ActiveRollout { id, revision })) => {
            let images = match revision {
                Some(revision) => match decide(push, &revision.containers, service.tags.get(tags::CONTAINER).map(String::as_str)) {
                    Decision::Update(updates) => Some(lookups.replaced(registry, push, &updates).await?),
                    Decision::Unchanged | Decision::Ignore(_) => Some(Vec::new()),
                },
                None => None,
            };
            Some(Deploying { deployment: format!("{kind} {id}"), images })
        }
        None => None,
    };
    let semver = service.tags.get(tags::TRACK).is_some_and(|track| matches!(TagPolicy::parse(track), Ok(TagPolicy::Semver(_))));
    Ok(order(push, semver, &Observed { pushed, running, deploying }))
}
