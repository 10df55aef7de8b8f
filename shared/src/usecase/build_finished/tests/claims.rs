//! Issue 15: what a build exports is a claim, checked with ECR before anything deploys.

use super::*;
use crate::ports::RegistryImage;
use crate::usecase::build_finished::verify::{Seen, Verdict, decide};

const OTHER: &str = "sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b";

fn claim(tag: Option<&str>, digest: Option<&str>) -> Claim {
    Claim {
        event_id: Some("e1".into()),
        account: ACCOUNT.into(),
        region: "us-east-1".into(),
        repository: "shop/web".into(),
        tag: tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    }
}

fn image(digest: &str, tags: &[&str]) -> Option<RegistryImage> {
    Some(RegistryImage { digest: digest.into(), tags: tags.iter().map(|t| t.to_string()).collect(), pushed_at: Some(1) })
}

/// Exports Deckhand cannot check with ECR: nothing deploys, the message says why.
#[test]
fn refuses_exports_it_cannot_check() {
    let uri = |rest: &str| format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{rest}");
    let cases: [(Vec<(&str, String)>, &str); 9] = [
        (vec![("IMAGE_REPO_NAME", "shop/web".into())], "without a tag or digest"),
        (vec![("IMAGE_URI", "docker.io/library/nginx:1".into())], "not in an ECR registry"),
        (vec![("IMAGE_URI", format!("123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/web@{DIGEST}"))], "in \"us-west-2\""),
        (vec![("IMAGE_URI", uri("shop/web:v2")), ("IMAGE_TAG", "v3".into())], "IMAGE_URI's tag \"v2\" and IMAGE_TAG \"v3\" differ"),
        (vec![("IMAGE_URI", uri(&format!("shop/web@{DIGEST}"))), ("IMAGE_DIGEST", "sha256:00".into())], "differ"),
        (vec![("IMAGE_REPO_NAME", "Shop/Web".into()), ("IMAGE_TAG", "v1".into())], "not an ECR repository name"),
        (vec![("IMAGE_REPO_NAME", "shop//web".into()), ("IMAGE_TAG", "v1".into())], "not an ECR repository name"),
        (vec![("IMAGE_REPO_NAME", "shop/web".into()), ("IMAGE_TAG", ".hidden".into())], "not an image tag"),
        (vec![("IMAGE_REPO_NAME", "shop/web".into()), ("IMAGE_DIGEST", format!("sha256:{}", "a".repeat(1 << 16)))], "not sha256:<hex>"),
    ];
    for (exports, why) in cases {
        let exports: Vec<(&str, &str)> = exports.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let err = exported_image(&build("SUCCEEDED", &exports)).unwrap_err();
        assert!(err.contains(why) && err.len() < 400, "{exports:?}: {err}");
    }
    let long_tag = "t".repeat(301);
    assert!(exported_image(&build("SUCCEEDED", &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", &long_tag)])).is_err());
    // The envelope's account and region are the event's word: checked, and quoted short.
    let mut odd = build("SUCCEEDED", &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v1")]);
    odd.account = "\n".repeat(5000);
    let err = exported_image(&odd).unwrap_err();
    assert!(err.contains("not a 12-digit AWS account id") && err.len() < 200, "{err}");
    let mut odd = build("SUCCEEDED", &[("IMAGE_URI", &uri("shop/web:v1"))]);
    odd.region = "\0".repeat(5000);
    let err = exported_image(&odd).unwrap_err();
    assert!(err.contains("in the build's region") && err.len() < 300, "{err}");
}

/// The decision: claim + what ECR says → deploy this digest, or refuse (how loud, what ECR says).
#[test]
fn the_claim_against_what_ecr_says() {
    let deploy = |digest: &str| Ok(digest.to_owned());
    let refuse = |severity, says: &str| Err((severity, says.to_owned()));
    let many: Vec<String> = (1..=5).map(|n| format!("t{n}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    #[rustfmt::skip]
    let table = [
        // (tag, digest claimed), (image with the digest, image the tag points at) → verdict
        ((None, Some(DIGEST)), (image(DIGEST, &[]), None), deploy(DIGEST)),
        ((None, Some(DIGEST)), (None, None), refuse(Severity::Critical, &format!("\"shop/web\" has no image {DIGEST}"))),
        ((Some("v1.4.2"), Some(DIGEST)), (image(DIGEST, &["v1.4.2"]), image(DIGEST, &["v1.4.2"])), deploy(DIGEST)),
        ((Some("v1.4.2"), Some(DIGEST)), (image(DIGEST, &["v1.4.1"]), image(OTHER, &["v1.4.2"])),
            refuse(Severity::Critical, &format!("the tag \"v1.4.2\" points at {OTHER}, not at {DIGEST} (which carries \"v1.4.1\")"))),
        ((Some("v1.4.2"), Some(DIGEST)), (image(DIGEST, &many), None),
            refuse(Severity::Critical, "no image in \"shop/web\" carries the tag \"v1.4.2\" (which carries \"t1\", \"t2\", \"t3\" and 2 more)")),
        ((Some("v1.4.2"), Some(DIGEST)), (image(DIGEST, &[]), None),
            refuse(Severity::Critical, "no image in \"shop/web\" carries the tag \"v1.4.2\" (which carries no tag)")),
        ((Some("v1.4.2"), Some(DIGEST)), (None, image(OTHER, &["v1.4.2"])),
            refuse(Severity::Critical, &format!("\"shop/web\" has no image {DIGEST}; the tag \"v1.4.2\" points at {OTHER}"))),
        ((Some("v1.4.2"), Some(DIGEST)), (None, None),
            refuse(Severity::Critical, &format!("\"shop/web\" has no image {DIGEST}; no image carries the tag \"v1.4.2\""))),
        // A tag alone: resolved to the digest it points at.
        ((Some("v1.4.2"), None), (None, image(OTHER, &["v1.4.2", "latest"])), deploy(OTHER)),
        ((Some("v1.4.2"), None), (None, None), refuse(Severity::Warning, "no image in \"shop/web\" carries the tag \"v1.4.2\"")),
        ((Some("v1.4.2"), None), (None, image("md5:x\n", &["v1.4.2"])),
            refuse(Severity::Warning, "the tag \"v1.4.2\" points at \"md5:x\\n\", not a sha256 digest")),
    ];
    for ((tag, digest), (by_digest, by_tag), expected) in table {
        let claim = claim(tag, digest);
        let verdict = match decide(&claim, &Seen { by_digest, by_tag }) {
            Verdict::Deploy { digest } => Ok(digest),
            Verdict::Refuse(refusal) => Err((refusal.severity, refusal.ecr)),
        };
        assert_eq!(verdict, expected, "{claim}");
    }
}

/// `shop-web`'s succeeded build, its exported variables replaced by `exports`.
fn exporting(exports: &[(&str, &str)]) -> Value {
    let mut event = sample(SUCCEEDED);
    event["detail"]["additional-information"]["exported-environment-variables"] =
        exports.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
    event
}

fn uri(rest: &str) -> String {
    format!("{REGISTRY}/shop/web{rest}")
}

#[tokio::test]
async fn a_digest_ecr_does_not_hold_deploys_nothing_and_alerts() {
    let (aws, handler) = world(false);
    let claimed = format!(":v1.4.2@{OTHER}");

    let outcome = handler.handle(exporting(&[("IMAGE_URI", &uri(&claimed))])).await.unwrap();

    assert_eq!(aws.ecs.revisions("web").len(), 1, "no revision");
    assert_eq!(aws.faults.count("ecs:UpdateService"), 0);
    let why = format!(
        "ECR does not confirm the image the build exported: \"shop/web\" has no image {OTHER}; the tag \"v1.4.2\" points at {DIGEST}"
    );
    assert_eq!(outcome.resources.len(), 1, "{outcome:?}");
    assert_eq!(outcome.resources[0].resource, format!("shop/web{claimed}"));
    assert_eq!(outcome.resources[0].result, ResourceResult::Ignored { reason: why });
    let published = aws.sns.published();
    assert_eq!(published.iter().map(|n| (n.event, n.severity)).collect::<Vec<_>>(), [("build.image_refused", Severity::Critical)]);
    let alert = &published[0];
    assert_eq!(alert.sns_subject(), "Build image refused: shop-web #55");
    for line in [
        "Not deployed: ECR does not confirm the image the build exported",
        &format!("Claimed:    shop/web{claimed}"),
        &format!("ECR says:   \"shop/web\" has no image {OTHER}; the tag \"v1.4.2\" points at {DIGEST}"),
        "build/shop-web%3A8745a7a9",
    ] {
        assert!(alert.text.contains(line), "{line}: {}", alert.text);
    }
    assert_eq!(alert.details["refused"]["claim"]["digest"], OTHER);
    assert_eq!(alert.details["refused"]["ecr"]["image_with_tag"]["digest"], DIGEST);
    assert_eq!(outcome.notification.map(|sent| sent.severity), Some(Severity::Critical));
}

#[tokio::test]
async fn a_tag_that_points_elsewhere_deploys_nothing_and_alerts() {
    let (aws, handler) = world(false);
    aws.ecr.push(ACCOUNT, "shop/web", OTHER, &["v1.4.9"], 1_700_000_100);

    let outcome = handler.handle(exporting(&[("IMAGE_URI", &uri(&format!(":v1.4.9@{DIGEST}")))])).await.unwrap();

    assert_eq!(aws.ecs.revisions("web").len(), 1, "no revision");
    assert!(matches!(&outcome.resources[0].result, ResourceResult::Ignored { reason } if reason.contains("points at")), "{outcome:?}");
    let published = aws.sns.published();
    assert_eq!(published.iter().map(|n| (n.event, n.severity)).collect::<Vec<_>>(), [("build.image_refused", Severity::Critical)]);
    let says = format!("ECR says:   the tag \"v1.4.9\" points at {OTHER}, not at {DIGEST} (which carries \"v1.4.2\")");
    assert!(published[0].text.contains(&says), "{}", published[0].text);
}

#[tokio::test]
async fn a_tag_alone_deploys_the_digest_ecr_resolves_it_to() {
    let (aws, handler) = world(false);
    aws.ecr.push(ACCOUNT, "shop/web", OTHER, &["v1.4.3"], 1_700_000_100);

    let outcome = handler.handle(exporting(&[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v1.4.3")])).await.unwrap();

    let revisions = aws.ecs.revisions("web");
    assert_eq!(revisions.len(), 2, "{outcome:?}");
    assert_eq!(revisions[1].0.containers[0].image, format!("{REGISTRY}/shop/web@{OTHER}"));
    assert_eq!(aws.ecs.service("prod", "web").task_definition.clone(), revisions[1].0.arn);
    assert!(matches!(outcome.resources[0].result, ResourceResult::Deployed { revision: 2, .. }), "{outcome:?}");
    let published = aws.sns.published();
    assert_eq!(published.iter().map(|n| n.event).collect::<Vec<_>>(), ["image.deployed", "build.succeeded"]);
    assert!(published[1].text.contains(&format!("Verified:   shop/web:v1.4.3 is {OTHER} (resolved with ECR)")), "{}", published[1].text);
    assert_eq!(published[1].details["verified"]["digest"], OTHER);
}

#[tokio::test]
async fn a_tag_alone_that_no_image_carries_deploys_nothing_and_warns() {
    let (aws, handler) = world(false);

    let outcome = handler.handle(exporting(&[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v1.4.7")])).await.unwrap();

    assert_eq!(aws.ecs.revisions("web").len(), 1);
    assert_eq!(outcome.resources[0].resource, "shop/web:v1.4.7");
    let published = aws.sns.published();
    assert_eq!(published.iter().map(|n| (n.event, n.severity)).collect::<Vec<_>>(), [("build.image_refused", Severity::Warning)]);
    assert!(published[0].text.contains("ECR says:   no image in \"shop/web\" carries the tag \"v1.4.7\""), "{}", published[0].text);
}

#[tokio::test]
async fn a_confirmed_claim_says_so() {
    let (aws, handler) = world(false);
    handler.handle(sample(SUCCEEDED)).await.unwrap();
    let text = &aws.sns.published()[1].text;
    assert!(text.contains(&format!("Verified:   shop/web:v1.4.2@{DIGEST} is {DIGEST} (in ECR)")), "{text}");
    assert_eq!(aws.faults.calls()[..2], ["ecr:DescribeImages"; 2], "by digest, by tag, before anything else");
}

/// A failing ECR call fails the invocation: nothing deploys unverified, nothing is published,
/// and the retry checks again.
#[tokio::test]
async fn a_failing_ecr_call_fails_the_invocation_and_deploys_nothing() {
    for fault in [Fault::Error, Fault::Throttled] {
        let (aws, handler) = world(false);
        aws.faults.fail_always("ecr:DescribeImages", fault);

        let err = handler.handle(sample(SUCCEEDED)).await.unwrap_err();

        assert!(err.to_string().contains("ecr:DescribeImages"), "{err}");
        assert_eq!(aws.ecs.revisions("web").len(), 1, "{fault:?}: no revision");
        assert!(aws.sns.published().is_empty(), "{fault:?}");
        aws.faults.clear();
        handler.handle(sample(SUCCEEDED)).await.unwrap();
        assert_eq!(aws.ecs.revisions("web").len(), 2, "{fault:?}: the retry deploys");
    }
}

/// Bounded: a claim with the longest tag and repository ECR allows, against an image with a
/// thousand long tags, still makes a sendable alert and a short outcome reason.
#[tokio::test]
async fn a_refusal_of_huge_values_is_bounded() {
    use crate::notify::limits::assert_sendable;
    let (aws, handler) = world(false);
    let repository = format!("{}/web", "s".repeat(251));
    let (tag, other) = ("t".repeat(300), "u".repeat(300));
    let tags: Vec<String> = (0..1000).map(|n| format!("{other}{n}")).collect();
    aws.ecr.push(ACCOUNT, &repository, DIGEST, &tags.iter().map(String::as_str).collect::<Vec<_>>(), 1);

    let outcome =
        handler.handle(exporting(&[("IMAGE_REPO_NAME", &repository), ("IMAGE_TAG", &tag), ("IMAGE_DIGEST", DIGEST)])).await.unwrap();

    let ResourceResult::Ignored { reason } = &outcome.resources[0].result else { panic!("{outcome:?}") };
    assert!(reason.len() < 600 && reason.contains("and 997 more"), "{}: {reason}", reason.len());
    let published = aws.sns.published();
    assert_eq!(published[0].event, "build.image_refused");
    let text = assert_sendable(&published[0]);
    assert!(text.contains("ECR says:") && text.len() < 8_000, "{}", text.len());
    let details = published[0].details["refused"].to_string();
    assert!(details.len() < 4_000 && details.contains("\"tags\":[\"uuu"), "{}", details.len());
}
