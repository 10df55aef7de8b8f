use super::*;
use serde::Deserialize;
use serde_json::json;

fn sample(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

type Decoder = fn(Value) -> Result<(), EventError>;

/// Every decoder of an AWS event, with a sample it accepts.
fn decoders() -> Vec<(&'static str, Decoder, Value)> {
    vec![
        ("ecr", |e| ecr::decode(e).map(drop), sample("ecr-push-tagged.json")),
        ("codebuild", |e| codebuild::decode(e).map(drop), sample("codebuild-failed.json")),
        ("deployment", |e| deployment::decode(e).map(drop), sample("ecs-deployment-failed.json")),
        ("alarm", |e| alarm::decode(e).map(drop), sample("cloudwatch-alarm-scale-out.json")),
        ("hook", |e| hook::decode(e).map(drop), sample("ecs-hook-test-traffic.json")),
        ("service action", |e| deployment::decode(e).map(drop), sample("ecs-service-task-start-impaired.json")),
        ("hook state", |e| deployment::decode(e).map(drop), sample("ecs-hook-awaiting-action.json")),
    ]
}

fn error(decode: Decoder, event: Value) -> String {
    decode(event).expect_err("rejected").to_string()
}

/// Every string in `value`, each as a path of keys and indexes.
fn string_paths(value: &Value, at: Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match value {
        Value::String(_) => out.push(at),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| string_paths(v, [at.clone(), vec![json!(i)]].concat(), out)),
        Value::Object(fields) => fields.iter().for_each(|(k, v)| string_paths(v, [at.clone(), vec![json!(k)]].concat(), out)),
        _ => {}
    }
}

fn at<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match step {
        Value::String(key) => &mut v[key.as_str()],
        step => &mut v[step.as_u64().unwrap() as usize],
    })
}

#[test]
fn a_megabyte_anywhere_gives_a_short_error() {
    let huge = format!("{}\n\u{1b}[2J", "m".repeat(1 << 20));
    for (name, decode, accepted) in decoders() {
        decode(accepted.clone()).unwrap_or_else(|err| panic!("{name}: {err}"));
        let mut paths = Vec::new();
        string_paths(&accepted, vec![], &mut paths);
        let mut rejected = 0;
        for path in paths {
            for replacement in [json!(huge), json!({ huge.clone(): 1 }), json!([huge])] {
                let mut event = accepted.clone();
                *at(&mut event, &path) = replacement;
                if let Err(err) = decode(event) {
                    let message = err.to_string();
                    let chars = message.chars().count();
                    assert!(chars <= EVENT_ERROR_MAX, "{name} {path:?}: {chars} characters: {message}");
                    assert!(!message.contains('\n') && !message.contains('\u{1b}'), "{name} {path:?}: {message}");
                    rejected += 1;
                }
            }
        }
        assert!(rejected > 3, "{name}: {rejected} rejections");
    }
    // A field named by a huge key is cut too.
    let mut event = sample("ecr-push-tagged.json");
    event["detail"] = json!({ huge.clone(): {"x": 1} });
    let message = ecr::decode(event).unwrap_err().to_string();
    assert!(message.chars().count() <= EVENT_ERROR_MAX, "{message}");
}

#[test]
fn echoed_values_are_quoted_short() {
    let mut event = sample("ecr-push-tagged.json");
    event["detail"]["image-digest"] = json!("x".repeat(100_000));
    assert_eq!(
        ecr::decode(event).unwrap_err().to_string(),
        format!(
            "malformed event: field `detail.image-digest`: expected an image digest like sha256:<hex>, got \"{}\"…(100000 bytes)",
            "x".repeat(64)
        )
    );
    let mut event = sample("ecr-push-tagged.json");
    event["source"] = json!("aws.s3\"\nforged");
    assert_eq!(
        ecr::decode(event).unwrap_err().to_string(),
        "malformed event: field `source`: expected \"aws.ecr\", got \"aws.s3\\\"\\nforged\""
    );
}

