//! Pause hooks against the fakes: answered from evidence, or asked of a person; once, whatever
//! fails on the way.

use super::*;
use crate::fakes::{Faults, matrix};
use crate::outcome::ResourceResult;
use std::collections::BTreeSet;

#[tokio::test]
async fn a_pause_is_continued_when_the_evidence_passes_and_once() {
    let world = World::new(&[]);
    let outcome = world.handle(hook_event()).await.unwrap();
    assert!(matches!(&outcome.resources[0].result, ResourceResult::Gated { .. }), "{outcome:?}");
    assert_eq!(outcome.details.as_ref().unwrap()["answer"], "CONTINUE");
    let deployment = world.deployment();
    assert_eq!((deployment.status.as_str(), deployment.hooks[0].status.as_str()), ("IN_PROGRESS", "SUCCEEDED"));
    assert_eq!(world.published(), [("gate.passed", Some(format!("gate:{HOOK}")))]);
    let text = &world.aws.sns.published()[0].text;
    assert!(text.contains("ContinueServiceDeployment CONTINUE") && text.contains("prod/web"), "{text}");
    assert_eq!(world.tag(tags::PAUSE_ANNOUNCED).as_deref(), Some(HOOK));
    assert_eq!(world.prober.urls(), ["http://web-test.internal:8080/health"; 2], "the test listener, at the hook's stage");

    let again = world.handle(hook_event()).await.unwrap();
    assert!(matches!(&again.resources[0].result, ResourceResult::Unchanged { .. }), "{again:?}");
    assert_eq!(world.published().len(), 1, "a redelivery sends nothing");
    assert_eq!(world.aws.faults.count("ecs:ContinueServiceDeployment"), 1);
}

#[tokio::test]
async fn a_pause_is_rolled_back_when_an_alarm_is_in_alarm() {
    let world = World::new(&[]);
    world.aws.cloudwatch.put_alarm(Alarm::new("web-5xx", "ALARM", None));
    let outcome = world.handle(hook_event()).await.unwrap();
    assert_eq!(outcome.details.as_ref().unwrap()["answer"], "ROLLBACK");
    assert_eq!(world.deployment().status, "ROLLBACK_REQUESTED");
    assert_eq!(world.published(), [("gate.failed", Some(format!("gate:{HOOK}")))]);
    assert!(world.aws.sns.published()[0].text.contains("web-5xx"));
    assert!(world.prober.urls().is_empty(), "an alarm decides before any probe");
}

