//! Issue 13: a build event with a huge field still sends its messages, cut with the marker.

use super::*;
use crate::notify::limits::{SIZES, assert_sendable};

/// Issue 13: a failed build whose phase context is one huge line still sends its alert, cut
/// with the marker, the links after it still in view.
#[tokio::test]
async fn a_huge_phase_context_is_cut_and_the_alert_is_sent() {
    for size in SIZES {
        let (aws, handler) = world(false);
        let mut event = sample(FAILED);
        let phases = event["detail"]["additional-information"]["phases"].as_array_mut().unwrap();
        let failed = phases.iter_mut().find(|p| p["phase-status"] == "FAILED").unwrap();
        failed["phase-context"] = json!([format!("COMMAND_EXECUTION_ERROR: {}", "x".repeat(size - 25))]);

        handler.handle(event).await.unwrap();

        let published = aws.sns.published();
        assert_eq!(published.iter().map(|n| n.event).collect::<Vec<_>>(), ["build.failed"], "{size}");
        let text = assert_sendable(&published[0]);
        assert!(text.contains("COMMAND_EXECUTION_ERROR: xxx") && text.contains(&format!("…({size} bytes)")), "{size}");
        assert!(text.contains("Logs:") && text.contains("Initiator:  codepipeline/shop-web-pipeline"), "{size}: {text:.5000}");
    }
}

/// Issue 13: a successful build with a huge initiator deploys once and sends both its notices
/// (it used to deploy, then fail on its own message on every retry).
#[tokio::test]
async fn a_huge_initiator_is_cut_and_the_build_message_is_sent() {
    for size in SIZES {
        let (aws, handler) = world(false);
        let mut event = sample(SUCCEEDED);
        event["detail"]["additional-information"]["initiator"] = json!("i".repeat(size));

        let outcome = handler.handle(event).await.unwrap();

        assert!(matches!(outcome.resources[0].result, ResourceResult::Deployed { revision: 2, .. }), "{outcome:?}");
        let published = aws.sns.published();
        assert_eq!(published.iter().map(|n| n.event).collect::<Vec<_>>(), ["image.deployed", "build.succeeded"], "{size}");
        let text = assert_sendable(&published[1]);
        assert!(text.contains("Initiator:  iii") && text.contains(&format!("…({size} bytes)")), "{size}");
        assert!(text.contains("Deploying:  prod/web (rev 2"), "{size}: {text:.5000}");
    }
}
