//! The scan gate under failure: each scenario run clean, then with a fault at each of its calls
//! and delivered again; every cell ends as the clean run did (no second revision or warning, the
//! deferral recorded or settled once).

use super::*;
use crate::fakes::Faults;
use crate::fakes::matrix::World;

/// What a gated delivery leaves: where the service runs, its scan markers, the revisions, the
/// notices by deduplication id.
type Left = (String, Option<String>, Option<String>, usize, std::collections::BTreeSet<String>);

struct Delivered {
    gated: Gated,
    event: fn() -> Value,
}

impl World for Delivered {
    type State = Left;

    fn faults(&self) -> &Faults {
        &self.gated.aws.faults
    }

    async fn deliver(&self) -> Result<(), HandlerError> {
        self.gated.handle((self.event)()).await.map(drop)
    }

    fn state(&self) -> Left {
        let w = &self.gated;
        let notices = w.aws.sns.published().into_iter().filter_map(|n| n.dedup_key).collect();
        (w.runs(), w.tag(tags::SCAN_PENDING), w.tag(tags::SCAN_BLOCKED), w.aws.ecs.revisions("web").len(), notices)
    }
}

fn pushed() -> Value {
    push("v1.4.2")
}

fn clean_scan() -> Value {
    scan_event("ECR Image Scan", serde_json::json!({}))
}

/// Deferred `minutes_ago`, with no scan since.
fn deferred(policy: &str, minutes_ago: u64) -> Gated {
    let w = gated(policy);
    let marker = format!("{DIGEST}:{}", NOW - minutes_ago * 60);
    w.aws.ecs.update_service("prod", "web", |s| drop(s.service.tags.insert(tags::SCAN_PENDING.into(), marker)));
    w
}

#[tokio::test]
async fn fault_matrix() {
    let blocked = || {
        let gated = gated("critical");
        gated.scanned(DIGEST, "COMPLETE", &[("CRITICAL", 1)]);
        Delivered { gated, event: pushed }
    };
    let deferring = || Delivered { gated: gated("critical"), event: pushed };
    let resumed = || {
        let gated = deferred("critical", 5);
        gated.scanned(DIGEST, "COMPLETE", &[]);
        Delivered { gated, event: clean_scan }
    };
    let timed_out = || Delivered { gated: deferred("critical", 31), event: schedule };
    let cells = matrix::run("scan gate: a push blocked by a CRITICAL finding", blocked).await
        + matrix::run("scan gate: a push deferred until its scan", deferring).await
        + matrix::run("scan gate: a scan event deploys the deferred image", resumed).await
        + matrix::run("scan gate: no scan by the deadline, blocked by the re-check", timed_out).await;
    assert!(cells > 0);
}
