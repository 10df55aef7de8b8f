//! `ECS Service Action` (source `aws.ecs`): what the service scheduler reports about a service —
//! steady state, tasks that fail to start or cannot be placed, throttling. The decoder takes any
//! of them; deploy-events reports `SERVICE_TASK_START_IMPAIRED` and ignores the others.

use super::deployment::{service_in_resources, service_names};
use super::limits::{EVENT_ID_MAX, STATE_MAX, at_most};
use super::{EventError, detail, envelope};
use serde::Deserialize;
use serde_json::Value;

pub const DETAIL_TYPE: &str = "ECS Service Action";
/// "The service is unable to consistently start tasks successfully" (event type `WARN`).
pub const TASK_START_IMPAIRED: &str = "SERVICE_TASK_START_IMPAIRED";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAction {
    pub event_id: Option<String>,
    /// `SERVICE_TASK_START_IMPAIRED`, `SERVICE_STEADY_STATE`, … as ECS sent it.
    pub name: String,
    pub service_arn: String,
}

impl ServiceAction {
    pub fn cluster_and_service(&self) -> (&str, &str) {
        service_names(&self.service_arn)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object with eventName")]
struct RawDetail {
    event_name: String,
}

pub fn decode(event: Value) -> Result<ServiceAction, EventError> {
    let resources = event.get("resources").cloned();
    let envelope = envelope(event, "aws.ecs", DETAIL_TYPE)?;
    let raw: RawDetail = detail(envelope.detail)?;
    at_most("id", envelope.id.as_deref().unwrap_or_default(), EVENT_ID_MAX)?;
    at_most("detail.eventName", &raw.event_name, STATE_MAX)?;
    let service_arn = service_in_resources(resources.as_ref())?;
    Ok(ServiceAction { event_id: envelope.id, name: raw.event_name, service_arn })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        serde_json::from_str(include_str!("../../../events/ecs-service-task-start-impaired.json")).expect("a JSON sample")
    }

    #[test]
    fn decodes_the_sample() {
        let action = decode(sample()).unwrap();
        assert_eq!((action.name.as_str(), action.cluster_and_service()), (TASK_START_IMPAIRED, ("prod", "web")));
        assert_eq!(action.event_id.as_deref(), Some("57c9506e-9d21-294c-d2fe-e8738da7e67d"));
    }

    #[test]
    fn malformed_events_name_the_field() {
        let huge = "x".repeat(1 << 20);
        let arn = |cluster: &str, service: &str| json!([format!("arn:aws:ecs:us-east-1:123456789012:service/{cluster}/{service}")]);
        let with = |path: &str, value: Value| {
            let mut event = sample();
            match path.split_once('.') {
                Some((outer, inner)) => event[outer][inner] = value,
                None => event[path] = value,
            }
            event
        };
        let cases = [
            ("detail.eventName", with("detail.eventName", json!(null))),
            ("detail.eventName", with("detail.eventName", json!(huge))),
            ("id", with("id", json!(huge))),
            ("resources", with("resources", json!(["arn:aws:ecs:us-east-1:123456789012:cluster/prod"]))),
            ("resources", with("resources", arn(&huge, "web"))),
            ("resources (the cluster's name)", with("resources", arn(&"c".repeat(256), "web"))),
            ("resources (the service's name)", with("resources", arn("prod", &"s".repeat(256)))),
        ];
        for (field, event) in cases {
            let message = decode(event).unwrap_err().to_string();
            assert!(message.contains(&format!("field `{field}`")), "{message:.300}");
            assert!(message.chars().count() <= super::super::EVENT_ERROR_MAX, "{message:.300}");
        }
        let mut other = sample();
        other["detail-type"] = json!("ECS Deployment State Change");
        assert!(decode(other).unwrap_err().to_string().contains("field `detail-type`"));
    }
}
