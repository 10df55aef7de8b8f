//! No secret in the logs at any level the template allows, TRACE included. The Lambda runtime
//! runs `build-finished` (on the fakes) against a local stand-in for Lambda's Runtime API, which
//! hands it a CodeBuild event whose exported variables hold a canary; every log line is captured.
//!
//! The only test in this binary: it sets the process environment the runtime reads.

use deckhand::config::{BuildFinishedConfig, FromEnv};
use deckhand::fakes::{CapturedLogs, FakeAws, FakeCodeDeploy, FakeEcr, FakeEcs, sample_event};
use deckhand::runtime::log_layer;
use deckhand::usecase::build_finished::BuildFinished;
use lambda_runtime::tracing::subscriber::filter::LevelFilter;
use lambda_runtime::tracing::subscriber::layer::SubscriberExt;
use lambda_runtime::tracing::subscriber::{Layer, Registry};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

const CANARY: &str = "canary-7d1e5a";

/// A successful build that exported its image and, beside it, secrets under names no list of
/// secret-looking words catches.
fn build_event() -> Value {
    let mut event = sample_event("codebuild-succeeded.json");
    let variables = event["detail"]["additional-information"]["exported-environment-variables"].as_array_mut().unwrap();
    variables.push(json!({"name": "DATABASE_URL", "value": format!("postgres://app:{CANARY}@db.internal:5432/shop")}));
    variables.push(json!({"name": "GITHUB_PAT", "value": format!("ghp_{CANARY}")}));
    event
}

/// Lambda's Runtime API for one invocation: `next` hands out `event`, the function's answer
/// (`response` or `error`) is sent to `answered`; a second `next` is never answered.
fn runtime_api(event: Value, answered: mpsc::Sender<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut handed_out = false;
        for stream in listener.incoming() {
            let (event, answered) = (event.clone(), answered.clone());
            let first = !handed_out;
            handed_out = true;
            std::thread::spawn(move || serve(stream.unwrap(), &event, &answered, first));
        }
    });
    address
}

/// One keep-alive connection: requests in turn.
fn serve(stream: TcpStream, event: &Value, answered: &mpsc::Sender<String>, mut hand_out: bool) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            head.push(line);
        }
        let length = head
            .iter()
            .find_map(|h| h.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let path = head[0].split_whitespace().nth(1).unwrap_or_default().to_owned();
        if path.ends_with("/invocation/next") {
            if !hand_out {
                // The next invocation never comes; the test ends first.
                std::thread::sleep(Duration::from_secs(3600));
                return;
            }
            hand_out = false;
            let body = event.to_string();
            let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 60_000;
            let _ = write!(
                writer,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: req-1\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:build-finished\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            );
        } else {
            let _ = answered.send(format!("{path} {}", String::from_utf8_lossy(&body)));
            let _ = write!(writer, "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{{}}");
        }
    }
}

#[test]
fn no_log_level_shows_a_secret_from_the_event() {
    let (answered, answer) = mpsc::channel();
    let api = runtime_api(build_event(), answered);
    // SAFETY: the only test in this binary, and no other thread of it reads the environment yet.
    unsafe {
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", &api);
        std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "build-finished");
        std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    }
    // What Deckhand's functions install at TRACE, in both of Lambda's formats; and, to show that
    // the runtime does log the raw event at TRACE, a layer that lets everything through.
    let (json, text, everything) = (CapturedLogs::default(), CapturedLogs::default(), CapturedLogs::default());
    let subscriber = Registry::default()
        .with(log_layer(LevelFilter::TRACE, true, json.clone()))
        .with(log_layer(LevelFilter::TRACE, false, text.clone()))
        .with(lambda_runtime::tracing::subscriber::fmt::layer().with_writer(everything.clone()).with_filter(LevelFilter::TRACE));
    lambda_runtime::tracing::subscriber::util::SubscriberInitExt::init(subscriber);

    let aws = FakeAws::new();
    let config =
        BuildFinishedConfig::from_lookup(|var| (var == "NOTIFY_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:123456789012:deckhand".into()))
            .unwrap();
    let function = BuildFinished::<FakeEcs, FakeCodeDeploy, _, FakeEcr>::new(config, aws.sns.clone(), None);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let answer = runtime.block_on(async {
        let run = lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| function.handle(event.payload)));
        tokio::select! {
            ended = run => panic!("the runtime ended: {ended:?}"),
            answer = tokio::task::spawn_blocking(move || answer.recv_timeout(Duration::from_secs(60))) => answer.unwrap().unwrap(),
        }
    });

    assert!(answer.starts_with("/2018-06-01/runtime/invocation/req-1/response "), "{answer}");
    assert!(everything.text().contains(CANARY), "the runtime logs the raw event at TRACE: {}", everything.text());
    for (format, logged) in [("JSON", json.text()), ("text", text.text())] {
        assert!(logged.contains("handled"), "{format} logs were captured: {logged}");
        assert!(!logged.contains(CANARY), "{format} logs at TRACE show the secret: {logged}");
    }
    assert!(!answer.contains(CANARY), "{answer}");
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    assert!(!published[0].sns_message().contains(CANARY), "{}", published[0].sns_message());
    assert!(published[0].text.contains("Not shown:  3 other exported variables"), "{}", published[0].text);
}