#[tokio::test]
async fn a_person_is_asked_when_the_service_wants_approval() {
    let world = World::new(&[(tags::APPROVAL, "oncall")]);
    let outcome = world.handle(hook_event()).await.unwrap();
    assert_eq!(world.published(), [("native.approval_requested", Some(format!("pause:{HOOK}")))]);
    let text = &world.aws.sns.published()[0].text;
    for says in [
        "waits for oncall",
        "aws lambda invoke --function-name deckhand-traffic-gate",
        &format!(r#"{{"action":"continue","cluster":"prod","service":"web","hookId":"{HOOK}"}}"#),
        r#"{"action":"rollback","cluster":"prod","service":"web"}"#,
        &format!(
            "aws ecs continue-service-deployment --region us-west-2 --service-deployment-arn {} --hook-id {HOOK} --action ROLLBACK",
            deployment_arn()
        ),
        "Expires:    2026-03-05T16:04:41Z",
    ] {
        assert!(text.contains(says), "{says}\n{text}");
    }
    assert_eq!(world.deployment().hooks[0].status, "AWAITING_ACTION", "nothing else is done");
    assert_eq!(world.aws.faults.count("ecs:ContinueServiceDeployment"), 0);
    assert_eq!(world.aws.faults.count("cloudwatch:DescribeAlarms"), 0, "no evidence gathered");
    assert!(outcome.notification.is_some());
    world.handle(hook_event()).await.unwrap();
    assert_eq!(world.published().len(), 1, "asked once");
}

#[tokio::test]
async fn other_hook_events_and_clusters_are_ignored_with_the_reason() {
    let world = World::new(&[]);
    let mut succeeded = hook_event();
    succeeded["detail"]["eventName"] = json!("HOOK_SUCCEEDED");
    let outcome = world.handle(succeeded).await.unwrap();
    assert!(outcome.ignored.as_deref().is_some_and(|r| r.contains("HOOK_SUCCEEDED") && r.contains("deploy-events")), "{outcome:?}");
    let mut lambda = hook_event();
    lambda["detail"]["hookType"] = json!("AWS_LAMBDA");
    assert!(world.handle(lambda).await.unwrap().ignored.is_some());
    let mut elsewhere = hook_event();
    elsewhere["detail"]["serviceArn"] = json!("arn:aws:ecs:us-east-1:123456789012:service/staging/web");
    let outcome = world.handle(elsewhere).await.unwrap();
    assert!(outcome.ignored.as_deref().is_some_and(|r| r.contains("not in CLUSTERS")), "{outcome:?}");
    assert!(world.aws.faults.calls().is_empty(), "{:?}", world.aws.faults.calls());
    let mut broken = hook_event();
    broken["detail"]["hookId"] = json!(7);
    assert!(world.handle(broken).await.unwrap_err().to_string().contains("detail.hookId"));
}

/// A pause hook, passing or failing on its alarm, delivered with a fault at each call.
struct Paused(World);

/// What a pause leaves: which way ECS was answered, whether the gate failed safe (a read it
/// needed failed, so it rolled back), the notices by deduplication id, and the marker.
#[derive(Debug)]
struct Answered {
    answer: Option<&'static str>,
    failed_safe: bool,
    announced: BTreeSet<String>,
    marker: Option<String>,
}

/// A cell that failed safe must have rolled back; otherwise the answer is the clean run's.
impl PartialEq for Answered {
    fn eq(&self, other: &Self) -> bool {
        let agrees = match (self.failed_safe, other.failed_safe) {
            (false, false) => self.answer == other.answer,
            _ => [self, other].iter().all(|side| if side.failed_safe { side.answer == Some("ROLLBACK") } else { side.answer.is_some() }),
        };
        agrees && self.announced == other.announced && self.marker == other.marker
    }
}

impl matrix::World for Paused {
    type State = Answered;

    fn faults(&self) -> &Faults {
        &self.0.aws.faults
    }

    async fn deliver(&self) -> Result<(), HandlerError> {
        self.0.handle(hook_event()).await.map(drop)
    }

    fn state(&self) -> Answered {
        let deployment = self.0.deployment();
        let answer = match (deployment.hooks[0].status.as_str(), deployment.status.as_str()) {
            ("AWAITING_ACTION", _) => None,
            (_, "ROLLBACK_REQUESTED") => Some("ROLLBACK"),
            _ => Some("CONTINUE"),
        };
        let published = self.0.aws.sns.published();
        Answered {
            answer,
            failed_safe: published.iter().any(|n| n.text.contains("injected by the test")),
            announced: published.into_iter().filter_map(|n| n.dedup_key).collect(),
            marker: self.0.tag(tags::PAUSE_ANNOUNCED),
        }
    }
}

#[tokio::test]
async fn pause_hooks_converge_whatever_fails() {
    let passing = matrix::run("pause hook that passes", || Paused(World::new(&[]))).await;
    let failing = matrix::run("pause hook rolled back on an alarm", || {
        let world = World::new(&[]);
        world.aws.cloudwatch.put_alarm(Alarm::new("web-5xx", "ALARM", None));
        Paused(world)
    })
    .await;
    let asking = matrix::run("pause hook a person answers", || Paused(World::new(&[(tags::APPROVAL, "oncall")]))).await;
    // Passing: DescribeServiceDeployments, 2 DescribeServices, 2 x (DescribeAlarms,
    // DescribeTargetHealth), ContinueServiceDeployment, Publish, TagResource; failing: one round,
    // on the alarm; asking: the two reads, Publish, TagResource.
    assert_eq!((passing, failing, asking), (30, 21, 12));
}
