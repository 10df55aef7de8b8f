use super::*;
use serde_json::json;

const DIGEST: &str = "sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

fn basic() -> Value {
    json!({
        "version": "0", "id": "85fc3613-e913-7fc4-a80c-a3753e4aa9ae", "detail-type": "ECR Image Scan", "source": "aws.ecr",
        "account": "123456789012", "time": "2026-11-22T10:18:02Z", "region": "us-east-1",
        "resources": ["arn:aws:ecr:us-east-1:123456789012:repository/shop/web"],
        "detail": {"scan-status": "COMPLETE", "repository-name": "shop/web", "finding-severity-counts": {"CRITICAL": 2, "MEDIUM": 9},
                   "image-digest": DIGEST, "image-tags": ["v1.4.2"]}
    })
}

fn enhanced() -> Value {
    json!({
        "version": "0", "id": "739c0d3c-4f02-85c7-5a88-94a9e1a2b3c4", "detail-type": "Inspector2 Scan", "source": "aws.inspector2",
        "account": "123456789012", "time": "2026-11-22T10:19:40Z", "region": "us-east-1",
        "resources": ["arn:aws:ecr:us-east-1:123456789012:repository/shop/web"],
        "detail": {"scan-status": "INITIAL_SCAN_COMPLETE", "repository-name": "arn:aws:ecr:us-east-1:123456789012:repository/shop/web",
                   "finding-severity-counts": {"CRITICAL": 0, "HIGH": 3, "MEDIUM": 6, "TOTAL": 12},
                   "image-digest": DIGEST, "image-tags": ["v1.4.2", "latest"]}
    })
}

fn image(event: Value) -> ImageScan {
    match decode(event).unwrap() {
        ScanEvent::Image(scan) => scan,
        other => panic!("not an image scan: {other:?}"),
    }
}

#[test]
fn decodes_a_basic_scan() {
    let scan = image(basic());
    assert_eq!((scan.scanner, scan.status.as_str(), scan.repository.as_str()), (Scanner::Basic, "COMPLETE", "shop/web"));
    assert_eq!((scan.account.as_str(), scan.region.as_str(), scan.digest.as_str()), ("123456789012", "us-east-1", DIGEST));
    assert_eq!(scan.tags, ["v1.4.2"]);
    assert_eq!(scan.severity_counts, BTreeMap::from([("CRITICAL".into(), 2), ("MEDIUM".into(), 9)]));
}

#[test]
fn a_basic_scan_without_findings_or_tags_has_none() {
    let mut event = basic();
    let detail = event["detail"].as_object_mut().unwrap();
    detail.remove("finding-severity-counts");
    detail.insert("image-tags".into(), json!([]));
    let scan = image(event);
    assert!(scan.severity_counts.is_empty() && scan.tags.is_empty(), "{scan:?}");
}

#[test]
fn decodes_an_enhanced_scan_naming_the_repository_by_arn() {
    let scan = image(enhanced());
    assert_eq!((scan.scanner, scan.status.as_str(), scan.repository.as_str()), (Scanner::Enhanced, "INITIAL_SCAN_COMPLETE", "shop/web"));
    assert_eq!(scan.tags, ["v1.4.2", "latest"]);
    assert_eq!(scan.severity_counts.get("TOTAL"), None, "a total, not a severity");
    assert_eq!(scan.severity_counts.get("HIGH"), Some(&3));
}

#[test]
fn the_repository_arn_names_the_registry() {
    let mut event = enhanced();
    event["detail"]["repository-name"] = json!("arn:aws:ecr:eu-west-1:210987654321:repository/team/api");
    let scan = image(event);
    assert_eq!((scan.account.as_str(), scan.region.as_str(), scan.repository.as_str()), ("210987654321", "eu-west-1", "team/api"));
}

#[test]
fn an_inspector_scan_of_an_instance_is_not_ours() {
    let event = json!({
        "version": "0", "id": "28a46762-6ac8-6cc4-4f55-bc9ab99af928", "detail-type": "Inspector2 Scan", "source": "aws.inspector2",
        "account": "123456789012", "time": "2026-11-22T10:19:40Z", "region": "us-east-1", "resources": ["i-087d63509b8c97098"],
        "detail": {"scan-status": "INITIAL_SCAN_COMPLETE", "finding-severity-counts": {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "TOTAL": 0},
                   "instance-id": "i-087d63509b8c97098", "version": "1.0"}
    });
    let ScanEvent::NotAnImage { reason, .. } = decode(event).unwrap() else { panic!("an instance is not an image") };
    assert!(reason.contains("not an ECR image"), "{reason}");
}

#[test]
fn malformed_scans_name_the_field() {
    type Mutation = fn(&mut Value);
    type Case = (fn() -> Value, Mutation, &'static str);
    let cases: [Case; 13] = [
        (basic, |e| drop(e["detail"].as_object_mut().unwrap().remove("scan-status")), "field `detail.scan-status`"),
        (basic, |e| drop(e["detail"].as_object_mut().unwrap().remove("repository-name")), "field `detail.repository-name`"),
        (basic, |e| drop(e["detail"].as_object_mut().unwrap().remove("image-digest")), "field `detail.image-digest`"),
        (enhanced, |e| drop(e["detail"].as_object_mut().unwrap().remove("image-digest")), "field `detail.image-digest`"),
        (basic, |e| e["detail"]["image-digest"] = json!("latest"), "field `detail.image-digest`: expected an image digest"),
        (basic, |e| e["detail"]["image-tags"] = json!("v1"), "field `detail.image-tags`"),
        (basic, |e| e["detail"]["image-tags"] = json!(vec!["t"; 1001]), "field `detail.image-tags`: expected at most 1000"),
        (basic, |e| e["detail"]["image-tags"][0] = json!("t".repeat(301)), "field `detail.image-tags[0]`: expected at most 300"),
        (basic, |e| e["detail"]["finding-severity-counts"]["CRITICAL"] = json!(-1), "field `detail.finding-severity-counts.CRITICAL`"),
        (enhanced, |e| e["detail"]["repository-name"] = json!("arn:aws:s3:::bucket"), "field `detail.repository-name`: expected an ECR"),
        (basic, |e| e["source"] = json!("aws.inspector2"), "field `source`: expected \"aws.ecr\""),
        (enhanced, |e| e["source"] = json!("aws.ecr"), "field `source`: expected \"aws.inspector2\""),
        (
            basic,
            |e| e["detail-type"] = json!("ECR Image Action"),
            "field `detail-type`: expected \"ECR Image Scan\" or \"Inspector2 Scan\"",
        ),
    ];
    for (event, mutate, wanted) in cases {
        let mut event = event();
        mutate(&mut event);
        let message = decode(event).unwrap_err().to_string();
        assert!(message.contains(wanted), "{message:?} should contain {wanted:?}");
    }
}
