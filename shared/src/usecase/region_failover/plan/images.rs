//! The standby's images before a failover, and what they mean for it. Pure: which images both
//! regions' services run and whether they are the same, whether the standby region's registry
//! has them, and whether a move of traffic to the standby proceeds (`STANDBY_IMAGE_CHECK`).

use super::{Observed, Plan, Side, Step};
use crate::config::StandbyImageCheck;
use crate::ports::Container;
use crate::quote::clip;
use crate::usecase::image_pushed::image::ImageRef;
use crate::usecase::image_pushed::plan::short_digest;
use serde::Serialize;

/// Findings a plan, an alert or a notice names one by one; the rest are counted.
pub const FINDINGS_MAX: usize = 10;
/// Characters of one finding.
const FINDING_MAX: usize = 300;
/// Findings an alert's reason names.
const REASON_FINDINGS: usize = 3;

/// One container of a service, in both regions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerImages {
    pub container: String,
    /// The image the primary's service runs (as its task definition names it), when known.
    pub primary: Option<String>,
    pub standby: Option<String>,
    /// The two are different images; `None` when either is not known.
    pub drift: Option<bool>,
    /// The standby region's registry has the image the standby is to run: the primary's (the
    /// standby's own when the primary's is not known). `None`: not an ECR image, or not checked.
    pub in_standby_registry: Option<bool>,
}

impl ContainerImages {
    /// The image the standby region's registry should have.
    pub fn wanted(&self) -> Option<&str> {
        self.primary.as_deref().or(self.standby.as_deref())
    }
}

/// One service's containers, in both regions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceImages {
    /// `cluster/service`.
    pub service: String,
    pub containers: Vec<ContainerImages>,
    /// What could not be checked, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

impl ServiceImages {
    /// The containers of the two task definitions (`None`: not read), matched by name: the
    /// primary's in its order, then those only the standby has.
    pub fn compare(service: String, primary: Option<&[Container]>, standby: Option<&[Container]>, unchecked: Vec<String>) -> Self {
        let image_in = |containers: Option<&[Container]>, name: &str| {
            containers.and_then(|all| all.iter().find(|c| c.name == name)).map(|c| c.image.clone())
        };
        let mut names: Vec<&str> = primary.into_iter().chain(standby).flatten().map(|c| c.name.as_str()).collect();
        let mut seen = std::collections::BTreeSet::new();
        names.retain(|name| seen.insert(*name));
        let containers = names
            .into_iter()
            .map(|name| {
                let (p, s) = (image_in(primary, name), image_in(standby, name));
                let drift = match (primary.is_some() && standby.is_some(), &p, &s) {
                    (false, _, _) => None,
                    (true, Some(p), Some(s)) => Some(!same_image(p, s)),
                    (true, _, _) => Some(true),
                };
                ContainerImages { container: name.to_owned(), primary: p, standby: s, drift, in_standby_registry: None }
            })
            .collect();
        Self { service, containers, unchecked }
    }
}

/// What the check found: both regions' images of every service, and the standby's registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandbyImages {
    /// The standby region, whose registry was looked in.
    pub region: String,
    pub services: Vec<ServiceImages>,
    /// For people: each image that differs or is missing, and what could not be checked; empty
    /// when all is in order. At most `FINDINGS_MAX` lines and one that counts the rest.
    pub findings: Vec<String>,
}

impl StandbyImages {
    pub fn new(region: &str, services: Vec<ServiceImages>) -> Self {
        let mut findings = Vec::new();
        for service in &services {
            for c in &service.containers {
                let name = format!("{} {}", service.service, c.container);
                match (c.drift, &c.primary, &c.standby) {
                    (Some(true), Some(p), Some(s)) => {
                        findings.push(format!("{name}: the standby runs {}, the primary {}", short(s), short(p)));
                    }
                    (Some(true), Some(_), None) => findings.push(format!("{name}: the standby's task definition has no such container")),
                    (Some(true), None, _) => findings.push(format!("{name}: the primary's task definition has no such container")),
                    _ => {}
                }
                if let (Some(false), Some(wanted)) = (c.in_standby_registry, c.wanted()) {
                    findings.push(format!("{name}: {} is not in {region}'s registry (replication not done?)", short(wanted)));
                }
            }
            findings.extend(service.unchecked.iter().map(|why| format!("{}: not checked: {why}", service.service)));
        }
        let more = findings.len().saturating_sub(FINDINGS_MAX);
        findings.truncate(FINDINGS_MAX);
        let mut findings: Vec<String> = findings.iter().map(|f| clip(f, FINDING_MAX)).collect();
        if more > 0 {
            findings.push(format!("… and {more} more"));
        }
        Self { region: region.to_owned(), services, findings }
    }

