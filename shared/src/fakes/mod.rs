//! In-memory ports for the use-case tests: stateful (the fake ECS holds services, revisions and
//! tags and answers as ECS does), sharing one call log and one fault script. A scripted fault
//! fails the Nth call of an operation, or every call, in one of three ways: an error before
//! anything changes, throttling beyond the SDK's retries, or success whose response is lost (the
//! change happens, the caller sees an error).

mod cloud;
mod codedeploy;
mod ecs;

pub use cloud::{FakeCloudWatch, FakeDns, FakeElb, FakeProber, FakeSns};
pub use codedeploy::{FakeCodeDeploy, FakeDeployment};
pub use ecs::{FakeEcs, FakeService};

use crate::error::HandlerError;
use crate::ports::AwsResult;
use std::sync::{Arc, Mutex, MutexGuard};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call fails and changes nothing (an internal error after the SDK's retries).
    Error,
    /// Throttled, still after the SDK's retries; changes nothing.
    Throttled,
    /// The change happens, but the caller sees an error (the response timed out).
    LostResponse,
}

impl Fault {
    pub const ALL: [Fault; 3] = [Fault::Error, Fault::Throttled, Fault::LostResponse];
}

#[derive(Debug)]
struct Rule {
    operation: String,
    /// The 1-based call of `operation` that fails; every call when `None`.
    nth: Option<usize>,
    fault: Fault,
}

#[derive(Debug, Default)]
struct Script {
    calls: Vec<&'static str>,
    rules: Vec<Rule>,
}

/// The call log and fault script the fakes of one test share.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    script: Arc<Mutex<Script>>,
}

impl Faults {
    fn script(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The `nth` call (1-based, counted from the start of the test) of `operation` fails.
    pub fn fail_nth(&self, operation: &str, nth: usize, fault: Fault) {
        self.script().rules.push(Rule { operation: operation.to_owned(), nth: Some(nth), fault });
    }

    /// Every call of `operation` fails.
    pub fn fail_always(&self, operation: &str, fault: Fault) {
        self.script().rules.push(Rule { operation: operation.to_owned(), nth: None, fault });
    }

    /// No more faults; the log stays.
    pub fn clear(&self) {
        self.script().rules.clear();
    }

    /// Every call made so far, in order: `ecs:UpdateService`, `sns:Publish`, …
    pub fn calls(&self) -> Vec<&'static str> {
        self.script().calls.clone()
    }

    pub fn count(&self, operation: &str) -> usize {
        self.script().calls.iter().filter(|call| **call == operation).count()
    }

    /// One call of `operation`: `act` makes the change and answers, unless a fault says otherwise.
    pub(crate) fn call<T>(&self, operation: &'static str, act: impl FnOnce() -> AwsResult<T>) -> AwsResult<T> {
        let fault = {
            let mut script = self.script();
            script.calls.push(operation);
            let nth = script.calls.iter().filter(|call| **call == operation).count();
            script.rules.iter().find(|r| r.operation == operation && r.nth.is_none_or(|n| n == nth)).map(|r| r.fault)
        };
        let failed = |message: &str| Err(HandlerError::Aws { operation, message: message.to_owned() });
        match fault {
            Some(Fault::Error) => failed("InternalFailure: injected by the test"),
            Some(Fault::Throttled) => failed("ThrottlingException: Rate exceeded (injected by the test)"),
            Some(Fault::LostResponse) => {
                let _ = act()?;
                failed("dispatch failure: timeout: the response was lost (injected by the test)")
            }
            None => act(),
        }
    }
}

/// Every fake of one account, sharing one call log and fault script.
#[derive(Debug, Clone, Default)]
pub struct FakeAws {
    pub faults: Faults,
    pub ecs: FakeEcs,
    pub codedeploy: FakeCodeDeploy,
    pub sns: FakeSns,
    pub cloudwatch: FakeCloudWatch,
    pub elb: FakeElb,
    pub dns: FakeDns,
}

impl FakeAws {
    pub fn new() -> Self {
        let faults = Faults::default();
        Self {
            ecs: FakeEcs::new(&faults, REGION),
            codedeploy: FakeCodeDeploy::new(&faults),
            sns: FakeSns::new(&faults),
            cloudwatch: FakeCloudWatch::new(&faults),
            elb: FakeElb::new(&faults),
            dns: FakeDns::new(&faults),
            faults,
        }
    }
}

/// Locks a fake's state; a test that panicked while holding it has already failed.
fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
