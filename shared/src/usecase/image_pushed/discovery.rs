//! Which tracked services a push concerns, decided from their tags as the tag index lists them,
//! before anything is read from ECS: only those are described, so a push costs what it matches,
//! not what the fleet holds. Pure.

use super::plan::{ImagePush, Tracking, tracking};
use crate::ports::IndexedService;
use crate::tags;

/// At most this many services not concerned are named in why a push deploys nothing.
const NAMED_OTHERS: usize = 3;

/// The tracked services, sorted by what a push asks of them.
#[derive(Debug, Default, PartialEq)]
pub struct Concerned {
    /// The pushed tag satisfies their `deckhand:track`: described, then rolled out.
    pub matching: Vec<IndexedService>,
    /// Their `deckhand:track` cannot be read: ignored, with why (a person must fix the tag).
    pub invalid: Vec<(IndexedService, String)>,
    /// The push is not for them: why, for the outcome when nothing matches.
    pub others: Vec<(IndexedService, String)>,
}

pub fn concerned(push: &ImagePush, tracked: Vec<IndexedService>) -> Concerned {
    let mut sorted = Concerned::default();
    for service in tracked {
        match tracking(push, &service.tags) {
            Tracking::Satisfied => sorted.matching.push(service),
            Tracking::Invalid(why) => sorted.invalid.push((service, why)),
            Tracking::Unsatisfied(why) => sorted.others.push((service, why)),
        }
    }
    sorted
}

/// Why a push deploys nothing in `clusters`: the services the index lists (`listed` of them), with
/// why the push is not for them (the first few); or, listing none, that a service tagged moments
/// ago may not be listed yet (the index is eventually consistent). `age`: how old the index read
/// is (a warm function's memory), said when it is not fresh.
pub fn nothing_tracks(push: &ImagePush, clusters: &[String], others: &[(IndexedService, String)], listed: usize, age: u64) -> String {
    let tag = push.tag.as_deref().unwrap_or("(untagged)");
    let read = if age > 0 { format!("; the tag index as read {age} s ago") } else { String::new() };
    let head = format!("no service in {} tracks {}:{tag}", clusters.join(", "), push.repository);
    if listed == 0 {
        return format!(
            "{head} (the tag index lists no service with {} there; one tagged moments ago may not be listed yet{read})",
            tags::TRACK
        );
    }
    if others.is_empty() {
        return format!(
            "nothing to deploy in {} for {}:{tag} (the services that track it are ignored, each with why{read})",
            clusters.join(", "),
            push.repository
        );
    }
    let named: Vec<String> = others
        .iter()
        .take(NAMED_OTHERS)
        .map(|(service, why)| format!("{}/{}: {why}", service.cluster_name().unwrap_or("?"), service.name()))
        .collect();
    let more = others.len().saturating_sub(NAMED_OTHERS);
    let more = if more > 0 { format!("; and {more} more") } else { String::new() };
    format!("{head} ({} tracked: {}{more}{read})", others.len(), named.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(tag: Option<&str>) -> ImagePush {
        ImagePush {
            event_id: None,
            account: "123456789012".into(),
            region: "us-east-1".into(),
            repository: "shop/web".into(),
            digest: "sha256:4f1c".into(),
            tag: tag.map(str::to_owned),
        }
    }

    fn indexed(cluster: &str, name: &str, track: &str) -> IndexedService {
        let arn = format!("arn:aws:ecs:us-east-1:123456789012:service/{cluster}/{name}");
        IndexedService { arn, tags: [(tags::TRACK.to_owned(), track.to_owned())].into() }
    }

    fn names(services: &[IndexedService]) -> Vec<&str> {
        services.iter().map(IndexedService::name).collect()
    }

    #[test]
    fn only_services_whose_policy_the_tag_satisfies_are_described() {
        let fleet = || {
            vec![
                indexed("prod", "web", "semver:1.4"),
                indexed("prod", "api", "latest"),
                indexed("staging", "web", "prefix:v1."),
                indexed("prod", "broken", "semver:??"),
            ]
        };
        let cases: [(&str, Option<&str>, &[&str], usize); 4] = [
            ("a version both semver and prefix take", Some("v1.4.2"), &["web", "web"], 1),
            ("an exact tag", Some("latest"), &["api"], 2),
            ("a tag no policy takes", Some("nightly"), &[], 3),
            ("an untagged push", None, &[], 3),
        ];
        for (case, tag, matching, others) in cases {
            let sorted = concerned(&push(tag), fleet());
            assert_eq!(names(&sorted.matching), matching, "{case}");
            assert_eq!(sorted.others.len(), others, "{case}");
            assert_eq!(sorted.invalid.len(), 1, "{case}: an unreadable policy is always reported");
            assert!(sorted.invalid[0].1.starts_with("invalid deckhand:track"), "{case}: {:?}", sorted.invalid);
        }
    }

    #[test]
    fn nothing_tracks_names_a_few_services_and_counts_the_rest() {
        let others: Vec<(IndexedService, String)> =
            (0..5).map(|i| (indexed("prod", &format!("s{i}"), "latest"), "tag \"v1\" does not satisfy".to_owned())).collect();
        let clusters = ["prod".to_owned()];
        let reason = nothing_tracks(&push(Some("v1")), &clusters, &others, 5, 0);
        assert!(reason.starts_with("no service in prod tracks shop/web:v1 (5 tracked: prod/s0: tag"), "{reason}");
        assert!(reason.contains("prod/s2:") && !reason.contains("prod/s3:") && reason.ends_with("; and 2 more)"), "{reason}");

        let reason = nothing_tracks(&push(None), &clusters, &[], 0, 0);
        assert!(reason.starts_with("no service in prod tracks shop/web:(untagged) (the tag index lists no service"), "{reason}");
        assert!(reason.contains("may not be listed yet"), "{reason}");

        // Listed and taking the tag, then ignored once described (another repository): not "lists none".
        let reason = nothing_tracks(&push(Some("v1")), &clusters, &[], 2, 4);
        assert_eq!(
            reason,
            "nothing to deploy in prod for shop/web:v1 (the services that track it are ignored, each with why; the tag index as read 4 s ago)"
        );
    }
}
