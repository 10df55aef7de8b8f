//! In-memory ports for the use-case tests: stateful (the fake ECS holds services, revisions and
//! tags and answers as ECS does), sharing one call log and one fault script. A scripted fault
//! fails the Nth call of an operation, or every call, in one of three ways: an error before
//! anything changes, throttling beyond the SDK's retries, or success whose response is lost (the
//! change happens, the caller sees an error).

mod cloud;
mod codedeploy;
mod ecr;
mod ecs;
mod logs;
pub mod matrix;

pub use cloud::{FakeCloudWatch, FakeDns, FakeElb, FakeProber, FakeSns};
pub use codedeploy::{FakeCodeDeploy, FakeDeployment};
pub use ecr::FakeEcr;
pub use ecs::{FakeEcs, FakeService, native_deployment, pause_hook};
pub use logs::CapturedLogs;

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
    pub ecr: FakeEcr,
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
            ecr: FakeEcr::new(&faults),
            faults,
        }
    }
}

/// Locks a fake's state; a test that panicked while holding it has already failed.
fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A sample event from the workspace's `events/`: what AWS sends, as the tests feed it.
pub fn sample_event(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Test time for the functions that read a clock (cooldowns, failover windows): it starts where
/// the test says and moves only when the test says.
#[derive(Debug, Clone)]
pub struct FakeClock(Arc<std::sync::atomic::AtomicU64>);

impl FakeClock {
    pub fn at(start: u64) -> Self {
        Self(Arc::new(std::sync::atomic::AtomicU64::new(start)))
    }

    /// The clock to hand to a function.
    pub fn clock(&self) -> crate::runtime::Clock {
        let now = self.0.clone();
        Box::new(move || now.load(std::sync::atomic::Ordering::SeqCst))
    }

    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The failover pair the tests use: us-east-1 primary, us-west-2 standby, service prod/web,
/// record api.example.com, dwell 300 s, stabilization 600 s, no waiting.
pub fn failover_config() -> crate::config::FailoverConfig {
    crate::config::FailoverConfig {
        notify_topic_arn: "arn:aws:sns:us-east-1:123456789012:deckhand".into(),
        primary_region: "us-east-1".into(),
        standby_region: "us-west-2".into(),
        primary_alarm: "deckhand-health-us-east-1".into(),
        standby_alarm: "deckhand-health-us-west-2".into(),
        services: vec![("prod".into(), "web".into())],
        hosted_zone: "Z0123456789ABC".into(),
        record_name: "api.example.com".into(),
        record_type: "A".into(),
        primary_set_id: "us-east-1".into(),
        standby_set_id: "us-west-2".into(),
        dwell: 300,
        stabilization: 600,
        auto_failback: false,
        scale_wait: 0,
        dns_wait: 0,
        image_check: crate::config::StandbyImageCheck::Warn,
    }
}
