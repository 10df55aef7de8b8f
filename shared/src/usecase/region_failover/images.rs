//! Checking the standby's images before a failover: the task definition of each service's newest
//! deployment in both regions, and whether the standby region's registry has the images. A call
//! that fails leaves the check incomplete and says so; it never fails the run by itself — what
//! follows from the check is the plan's (`plan::images`), under `STANDBY_IMAGE_CHECK`.

use super::observe::Observation;
use super::plan::{Lookup, Observed, ServiceImages, Side, StandbyImages};
use super::{RegionEcs, RegionFailover};
use crate::error::HandlerError;
use crate::ports::{Alarms, Container, Dns, Notifier, Registry};
use std::collections::BTreeMap;
use tracing::warn;

impl<E: RegionEcs, A: Alarms, R: Registry, D: Dns, N: Notifier> RegionFailover<E, A, R, D, N> {
    /// Checks the standby's images into `observation`: what was found, and the first call that
    /// failed (what a retry under `refuse` reports).
    pub(super) async fn check_images(&self, observation: &mut Observation) {
        let mut error = None;
        // Each image is asked for once, however many services run it.
        let mut registry: BTreeMap<Lookup, Result<bool, String>> = BTreeMap::new();
        let mut services = Vec::new();
        for (i, (cluster, service)) in self.config.services.iter().enumerate() {
            let mut unchecked = Vec::new();
            let primary = self.containers(&observation.seen, Side::Primary, i, &mut unchecked, &mut error).await;
            let standby = self.containers(&observation.seen, Side::Standby, i, &mut unchecked, &mut error).await;
            let mut row = ServiceImages::compare(format!("{cluster}/{service}"), primary.as_deref(), standby.as_deref(), unchecked);
            for container in &mut row.containers {
                let Some(lookup) = container.wanted().and_then(Lookup::of) else { continue };
                if !registry.contains_key(&lookup) {
                    let answer = self.in_standby_registry(&lookup).await.map_err(|err| {
                        warn!(region = %self.config.standby_region, error = %err, "cannot check the standby's registry");
                        let why = format!("{}'s registry could not be read: {err}", self.config.standby_region);
                        error.get_or_insert(err);
                        why
                    });
                    registry.insert(lookup.clone(), answer);
                }
                match &registry[&lookup] {
                    Ok(found) => container.in_standby_registry = Some(*found),
                    Err(why) if !row.unchecked.contains(why) => row.unchecked.push(why.clone()),
                    Err(_) => {}
                }
            }
            services.push(row);
        }
        observation.seen.standby_images = Some(StandbyImages::new(&self.config.standby_region, services));
        observation.image_error = error;
    }

    async fn in_standby_registry(&self, lookup: &Lookup) -> Result<bool, HandlerError> {
        let (account, repository) = (&lookup.account, &lookup.repository);
        let found = match &lookup.digest {
            Some(digest) => self.standby_registry.image_by_digest(account, repository, digest).await?,
            None => self.standby_registry.image_by_tag(account, repository, &lookup.tag).await?,
        };
        Ok(found.is_some())
    }

    /// The containers of the `i`th service's newest deployment on `side`; `None` (and why, in
    /// `unchecked`) when they cannot be known. A region whose services could not be read is not
    /// asked again (a region that is down would only make the run wait).
    async fn containers(
        &self,
        seen: &Observed,
        side: Side,
        i: usize,
        unchecked: &mut Vec<String>,
        error: &mut Option<HandlerError>,
    ) -> Option<Vec<Container>> {
        let region = &seen.region(side).region;
        let Some(services) = &seen.region(side).services else {
            unchecked.push(format!("what it runs in {region} is unknown: the region could not be read"));
            return None;
        };
        if !services.get(i).is_some_and(|s| s.exists) {
            unchecked.push(format!("it does not exist in {region}"));
            return None;
        }
        let (cluster, service) = &self.config.services[i];
        let ecs = &self.ports(side).ecs;
        let read = async {
            let deployments = ecs.deployments_of(cluster, service).await?;
            // The newest deployment (PRIMARY): what the service runs, or is moving to.
            let Some(newest) = deployments.iter().find(|d| d.status == "PRIMARY").or(deployments.first()) else {
                return Ok(None);
            };
            ecs.describe(&newest.task_definition).await.map(|td| Some(td.containers))
        };
        match read.await {
            Ok(Some(containers)) => Some(containers),
            Ok(None) => {
                unchecked.push(format!("no deployment in {region} names its task definition"));
                None
            }
            Err(err) => {
                warn!(region = %region, error = %err, "cannot read a service's task definition");
                unchecked.push(format!("its task definition in {region} could not be read: {err}"));
                error.get_or_insert(err);
                None
            }
        }
    }
}
