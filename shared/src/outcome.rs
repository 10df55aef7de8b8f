//! The structured JSON outcome every function returns: what it did, to which resources, or why
//! it ignored the event.

use crate::rollout::ImageUpdate;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Outcome {
    pub function: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Set when the whole event was ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceOutcome>,
}

impl Outcome {
    pub fn ignored(function: &'static str, event_id: Option<String>, reason: impl Into<String>) -> Self {
        Self { function, event_id, ignored: Some(reason.into()), services: Vec::new() }
    }

    pub fn failures(&self) -> impl Iterator<Item = &ServiceOutcome> {
        self.services.iter().filter(|s| matches!(s.result, ServiceResult::Failed { .. }))
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServiceOutcome {
    pub cluster: String,
    pub service: String,
    #[serde(flatten)]
    pub result: ServiceResult,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ServiceResult {
    Deployed {
        controller: &'static str,
        task_definition: String,
        revision: i32,
        deployment_id: String,
        images: Vec<ImageUpdate>,
        notified: bool,
    },
    Unchanged {
        reason: String,
    },
    Ignored {
        reason: String,
    },
    Failed {
        error: String,
    },
}
