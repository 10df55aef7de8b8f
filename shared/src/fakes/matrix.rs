//! The fault matrix: a scenario run clean, then once per (call, fault) with that fault injected
//! at that call of the clean run, followed by the same event delivered again with the fault
//! cleared, as Lambda's retry (or EventBridge's redelivery) would. Every cell must end in the
//! clean run's state; a failed mutating call must fail the invocation.

use super::{Fault, Faults};
use crate::error::HandlerError;
use std::fmt::Debug;
use std::future::Future;

/// Calls that change something in AWS: their failure must fail the invocation.
pub const MUTATING: [&str; 11] = [
    "ecs:RegisterTaskDefinition",
    "ecs:UpdateService",
    "ecs:StopServiceDeployment",
    "ecs:ContinueServiceDeployment",
    "ecs:TagResource",
    "ecs:UntagResource",
    "codedeploy:CreateDeployment",
    "codedeploy:StopDeployment",
    "codedeploy:PutLifecycleEventHookExecutionStatus",
    "route53:ChangeResourceRecordSets",
    "sns:Publish",
];

/// A function's world in the fakes, set up for one scenario: its event delivered once, and what
/// it leaves behind. A scenario is a function that sets up a fresh one.
pub trait World {
    /// What the run leaves in AWS that a retry must not change: revisions, deployments, counts,
    /// tags, DNS, messages (by their deduplication id: a retry may repeat one, never lose one).
    type State: PartialEq + Debug;

    fn faults(&self) -> &Faults;
    /// Delivers the scenario's event once.
    fn deliver(&self) -> impl Future<Output = Result<(), HandlerError>>;
    fn state(&self) -> Self::State;
}

/// Runs the matrix of the scenario `setup` sets up, and returns its size (calls of the clean run
/// × fault kinds).
pub async fn run<W: World>(name: &str, setup: impl Fn() -> W) -> usize {
    let clean = setup();
    clean.deliver().await.unwrap_or_else(|err| panic!("{name}: the clean run fails: {err}"));
    let expected = clean.state();
    let calls = clean.faults().calls();
    let mut cells = 0;
    for (at, operation) in calls.iter().enumerate() {
        let nth = calls[..=at].iter().filter(|call| *call == operation).count();
        for fault in Fault::ALL {
            let cell = format!("{name}: {fault:?} at call {} ({operation} #{nth})", at + 1);
            let world = setup();
            world.faults().fail_nth(operation, nth, fault);
            let first = world.deliver().await;
            if MUTATING.contains(operation) {
                assert!(first.is_err(), "{cell}: the invocation succeeded over a failed step");
            }
            world.faults().clear();
            world.deliver().await.unwrap_or_else(|err| panic!("{cell}: the redelivery fails: {err}"));
            assert_eq!(world.state(), expected, "{cell}: the end state differs from a clean run's");
            cells += 1;
        }
    }
    println!("fault matrix {name}: {} calls x {} faults = {cells} cells", calls.len(), Fault::ALL.len());
    cells
}
