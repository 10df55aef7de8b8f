//! The ports implemented with the AWS SDK, one module per service. Each turns SDK shapes into
//! the ports' plain data and SDK errors into `HandlerError::Aws`.

pub mod cloudwatch;
pub mod codedeploy;
pub mod ecr;
pub mod ecs;
pub mod elb;
pub mod native;
pub mod route53;
pub mod sns;
pub mod tag_index;
pub mod task_definitions;

use crate::error::HandlerError;
use crate::quote::{clip, quote};
use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{BuildError, ProvideErrorMetadata, SdkError};
use std::collections::HashMap;
use std::error::Error;
use std::sync::Mutex;

/// The longest line an AWS failure renders to, `service:Operation: ` included: AWS's message
/// (which can quote the request, e.g. a 1 MB id) and any cause chain are cut to fit, with a
/// visible `…(N bytes)` marker.
pub const AWS_ERROR_MAX: usize = 512;

/// The most of a response body, and of the cause chain, the debug log line shows.
const BODY_LOG_MAX: usize = 2048;

/// A failed AWS call as one line, named after the operation (`service:Operation`):
/// - AWS answered with an error: `ecs:UpdateService: ThrottlingException: Rate exceeded`
///   (the error code and AWS's message);
/// - an answer without an error code: `ecs:UpdateService: HTTP 503 without an AWS error code,
///   body "<html>…"…(N bytes)`;
/// - no answer (connection, timeout, a request that could not be built): the cause chain,
///   each cause once, e.g. `ecs:UpdateService: dispatch failure: io error: … Connection refused`.
///
/// Never the SDK's `Debug` form (raw HTTP, headers, bodies); never longer than `AWS_ERROR_MAX`.
/// The status, request id, and the body and cause chain (each at most 2,048 characters, still
/// no `Debug`) go to a `debug!` log line.
pub fn aws_error(operation: &'static str, err: impl AwsFailure) -> HandlerError {
    let line = failure_line(&err);
    tracing::debug!(
        operation,
        http_status = err.http_status(),
        request_id = err.request_id(),
        body = err.body().map(|body| clip(&String::from_utf8_lossy(body), BODY_LOG_MAX)),
        causes = %cause_chain(&err, BODY_LOG_MAX),
        "AWS call failed"
    );
    let room = AWS_ERROR_MAX.saturating_sub(operation.len() + 2);
    HandlerError::Aws { operation, message: clip(&line, room) }
}

/// What an SDK failure tells, without its `Debug` form. Implemented for the SDK's errors
/// (`SdkError` of any operation of any service, the crates share the type) and for a request
/// that could not be built.
pub trait AwsFailure: Error + 'static {
    /// AWS's error code and message, when AWS answered with an error.
    fn code_and_message(&self) -> Option<(&str, Option<&str>)> {
        None
    }
    /// The operation's own error, when there is one (modeled: `Code: message`).
    fn service_error(&self) -> Option<&(dyn Error + 'static)> {
        None
    }
    fn http_status(&self) -> Option<u16> {
        None
    }
    fn request_id(&self) -> Option<&str> {
        None
    }
    fn body(&self) -> Option<&[u8]> {
        None
    }
}