#[test]
fn a_missing_or_non_object_event_names_the_real_problem() {
    for (name, decode, _) in decoders() {
        for event in [json!("hello"), json!(null), json!([1, 2]), json!(42)] {
            let message = error(decode, event.clone());
            assert!(message.contains("the event is not a JSON object"), "{name} {event}: {message}");
        }
    }
    let message = error(|e| deployment::decode(e).map(drop), json!({}));
    assert_eq!(
        message,
        "malformed event: field `detail-type`: expected \"ECS Deployment State Change\" or \
         \"CodeDeploy Deployment State-change Notification\" or \"ECS Hook State Change\" or \
         \"ECS Service Action\" (it is missing)"
    );
    let message = error(|e| deployment::decode(e).map(drop), json!({"detail-type": 7}));
    assert!(message.ends_with("got 7"), "{message}");
    let message = error(|e| deployment::decode(e).map(drop), json!("hello"));
    assert_eq!(
        message,
        "malformed event: field `(event)`: expected a JSON object (an EventBridge event), got \"hello\": the event is not a JSON object"
    );
}

#[test]
fn errors_say_what_json_was_expected_never_a_rust_type() {
    let hook = |details: Value| {
        error(
            |e| hook::decode(e).map(drop),
            json!({"executionId": "x", "lifecycleStage": "TEST_TRAFFIC_SHIFT", "executionDetails": details}),
        )
    };
    assert_eq!(
        hook(json!("arn")),
        "malformed event: field `executionDetails`: expected an object with serviceArn and optional targetServiceRevisionArn, got \"arn\""
    );
    assert!(hook(json!({"serviceArn": ["a"]})).ends_with("field `executionDetails.serviceArn`: expected a string, got an array"));
    let mut build = sample("codebuild-failed.json");
    build["detail"]["additional-information"]["build-number"] = json!("seven");
    assert!(error(|e| codebuild::decode(e).map(drop), build).ends_with("expected a number, got \"seven\""), "a number, not f64");
    let mut build = sample("codebuild-failed.json");
    build["detail"]["additional-information"]["phases"] = json!([7]);
    let message = error(|e| codebuild::decode(e).map(drop), build);
    assert!(message.contains("field `detail.additional-information.phases[0]`: expected an object with phase-type"), "{message}");
    // Types without an `expecting` of their own (the CodeDeploy hook comes from
    // aws_lambda_events) read as JSON too.
    let message = error(|e| hook::decode(e).map(drop), json!({"DeploymentId": {}, "LifecycleEventHookExecutionId": "e"}));
    assert_eq!(message, "malformed event: field `DeploymentId`: expected a string, got an object");

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        count: u32,
        inner: Option<Inner>,
        mode: Option<Mode>,
    }
    #[derive(Debug, Deserialize)]
    struct Inner {}
    #[derive(Debug, Deserialize)]
    enum Mode {
        Fast,
        Safe,
    }
    let decode = |value: Value| decode_at::<Probe>(value, "hookDetails").unwrap_err().to_string();
    assert_eq!(
        decode(json!({"count": 4294967296u64})),
        "malformed event: field `hookDetails.count`: expected a whole number from 0 to 4294967295, got 4294967296"
    );
    assert_eq!(
        decode(json!({"count": -1})),
        "malformed event: field `hookDetails.count`: expected a whole number from 0 to 4294967295, got -1"
    );
    assert_eq!(decode(json!({"count": 1, "inner": 5})), "malformed event: field `hookDetails.inner`: expected an object, got 5");
    assert_eq!(
        decode(json!({"count": 1, "mode": "Slow"})),
        "malformed event: field `hookDetails.mode`: expected `Fast` or `Safe`, got \"Slow\""
    );
    assert_eq!(
        decode(json!({"count": 1, "dryrun": true})),
        "malformed event: field `hookDetails.dryrun`: expected a known field (one of `count`, `inner`, `mode`), got an unknown one"
    );
    assert_eq!(decode(json!([1])), "malformed event: field `hookDetails`: expected an object, got an array");
    for message in [decode(json!({"count": 1, "inner": 5})), decode(json!("x")), decode(json!({"count": 1, "mode": 3}))] {
        assert!(!message.contains("struct") && !message.contains("enum ") && !message.contains("u32"), "{message}");
    }
}
