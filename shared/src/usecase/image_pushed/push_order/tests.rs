use super::*;
use crate::notify::Severity;

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const PUSHED: &str = "sha256:bbbbbbbbbbbb0000000000000000000000000000000000000000000000000002";
const RUNNING: &str = "sha256:aaaaaaaaaaaa0000000000000000000000000000000000000000000000000001";
/// 2026-11-22T10:15:30Z
const T: u64 = 1_795_342_530;

fn push(tag: &str) -> ImagePush {
    ImagePush {
        event_id: Some("e1".into()),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        repository: "shop/web".into(),
        digest: PUSHED.into(),
        tag: Some(tag.into()),
    }
}

fn image(digest: &str, tags: &[&str], pushed_at: Option<u64>) -> RegistryImage {
    RegistryImage { digest: digest.into(), tags: tags.iter().map(|t| t.to_string()).collect(), pushed_at }
}

/// `shop/web` referenced as `reference` (`:TAG` or `@DIGEST`), and what ECR knows of it.
fn seen(reference: &str, found: Option<RegistryImage>) -> Seen {
    Seen { image: format!("{REGISTRY}/shop/web{reference}"), found }
}

fn running_at(at: u64, tags: &[&str]) -> Vec<Seen> {
    vec![seen(&format!("@{RUNNING}"), Some(image(RUNNING, tags, Some(at))))]
}

fn deploying(images: Option<Vec<Seen>>) -> Option<Deploying> {
    Some(Deploying { deployment: "CodeDeploy deployment d-1".into(), images })
}

/// What `order` should answer: parts of the refusal, or of the notes that go with the rollout.
#[derive(Debug)]
enum Want {
    Refuse(&'static [&'static str]),
    Deploy(&'static [&'static str]),
}

