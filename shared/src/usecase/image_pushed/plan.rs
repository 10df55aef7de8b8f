//! Pure rollout decisions: does a pushed image concern a service, which containers move to
//! which digest-pinned image, and how the service's deployment controller deploys it.

use super::image::ImageRef;
use super::tag_policy::TagPolicy;
use crate::event::ecr::ImageAction;
use crate::ports::{Container, Controller, ImageUpdate, Service, TaskDefinition};
use crate::tags;
use std::collections::BTreeMap;

/// Docker label recording the tag a digest-pinned image was pushed as.
pub const IMAGE_TAG_LABEL: &str = "deckhand.image-tag";

/// An image that landed in an ECR repository: from an ECR push event, or exported by a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePush {
    pub event_id: Option<String>,
    /// The registry's account and region.
    pub account: String,
    pub region: String,
    pub repository: String,
    pub digest: String,
    /// Absent for an untagged push.
    pub tag: Option<String>,
}

impl From<ImageAction> for ImagePush {
    fn from(action: ImageAction) -> Self {
        Self {
            event_id: action.event_id,
            account: action.account,
            region: action.region,
            repository: action.repository,
            digest: action.digest,
            tag: action.tag,
        }
    }
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

/// What a push asks of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutPlan {
    /// The push is not for this service, or Deckhand does not deploy it: why.
    Ignore(String),
    /// The service already runs (or is already deploying) the pushed image: where.
    Unchanged(String),
    /// A new revision with these images, rolled out by ECS.
    Rolling { updates: Vec<ImageUpdate> },
    /// A new revision with these images, deployed blue/green by CodeDeploy.
    BlueGreen(BlueGreen),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueGreen {
    pub application: String,
    pub deployment_group: String,
    /// The container and port of the service's load balancer, for the AppSpec.
    pub container_name: String,
    pub container_port: i32,
    /// `deckhand:traffic`: the deployment configuration (traffic shift); the group's when `None`.
    pub deployment_config: Option<String>,
    pub updates: Vec<ImageUpdate>,
    /// The newest image wins: the group's active deployment of an older image, stopped first.
    pub supersede: Option<String>,
}

/// The deployment a CodeDeploy group is running, and the containers of the revision it deploys
/// (`None` when its AppSpec names no task definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRollout {
    pub id: String,
    pub containers: Option<Vec<Container>>,
}

/// How `push` reaches `service`, which runs `current`. A blue/green plan is first made without
/// knowing the group's `active` deployment; the caller then looks it up and plans again with it.
pub fn plan(push: &ImagePush, service: &Service, current: &TaskDefinition, active: Option<&ActiveRollout>) -> RolloutPlan {
    let only_container = service.tags.get(tags::CONTAINER).map(String::as_str);
    let updates = match decide(push, &current.containers, only_container) {
        Decision::Ignore(reason) => return RolloutPlan::Ignore(reason),
        Decision::Unchanged => {
            return RolloutPlan::Unchanged(format!("already runs {} (revision {})", short_digest(&push.digest), current.revision));
        }
        Decision::Update(updates) => updates,
    };
    match service.controller {
        Controller::External => RolloutPlan::Ignore("deployment controller EXTERNAL: deployments are not Deckhand's".into()),
        Controller::Ecs => RolloutPlan::Rolling { updates },
        Controller::CodeDeploy => {
            let (Some(application), Some(group)) = (service.tags.get(tags::CODEDEPLOY_APP), service.tags.get(tags::CODEDEPLOY_GROUP))
            else {
                return RolloutPlan::Ignore(format!(
                    "deployment controller CODE_DEPLOY needs tags {} and {}",
                    tags::CODEDEPLOY_APP,
                    tags::CODEDEPLOY_GROUP
                ));
            };
            let Some(load_balancer) = service.load_balancers.first() else {
                return RolloutPlan::Ignore("deployment controller CODE_DEPLOY needs a load balancer on the service".into());
            };
            if let Some(ActiveRollout { id, containers: Some(containers) }) = active
                && decide(push, containers, only_container) == Decision::Unchanged
            {
                return RolloutPlan::Unchanged(format!("already deploying {} in CodeDeploy deployment {id}", short_digest(&push.digest)));
            }
            RolloutPlan::BlueGreen(BlueGreen {
                application: application.clone(),
                deployment_group: group.clone(),
                container_name: load_balancer.container_name.clone(),
                container_port: load_balancer.container_port,
                deployment_config: service.tags.get(tags::TRAFFIC).cloned(),
                updates,
                supersede: active.map(|a| a.id.clone()),
            })
        }
    }
}

/// `sha256:4f1c6e2d9b8a` — enough to tell images apart at a glance.
pub fn short_digest(digest: &str) -> &str {
    let end = digest.find(':').map_or(digest.len(), |colon| (colon + 13).min(digest.len()));
    &digest[..end]
}

