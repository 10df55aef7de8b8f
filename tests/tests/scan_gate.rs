//! The scan gate (`deckhand:scan`) against moto server: ECR holds the pushed image and its scan,
//! ECS the service and its markers, SNS/SQS the warnings. moto's DescribeImageScanFindings answers
//! ScanNotFoundException until StartImageScan, then a static report unless one is configured
//! through its API (`/moto-api/static/ecr/scan-finding-results`, the response ECR would give):
//! that expresses every case here, basic and enhanced findings alike, so no call is mocked.

use deckhand::config::ImagePushedConfig;
use deckhand::outcome::{Outcome, ResourceResult};
use deckhand::wiring::{self, SdkImagePushed};
use deckhand_integration_tests::{Local, REGION, attribute, document, push_event, sample_event};
use serde_json::{Value, json};
use std::io::{Read, Write};

struct World {
    local: Local,
    function: SdkImagePushed,
    digest: String,
}

/// `prod/web` on `shop/web:v1.4.1`, tracking `semver:1.4`, with `deckhand:scan` = `policy`;
/// `shop/web:v1.4.2` pushed to a repository that scans on push.
async fn world(policy: &str) -> World {
    let local = Local::start().await;
    local.aws.create_cluster("prod").await;
    local.aws.create_repository("shop/web", true).await;
    let digest = local.aws.push_image("shop/web", "v1.4.2", "1").await;
    let td = local.aws.register_web_task_definition("web", "v1.4.1").await;
    let tags = [("deckhand:track", "semver:1.4"), ("deckhand:scan", policy)];
    local.aws.create_service("prod", "web", &td, &tags, false).await;
    let settings = ImagePushedConfig { clusters: vec!["prod".into()], notify_topic_arn: local.topic.clone() };
    World { function: wiring::image_pushed(settings, &local.sdk), local, digest }
}

impl World {
    async fn push(&self) -> Outcome {
        self.function.handle(push_event("shop/web", Some("v1.4.2"), &self.digest)).await.unwrap()
    }

    /// ECR finished scanning the image: StartImageScan, and moto told what the scan found.
    async fn scanned(&self, status: &str, findings: Value) {
        let id = aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(&self.digest).build();
        self.local.aws.ecr.start_image_scan().repository_name("shop/web").image_id(id).send().await.unwrap();
        let response = json!({
            "registryId": "123456789012", "repositoryName": "shop/web", "imageId": {"imageDigest": self.digest},
            "imageScanStatus": {"status": status, "description": "The scan was completed successfully."},
            "imageScanFindings": findings,
        });
        moto_api(&self.local.moto.endpoint, "/moto-api/static/ecr/scan-finding-results", &json!({"results": [response], "region": REGION}));
    }

    async fn tags(&self) -> std::collections::BTreeMap<String, String> {
        self.local.aws.service_tags("prod", "web").await
    }

    async fn revisions(&self) -> usize {
        self.local.aws.revisions("web").await.len()
    }

    fn scan_event(&self, sample: &str) -> Value {
        let mut event = sample_event(sample);
        event["detail"]["image-digest"] = json!(self.digest);
        event
    }
}

/// POSTs `body` to moto's own API (plain HTTP on loopback).
fn moto_api(endpoint: &str, path: &str, body: &Value) {
    let host = endpoint.trim_start_matches("http://");
    let body = body.to_string();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "moto API: {answer:.200}");
}

fn held(outcome: &Outcome) -> String {
    match &outcome.resources[..] {
        [one] => match &one.result {
            ResourceResult::Unchanged { reason } => reason.clone(),
            other => panic!("not held: {other:?}"),
        },
        other => panic!("one service expected: {other:?}"),
    }
}

fn deployed(outcome: &Outcome) -> bool {
    matches!(&outcome.resources[..], [one] if matches!(one.result, ResourceResult::Deployed { .. }))
}

fn critical_basic_findings() -> Value {
    json!({
        "findingSeverityCounts": {"CRITICAL": 1, "MEDIUM": 2},
        "findings": [
            {"name": "CVE-2026-0001", "severity": "CRITICAL", "attributes": [{"key": "package_name", "value": "openssl"}, {"key": "package_version", "value": "3.0.1"}]},
            {"name": "CVE-2025-1111", "severity": "MEDIUM", "attributes": [{"key": "package_name", "value": "zlib"}]}
        ]
    })
}

