//! The pure rollout decisions, table-tested.

use super::*;
use crate::ports::LoadBalancer;

const ACCOUNT: &str = "123456789012";
pub(super) const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
pub(super) const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

pub(super) fn push(tag: Option<&str>) -> ImagePush {
    ImagePush {
        event_id: None,
        account: ACCOUNT.into(),
        region: "us-east-1".into(),
        repository: "shop/web".into(),
        digest: DIGEST.into(),
        tag: tag.map(str::to_owned),
    }
}

pub(super) fn container(name: &str, image: &str) -> Container {
    Container { name: name.into(), image: image.into() }
}

pub(super) fn service_tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn track_policy_gates_the_push() {
    assert_eq!(track_mismatch(&push(Some("v1.4.2")), &service_tags(&[(tags::TRACK, "semver:^1.4")])), None);
    assert!(track_mismatch(&push(Some("v2.0.0")), &service_tags(&[(tags::TRACK, "semver:^1.4")])).unwrap().contains("does not satisfy"));
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
    assert!(matches!(decide(&push(Some("v1")), &containers, Some("db")), Decision::Ignore(reason) if reason.contains("not a container")));
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
    let active = |image: Option<&str>| {
        let revision =
            image.map(|image| TaskDefinition { arn: "arn:td/web:4".into(), revision: 4, containers: web(image), revised_from: None });
        Some(ActiveRollout { id: "d-1".into(), revision })
    };
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
            strategy: crate::ports::Strategy::Rolling,
            tags: tag_map,
            load_balancers: load_balancer
                .map(|(name, port)| LoadBalancer { container_name: name.into(), container_port: port })
                .into_iter()
                .collect(),
        };
        let current = TaskDefinition { arn: service.task_definition.clone(), revision: 3, containers, revised_from: None };
        let got = plan(&push(Some("latest")), &service, &current, active.as_ref());
        let ok = match (&want, &got) {
            (Want::Ignore(part), RolloutPlan::Ignore(reason)) | (Want::Unchanged(part), RolloutPlan::Unchanged { reason, owed: None }) => {
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

#[test]
fn only_the_copy_an_earlier_attempt_registered_is_reused() {
    let source = TaskDefinition {
        arn: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3".into(),
        revision: 3,
        containers: vec![container("web", &format!("{REGISTRY}/shop/web:v1")), container("proxy", "nginx")],
        revised_from: None,
    };
    let pinned = format!("{REGISTRY}/shop/web@{DIGEST}");
    let updates = [ImageUpdate { container: "web".into(), from: source.containers[0].image.clone(), to: pinned.clone() }];
    let copy = TaskDefinition {
        arn: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:4".into(),
        revision: 4,
        containers: vec![container("web", &pinned), container("proxy", "nginx")],
        revised_from: Some(source.arn.clone()),
    };
    let by_a_person = TaskDefinition { revised_from: None, ..copy.clone() };
    let from_another =
        TaskDefinition { revised_from: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:2".into()), ..copy.clone() };
    let other_image = TaskDefinition { containers: vec![container("web", "other"), container("proxy", "nginx")], ..copy.clone() };
    for (case, latest, reuse) in [
        ("the copy", &copy, true),
        ("by a person", &by_a_person, false),
        ("from another revision", &from_another, false),
        ("another image", &other_image, false),
    ] {
        assert_eq!(reusable(latest, &source, &updates), reuse, "{case}");
    }
}