/// Whether the pushed tag satisfies the service's `deckhand:track` policy.
/// `None` when it does; otherwise the reason it does not.
pub fn track_mismatch(push: &ImagePush, service_tags: &BTreeMap<String, String>) -> Option<String> {
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
pub fn decide(push: &ImagePush, containers: &[Container], only_container: Option<&str>) -> Decision {
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

fn push_repository(push: &ImagePush) -> String {
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
    use crate::ports::LoadBalancer;

    const ACCOUNT: &str = "123456789012";
    const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn push(tag: Option<&str>) -> ImagePush {
        ImagePush {
            event_id: None,
            account: ACCOUNT.into(),
            region: "us-east-1".into(),
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

    /// What `plan` should answer; the strings are parts of the reason.
    #[derive(Debug)]
    enum Want {
        Ignore(&'static str),
        Unchanged(&'static str),
        Rolling(&'static [&'static str]),
        BlueGreen { supersede: Option<&'static str> },
    }

    /// Name, controller, tags besides `deckhand:track`, load balancer, current containers, active deployment, wanted.
    type Case<'a> = (&'a str, Controller, &'a [(&'a str, &'a str)], Option<(&'a str, i32)>, Vec<Container>, Option<ActiveRollout>, Want);

    #[test]
    fn plans_by_controller_tags_load_balancer_current_image_and_active_deployment() {
        use Controller::{CodeDeploy, Ecs, External};
        let (old, new) = (format!("{REGISTRY}/shop/web:v1"), format!("{REGISTRY}/shop/web@{DIGEST}"));
        let older = format!("{REGISTRY}/shop/web@sha256:{}", "0".repeat(64));
        let codedeploy: &[(&str, &str)] = &[(tags::CODEDEPLOY_APP, "shop"), (tags::CODEDEPLOY_GROUP, "web-bg")];
        let lb = Some(("web", 8080));
        let web = |image: &str| vec![container("web", image)];
        let active = |image: Option<&str>| Some(ActiveRollout { id: "d-1".into(), containers: image.map(web) });
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("ECS: rolling", Ecs, &[], None, vec![container("web", &old), container("proxy", "nginx")], None, Want::Rolling(&["web"])),
            ("already pinned", Ecs, &[], None, web(&new), None, Want::Unchanged("already runs sha256:1111")),
            ("other repository", Ecs, &[], None, web("nginx"), None, Want::Ignore("no container uses")),
            ("deckhand:container names no container", Ecs, &[(tags::CONTAINER, "db")], None, web(&old), None, Want::Ignore("not a container")),
            ("EXTERNAL", External, codedeploy, lb, web(&old), None, Want::Ignore("EXTERNAL")),
            ("CODE_DEPLOY, nothing active", CodeDeploy, codedeploy, lb, web(&old), None, Want::BlueGreen { supersede: None }),
            ("CODE_DEPLOY without the group tag", CodeDeploy, &codedeploy[..1], lb, web(&old), None, Want::Ignore("needs tags")),
            ("CODE_DEPLOY without a load balancer", CodeDeploy, codedeploy, None, web(&old), None, Want::Ignore("needs a load balancer")),
            ("CODE_DEPLOY, older image active", CodeDeploy, codedeploy, lb, web(&old), active(Some(&older)), Want::BlueGreen { supersede: Some("d-1") }),
            ("CODE_DEPLOY, pushed image active", CodeDeploy, codedeploy, lb, web(&old), active(Some(&new)), Want::Unchanged("already deploying sha256:111111111111 in CodeDeploy deployment d-1")),
            ("CODE_DEPLOY, active without a task definition", CodeDeploy, codedeploy, lb, web(&old), active(None), Want::BlueGreen { supersede: Some("d-1") }),
            ("CODE_DEPLOY, already pinned", CodeDeploy, codedeploy, lb, web(&new), active(Some(&older)), Want::Unchanged("already runs")),
        ];
        for (case, controller, extra_tags, load_balancer, containers, active, want) in cases {
            let mut tag_map = service_tags(extra_tags);
            tag_map.insert(tags::TRACK.into(), "latest".into());
            let service = Service {
                arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
                name: "web".into(),
                cluster_arn: "arn:aws:ecs:us-east-1:123456789012:cluster/prod".into(),
                task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3".into(),
                controller,
                tags: tag_map,
                load_balancers: load_balancer
                    .map(|(name, port)| LoadBalancer { container_name: name.into(), container_port: port })
                    .into_iter()
                    .collect(),
            };
            let current = TaskDefinition { arn: service.task_definition.clone(), revision: 3, containers };
            let got = plan(&push(Some("latest")), &service, &current, active.as_ref());
            let ok = match (&want, &got) {
                (Want::Ignore(part), RolloutPlan::Ignore(reason)) | (Want::Unchanged(part), RolloutPlan::Unchanged(reason)) => {
                    reason.contains(part)
                }
                (Want::Rolling(moved), RolloutPlan::Rolling { updates }) => {
                    updates.iter().map(|u| u.container.as_str()).eq(moved.iter().copied()) && updates.iter().all(|u| u.to == new)
                }
                (Want::BlueGreen { supersede }, RolloutPlan::BlueGreen(bg)) => {
                    bg.supersede.as_deref() == *supersede
                        && (bg.application.as_str(), bg.deployment_group.as_str(), bg.container_name.as_str(), bg.container_port)
                            == ("shop", "web-bg", "web", 8080)
                        && bg.updates.len() == 1
                }
                _ => false,
            };
            assert!(ok, "{case}: wanted {want:?}, got {got:?}");
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
