//! Issue 13, item 2: names and ids longer than AWS issues are refused in a short error; none
//! becomes an "ignored" reason, an outcome or an alert in full.

use super::*;

#[tokio::test]
async fn a_megabyte_cluster_group_or_deployment_id_is_refused_short() {
    let huge = "c".repeat(1 << 20);
    let mut cluster = sample_event("ecs-deployment-failed.json");
    cluster["resources"] = json!([format!("arn:aws:ecs:us-east-1:123456789012:service/{}/web", "c".repeat(256))]);
    let mut arn = sample_event("ecs-deployment-failed.json");
    arn["resources"] = json!([format!("arn:aws:ecs:us-east-1:123456789012:service/{huge}/web")]);
    let mut group = sample_event("codedeploy-start.json");
    group["detail"]["deploymentGroup"] = json!(huge);
    let mut deployment = sample_event("codedeploy-failure.json");
    deployment["detail"]["deploymentId"] = json!(huge);
    let aws = FakeAws::new();
    for (field, event) in [
        ("resources (the cluster's name)", cluster),
        ("resources", arn),
        ("detail.deploymentGroup", group),
        ("detail.deploymentId", deployment),
    ] {
        let message = deploy_events(&aws, &["prod"]).handle(event).await.expect_err("refused").to_string();
        assert!(message.contains(&format!("field `{field}`: expected at most ")), "{message:.300}");
        assert!(message.len() <= crate::event::EVENT_ERROR_MAX, "{} bytes: {message:.300}", message.len());
    }
    assert!(aws.sns.published().is_empty());
}
