//! The gate's fault matrix: a CodeDeploy hook that passes and one that fails on its probes, each
//! with a fault at every AWS call of its clean run, then delivered again as Lambda retries it.
//! The ECS hook is not in it: ECS rolls back a hook that errors, so its invocation never fails
//! (a failed announcement is logged; see `announce_ecs_verdict`).

use super::*;
use crate::fakes::Faults;
use crate::fakes::matrix;
use std::collections::BTreeSet;

/// A CodeDeploy hook for service `prod/web`, which names one alarm (OK).
struct CodeDeployHook(World);

/// More failed probes than a delivery and its redelivery make (`max_probes` each).
const BROKEN: [(bool, &str); 8] = [(false, "HTTP 500 in 3 ms"); 8];

/// What a hook leaves behind: the status CodeDeploy keeps (the first reported), whether it is
/// the gate failing safe because a read it needed failed, and the announcements by deduplication
/// id (a retry may repeat one, never lose one).
#[derive(Debug)]
struct Answered {
    kept: Option<bool>,
    failed_safe: bool,
    announced: BTreeSet<String>,
}

/// Equal when the same announcements were made and CodeDeploy keeps the same status. A read
/// that fails makes the gate report Failed, the right answer though not the clean run's; there
/// the kept status must be Failed and is not compared. Only reads (GetDeployment,
/// DescribeServices, DescribeAlarms, DescribeTargetHealth…) can fail the gate safe: its verdict is
/// decided before its two mutating calls, so a cell whose fault hit a mutating call is compared
/// in full.
impl PartialEq for Answered {
    fn eq(&self, other: &Self) -> bool {
        let kept_agrees = match (self.failed_safe, other.failed_safe) {
            (false, false) => self.kept == other.kept,
            _ => [self, other].iter().all(|side| if side.failed_safe { side.kept == Some(false) } else { side.kept.is_some() }),
        };
        kept_agrees && self.announced == other.announced
    }
}

impl CodeDeployHook {
    fn new(probes: impl IntoIterator<Item = (bool, &'static str)>) -> Self {
        let world = World::new(&[(tags::GATE_ALARMS, "web-5xx")], probes);
        world.aws.cloudwatch.put_alarm(alarm("web-5xx", "OK"));
        Self(world)
    }
}

/// The revision's probes pass.
fn passing() -> CodeDeployHook {
    CodeDeployHook::new(HEALTHY)
}

/// The revision's probes fail on every attempt: a broken revision stays broken when the retry
/// re-checks it.
fn failing() -> CodeDeployHook {
    CodeDeployHook::new(BROKEN)
}

impl matrix::World for CodeDeployHook {
    type State = Answered;

    fn faults(&self) -> &Faults {
        &self.0.aws.faults
    }

    async fn deliver(&self) -> Result<(), HandlerError> {
        self.0.codedeploy_hook(DEPLOYMENT).await.map(drop)
    }

    fn state(&self) -> Answered {
        let published = self.0.aws.sns.published();
        Answered {
            kept: self.0.aws.codedeploy.hook_reports().first().map(|(_, _, succeeded)| *succeeded),
            // The fakes' injected errors end in this; a fail-safe verdict quotes the error.
            failed_safe: published.iter().any(|n| n.text.contains("injected by the test")),
            announced: published.into_iter().filter_map(|n| n.dedup_key).collect(),
        }
    }
}

#[tokio::test]
async fn fault_matrix() {
    let passing = matrix::run("traffic-gate: CodeDeploy hook that passes", passing).await;
    let failing = matrix::run("traffic-gate: CodeDeploy hook that fails on probes", failing).await;
    // GetDeployment, GetDeploymentGroup, DescribeServices, 2 x (DescribeAlarms, DescribeTargetHealth),
    // PutLifecycleEventHookExecutionStatus, Publish: 9 calls x 3 faults each.
    assert_eq!((passing, failing), (27, 27), "the README states these figures");
}
