//! build-finished's fault matrix: a build that deploys its image (claimed by digest and tag, or by
//! tag alone), one whose claim ECR refuses, and a failed build, with a fault at every AWS call of
//! their clean run, then the same event delivered again to the warm handler.

use super::*;

/// What a build event leaves: the service's revision and marker, the revisions, the notices.
#[derive(Debug, PartialEq)]
struct Left {
    task_definition: String,
    announced: Option<String>,
    revisions: usize,
    notices: std::collections::BTreeSet<String>,
}

/// One build event against one warm handler (its memory of handled events lives across deliveries).
struct Delivered {
    aws: FakeAws,
    handler: BuildFinished<FakeEcs, FakeCodeDeploy, FakeSns, FakeEcr>,
    event: Value,
}

impl Delivered {
    fn left(&self) -> Left {
        let service = self.aws.ecs.service("prod", "web");
        Left {
            task_definition: service.task_definition.clone(),
            announced: service.tags.get(crate::tags::ANNOUNCED).cloned(),
            revisions: self.aws.ecs.revisions("web").len(),
            notices: self.aws.sns.published().into_iter().map(|n| format!("{}:{}", n.event, n.dedup_key.unwrap_or_default())).collect(),
        }
    }
}

impl crate::fakes::matrix::World for Delivered {
    type State = Left;

    fn faults(&self) -> &crate::fakes::Faults {
        &self.aws.faults
    }

    async fn deliver(&self) -> Result<(), HandlerError> {
        self.handler.handle(self.event.clone()).await.map(drop)
    }

    fn state(&self) -> Left {
        self.left()
    }
}

/// `event` delivered to a fresh world.
fn delivering(event: &'static str) -> impl Fn() -> Delivered {
    move || {
        let (aws, handler) = world(false);
        Delivered { aws, handler, event: sample(event) }
    }
}

/// The succeeded build exporting `exports` instead, delivered to a fresh world.
fn exporting(exports: &'static [(&'static str, &'static str)]) -> impl Fn() -> Delivered {
    move || {
        let (aws, handler) = world(false);
        let mut event = sample(SUCCEEDED);
        event["detail"]["additional-information"]["exported-environment-variables"] =
            exports.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
        Delivered { aws, handler, event }
    }
}

#[tokio::test]
async fn fault_matrix() {
    use crate::fakes::matrix::run;
    let deploys = run("build-finished: a build that deploys its image", delivering(SUCCEEDED)).await;
    let tag_only =
        run("build-finished: a tag alone, resolved", exporting(&[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v1.4.2")])).await;
    let refused = run("build-finished: a claim ECR refuses", exporting(&[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v1.4.9")])).await;
    assert!(tag_only > 0 && refused > 0);
    assert!(deploys + run("build-finished: a failed build", delivering(FAILED)).await > 0);
}
