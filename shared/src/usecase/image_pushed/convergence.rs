//! image-pushed under failure (issue 11): a retry after any failed call ends where a clean run
//! does — one revision, one deployment, the notice sent — and no step's failure reads as success.

use super::tests::{DIGEST, OLDER, PUSHED_AT, active_deployment, blue_green, handle, pinned, push, tracking, web_task_definition};
use crate::fakes::matrix::{self, World};
use crate::fakes::{FakeAws, Fault, Faults, native_deployment};
use crate::ports::Strategy;
use crate::tags;
use std::collections::BTreeSet;

#[tokio::test]
async fn a_lost_register_answer_leaves_no_extra_revision() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    aws.faults.fail_nth("ecs:RegisterTaskDefinition", 1, Fault::LostResponse);

    handle(&aws, push("v1.4.2")).await.unwrap_err();
    handle(&aws, push("v1.4.2")).await.unwrap();

    let revisions = aws.ecs.revisions("web");
    assert_eq!(revisions.len(), 2, "the retry reuses the revision whose answer was lost");
    assert_eq!(aws.ecs.service("prod", "web").task_definition, revisions[1].0.arn);
}

#[tokio::test]
async fn a_retry_after_a_failed_update_registers_no_second_revision() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    aws.faults.fail_nth("ecs:UpdateService", 1, Fault::Error);

    handle(&aws, push("v1.4.2")).await.unwrap_err();
    handle(&aws, push("v1.4.2")).await.unwrap();

    assert_eq!(aws.ecs.revisions("web").len(), 2);
    assert_eq!(aws.ecs.service("prod", "web").task_definition, aws.ecs.revisions("web")[1].0.arn);
}

#[tokio::test]
async fn a_failed_notice_fails_the_invocation_and_the_retry_sends_it_once() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    aws.faults.fail_nth("sns:Publish", 1, Fault::Error);

    let err = handle(&aws, push("v1.4.2")).await.unwrap_err().to_string();
    assert!(err.contains("deployed, but the notice did not go out"), "{err}");
    assert!(aws.sns.published().is_empty());
    assert_eq!(aws.ecs.service("prod", "web").tags.get(tags::ANNOUNCED), None, "marked only once sent");

    handle(&aws, push("v1.4.2")).await.unwrap();
    let published = aws.sns.published();
    assert_eq!(published.iter().map(|n| n.event).collect::<Vec<_>>(), ["image.deployed"]);
    assert!(published[0].text.contains("owed"), "{}", published[0].text);
    assert_eq!(aws.ecs.service("prod", "web").tags.get(tags::ANNOUNCED).map(String::as_str), Some(DIGEST));

    handle(&aws, push("v1.4.2")).await.unwrap();
    assert_eq!(aws.sns.published().len(), 1, "announced: a later delivery sends nothing");
    assert_eq!((aws.faults.count("ecs:RegisterTaskDefinition"), aws.faults.count("ecs:UpdateService")), (1, 1));
}

#[tokio::test]
async fn a_service_already_at_the_digest_without_deckhand_is_not_announced() {
    let aws = FakeAws::new();
    let td = aws.ecs.add_task_definition("web", &[("web", &pinned(DIGEST))]);
    aws.ecs.add_service(tracking("web", &td));

    handle(&aws, push("v1.4.2")).await.unwrap();

    assert!(aws.sns.published().is_empty(), "a person pinned it: there is no deployment of Deckhand's to announce");
}

/// A service's ECS-native deployments: (status, target task definition).
type Natives = Vec<(String, Option<String>)>;

/// What a push leaves in the fakes, for the matrix: each service's revision, marker and ECS-native
/// deployments (status, target), the revisions registered, CodeDeploy's deployments, the notices
/// by deduplication id.
#[derive(Debug, PartialEq)]
struct Left {
    services: Vec<(String, String, Option<String>, Natives)>,
    revisions: usize,
    deployments: Vec<(String, Option<String>)>,
    notices: BTreeSet<String>,
}