    /// An image differs between the regions, or the standby's registry lacks one.
    pub fn has_problems(&self) -> bool {
        self.services.iter().flat_map(|s| &s.containers).any(|c| c.drift == Some(true) || c.in_standby_registry == Some(false))
    }
}

/// An image as the standby region's registry is asked for it: by digest, else by tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lookup {
    pub account: String,
    pub repository: String,
    pub digest: Option<String>,
    pub tag: String,
}

impl Lookup {
    /// The ECR image `image` names, as the standby region's registry would hold it (replication
    /// keeps the account, the repository's name and the digest); `None` for other registries.
    pub fn of(image: &str) -> Option<Lookup> {
        let image = ImageRef::parse(image).ok()?;
        let account = image.ecr_registry()?.account.to_owned();
        Some(Lookup { account, tag: image.tag.unwrap_or_else(|| "latest".into()), repository: image.repository, digest: image.digest })
    }
}

/// Whether two image references name the same image: by digest when both have one, else by
/// registry (an ECR registry by its account, in whichever region), repository and tag.
pub fn same_image(a: &str, b: &str) -> bool {
    let (Ok(x), Ok(y)) = (ImageRef::parse(a), ImageRef::parse(b)) else {
        return a == b;
    };
    if let (Some(dx), Some(dy)) = (&x.digest, &y.digest) {
        return dx == dy;
    }
    let home = |image: &ImageRef| image.ecr_registry().map(|r| r.account.to_owned()).or_else(|| image.registry.clone());
    let tag = |image: &ImageRef| image.tag.clone().unwrap_or_else(|| "latest".into());
    x.digest == y.digest && x.repository == y.repository && tag(&x) == tag(&y) && home(&x) == home(&y)
}

/// `shop/web@sha256:4f1c6e2d9b8a`, `shop/web:v7`: enough to tell images apart in a line.
fn short(image: &str) -> String {
    match ImageRef::parse(image) {
        Ok(parsed) => match (&parsed.digest, &parsed.tag) {
            (Some(digest), _) => format!("{}@{}", parsed.repository, short_digest(digest)),
            (None, tag) => format!("{}:{}", parsed.repository, tag.as_deref().unwrap_or("latest")),
        },
        Err(_) => clip(image, 120),
    }
}

/// A move of traffic to `to` with `steps`, as the standby's images allow. In order, or under
/// `warn`, or once DNS already points there (only the rest of the move is left), it proceeds
/// with whatever is wrong as its warnings. Under `refuse`, DNS does not move: an image that
/// differs or is missing is an alert (a person acts); a check that could not be made — a call
/// that failed, a primary that could not be read — fails the run, so that it is retried.
pub(super) fn gate(to: Side, steps: Vec<Step>, seen: &Observed, check: StandbyImageCheck) -> Plan {
    let images = seen.standby_images.as_ref().filter(|images| to == Side::Standby && !images.findings.is_empty());
    let Some(images) = images else {
        return Plan::Move { to, steps, warnings: Vec::new() };
    };
    let moves_dns = steps.iter().any(|step| matches!(step, Step::MoveDns { .. }));
    if check == StandbyImageCheck::Warn || !moves_dns {
        return Plan::Move { to, steps, warnings: images.findings.clone() };
    }
    let named = images.findings.iter().take(REASON_FINDINGS).cloned().collect::<Vec<_>>().join("; ");
    let refused = "STANDBY_IMAGE_CHECK is refuse: nothing moved";
    if images.has_problems() {
        Plan::Alert { reason: format!("the standby is not ready to serve the primary's images ({named}); {refused}") }
    } else {
        Plan::Retry { side: Side::Standby, reason: format!("the standby's images could not be checked ({named}); {refused}") }
    }
}

#[cfg(test)]
mod tests;
