//! build-finished: exported images, build messages.

use super::*;
use crate::event::codebuild::Phase;
use crate::notify::Severity;

const DIGEST: &str = "sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

fn build(status: &str, exported: &[(&str, &str)]) -> BuildStateChange {
    BuildStateChange {
        event_id: Some("e1".into()),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        status: status.into(),
        project: "shop-web".into(),
        build_id: "arn:aws:codebuild:us-east-1:123456789012:build/shop-web:8745a7a9".into(),
        build_number: Some(55),
        initiator: None,
        source_version: Some("3f2a9c1".into()),
        logs_link: None,
        phases: vec![
            Phase { kind: "PROVISIONING".into(), status: Some("SUCCEEDED".into()), context: vec![], seconds: Some(36.0) },
            Phase {
                kind: "BUILD".into(),
                status: Some(if status == "SUCCEEDED" { "SUCCEEDED" } else { "FAILED" }.into()),
                context: vec!["COMMAND_EXECUTION_ERROR: Error while executing command: make test. Reason: exit status 2".into()],
                seconds: Some(90.0),
            },
        ],
        current_phase: None,
        exported: exported.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
    }
}

#[test]
fn failure_names_the_phase_its_context_and_the_links() {
    let b = build("FAILED", &[]);
    let n = build_notification(&b, BuildKind::Failed, &Outcome::new(FUNCTION, None), None);
    assert_eq!(n.sns_subject(), "Build FAILED: shop-web #55 in BUILD");
    assert_eq!((n.event, n.severity), ("build.failed", Severity::Warning));
    assert!(n.text.contains("exit status 2") && n.text.contains("2m 6s") && n.text.contains("3f2a9c1"), "{}", n.text);
    assert!(n.text.contains("build/shop-web%3A8745a7a9/?region=us-east-1"), "{}", n.text);
    assert_eq!(n.attributes().iter().find(|(k, _)| *k == "project").map(|(_, v)| v.as_str()), Some("shop-web"));
}

#[test]
fn missing_optional_fields_leave_their_lines_out() {
    let mut b = build("STOPPED", &[]);
    (b.build_number, b.source_version, b.phases) = (None, None, vec![]);
    let n = build_notification(&b, BuildKind::Stopped, &Outcome::new(FUNCTION, None), None);
    assert_eq!(n.sns_subject(), "Build STOPPED: shop-web");
    assert!(!n.text.contains("Source:") && !n.text.contains("Duration:") && !n.text.contains("Phase:"), "{}", n.text);
}

#[test]
fn secret_looking_exports_are_never_shown() {
    let b =
        build("SUCCEEDED", &[("IMAGE_TAG", "v1"), ("NPM_TOKEN", "npm_abc123"), ("db_password", "hunter2"), ("AWS_SECRET_ACCESS_KEY", "x")]);
    let n = build_notification(&b, BuildKind::Succeeded, &Outcome::new(FUNCTION, None), None);
    let everything = n.sns_message();
    assert!(everything.contains("IMAGE_TAG=v1"));
    for secret in ["npm_abc123", "hunter2", "NPM_TOKEN", "AWS_SECRET_ACCESS_KEY"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}

#[test]
fn reads_the_exported_image() {
    let uri = format!("123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/web:v2@{DIGEST}");
    let push = exported_image(&build("SUCCEEDED", &[("IMAGE_URI", &uri)])).unwrap().unwrap();
    assert_eq!(
        (push.region.as_str(), push.repository.as_str(), push.tag.as_deref(), push.digest.as_str()),
        ("us-west-2", "shop/web", Some("v2"), DIGEST)
    );

    let split = build("SUCCEEDED", &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v3"), ("IMAGE_DIGEST", DIGEST)]);
    let push = exported_image(&split).unwrap().unwrap();
    assert_eq!((push.account.as_str(), push.region.as_str(), push.tag.as_deref()), ("123456789012", "us-east-1", Some("v3")));

    assert_eq!(exported_image(&build("SUCCEEDED", &[("OTHER", "x")])), Ok(None));
    assert!(
        exported_image(&build("SUCCEEDED", &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v3")]))
            .unwrap_err()
            .contains("without a digest")
    );
    assert!(
        exported_image(&build("SUCCEEDED", &[("IMAGE_URI", "docker.io/library/nginx:1")])).unwrap_err().contains("not in an ECR registry")
    );
}

#[test]
fn durations_read_naturally() {
    assert_eq!(
        (notification::duration(42.0), notification::duration(125.4), notification::duration(3725.0)),
        ("42s".into(), "2m 5s".into(), "1h 2m 5s".into())
    );
}
