//! Pure rollout decisions: does a pushed image concern a service, and which containers move to
//! which digest-pinned image.

pub mod image;
pub mod tag_policy;

use crate::event::ecr::ImageAction;
use crate::tags;
use image::ImageRef;
use serde::Serialize;
use std::collections::BTreeMap;
use tag_policy::TagPolicy;

/// Docker label recording the tag a digest-pinned image was pushed as.
pub const IMAGE_TAG_LABEL: &str = "deckhand.image-tag";

/// A container of a task definition, as far as a rollout cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub image: String,
}

/// One container moving from one image to another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ImageUpdate {
    pub container: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The push does not concern this service.
    Ignore(String),
    /// The service already has the pushed digest in every container that tracks it.
    Unchanged,
    /// These containers move to the pushed digest.
    Update(Vec<ImageUpdate>),
}

/// Whether the pushed tag satisfies the service's `deckhand:track` policy.
/// `None` when it does; otherwise the reason it does not.
pub fn track_mismatch(push: &ImageAction, service_tags: &BTreeMap<String, String>) -> Option<String> {
    let Some(track) = service_tags.get(tags::TRACK) else {
        return Some(format!("not opted in (no {} tag)", tags::TRACK));
    };
    let policy = match TagPolicy::parse(track) {
        Ok(policy) => policy,
        Err(err) => return Some(err.to_string()),
    };
    match &push.tag {
        None => Some("untagged push: no tag to match deckhand:track".to_owned()),
        Some(tag) if !policy.matches(tag) => Some(format!("tag `{tag}` does not satisfy {} `{track}`", tags::TRACK)),
        Some(_) => None,
    }
}

/// Which containers of a task definition move to the pushed digest.
/// `only_container` is the service's `deckhand:container` tag, when set.
pub fn decide(push: &ImageAction, containers: &[Container], only_container: Option<&str>) -> Decision {
    let mut updates = Vec::new();
    let mut already_pinned = 0;
    for container in containers {
        if only_container.is_some_and(|only| only != container.name) {
            continue;
        }
        let Ok(image) = ImageRef::parse(&container.image) else { continue };
        if !image.is_from_ecr_repository(&push.account, &push.region, &push.repository) {
            continue;
        }
        if image.digest.as_deref() == Some(push.digest.as_str()) {
            already_pinned += 1;
            continue;
        }
        updates.push(ImageUpdate {
            container: container.name.clone(),
            from: container.image.clone(),
            to: image.pinned_to(&push.digest).to_string(),
        });
    }
    match (updates.is_empty(), already_pinned) {
        (false, _) => Decision::Update(updates),
        (true, pinned) if pinned > 0 => Decision::Unchanged,
        (true, _) => Decision::Ignore(match only_container {
            Some(only) if !containers.iter().any(|c| c.name == only) => {
                format!("{} names `{only}`, which is not a container of the task definition", tags::CONTAINER)
            }
            Some(only) => format!("container `{only}` does not use {}", push_repository(push)),
            None => format!("no container uses {}", push_repository(push)),
        }),
    }
}

fn push_repository(push: &ImageAction) -> String {
    format!("repository {} of account {} in {}", push.repository, push.account, push.region)
}

/// The task definition ARN an AppSpec names (JSON or YAML): the first `arn:…:task-definition/…` token.
pub fn task_definition_in_appspec(content: &str) -> Option<&str> {
    content
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '{' | '}' | '[' | ']'))
        .find(|token| token.starts_with("arn:") && token.contains(":task-definition/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";
    const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn push(tag: Option<&str>) -> ImageAction {
        ImageAction {
            event_id: None,
            account: ACCOUNT.into(),
            region: "us-east-1".into(),
            action: "PUSH".into(),
            result: "SUCCESS".into(),
            repository: "shop/web".into(),
            digest: DIGEST.into(),
            tag: tag.map(str::to_owned),
        }
    }

    fn container(name: &str, image: &str) -> Container {
        Container { name: name.into(), image: image.into() }
    }

    fn service_tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn track_policy_gates_the_push() {
        assert_eq!(track_mismatch(&push(Some("v1.4.2")), &service_tags(&[(tags::TRACK, "semver:^1.4")])), None);
        assert!(
            track_mismatch(&push(Some("v2.0.0")), &service_tags(&[(tags::TRACK, "semver:^1.4")])).unwrap().contains("does not satisfy")
        );
        assert!(track_mismatch(&push(None), &service_tags(&[(tags::TRACK, "latest")])).unwrap().contains("untagged"));
        assert!(track_mismatch(&push(Some("latest")), &service_tags(&[])).unwrap().contains("not opted in"));
        assert!(
            track_mismatch(&push(Some("latest")), &service_tags(&[(tags::TRACK, "semver:??")])).unwrap().contains("invalid deckhand:track")
        );
    }

    #[test]
    fn updates_every_container_of_the_repository() {
        let containers = [
            container("web", &format!("{REGISTRY}/shop/web:v1.4.1")),
            container("worker", &format!("{REGISTRY}/shop/web@sha256:old")),
            container("proxy", "public.ecr.aws/nginx/nginx:1.27"),
            container("other", &format!("{REGISTRY}/shop/api:v1")),
        ];
        let Decision::Update(updates) = decide(&push(Some("v1.4.2")), &containers, None) else { panic!("expected an update") };
        let pinned = format!("{REGISTRY}/shop/web@{DIGEST}");
        assert_eq!(
            updates,
            [
                ImageUpdate { container: "web".into(), from: containers[0].image.clone(), to: pinned.clone() },
                ImageUpdate { container: "worker".into(), from: containers[1].image.clone(), to: pinned },
            ]
        );
    }

    #[test]
    fn container_tag_limits_the_update() {
        let containers = [container("web", &format!("{REGISTRY}/shop/web:v1")), container("worker", &format!("{REGISTRY}/shop/web:v1"))];
        let Decision::Update(updates) = decide(&push(Some("v1")), &containers, Some("worker")) else { panic!() };
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].container, "worker");
        assert!(
            matches!(decide(&push(Some("v1")), &containers, Some("db")), Decision::Ignore(reason) if reason.contains("not a container"))
        );
    }

    #[test]
    fn already_pinned_is_unchanged() {
        let containers = [container("web", &format!("{REGISTRY}/shop/web@{DIGEST}"))];
        assert_eq!(decide(&push(Some("v1")), &containers, None), Decision::Unchanged);
    }

    #[test]
    fn other_repositories_accounts_and_regions_are_ignored() {
        for image in [
            format!("{REGISTRY}/shop/api:v1"),
            "210987654321.dkr.ecr.us-east-1.amazonaws.com/shop/web:v1".to_owned(),
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/web:v1".to_owned(),
            "shop/web:v1".to_owned(),
        ] {
            let decision = decide(&push(Some("v1")), &[container("web", &image)], None);
            assert!(matches!(&decision, Decision::Ignore(reason) if reason.contains("no container uses")), "{image}: {decision:?}");
        }
    }

    #[test]
    fn finds_the_task_definition_in_an_appspec() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
        let json = format!(
            r#"{{"version":0.0,"Resources":[{{"TargetService":{{"Type":"AWS::ECS::Service","Properties":{{"TaskDefinition":"{arn}"}}}}}}]}}"#
        );
        assert_eq!(task_definition_in_appspec(&json), Some(arn));
        let yaml = format!("version: 0.0\nResources:\n  - TargetService:\n      Properties:\n        TaskDefinition: '{arn}'\n");
        assert_eq!(task_definition_in_appspec(&yaml), Some(arn));
        assert_eq!(task_definition_in_appspec("version: 0.0"), None);
    }
}
