//! The image a build says it pushed, from its exported variables (buildspec `env.exported-variables`).

use crate::event::codebuild::BuildStateChange;
use crate::event::ecr::is_digest;
use crate::quote::quote;
use crate::usecase::image_pushed::image::ImageRef;
use crate::usecase::image_pushed::plan::ImagePush;

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

fn exported<'a>(build: &'a BuildStateChange, name: &str) -> Option<&'a str> {
    build.exported.iter().find(|(n, v)| n == name && !v.trim().is_empty()).map(|(_, v)| v.trim())
}

/// The image the build says it pushed.
/// `Ok(None)`: the build exported no image. `Err`: it exported one Deckhand cannot pin.
pub fn exported_image(build: &BuildStateChange) -> Result<Option<ImagePush>, String> {
    let tag = exported(build, "IMAGE_TAG").map(str::to_owned);
    let digest = exported(build, "IMAGE_DIGEST").map(str::to_owned);
    let (account, region, repository, tag, digest) = if let Some(uri) = exported(build, "IMAGE_URI") {
        let image = ImageRef::parse(uri).map_err(|err| format!("exported IMAGE_URI: {err}"))?;
        let Some(ecr) = image.ecr_registry() else {
            return Err(format!("exported IMAGE_URI {} is not in an ECR registry", quote(uri)));
        };
        let (account, region) = (ecr.account.to_owned(), ecr.region.to_owned());
        (account, region, image.repository.clone(), image.tag.or(tag), image.digest.or(digest))
    } else if let Some(repository) = exported(build, "IMAGE_REPO_NAME") {
        (build.account.clone(), build.region.clone(), repository.to_owned(), tag, digest)
    } else {
        return Ok(None);
    };
    let Some(digest) = digest else {
        return Err(format!(
            "the build exported {} without a digest: export IMAGE_DIGEST (or IMAGE_URI with @sha256:…) to deploy it",
            quote(&repository)
        ));
    };
    if !is_digest(&digest) {
        return Err(format!("exported digest {} is not sha256:<hex>", quote(&digest)));
    }
    Ok(Some(ImagePush { event_id: build.event_id.clone(), account, region, repository, digest, tag }))
}