#[test]
fn an_event_never_moves_a_service_to_an_older_image() {
    let pushed = |at: Option<u64>, tags: &[&str]| Some(image(PUSHED, tags, at));
    let observed = |pushed, running, deploying| Observed { pushed, running, deploying };
    const WAY_BACK: &str = "an operator's explicit rollback does";
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, bool, Observed, Want)> = vec![
        ("newer than what runs", "v1.4.2", false, observed(pushed(Some(T), &[]), running_at(T - 60, &[]), None), Want::Deploy(&[])),
        ("pushed the same second", "v1.4.2", false, observed(pushed(Some(T), &[]), running_at(T, &[]), None), Want::Deploy(&[])),
        ("older than what runs", "v1.4.2", false, observed(pushed(Some(T), &[]), running_at(T + 61, &[]), None), Want::Refuse(&[
            "older than what runs: sha256:bbbbbbbbbbbb was pushed 2026-11-22T10:15:30Z, sha256:aaaaaaaaaaaa (running) was pushed 2026-11-22T10:16:31Z; ",
            WAY_BACK,
        ])),
        ("gone from ECR", "v1.4.2", false, observed(None, running_at(T, &[]), None), Want::Refuse(&[
            "ECR no longer has sha256:bbbbbbbbbbbb in \"shop/web\": deleted since the push",
        ])),
        ("the running tag now names the pushed image", "latest", false,
            observed(pushed(Some(T), &["latest"]), vec![seen(":latest", Some(image(PUSHED, &["latest"], Some(T))))], None), Want::Deploy(&[])),
        ("running, unknown to ECR", "v1.4.2", false, observed(pushed(Some(T), &[]), vec![seen(":v1", None)], None), Want::Deploy(&[
            "ECR does not know \"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v1\" (deleted, or another registry): push times not compared",
        ])),
        ("running, no push time", "v1.4.2", false, observed(pushed(Some(T), &[]), vec![seen(":v1", Some(image(RUNNING, &[], None)))], None), Want::Deploy(&[
            "ECR has no push time for sha256:aaaaaaaaaaaa (running): push times not compared",
        ])),
        ("pushed, no push time", "v1.4.2", false, observed(pushed(None, &[]), running_at(T, &[]), None), Want::Deploy(&[
            "ECR has no push time for the pushed image sha256:bbbbbbbbbbbb",
        ])),
        ("older than what is deploying", "v1.4.2", false,
            observed(pushed(Some(T), &[]), running_at(T - 60, &[]), deploying(Some(running_at(T + 1, &[])))), Want::Refuse(&[
            "older than what is deploying: sha256:bbbbbbbbbbbb was pushed 2026-11-22T10:15:30Z, sha256:aaaaaaaaaaaa (deploying in CodeDeploy deployment d-1) was pushed 2026-11-22T10:15:31Z",
            WAY_BACK,
        ])),
        ("newer than what is deploying", "v1.4.2", false,
            observed(pushed(Some(T), &[]), running_at(T - 60, &[]), deploying(Some(running_at(T - 1, &[])))), Want::Deploy(&[])),
        ("deploying a revision nobody named", "v1.4.2", false, observed(pushed(Some(T), &[]), running_at(T - 60, &[]), deploying(None)), Want::Deploy(&[
            "CodeDeploy deployment d-1 names no task definition: not compared",
        ])),
        ("deploying another repository's image", "v1.4.2", false, observed(pushed(Some(T), &[]), running_at(T - 60, &[]), deploying(Some(vec![]))), Want::Deploy(&[
            "CodeDeploy deployment d-1 deploys no image of \"shop/web\": not compared",
        ])),
        ("semver: a lower version pushed later", "v1.4.2", true, observed(pushed(Some(T), &["v1.4.2"]), running_at(T - 60, &["v1.5.0", "latest"]), None), Want::Refuse(&[
            "lower version than what runs: 1.4.2 (sha256:bbbbbbbbbbbb) is below 1.5.0, sha256:aaaaaaaaaaaa (running); ",
            WAY_BACK,
        ])),
        ("not semver: the tag's version does not count", "v1.4.2", false, observed(pushed(Some(T), &[]), running_at(T - 60, &["v1.5.0"]), None), Want::Deploy(&[])),
        ("semver: a higher version pushed earlier", "v1.6.0", true, observed(pushed(Some(T), &[]), running_at(T + 5, &["v1.5.0"]), None), Want::Refuse(&[
            "older than what runs",
        ])),
        ("semver: the same version again, pushed later", "v1.5.0", true, observed(pushed(Some(T), &[]), running_at(T - 5, &["v1.5.0"]), None), Want::Deploy(&[])),
        ("semver: running tags that are no versions", "v1.4.2", true, observed(pushed(Some(T), &[]), running_at(T - 5, &["latest", "main-abc"]), None), Want::Deploy(&[])),
        ("semver: unknown to ECR, its tag a higher version", "v1.4.2", true, observed(pushed(Some(T), &[]), vec![seen(":1.5.0", None)], None), Want::Refuse(&[
            "lower version than what runs: 1.4.2 (sha256:bbbbbbbbbbbb) is below 1.5.0, \"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.5.0\"",
        ])),
        ("semver: lower than what is deploying", "v1.4.2", true,
            observed(pushed(Some(T), &[]), running_at(T - 60, &[]), deploying(Some(vec![seen(":v2", Some(image(RUNNING, &["1.4.3"], Some(T - 1))))]))), Want::Refuse(&[
            "lower version than what is deploying: 1.4.2 (sha256:bbbbbbbbbbbb) is below 1.4.3, sha256:aaaaaaaaaaaa (deploying in CodeDeploy deployment d-1)",
        ])),
    ];
    for (case, tag, semver, observed, want) in cases {
        let got = order(&push(tag), semver, &observed);
        let ok = match (&want, &got) {
            (Want::Refuse(parts), Order::Refuse(reason)) => parts.iter().all(|part| reason.contains(part)),
            (Want::Deploy(parts), Order::Deploy { unchecked }) => {
                unchecked.len() == parts.len() && parts.iter().zip(unchecked).all(|(part, note)| note.contains(part))
            }
            _ => false,
        };
        assert!(ok, "{case}: wanted {want:?}, got {got:?}");
    }
}

#[test]
fn a_note_repeated_across_running_and_deploying_is_said_once() {
    let unknown = || vec![seen(":v1", None)];
    let observed = Observed { pushed: Some(image(PUSHED, &[], Some(T))), running: unknown(), deploying: deploying(Some(unknown())) };
    let Order::Deploy { unchecked } = order(&push("v1.4.2"), false, &observed) else { panic!() };
    assert_eq!(unchecked.len(), 1, "{unchecked:?}");
}

#[test]
fn the_notice_says_what_was_not_compared() {
    let notice = || Notification {
        event: "image.deployed",
        severity: Severity::Info,
        subject: "Deploying".into(),
        text: "Deckhand is deploying.\n".into(),
        details: json!({"revision": 2}),
        cluster: None,
        service: None,
        project: None,
        dedup_key: None,
    };
    assert_eq!(noted(notice(), &[]), notice());
    let noted = noted(notice(), &["ECR does not know \"x\"".into()]);
    assert_eq!(noted.text, "Deckhand is deploying.\nNot compared: ECR does not know \"x\"\n");
    assert_eq!(noted.details, json!({"revision": 2, "not_compared": ["ECR does not know \"x\""]}));
}
