//! AWS errors as a reader sees them: one line, `service:Operation: Code: message`, bounded, never
//! the SDK's `Debug` dump. The errors are the SDK's own, produced by `aws-smithy-mocks` answers
//! (HTTP status and body, parsed by the SDK as a real response would be) to the CodeDeploy adapter.

use aws_sdk_codedeploy::operation::create_deployment::CreateDeploymentError;
use aws_sdk_codedeploy::types::error::DeploymentLimitExceededException;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use deckhand::adapters::aws::AWS_ERROR_MAX;
use deckhand::adapters::aws::codedeploy::SdkCodeDeploy;
use deckhand::error::HandlerError;
use deckhand::ports::{BlueGreenRequest, CodeDeployments};

const DUMPS: [&str; 5] = ["ServiceError {", "raw: Response", "SdkBody", "ErrorMetadata", "service error"];

fn codedeploy(rules: &[&Rule]) -> SdkCodeDeploy {
    SdkCodeDeploy::new(mock_client!(aws_sdk_codedeploy, RuleMode::MatchAny, rules))
}

/// The error as the Lambda error message, the outcome and a notice show it.
fn shown(err: HandlerError) -> String {
    let line = err.to_string();
    for dump in DUMPS {
        assert!(!line.contains(dump), "{dump:?} in {line:.300}");
    }
    assert!(!line.contains('\n'), "{line:.300}");
    line
}

fn request() -> BlueGreenRequest<'static> {
    BlueGreenRequest {
        application: "shop",
        deployment_group: "web-bg",
        task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:9",
        container_name: "web",
        container_port: 8080,
        deployment_config: None,
        description: "Deckhand: shop/web:release-42".into(),
    }
}

#[tokio::test]
async fn a_modeled_error_is_operation_code_and_message() {
    let body = r#"{"__type":"DeploymentLimitExceededException","message":"The deployment group web-bg has an active deployment."}"#;
    let busy = mock!(aws_sdk_codedeploy::Client::create_deployment).sequence().http_status(400, Some(body.into())).build();

    let err = codedeploy(&[&busy]).create_deployment(&request()).await.unwrap_err();

    assert_eq!(
        shown(err),
        "busy: codedeploy:CreateDeployment: DeploymentLimitExceededException: The deployment group web-bg has an active deployment."
    );
}

#[tokio::test]
async fn a_modeled_error_built_by_the_sdk_reads_the_same() {
    let busy = mock!(aws_sdk_codedeploy::Client::create_deployment).then_error(|| {
        CreateDeploymentError::DeploymentLimitExceededException(
            DeploymentLimitExceededException::builder().message("The deployment group web-bg has an active deployment.").build(),
        )
    });

    let err = codedeploy(&[&busy]).create_deployment(&request()).await.unwrap_err();

    // Built without a response, it has no error metadata: its code comes from its type.
    assert_eq!(
        shown(err),
        "busy: codedeploy:CreateDeployment: DeploymentLimitExceededException: The deployment group web-bg has an active deployment."
    );
}

#[tokio::test]
async fn an_unmodeled_error_keeps_its_code_and_message() {
    let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    let throttled = mock!(aws_sdk_codedeploy::Client::get_deployment).sequence().http_status(400, Some(body.into())).repeatedly().build();

    let err = codedeploy(&[&throttled]).deployment("d-ABCDEFGHI").await.unwrap_err();

    assert_eq!(shown(err), "codedeploy:GetDeployment: ThrottlingException: Rate exceeded");
}

/// The issue's case: a 1 MB `deploymentId` that AWS echoes in its answer made a 5.8 MB error.
#[tokio::test]
async fn a_megabyte_id_echoed_by_aws_stays_a_short_line() {
    let id = "d".repeat(1 << 20);
    let body = serde_json::json!({
        "__type": "InvalidDeploymentIdException",
        "message": format!("1 validation error detected: Value '{id}' at 'deploymentId' failed to satisfy constraint: Member must have length less than or equal to 64"),
    })
    .to_string();
    let invalid = mock!(aws_sdk_codedeploy::Client::get_deployment).sequence().http_status(400, Some(body)).build();

    let err = codedeploy(&[&invalid]).deployment(&id).await.unwrap_err();

    let line = shown(err);
    assert!(
        line.starts_with("codedeploy:GetDeployment: InvalidDeploymentIdException: 1 validation error detected: Value 'ddd"),
        "{line:.200}"
    );
    assert!(line.ends_with(" bytes)") && line.chars().count() <= AWS_ERROR_MAX, "{} characters", line.chars().count());
}

#[tokio::test]
async fn an_answer_that_is_not_aws_shows_its_status_and_a_short_body() {
    let page = format!("<html><head><title>502 Bad Gateway</title></head><body>{}</body></html>", "proxy ".repeat(10_000));
    let proxy = mock!(aws_sdk_codedeploy::Client::stop_deployment).sequence().http_status(502, Some(page.clone())).repeatedly().build();

    let err = codedeploy(&[&proxy]).stop_deployment("d-ABCDEFGHI").await.unwrap_err();

    assert_eq!(
        shown(err),
        format!("codedeploy:StopDeployment: HTTP 502 without an AWS error code, body \"{}\"…({} bytes)", &page[..64], page.len())
    );
}