impl<E: ProvideErrorMetadata + Error + 'static> AwsFailure for SdkError<E, HttpResponse> {
    fn code_and_message(&self) -> Option<(&str, Option<&str>)> {
        self.code().map(|code| (code, self.message()))
    }
    fn service_error(&self) -> Option<&(dyn Error + 'static)> {
        self.as_service_error().map(|err| err as &(dyn Error + 'static))
    }
    fn http_status(&self) -> Option<u16> {
        self.raw_response().map(|response| response.status().as_u16())
    }
    fn request_id(&self) -> Option<&str> {
        self.meta().extra("aws_request_id")
    }
    fn body(&self) -> Option<&[u8]> {
        self.raw_response().and_then(|response| response.body().bytes())
    }
}

impl AwsFailure for BuildError {}

fn failure_line(err: &impl AwsFailure) -> String {
    // A modeled error without metadata (built by the SDK, not read from an answer) says
    // `Code: message` itself; an unmodeled one only "unhandled error".
    let modeled = || err.service_error().map(ToString::to_string).filter(|text| !text.starts_with("unhandled error"));
    match err.code_and_message() {
        Some((code, Some(message))) if !message.is_empty() => return format!("{code}: {message}"),
        Some((code, _)) => return code.to_owned(),
        None => {}
    }
    match (modeled(), err.http_status()) {
        (Some(text), _) => text,
        (None, Some(status)) => match err.body().filter(|body| !body.is_empty()) {
            Some(body) => format!("HTTP {status} without an AWS error code, body {}", quote(&String::from_utf8_lossy(body))),
            None => format!("HTTP {status} without an AWS error code"),
        },
        (None, None) => cause_chain(err, AWS_ERROR_MAX),
    }
}

/// The error and its causes, `: `-separated, each told once (a cause whose text is already in
/// the line, as some libraries repeat their source's, is skipped); cut at `max`.
fn cause_chain(err: &dyn Error, max: usize) -> String {
    let mut line = String::new();
    let mut cause = Some(err);
    while let Some(err) = cause {
        let text = err.to_string();
        if !text.is_empty() && !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        if line.len() > max {
            break;
        }
        cause = err.source();
    }
    clip(&line, max)
}

/// SDK documents an adapter read and will write back whole (a task definition to copy, a
/// service's deployment configuration to keep), by ARN. Bounded: when full it starts afresh,
/// and a caller that finds nothing reads the document again.
#[derive(Debug)]
pub struct Remembered<T> {
    by_arn: Mutex<HashMap<String, T>>,
    capacity: usize,
}

impl<T: Clone> Remembered<T> {
    pub fn new(capacity: usize) -> Self {
        Self { by_arn: Mutex::new(HashMap::new()), capacity }
    }

    pub fn get(&self, arn: &str) -> Option<T> {
        self.by_arn.lock().ok()?.get(arn).cloned()
    }

    pub fn keep(&self, arn: &str, document: T) {
        if let Ok(mut by_arn) = self.by_arn.lock() {
            if by_arn.len() >= self.capacity && !by_arn.contains_key(arn) {
                by_arn.clear();
            }
            by_arn.insert(arn.to_owned(), document);
        }
    }
}

/// Real SDK errors: an ECS client (the SDK's own HTTP client, parsers and error types, retries
/// off) against a socket on 127.0.0.1 that answers as AWS, or as a proxy, or not at all.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ServiceCapacity;
    use aws_sdk_ecs::config::retry::RetryConfig;
    use aws_sdk_ecs::config::timeout::TimeoutConfig;
    use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::time::Duration;

    /// What the SDK's `Debug` form shows and a reader must never see.
    const DEBUG_MARKS: [&str; 6] = ["ServiceError {", "raw: Response", "SdkBody", "ErrorMetadata", "headers:", "Error {"];

    fn client(endpoint: &str) -> aws_sdk_ecs::Client {
        let config = aws_sdk_ecs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .endpoint_url(endpoint)
            .retry_config(RetryConfig::disabled())
            .timeout_config(TimeoutConfig::builder().operation_attempt_timeout(Duration::from_millis(500)).build())
            .build();
        aws_sdk_ecs::Client::from_conf(config)
    }

    /// A server on 127.0.0.1 that reads one request and answers `status` with `headers` and `body`.
    fn answering(status: &str, headers: &[&str], body: String) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut response = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
        for header in headers {
            response.push_str(&format!("{header}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&body);
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stream.read(&mut buffer) {
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|n| n.trim().parse().unwrap_or(0)))
                        .unwrap_or(0usize);
                    if rest.len() >= length {
                        break;
                    }
                }
                if read == 0 {
                    break;
                }
            }
            let _ = stream.write_all(response.as_bytes());
        });
        url
    }

    fn aws_answer(code: &str, message: &str) -> String {
        answering(
            "400 Bad Request",
            &["Content-Type: application/x-amz-json-1.1", "x-amzn-RequestId: 7d7f2b2e-request-id"],
            serde_json::json!({"__type": code, "message": message}).to_string(),
        )
    }

    async fn update_service(endpoint: &str) -> String {
        let index = aws_sdk_resourcegroupstagging::Client::from_conf(
            aws_sdk_resourcegroupstagging::Config::builder().behavior_version(BehaviorVersion::latest()).build(),
        );
        let err = ecs::SdkEcs::new(client(endpoint), index).set_desired_count("prod", "web", 3).await.expect_err("the call fails");
        let line = err.to_string();
        for mark in DEBUG_MARKS {
            assert!(!line.contains(mark), "{mark:?} in {line}");
        }
        assert!(!line.contains('\n') && line.chars().count() <= AWS_ERROR_MAX, "{} characters: {line}", line.chars().count());
        line
    }

    #[tokio::test]
    async fn an_aws_error_is_operation_code_and_message() {
        // Modeled for UpdateService.
        let line = update_service(&aws_answer("ServiceNotFoundException", "Service not found.")).await;
        assert_eq!(line, "ecs:UpdateService: ServiceNotFoundException: Service not found.");
        // Not modeled for UpdateService: the SDK keeps it as unhandled, with its code.
        let line = update_service(&aws_answer("ThrottlingException", "Rate exceeded")).await;
        assert_eq!(line, "ecs:UpdateService: ThrottlingException: Rate exceeded");
        let line = update_service(&aws_answer("com.amazonaws.ecs#AccessDeniedException", "")).await;
        assert_eq!(line, "ecs:UpdateService: AccessDeniedException");
    }

    #[tokio::test]
    async fn a_huge_or_many_line_aws_message_is_one_bounded_line() {
        let echoed = format!("Value '{}' at 'service' failed to satisfy constraint\nline two", "d".repeat(1 << 20));
        let line = update_service(&aws_answer("ValidationException", &echoed)).await;
        assert!(line.starts_with("ecs:UpdateService: ValidationException: Value 'ddd"), "{line}");
        assert!(line.ends_with(&format!("…({} bytes)", "ValidationException: ".len() + echoed.len())), "{line}");
        assert_eq!(line.len(), AWS_ERROR_MAX);
    }

    #[tokio::test]
    async fn an_answer_without_an_error_code_shows_its_status_and_a_short_body() {
        let page = format!("<html><body>{}</body></html>", "Service Unavailable ".repeat(1000));
        let line = update_service(&answering("503 Service Unavailable", &["Content-Type: text/html"], page.clone())).await;
        assert_eq!(
            line,
            format!(
                "ecs:UpdateService: HTTP 503 without an AWS error code, body \"{}\"…({} bytes)",
                &page[..crate::quote::QUOTE_MAX],
                page.len()
            )
        );
    }

    #[tokio::test]
    async fn no_answer_is_the_cause_chain() {
        let refused = format!("http://{}", TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap());
        let line = update_service(&refused).await;
        assert_eq!(
            line,
            "ecs:UpdateService: dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111)"
        );

        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let line = update_service(&format!("http://{}", silent.local_addr().unwrap())).await;
        assert_eq!(line, "ecs:UpdateService: request has timed out: operation attempt timeout (single attempt) occurred after 500ms");
    }

    #[test]
    fn a_request_that_cannot_be_built_says_why() {
        let err = aws_sdk_sns::types::MessageAttributeValue::builder().build().unwrap_err();
        let line = aws_error("sns:Publish", err).to_string();
        assert!(line.starts_with("sns:Publish: ") && line.contains("data_type"), "{line}");
        assert!(DEBUG_MARKS.iter().all(|mark| !line.contains(mark)), "{line}");
    }
}
