//! The tag index of tracked services as a warm function last read it. A burst of pushes (a
//! monorepo release: many images within seconds) would otherwise read the whole index once per
//! push: one GetResources page per 100 tracked services, the one cost of a push that grows with
//! the fleet. Kept for `INDEX_MEMORY_SECONDS`, a burst's length: the index itself lags a tag change
//! (it is eventually consistent), and this adds at most that much to the lag, said in the outcome
//! of a push that deploys nothing. Only the choice of candidates rests on it: they are described
//! before anything is done, and their tags as ECS has them then decide.

use crate::outcome::Outcome;
use crate::ports::{EcsServices, IndexedService};
use crate::tags;
use crate::usecase::in_clusters;
use std::sync::{Mutex, PoisonError};

/// How long a read of the index answers for later pushes to the same warm function.
pub const INDEX_MEMORY_SECONDS: u64 = 10;

/// The tracked services of the rollout's clusters, and how old the read they come from is.
pub struct IndexRead {
    pub services: Vec<IndexedService>,
    /// Seconds since the index was read: 0 when read for this push.
    pub age: u64,
}

#[derive(Default)]
pub struct TrackedIndex {
    /// When the index was last read (epoch seconds), and what it listed.
    last_read: Mutex<Option<(u64, Vec<IndexedService>)>>,
}

impl TrackedIndex {
    /// The services of `clusters` tagged `deckhand:track`: from the last read when it is under
    /// `INDEX_MEMORY_SECONDS` old at `now`, else read afresh (a failed read is not kept).
    pub async fn services<E: EcsServices>(&self, ecs: &E, clusters: &[String], now: u64, outcome: &mut Outcome) -> IndexRead {
        let remembered = self.last_read.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some((at, services)) = remembered
            && now.saturating_sub(at) < INDEX_MEMORY_SECONDS
        {
            return IndexRead { services: in_clusters(Ok(services), clusters, outcome), age: now.saturating_sub(at) };
        }
        let read = ecs.services_tagged(tags::TRACK).await;
        if let Ok(services) = &read {
            *self.last_read.lock().unwrap_or_else(PoisonError::into_inner) = Some((now, services.clone()));
        }
        IndexRead { services: in_clusters(read, clusters, outcome), age: 0 }
    }
}