#[tokio::test]
async fn a_critical_finding_blocks_the_deployment_and_warns_once() {
    let w = world("critical").await;
    w.scanned("COMPLETE", critical_basic_findings()).await;

    let outcome = w.push().await;

    assert!(held(&outcome).contains("blocked"), "{outcome:?}");
    assert_eq!(w.revisions().await, 1, "nothing registered");
    let messages = w.local.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "severity")), ("image.blocked", "warning"));
    let warning = document(&messages[0]);
    let text = warning["text"].as_str().unwrap();
    assert!(text.contains("CRITICAL  CVE-2026-0001  openssl") && text.contains("CRITICAL 1, MEDIUM 2"), "{text}");
    assert_eq!(w.tags().await.get("deckhand:scan-blocked"), Some(&w.digest));

    // EventBridge delivers again: blocked, no second warning.
    assert!(held(&w.push().await).contains("warned already"));
    assert!(w.local.messages().await.is_empty());
}

#[tokio::test]
async fn a_clean_scan_deploys_at_once() {
    let w = world("critical").await;
    w.scanned("COMPLETE", json!({"findingSeverityCounts": {"LOW": 1}, "findings": []})).await;

    assert!(deployed(&w.push().await));

    assert_eq!(w.revisions().await, 2);
    let messages = w.local.messages().await;
    assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["image.deployed"]);
    assert_eq!(w.tags().await.get("deckhand:scan-pending"), None);
}

#[tokio::test]
async fn a_deferred_push_deploys_when_the_scan_event_arrives() {
    let w = world("high").await;

    let deferred = held(&w.push().await);

    assert!(deferred.contains("deferred until the scan"), "{deferred}");
    let marker = w.tags().await.get("deckhand:scan-pending").cloned().expect("the deferral is recorded");
    assert!(marker.starts_with(&format!("{}:", w.digest)), "{marker}");
    assert_eq!(w.revisions().await, 1);

    w.scanned("COMPLETE", json!({"findingSeverityCounts": {}, "findings": []})).await;
    let outcome = w.function.handle(w.scan_event("ecr-image-scan.json")).await.unwrap();

    assert!(deployed(&outcome), "{outcome:?}");
    assert_eq!(w.tags().await.get("deckhand:scan-pending"), None, "settled");
    assert_eq!(w.revisions().await, 2);
    // Redelivered: no service waits any more.
    let again = w.function.handle(w.scan_event("ecr-image-scan.json")).await.unwrap();
    assert!(again.ignored.is_some(), "{again:?}");
    assert_eq!(w.revisions().await, 2);
    assert_eq!(w.local.messages().await.len(), 1, "one deployment notice");
}

#[tokio::test]
async fn an_enhanced_scan_names_inspectors_findings() {
    let w = world("high").await;
    w.push().await;
    let enhanced = json!({
        "findingSeverityCounts": {"HIGH": 1, "UNTRIAGED": 1},
        "enhancedFindings": [{
            "awsAccountId": "123456789012", "description": "heap overflow", "findingArn": "arn:aws:inspector2:us-east-1:123456789012:finding/1",
            "severity": "HIGH", "status": "ACTIVE", "type": "PACKAGE_VULNERABILITY", "title": "CVE-2026-2222 - libxml2",
            "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2026-2222", "source": "NVD",
                "vulnerablePackages": [{"name": "libxml2", "version": "2.9.1"}]}
        }]
    });
    w.scanned("ACTIVE", enhanced).await;

    let outcome = w.function.handle(w.scan_event("inspector2-scan.json")).await.unwrap();

    assert!(held(&outcome).contains("blocked"), "{outcome:?}");
    let messages = w.local.messages().await;
    let text = document(&messages[0])["text"].as_str().unwrap().to_owned();
    assert!(text.contains("HIGH  CVE-2026-2222  libxml2"), "{text}");
    assert_eq!(w.tags().await.get("deckhand:scan-pending"), None);
}

#[tokio::test]
async fn no_scan_by_the_deadline_is_blocked_by_the_recheck() {
    let w = world("critical deadline=30m").await;
    w.push().await;
    // Deferred long ago (a test cannot wait 30 minutes): the deferral as the gate wrote it, older.
    let arn = w.local.aws.service("prod", "web").await.service_arn.unwrap();
    let tag = aws_sdk_ecs::types::Tag::builder().key("deckhand:scan-pending").value(format!("{}:1700000000", w.digest)).build();
    w.local.aws.ecs.tag_resource().resource_arn(arn).tags(tag).send().await.unwrap();

    let outcome = w.function.handle(sample_event("scheduled-recheck.json")).await.unwrap();

    assert!(held(&outcome).contains("no scan result within the deadline (30 minutes)"), "{outcome:?}");
    let tags = w.tags().await;
    assert_eq!((tags.get("deckhand:scan-pending"), tags.get("deckhand:scan-blocked")), (None, Some(&w.digest)));
    let messages = w.local.messages().await;
    assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["image.blocked"]);
    assert_eq!(w.revisions().await, 1, "fail closed");
    let later = w.function.handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert_eq!(later.ignored.as_deref(), Some("no service waits for a scan"));
}
