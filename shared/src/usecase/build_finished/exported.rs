//! The image a build says it pushed, from its exported variables (buildspec `env.exported-variables`).
//! What is read is a claim: `verify` checks it with ECR before anything deploys.

use crate::event::codebuild::BuildStateChange;
use crate::event::ecr::is_digest;
use crate::event::limits::{DIGEST_MAX, IMAGE_TAG_MAX, REPOSITORY_NAME_MAX};
use crate::quote::quote;
use crate::usecase::image_pushed::image::ImageRef;
use crate::usecase::image_pushed::plan::ImagePush;
use std::fmt;

/// The exported variables a message shows: the image the build pushed (what the rollout reads)
/// and the commit it built. Any other is only counted: a value may be a secret whatever its name
/// (`DATABASE_URL`, `DB_PASS`, `GITHUB_PAT`), so none is guessed safe from its name, and a name
/// can hold one too (`TOKEN_abc123`).
pub const SHOWN: [&str; 9] = [
    "IMAGE_URI",
    "IMAGE_REPO_NAME",
    "IMAGE_TAG",
    "IMAGE_DIGEST",
    "COMMIT_ID",
    "COMMIT_SHA",
    "GIT_COMMIT",
    "SOURCE_VERSION",
    "CODEBUILD_RESOLVED_SOURCE_VERSION",
];

/// Whether a message may show the value of the exported variable `name` (exactly one of [`SHOWN`]).
pub fn value_shown(name: &str) -> bool {
    SHOWN.contains(&name)
}

/// What a build says it pushed: a repository of an ECR registry and a tag, a digest or both.
/// Every part is well formed (ECR's own rules); whether ECR agrees is `verify`'s question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub event_id: Option<String>,
    pub account: String,
    pub region: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Claim {
    /// The push to roll out once ECR confirmed `digest` for this claim.
    pub fn pinned(&self, digest: &str) -> ImagePush {
        ImagePush {
            event_id: self.event_id.clone(),
            account: self.account.clone(),
            region: self.region.clone(),
            repository: self.repository.clone(),
            digest: digest.to_owned(),
            tag: self.tag.clone(),
        }
    }
}

/// `REPO[:TAG][@DIGEST]`: what the build claimed.
impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn exported<'a>(build: &'a BuildStateChange, name: &str) -> Option<&'a str> {
    build.exported.iter().find(|(n, v)| n == name && !v.trim().is_empty()).map(|(_, v)| v.trim())
}

/// The image the build says it pushed.
/// `Ok(None)`: the build exported no image. `Err`: it exported one Deckhand cannot check.
pub fn exported_image(build: &BuildStateChange) -> Result<Option<Claim>, String> {
    let tag = exported(build, "IMAGE_TAG");
    let digest = exported(build, "IMAGE_DIGEST");
    let (account, region, repository, tag, digest) = if let Some(uri) = exported(build, "IMAGE_URI") {
        let image = ImageRef::parse(uri).map_err(|err| format!("exported IMAGE_URI: {err}"))?;
        let Some(ecr) = image.ecr_registry() else {
            return Err(format!("exported IMAGE_URI {} is not in an ECR registry", quote(uri)));
        };
        let (account, region) = (ecr.account.to_owned(), ecr.region.to_owned());
        let tag = agreeing("tag", image.tag.as_deref(), "IMAGE_TAG", tag)?;
        let digest = agreeing("digest", image.digest.as_deref(), "IMAGE_DIGEST", digest)?;
        (account, region, image.repository.clone(), tag, digest)
    } else if let Some(repository) = exported(build, "IMAGE_REPO_NAME") {
        (build.account.clone(), build.region.clone(), repository.to_owned(), tag.map(str::to_owned), digest.map(str::to_owned))
    } else {
        return Ok(None);
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the build's account {} is not a 12-digit AWS account id", quote(&account)));
    }
    if !is_repository_name(&repository) {
        return Err(format!("exported repository {} is not an ECR repository name", quote(&repository)));
    }
    // The registry Deckhand asks is the one of its own region, where the build ran.
    if region != build.region {
        return Err(format!(
            "the build exported an image in {}; Deckhand checks images with ECR in the build's region, {}",
            quote(&region),
            quote(&build.region)
        ));
    }
    if let Some(tag) = tag.as_deref().filter(|tag| !is_tag(tag)) {
        return Err(format!("exported tag {} is not an image tag ([A-Za-z0-9_][A-Za-z0-9_.-]*)", quote(tag)));
    }
    if let Some(digest) = digest.as_deref().filter(|digest| !is_digest(digest) || digest.len() > DIGEST_MAX) {
        return Err(format!("exported digest {} is not sha256:<hex>", quote(digest)));
    }
    if tag.is_none() && digest.is_none() {
        return Err(format!(
            "the build exported {} without a tag or digest: export IMAGE_TAG or IMAGE_DIGEST (or IMAGE_URI with :tag or @sha256:…) to deploy it",
            quote(&repository)
        ));
    }
    Ok(Some(Claim { event_id: build.event_id.clone(), account, region, repository, tag, digest }))
}

/// The one value of `IMAGE_URI`'s part and its own variable: both, when set, must say the same.
fn agreeing(part: &str, in_uri: Option<&str>, name: &str, own: Option<&str>) -> Result<Option<String>, String> {
    match (in_uri, own) {
        (Some(a), Some(b)) if a != b => Err(format!("exported IMAGE_URI's {part} {} and {name} {} differ", quote(a), quote(b))),
        (a, b) => Ok(a.or(b).map(str::to_owned)),
    }
}

/// ECR's repository names: lowercase components of letters and digits joined by single `.`,
/// `_` or `-`, separated by `/`; 2 to 256 characters.
fn is_repository_name(name: &str) -> bool {
    let component = |part: &str| {
        let bytes = part.as_bytes();
        !bytes.is_empty()
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
            && bytes.first().zip(bytes.last()).is_some_and(|(a, z)| a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric())
            && !bytes.windows(2).any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric())
    };
    (2..=REPOSITORY_NAME_MAX).contains(&name.len()) && name.split('/').all(component)
}

/// An image tag: a letter, digit or `_`, then letters, digits, `_`, `.` and `-`; at most 300.
fn is_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    tag.len() <= IMAGE_TAG_MAX
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}
