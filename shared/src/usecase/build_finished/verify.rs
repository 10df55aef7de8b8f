//! A build's claim checked with ECR before anything deploys: the exported digest must be in the
//! repository and carry the exported tag; a tag alone is resolved to the digest it points at.
//! `decide` is the decision (pure); `verify` asks ECR what it needs and decides.

use super::exported::Claim;
use crate::event::ecr::is_digest;
use crate::event::limits::DIGEST_MAX;
use crate::notify::Severity;
use crate::ports::{AwsResult, Registry, RegistryImage};
use crate::quote::quote;
use serde_json::{Value, json};
use std::borrow::Cow;

/// How many of an image's tags a refusal names.
const TAGS_SHOWN: usize = 3;

/// What ECR answered about a claim: the image with the claimed digest (asked when a digest was
/// claimed) and the image the claimed tag points at (asked when a tag was claimed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub by_digest: Option<RegistryImage>,
    pub by_tag: Option<RegistryImage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// ECR confirms the claim: roll out this digest (the claimed one, or the one the tag points at).
    Deploy { digest: String },
    /// ECR contradicts the claim: nothing deploys, and the build message becomes an alert.
    Refuse(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `critical` when the build claimed a digest ECR does not confirm (a digest not in the
    /// repository, or a tag that points elsewhere); `warning` when a tag alone points nowhere.
    pub severity: Severity,
    /// What ECR says, in one line of bounded values.
    pub ecr: String,
}

impl Refusal {
    /// Why nothing deployed, for the outcome and the message.
    pub fn reason(&self) -> String {
        format!("ECR does not confirm the image the build exported: {}", self.ecr)
    }

    pub fn details(&self, claim: &Claim, seen: &Seen) -> Value {
        let image = |image: &Option<RegistryImage>| {
            image.as_ref().map(|i| json!({"digest": i.digest, "tags": i.tags.iter().take(TAGS_SHOWN).collect::<Vec<_>>()}))
        };
        json!({
            "claim": {"account": claim.account, "repository": claim.repository, "tag": claim.tag, "digest": claim.digest},
            "ecr": {"says": self.ecr, "image_with_digest": image(&seen.by_digest), "image_with_tag": image(&seen.by_tag)},
        })
    }
}

/// The claim against what ECR answered. Only the lookups the claim calls for are read: a digest
/// claimed → `by_digest`; a tag claimed → `by_tag`.
pub fn decide(claim: &Claim, seen: &Seen) -> Verdict {
    let refuse = |severity, ecr: String| Verdict::Refuse(Refusal { severity, ecr });
    let repository = quote(&claim.repository);
    let tag = claim.tag.as_deref().map(quote);
    match (&claim.digest, &tag, &seen.by_digest, &seen.by_tag) {
        // A tag alone: the digest it points at, as ECR says.
        (None, None, _, _) => refuse(Severity::Warning, "the build claimed neither a tag nor a digest".into()),
        (None, Some(tag), _, None) => refuse(Severity::Warning, format!("no image in {repository} carries the tag {tag}")),
        (None, Some(tag), _, Some(image)) if !is_digest(&image.digest) || image.digest.len() > DIGEST_MAX => {
            refuse(Severity::Warning, format!("the tag {tag} points at {}, not a sha256 digest", quote(&image.digest)))
        }
        (None, Some(_), _, Some(image)) => Verdict::Deploy { digest: image.digest.clone() },
        // A digest: it must be in the repository, and carry the tag claimed with it.
        (Some(digest), _, None, by_tag) => {
            let tag_says = match (&tag, by_tag) {
                (Some(tag), Some(image)) => format!("; the tag {tag} points at {}", shown(&image.digest)),
                (Some(tag), None) => format!("; no image carries the tag {tag}"),
                (None, _) => String::new(),
            };
            refuse(Severity::Critical, format!("{repository} has no image {digest}{tag_says}"))
        }
        (Some(digest), None, Some(_), _) => Verdict::Deploy { digest: digest.clone() },
        (Some(digest), Some(_), Some(image), Some(tagged)) if tagged.digest == *digest && image.digest == *digest => {
            Verdict::Deploy { digest: digest.clone() }
        }
        (Some(digest), Some(tag), Some(image), by_tag) => {
            let points = match by_tag {
                Some(tagged) => format!("the tag {tag} points at {}, not at {digest}", shown(&tagged.digest)),
                None => format!("no image in {repository} carries the tag {tag}"),
            };
            refuse(Severity::Critical, format!("{points} (which carries {})", tags_of(image)))
        }
    }
}

/// A digest ECR answered: as it is when well formed, else quoted short.
fn shown(digest: &str) -> Cow<'_, str> {
    if is_digest(digest) && digest.len() <= DIGEST_MAX { Cow::Borrowed(digest) } else { Cow::Owned(quote(digest)) }
}

/// `"v1", "latest" and 2 more`, or `no tag`.
fn tags_of(image: &RegistryImage) -> String {
    if image.tags.is_empty() {
        return "no tag".into();
    }
    let shown: Vec<String> = image.tags.iter().take(TAGS_SHOWN).map(|t| quote(t)).collect();
    let more = image.tags.len().saturating_sub(TAGS_SHOWN);
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// Asks ECR what the claim calls for (DescribeImages by digest, by tag) and decides. A failing
/// call fails: nothing deploys unverified, and Lambda's retry asks again.
pub async fn verify<G: Registry>(registry: &G, claim: &Claim) -> AwsResult<(Verdict, Seen)> {
    let mut seen = Seen::default();
    if let Some(digest) = &claim.digest {
        seen.by_digest = registry.image_by_digest(&claim.account, &claim.repository, digest).await?;
    }
    if let Some(tag) = &claim.tag {
        seen.by_tag = registry.image_by_tag(&claim.account, &claim.repository, tag).await?;
    }
    Ok((decide(claim, &seen), seen))
}
