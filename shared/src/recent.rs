//! Duplicate deliveries, caught without a store: each function remembers the ids of the events
//! it has handled successfully, in memory. With reserved concurrency 1 (the template's default)
//! one execution environment receives every event, so a redelivery finds its id here. Events
//! that failed are not remembered: Lambda's retry of them must run again.

use std::collections::VecDeque;
use std::sync::Mutex;

pub struct RecentEvents {
    ids: Mutex<VecDeque<String>>,
    capacity: usize,
}

impl RecentEvents {
    pub fn new(capacity: usize) -> Self {
        Self { ids: Mutex::new(VecDeque::with_capacity(capacity)), capacity }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.lock().is_ok_and(|ids| ids.iter().any(|known| known == id))
    }

    pub fn remember(&self, id: &str) {
        if let Ok(mut ids) = self.ids.lock() {
            if ids.iter().any(|known| known == id) {
                return;
            }
            if ids.len() == self.capacity {
                ids.pop_front();
            }
            ids.push_back(id.to_owned());
        }
    }
}

impl Default for RecentEvents {
    /// A few hours of events for a busy account, a few kilobytes of memory.
    fn default() -> Self {
        Self::new(1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_most_recent_ids() {
        let recent = RecentEvents::new(2);
        recent.remember("a");
        recent.remember("b");
        recent.remember("a");
        assert!(recent.contains("a") && recent.contains("b"));
        recent.remember("c");
        assert!(!recent.contains("a") && recent.contains("b") && recent.contains("c"));
    }
}
