//! The image a build says it pushed, from its exported variables (buildspec `env.exported-variables`).

use crate::event::codebuild::BuildStateChange;
use crate::event::ecr::is_digest;
use crate::usecase::image_pushed::image::ImageRef;
use crate::usecase::image_pushed::plan::ImagePush;

/// Names that look like they hold secrets; their values are never shown.
pub fn looks_secret(name: &str) -> bool {
    const MARKERS: [&str; 13] =
        ["SECRET", "TOKEN", "PASSWORD", "PASSWD", "PWD", "KEY", "CREDENTIAL", "PRIVATE", "AUTH", "SESSION", "COOKIE", "CERT", "SIGNATURE"];
    let upper = name.to_ascii_uppercase();
    MARKERS.iter().any(|marker| upper.contains(marker))
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
            return Err(format!("exported IMAGE_URI `{uri}` is not in an ECR registry"));
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
            "the build exported {repository} without a digest: export IMAGE_DIGEST (or IMAGE_URI with @sha256:…) to deploy it"
        ));
    };
    if !is_digest(&digest) {
        return Err(format!("exported digest `{digest}` is not sha256:<hex>"));
    }
    Ok(Some(ImagePush { event_id: build.event_id.clone(), account, region, repository, digest, tag }))
}