fn left(aws: &FakeAws, services: &[&str]) -> Left {
    Left {
        services: services
            .iter()
            .map(|name| {
                let service = aws.ecs.service("prod", name);
                let native = service.native.iter().map(|d| (d.status.clone(), d.target_task_definition().map(str::to_owned))).collect();
                (name.to_string(), service.task_definition.clone(), service.tags.get(tags::ANNOUNCED).cloned(), native)
            })
            .collect(),
        revisions: aws.ecs.revisions("web").len(),
        deployments: aws.codedeploy.deployments().into_iter().map(|d| (d.status, d.task_definition)).collect(),
        notices: aws.sns.published().into_iter().filter_map(|n| n.dedup_key).collect(),
    }
}

/// One push delivered to a fresh fake account; `services` are the ones whose state it compares.
struct Pushed {
    aws: FakeAws,
    services: &'static [&'static str],
}

impl World for Pushed {
    type State = Left;

    fn faults(&self) -> &Faults {
        &self.aws.faults
    }

    async fn deliver(&self) -> Result<(), crate::error::HandlerError> {
        handle(&self.aws, push("v1.4.2")).await.map(drop)
    }

    fn state(&self) -> Left {
        left(&self.aws, self.services)
    }
}

/// An ECS service rolled to the pushed image.
fn rolling() -> Pushed {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    Pushed { aws, services: &["web"] }
}

/// A CodeDeploy service whose group is deploying an older image: stopped, superseded.
fn superseding() -> Pushed {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    aws.ecs.add_service(blue_green("web", &td));
    let older = aws.ecs.add_task_definition("web", &[("web", &pinned(OLDER))]);
    aws.codedeploy.add_deployment(active_deployment("d-OLDER", &older));
    Pushed { aws, services: &["web"] }
}

/// A CANARY service with a `deckhand:shift`, deploying an older image: stopped with rollback,
/// superseded by a deployment of the pushed one.
fn native_superseding() -> Pushed {
    let aws = FakeAws::new();
    let v1 = web_task_definition(&aws, "web");
    let older = aws.ecs.add_task_definition("web", &[("web", &pinned(OLDER))]);
    let mut service = tracking("web", &v1).strategy(Strategy::Canary).tag(tags::SHIFT, "canary=10 step-bake=5m bake=15m");
    service.native.push(native_deployment(&service, 0, &v1, &older));
    aws.ecs.add_service(service);
    Pushed { aws, services: &["web"] }
}

/// Two ECS services sharing one revision: they share the new one too.
fn sharing() -> Pushed {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    aws.ecs.add_service(tracking("web", &td));
    aws.ecs.add_service(tracking("web-canary", &td));
    Pushed { aws, services: &["web", "web-canary"] }
}

/// A service already running an image pushed after the one delivered: ignored, whatever fails.
fn older_push() -> Pushed {
    let aws = FakeAws::new();
    web_task_definition(&aws, "other");
    let newer = "sha256:9999999999990000000000000000000000000000000000000000000000000000";
    aws.ecr.push(crate::fakes::ACCOUNT, "shop/web", newer, &["v1.4.3"], PUSHED_AT + 60);
    aws.ecs.add_service(tracking("web", &aws.ecs.add_task_definition("web", &[("web", &pinned(newer))])));
    Pushed { aws, services: &["web"] }
}

#[tokio::test]
async fn fault_matrix() {
    let cells = matrix::run("image-pushed: rolling update", rolling).await
        + matrix::run("image-pushed: blue/green superseding an older image", superseding).await
        + matrix::run("image-pushed: two services sharing a revision", sharing).await
        + matrix::run("image-pushed: ECS canary superseding an older image", native_superseding).await
        + matrix::run("image-pushed: an older push than what runs, ignored", older_push).await;
    assert!(cells > 0);
}
