//! deploy-events' fault matrix: an ECS and a CodeDeploy failure alert, tasks failing to start and
//! a pause awaiting action, with a fault at every AWS call of their clean run, then the same event
//! delivered again with the handler that saw it first (Lambda retries in the environment that
//! failed, with reserved concurrency 1).

use super::*;
use crate::fakes::Faults;
use crate::fakes::matrix;
use std::collections::BTreeMap;

/// The alerts by deduplication id (the event id), each with its event and severity: a retry may
/// repeat one, never lose one. Their texts are not compared: an alert sent while a lookup failed
/// rightly says what it could not read.
type Alerts = BTreeMap<String, (&'static str, Severity)>;

fn alerts(aws: &FakeAws) -> Alerts {
    aws.sns.published().into_iter().map(|n| (n.dedup_key.unwrap_or_default(), (n.event, n.severity))).collect()
}

/// A warm handler over a fresh fake account, and the event the scenario delivers.
struct Delivery(FakeAws, DeployEvents<FakeEcs, FakeCodeDeploy, FakeSns>, fn() -> Value);

impl matrix::World for Delivery {
    type State = Alerts;

    fn faults(&self) -> &Faults {
        &self.0.faults
    }

    async fn deliver(&self) -> Result<(), HandlerError> {
        self.1.handle((self.2)()).await.map(drop)
    }

    fn state(&self) -> Alerts {
        alerts(&self.0)
    }
}

fn delivering(event: fn() -> Value) -> Delivery {
    let aws = fake_aws();
    let handler = deploy_events(&aws, &["prod"]);
    Delivery(aws, handler, event)
}

/// `ecs-deployment-failed.json`: the circuit breaker failed prod/web's deployment; DescribeServices, Publish.
fn ecs_failure() -> Delivery {
    delivering(ecs_failed)
}

/// `codedeploy-failure.json`: the shop/web-bg blue/green deployment failed; GetDeploymentGroup,
/// GetDeployment, Publish.
fn codedeploy_failure() -> Delivery {
    delivering(|| sample_event("codedeploy-failure.json"))
}

/// `ecs-service-task-start-impaired.json`: prod/web's tasks fail to start; DescribeServices, Publish.
fn tasks_failing_to_start() -> Delivery {
    delivering(|| sample_event("ecs-service-task-start-impaired.json"))
}

/// `ecs-hook-awaiting-action.json`, about prod/web: a pause awaits action; DescribeServices, Publish.
fn pause_awaiting_action() -> Delivery {
    delivering(|| {
        let mut event = sample_event("ecs-hook-awaiting-action.json");
        event["detail"]["serviceArn"] = json!("arn:aws:ecs:us-west-2:123456789012:service/prod/web");
        event
    })
}

#[tokio::test]
async fn fault_matrix() {
    let ecs = matrix::run("deploy-events: ECS failure alert", ecs_failure).await;
    let codedeploy = matrix::run("deploy-events: CodeDeploy failure alert", codedeploy_failure).await;
    let tasks = matrix::run("deploy-events: tasks failing to start", tasks_failing_to_start).await;
    let pause = matrix::run("deploy-events: pause awaiting action", pause_awaiting_action).await;
    assert_eq!((ecs, codedeploy, tasks, pause), (6, 9, 6, 6));
    println!("fault matrix deploy-events: 4 scenarios, {} cells", ecs + codedeploy + tasks + pause);
}
