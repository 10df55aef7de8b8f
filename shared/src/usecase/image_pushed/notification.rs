//! The notification of a deployment Deckhand started.

use super::plan::{ImagePush, short_digest};
use crate::notify::{Notification, Severity, field};
use crate::ports::{Controller, ImageUpdate, Registered, Service, Strategy};
use serde_json::json;

pub fn deployed_notification(
    push: &ImagePush,
    service: &Service,
    registered: &Registered,
    deployment_id: Option<&str>,
    updates: &[ImageUpdate],
    strategy: Option<Strategy>,
    superseded: Option<&str>,
) -> Notification {
    let cluster = service.cluster_name();
    let tag = field(push.tag.as_deref().unwrap_or("(untagged)"));
    let how = match (service.controller, strategy) {
        (Controller::CodeDeploy, _) => "CodeDeploy blue/green".to_owned(),
        (_, Some(strategy)) => format!("ECS {}: traffic shifts to the new revision, rolled back on failure", strategy.as_str()),
        _ => "ECS rolling update, circuit breaker with rollback".to_owned(),
    };
    // A notice sent by a retry names no deployment id for a rolling update: the first attempt
    // started it, and only its answer knew the id.
    let deployment = deployment_id.unwrap_or("started by an earlier delivery of this event; this notice was owed and may repeat");
    let mut text = format!(
        "Deckhand is deploying a new image to {}/{}.\n\nImage:       {}:{tag} ({})\nRevision:    {}\nDeployment:  {} ({how})\n",
        field(cluster),
        field(&service.name),
        field(&push.repository),
        field(short_digest(&push.digest)),
        field(&registered.arn),
        field(deployment),
    );
    for update in updates {
        text.push_str(&format!(
            "Container {}:\n  from  {}\n  to    {}\n",
            field(&update.container),
            field(&update.from),
            field(&update.to)
        ));
    }
    if let Some(id) = superseded {
        text.push_str(&format!("Supersedes:  {} (an older image; stopped and rolled back)\n", field(id)));
    }
    if let Some(id) = &push.event_id {
        text.push_str(&format!("ECR event:   {}\n", field(id)));
    }
    Notification {
        event: "image.deployed",
        severity: Severity::Info,
        subject: format!("Deploying {}:{tag} to {cluster}/{} (rev {})", push.repository, service.name, registered.revision),
        text,
        details: json!({
            "repository": push.repository,
            "tag": push.tag,
            "digest": push.digest,
            "service_arn": service.arn,
            "controller": service.controller.as_str(),
            "strategy": strategy.map(Strategy::as_str),
            "task_definition": registered.arn,
            "revision": registered.revision,
            "deployment_id": deployment_id,
            "superseded": superseded,
            "images": updates,
        }),
        cluster: Some(cluster.to_owned()),
        service: Some(service.name.clone()),
        project: None,
        dedup_key: Some(format!("{}:{}", push.event_id.as_deref().unwrap_or(&push.digest), service.arn)),
    }
}
