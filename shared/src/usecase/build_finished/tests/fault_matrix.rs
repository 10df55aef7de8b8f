//! build-finished's fault matrix: a build that deploys its image and a failed build, with a fault
//! at every AWS call of their clean run, then the same event delivered again to the warm handler.

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
    event: &'static str,
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
        self.handler.handle(sample(self.event)).await.map(drop)
    }

    fn state(&self) -> Left {
        self.left()
    }
}

/// `event` delivered to a fresh world.
fn delivering(event: &'static str) -> impl Fn() -> Delivered {
    move || {
        let (aws, handler) = world(false);
        Delivered { aws, handler, event }
    }
}

#[tokio::test]
async fn fault_matrix() {
    use crate::fakes::matrix::run;
    let deploys = run("build-finished: a build that deploys its image", delivering(SUCCEEDED)).await;
    assert!(deploys + run("build-finished: a failed build", delivering(FAILED)).await > 0);
}
