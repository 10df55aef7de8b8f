//! `ECR Image Action` events (source `aws.ecr`).

use super::limits::{DIGEST_MAX, EVENT_ID_MAX, IMAGE_TAG_MAX, REPOSITORY_NAME_MAX, STATE_MAX, at_most};
use super::{EventError, detail, envelope};
use crate::quote::quote;
use serde::Deserialize;
use serde_json::Value;

pub const SOURCE: &str = "aws.ecr";
pub const DETAIL_TYPE: &str = "ECR Image Action";

/// An image action in one repository, as ECR reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageAction {
    pub event_id: Option<String>,
    /// The registry's account and region (the event's envelope).
    pub account: String,
    pub region: String,
    pub action: String,
    pub result: String,
    pub repository: String,
    pub digest: String,
    /// Absent for an untagged push.
    pub tag: Option<String>,
}

impl ImageAction {
    /// Only successful pushes deploy anything; the reason says why another action is not ours.
    pub fn not_a_successful_push(&self) -> Option<String> {
        if self.action != "PUSH" {
            return Some(format!("action-type is {}, only PUSH deploys", quote(&self.action)));
        }
        if self.result != "SUCCESS" {
            return Some(format!("result is {}, only SUCCESS deploys", quote(&self.result)));
        }
        None
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", expecting = "an object with action-type, result, repository-name, image-digest and optional image-tag")]
struct Detail {
    action_type: String,
    result: String,
    repository_name: String,
    image_digest: String,
    #[serde(default)]
    image_tag: Option<String>,
}

pub fn decode(event: Value) -> Result<ImageAction, EventError> {
    let envelope = envelope(event, SOURCE, DETAIL_TYPE)?;
    let detail: Detail = detail(envelope.detail)?;
    at_most("id", envelope.id.as_deref().unwrap_or_default(), EVENT_ID_MAX)?;
    at_most("detail.action-type", &detail.action_type, STATE_MAX)?;
    at_most("detail.result", &detail.result, STATE_MAX)?;
    at_most("detail.repository-name", &detail.repository_name, REPOSITORY_NAME_MAX)?;
    at_most("detail.image-tag", detail.image_tag.as_deref().unwrap_or_default(), IMAGE_TAG_MAX)?;
    if detail.repository_name.is_empty() {
        return Err(EventError::field("detail.repository-name", "a repository name, got \"\""));
    }
    if !is_digest(&detail.image_digest) {
        return Err(EventError::field(
            "detail.image-digest",
            format!("an image digest like sha256:<hex>, got {}", quote(&detail.image_digest)),
        ));
    }
    at_most("detail.image-digest", &detail.image_digest, DIGEST_MAX)?;
    Ok(ImageAction {
        event_id: envelope.id,
        account: envelope.account,
        region: envelope.region,
        action: detail.action_type,
        result: detail.result,
        repository: detail.repository_name,
        digest: detail.image_digest,
        tag: detail.image_tag.filter(|tag| !tag.is_empty()),
    })
}

/// `sha256:` or `sha512:` followed by lowercase hex, as OCI digests are.
pub fn is_digest(value: &str) -> bool {
    let Some((algorithm, hex)) = value.split_once(':') else { return false };
    matches!(algorithm, "sha256" | "sha512") && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DIGEST: &str = "sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

    fn push() -> Value {
        json!({
            "version": "0", "id": "e1", "detail-type": "ECR Image Action", "source": "aws.ecr",
            "account": "123456789012", "time": "2026-11-22T10:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"result": "SUCCESS", "repository-name": "shop/web", "image-digest": DIGEST, "action-type": "PUSH", "image-tag": "v1.4.2"}
        })
    }

    #[test]
    fn decodes_a_tagged_push() {
        let action = decode(push()).unwrap();
        assert_eq!(action.repository, "shop/web");
        assert_eq!(action.tag.as_deref(), Some("v1.4.2"));
        assert_eq!((action.account.as_str(), action.region.as_str()), ("123456789012", "us-east-1"));
        assert_eq!(action.not_a_successful_push(), None);
    }

    #[test]
    fn untagged_push_has_no_tag() {
        let mut event = push();
        event["detail"].as_object_mut().unwrap().remove("image-tag");
        assert_eq!(decode(event).unwrap().tag, None);
    }

    #[test]
    fn delete_and_failure_are_not_ours() {
        let mut event = push();
        event["detail"]["action-type"] = json!("DELETE");
        assert!(decode(event).unwrap().not_a_successful_push().unwrap().contains("DELETE"));
        let mut event = push();
        event["detail"]["result"] = json!("FAILURE");
        assert!(decode(event).unwrap().not_a_successful_push().unwrap().contains("FAILURE"));
    }

    fn error_for(mutate: impl FnOnce(&mut Value)) -> String {
        let mut event = push();
        mutate(&mut event);
        decode(event).unwrap_err().to_string()
    }

    #[test]
    fn malformed_events_name_the_field() {
        type Mutation = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|e| {
                    e.as_object_mut().unwrap().remove("detail");
                }),
                "field `detail`",
            ),
            (
                Box::new(|e| {
                    e["detail"].as_object_mut().unwrap().remove("repository-name");
                }),
                "field `detail.repository-name`",
            ),
            (
                Box::new(|e| {
                    e["detail"].as_object_mut().unwrap().remove("image-digest");
                }),
                "field `detail.image-digest`",
            ),
            (Box::new(|e| e["detail"]["image-digest"] = json!("latest")), "field `detail.image-digest`: expected an image digest"),
            (Box::new(|e| e["detail"]["image-tag"] = json!(7)), "field `detail.image-tag`"),
            (Box::new(|e| e["detail"]["image-tag"] = json!("t".repeat(301))), "field `detail.image-tag`: expected at most 300"),
            (
                Box::new(|e| e["detail"]["repository-name"] = json!("r".repeat(1 << 20))),
                "field `detail.repository-name`: expected at most 256",
            ),
            (Box::new(|e| e["detail"]["action-type"] = json!("a".repeat(1 << 20))), "field `detail.action-type`: expected at most"),
            (Box::new(|e| e["id"] = json!("i".repeat(1 << 20))), "field `id`: expected at most 256"),
            (
                Box::new(|e| e["detail-type"] = json!("ECR Image Scan")),
                "field `detail-type`: expected \"ECR Image Action\", got \"ECR Image Scan\"",
            ),
            (Box::new(|e| e["source"] = json!("aws.s3")), "field `source`"),
            (
                Box::new(|e| {
                    e.as_object_mut().unwrap().remove("account");
                }),
                "field `account`",
            ),
            (Box::new(|e| e["detail"] = json!([])), "field `detail`: expected an object"),
            (Box::new(|e| *e = json!("hello")), "field `(event)`"),
        ];
        for (mutate, wanted) in cases {
            let message = error_for(mutate);
            assert!(message.contains(wanted), "{message:?} should contain {wanted:?}");
        }
    }
}
