//! Fuzzing on stable Rust: every decoder and parser of outside input, fed generated inputs —
//! mutations of the samples in `events/` and random JSON (`inputs.rs`), service tag values — with
//! the same properties for each:
//!
//! - no input panics (a panic is caught, counted and reported with the input that caused it);
//! - every rejection is one line of at most `MESSAGE_MAX` characters that names the field (or
//!   says the event is not a JSON object);
//! - a rejected operator request reads and changes nothing (no AWS call at all).
//!
//! `FUZZ_CASES` inputs per decoder (2,000 in `make test`; `make fuzz`: 1,000,000), from
//! `FUZZ_SEED` (a fixed default, so runs repeat; a failure prints its seed and input).
//!
//! Why not `cargo-fuzz`: it needs a nightly toolchain, and only stable is installed here. This
//! generator needs no other tool or crate, runs as ordinary tests, and knows the shape of the
//! inputs (it mutates real events field by field), which a byte-level fuzzer would first have
//! to rediscover through the JSON parser.

mod inputs;
mod native;

use deckhand::config::{FromEnv, GateConfig, status_codes, words};
use deckhand::error::HandlerError;
use deckhand::event::{EVENT_ERROR_MAX, alarm, codebuild, deployment, ecr, hook};
use deckhand::fakes::{
    FakeAws, FakeClock, FakeCloudWatch, FakeDns, FakeEcr, FakeEcs, FakeProber, FakeService, FakeSns, Faults, failover_config,
};
use deckhand::outcome::Outcome;
use deckhand::ports::{Alarm, Target};
use deckhand::tags;
use deckhand::usecase::build_finished::{BuildKind, build_notification, exported_image};
use deckhand::usecase::image_pushed::image::ImageRef;
use deckhand::usecase::image_pushed::tag_policy::TagPolicy;
use deckhand::usecase::region_failover::{RegionFailover, RegionPorts};
use deckhand::usecase::scaler::marker::LastAction;
use deckhand::usecase::scaler::plan::ScalingPolicy;
use deckhand::usecase::traffic_gate::{GatePorts, GateReply, TrafficGate};
use deckhand_integration_tests::workspace_root;
use inputs::{Dictionary, Rng};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// The longest rejection any input may produce: `EventError`'s bound (see `deckhand::event`).
const MESSAGE_MAX: usize = EVENT_ERROR_MAX;
/// ECS accepts tag values of at most 256 characters: longer ones never reach Deckhand.
const TAG_VALUE_MAX: usize = 256;
/// How many failing inputs a report shows.
const EXAMPLES: usize = 5;

fn cases() -> u64 {
    std::env::var("FUZZ_CASES").ok().and_then(|n| n.replace('_', "").parse().ok()).unwrap_or(2_000)
}

/// `FUZZ_SEED`, else a fixed one; each decoder draws its own sequence from it.
fn seed(name: &str) -> u64 {
    let base = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x0dec_c4a4_d5ee_d000);
    name.bytes().fold(base, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// What a decoder made of one input.
enum Verdict {
    Accepted,
    /// Rejected with this message, which the decoder's property then checks.
    Rejected(String),
    /// A property broken beyond the message (e.g. a rejected request that called AWS).
    Broken(String),
}

impl<T, E: Display> From<Result<T, E>> for Verdict {
    fn from(result: Result<T, E>) -> Self {
        result.map_or_else(|err| Verdict::Rejected(err.to_string()), |_| Verdict::Accepted)
    }
}

thread_local! {
    /// Set while an input is decoded: its panic is caught and reported, not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.get() {
                LAST_PANIC.set(info.to_string());
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `decode` on `cases()` inputs from `generate`, checks each rejection with `check`, prints
/// the count, and fails with examples if any input panicked or broke a property.
fn fuzz<I: Display>(
    name: &str,
    mut generate: impl FnMut(&mut Rng) -> I,
    mut decode: impl FnMut(I) -> Verdict,
    check: impl Fn(&str) -> Result<(), String>,
) {
    quiet_panics();
    let (cases, seed) = (cases(), seed(name));
    let (mut accepted, mut rejected, mut panics, mut broken) = (0u64, 0u64, 0u64, 0u64);
    let mut examples = Vec::new();
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let mut slowest = (Duration::ZERO, rng.clone());
    for case in 0..cases {
        let state = rng.clone();
        let input = generate(&mut rng);
        let began = Instant::now();
        QUIET.set(true);
        let verdict = catch_unwind(AssertUnwindSafe(|| decode(input)));
        QUIET.set(false);
        if began.elapsed() > slowest.0 {
            slowest = (began.elapsed(), state.clone());
        }
        let failure = match verdict {
            Ok(Verdict::Accepted) => {
                accepted += 1;
                None
            }
            Ok(Verdict::Rejected(message)) => {
                rejected += 1;
                check(&message).err().map(|why| {
                    broken += 1;
                    format!("{why}: {}", deckhand::quote::clip(&message, 600))
                })
            }
            Ok(Verdict::Broken(why)) => {
                broken += 1;
                Some(why)
            }
            Err(_) => {
                panics += 1;
                Some(format!("PANIC {}", LAST_PANIC.take()))
            }
        };
        if let Some(failure) = failure
            && examples.len() < EXAMPLES
        {
            // The generator is deterministic: the input again, from the same state.
            let input = generate(&mut state.clone()).to_string();
            examples.push(format!("case {case}: {failure}\n    input: {}", deckhand::quote::clip(&input, 400)));
        }
    }
    println!(
        "fuzz {name:<16} {cases:>9} inputs: {panics} panics, {broken} property failures ({accepted} accepted, {rejected} rejected) in {:.1} s (slowest {} ms), seed {seed}",
        started.elapsed().as_secs_f64(),
        slowest.0.as_millis()
    );
    if std::env::var_os("FUZZ_SLOWEST").is_some() {
        println!("    slowest input: {}", deckhand::quote::clip(&generate(&mut slowest.1).to_string(), 2_000));
    }
    assert!(panics == 0 && broken == 0, "fuzz {name}: {panics} panics, {broken} property failures; first:\n{}", examples.join("\n"));
}

/// One line, at most `max` characters, naming `what` when there is something to name.
fn bounded(message: &str, max: usize) -> Result<(), String> {
    let length = message.chars().count();
    if length > max {
        return Err(format!("{length} characters (bound {max})"));
    }
    if message.contains(['\n', '\r']) {
        return Err("more than one line".into());
    }
    Ok(())
}

/// A rejected event: bounded, and it names the field (or says the event is no JSON object).
fn names_a_field(message: &str) -> Result<(), String> {
    bounded(message, MESSAGE_MAX)?;
    if message.contains("field `") || message.contains("not a JSON object") { Ok(()) } else { Err("names no field".into()) }
}

/// The samples in `events/` whose file names start with one of `prefixes`.
fn samples(prefixes: &[&str]) -> Vec<Value> {
    let mut found: Vec<(String, Value)> = std::fs::read_dir(workspace_root().join("events"))
        .expect("events/")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            prefixes.iter().any(|p| name.starts_with(p)).then(|| {
                let text = std::fs::read_to_string(&path).expect("a sample");
                (name, serde_json::from_str(&text).expect("a JSON sample"))
            })
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!found.is_empty(), "no sample in events/ starts with {prefixes:?}");
    found.into_iter().map(|(_, sample)| sample).collect()
}

/// An input for a JSON decoder: random JSON once in ten, else a mutated sample.
fn event(rng: &mut Rng, samples: &[Value], words: &Dictionary) -> Value {
    if rng.one_in(10) {
        return inputs::value(rng, words, 4);
    }
    let mut event = rng.pick(samples).clone();
    inputs::mutate(rng, words, &mut event);
    event
}

fn json_decoder(name: &str, prefixes: &[&str], decode: impl FnMut(Value) -> Verdict) {
    let samples = samples(prefixes);
    let words = Dictionary::of(&samples, &[]);
    fuzz(name, |rng| event(rng, &samples, &words), decode, names_a_field);
}

#[test]
fn ecr_push() {
    json_decoder("ecr-push", &["ecr-"], |event| {
        ecr::decode(event)
            .map(|action| {
                let _ = action.not_a_successful_push();
            })
            .into()
    });
}

#[test]
fn codebuild() {
    json_decoder("codebuild", &["codebuild-"], |event| {
        let build = match codebuild::decode(event) {
            Ok(build) => build,
            Err(err) => return Verdict::Rejected(err.to_string()),
        };
        // What build-finished makes of a decoded build: the exported image, the message.
        let note = exported_image(&build).err();
        if let Some(note) = &note
            && let Err(why) = bounded(note, MESSAGE_MAX)
        {
            return Verdict::Broken(format!("exported image note: {why}: {}", deckhand::quote::clip(note, 300)));
        }
        if let Some(kind) = BuildKind::of(&build.status) {
            let _ = build_notification(&build, kind, &Outcome::new("build-finished", None), note.as_deref()).sns_message();
        }
        Verdict::Accepted
    });
}

#[test]
fn deployment_change() {
    json_decoder("deployment", &["ecs-deployment-", "codedeploy-"], |event| {
        deployment::decode(event)
            .map(|change| {
                if let deployment::DeploymentEvent::Ecs(change) = change {
                    let _ = change.cluster_and_service();
                }
            })
            .into()
    });
}

#[test]
fn alarm_and_schedule() {
    json_decoder("alarm+schedule", &["cloudwatch-alarm-", "failover-primary-", "failover-recheck", "scheduled-"], |event| {
        if alarm::is_schedule(&event) { Verdict::Accepted } else { alarm::decode(event).into() }
    });
}

#[test]
fn codedeploy_hook() {
    json_decoder("codedeploy-hook", &["codedeploy-hook"], |event| hook::decode(event).into());
}

#[test]
fn ecs_hook() {
    json_decoder("ecs-hook", &["ecs-hook-"], |event| {
        hook::decode(event)
            .map(|invocation| {
                if let hook::HookInvocation::Ecs(hook) = invocation {
                    let _ = (hook.is_test_stage(), hook.is_production_stage(), hook.has_new_tasks());
                }
            })
            .into()
    });
}

/// Fresh fakes every so many inputs: the fakes keep every call and message.
const WORLD_CASES: u64 = 500;

/// A current-thread runtime for the handlers on the fakes (no I/O; timers only).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime")
}

/// The operator request, through the whole `region-failover` handler: the primary is down, so a
/// request taken for a real failover would move traffic. A rejected one must make no AWS call.
#[test]
fn operator_request() {
    type Failover = RegionFailover<FakeEcs, FakeCloudWatch, FakeEcr, FakeDns, FakeSns>;
    fn world() -> (Faults, Failover) {
        let aws = FakeAws::new();
        let west = FakeEcs::new(&aws.faults, "us-west-2");
        let west_alarms = FakeCloudWatch::new(&aws.faults);
        let image = [("web", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v7")];
        aws.ecs.add_service(FakeService::new("prod", "web", &aws.ecs.add_task_definition("web", &image)).tasks(6, 6));
        west.add_service(FakeService::new("prod", "web", &west.add_task_definition("web", &image)).tag(tags::SCALE_MIN, "2"));
        let now = 1_795_000_000;
        aws.cloudwatch.put_alarm(Alarm::new("deckhand-health-us-east-1", "ALARM", Some(now - 600)));
        west_alarms.put_alarm(Alarm::new("deckhand-health-us-west-2", "OK", Some(now - 600)));
        let function = RegionFailover::new(
            failover_config(),
            RegionPorts { ecs: aws.ecs.clone(), alarms: aws.cloudwatch.clone() },
            RegionPorts { ecs: west, alarms: west_alarms },
            aws.ecr.clone(),
            aws.dns.clone(),
            aws.sns.clone(),
            FakeClock::at(now).clock(),
        )
        .with_poll(Duration::ZERO);
        (aws.faults, function)
    }
    let samples = samples(&["failover-dry-run", "failover-manual", "failover-failback", "failover-status"]);
    let words = Dictionary::of(&samples, &["dryrun", "dry_run", "DryRun", "action", "dryRun", "failover", "failback", "status"]);
    let runtime = runtime();
    let (mut faults, mut function) = world();
    let mut count = 0;
    fuzz(
        "operator",
        |rng| event(rng, &samples, &words),
        |request| {
            count += 1;
            if count % WORLD_CASES == 0 || !faults.calls().is_empty() {
                (faults, function) = world();
            }
            match runtime.block_on(function.handle(request)) {
                Ok(_) => Verdict::Accepted,
                Err(err @ HandlerError::MalformedEvent(_)) if !faults.calls().is_empty() => {
                    Verdict::Broken(format!("rejected after AWS calls {:?}: {err}", faults.calls()))
                }
                Err(err @ HandlerError::MalformedEvent(_)) => Verdict::Rejected(err.to_string()),
                // Not a rejection of the input: what AWS (the fakes) answered.
                Err(_) => Verdict::Accepted,
            }
        },
        names_a_field,
    );
}

/// `hookDetails` (and the rest of an ECS hook), through the whole `traffic-gate` handler: what
/// the gate returned on its previous call, mutated; or the whole event mutated.
#[test]
fn hook_details() {
    type Gate = TrafficGate<
        deckhand::fakes::FakeCodeDeploy,
        deckhand::fakes::FakeCodeDeploy,
        FakeEcs,
        deckhand::fakes::FakeElb,
        FakeCloudWatch,
        FakeProber,
        FakeSns,
    >;
    fn world() -> Gate {
        let aws = FakeAws::new();
        let td = aws.ecs.add_task_definition("web", &[("web", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2")]);
        let service = FakeService::new("prod", "web", &td)
            .tag(tags::GATE_TEST_URL, "http://web-test.internal:8080")
            .tag(tags::GATE_URL, "http://web.internal")
            .tag(tags::GATE_TARGET_GROUP, "tg-green");
        aws.ecs.add_service(service);
        let healthy = |id: &str| Target { id: id.into(), state: "healthy".into(), reason: None };
        aws.elb.set_targets("tg-green", vec![healthy("10.0.1.7"), healthy("10.0.2.9")]);
        let config = GateConfig::from_lookup(|var| match var {
            "NOTIFY_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:123456789012:deckhand".into()),
            "GATE_INTERVAL_MS" => Some("1".into()),
            _ => None,
        })
        .expect("a gate configuration");
        let ports = GatePorts {
            codedeploy: aws.codedeploy.clone(),
            reporter: aws.codedeploy.clone(),
            ecs: aws.ecs.clone(),
            elb: aws.elb.clone(),
            alarms: aws.cloudwatch.clone(),
            prober: FakeProber::answering([(false, "HTTP 500 in 3 ms"), (true, "HTTP 200 in 2 ms")]),
            notifier: aws.sns.clone(),
        };
        TrafficGate::new(config, ports)
    }
    let runtime = runtime();
    // Lifecycle hook invocations; `ECS Hook State Change` events (with a detail-type) are not hooks.
    let hooks: Vec<Value> = samples(&["ecs-hook-"]).into_iter().filter(|hook| hook.get("detail-type").is_none()).collect();
    // What the gate returns, to be sent back mutated: after one call and after two.
    let mut carried = Vec::new();
    let gate = world();
    for hook in &hooks {
        let mut event = hook.clone();
        for _ in 0..2 {
            let Ok(GateReply::Ecs(reply)) = runtime.block_on(gate.handle(event.clone())) else { panic!("the sample {hook} is answered") };
            carried.push(reply.hook_details.clone());
            event["hookDetails"] = reply.hook_details;
        }
    }
    let words = Dictionary::of(&[hooks.clone(), carried.clone()].concat(), &["checks", "probes", "ok", "detail", "hookDetails"]);
    let (mut gate, mut count) = (world(), 0);
    fuzz(
        "hook-details",
        |rng| {
            let mut event = rng.pick(&hooks).clone();
            if rng.one_in(5) {
                inputs::mutate(rng, &words, &mut event);
            } else {
                let mut details = rng.pick(&carried).clone();
                inputs::mutate(rng, &words, &mut details);
                event["hookDetails"] = details;
            }
            event
        },
        |event| {
            count += 1;
            if count % WORLD_CASES == 0 {
                gate = world();
            }
            match runtime.block_on(gate.handle(event)) {
                Ok(reply) => {
                    let reply = serde_json::to_value(&reply).expect("a JSON reply");
                    let size = reply.to_string().len();
                    if size > 64 * 1024 {
                        return Verdict::Broken(format!("a reply of {size} bytes"));
                    }
                    // Why the gate refused what it was sent (hookDetails, the stage): short, one line.
                    let mut reasons = Vec::new();
                    strings(&reply["hookDetails"]["verdict"], &mut reasons);
                    match reasons.iter().find_map(|reason| bounded(reason, MESSAGE_MAX).err().map(|why| (why, reason))) {
                        Some((why, reason)) => {
                            Verdict::Broken(format!("a reason of the verdict: {why}: {}", deckhand::quote::clip(reason, 300)))
                        }
                        None => Verdict::Accepted,
                    }
                }
                Err(err) => Verdict::Rejected(err.to_string()),
            }
        },
        names_a_field,
    );
}

/// Every string in `value`.
fn strings<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => found.push(text),
        Value::Array(items) => items.iter().for_each(|item| strings(item, found)),
        Value::Object(fields) => fields.values().for_each(|item| strings(item, found)),
        _ => {}
    }
}

/// A service tag value: a mutated good value, any string, or random characters; at most
/// `TAG_VALUE_MAX` characters, as ECS allows.
fn tag_value(rng: &mut Rng, words: &Dictionary) -> String {
    let value = match rng.below(4) {
        0 | 1 => {
            let word = words.word(rng).to_owned();
            inputs::mutate_string(rng, words, word)
        }
        2 => inputs::string(rng, words),
        _ => words.word(rng).to_owned(),
    };
    value.chars().take(TAG_VALUE_MAX).collect()
}

/// A parser of a tag value, fuzzed with values near `good`; a rejection names `tag`.
fn tag_parser(name: &str, tag: &'static str, good: &[&str], parse: impl FnMut(String) -> Verdict) {
    let words = Dictionary::of(&[], good);
    fuzz(
        name,
        |rng| tag_value(rng, &words),
        parse,
        |message| {
            bounded(message, 1024)?;
            if message.contains(tag) { Ok(()) } else { Err(format!("does not name {tag}")) }
        },
    );
}

#[test]
fn track_policy() {
    let tags = ["latest", "v1.4.2", "1.4.2", "release-1", "1.5.0-rc.1", "main-abc", "", "V2.0.0"];
    let mut rng = Rng::new(seed("track tags"));
    tag_parser(
        "deckhand:track",
        tags::TRACK,
        &[
            "latest",
            "release-*",
            "glob:v1.?",
            "prefix:release-",
            "semver:^1.4",
            "semver:>=1.2, <2",
            "semver:1.4",
            "{main,stable}-*",
            "prefix:a[b",
        ],
        |value| match TagPolicy::parse(&value) {
            Ok(policy) => {
                let _ = (policy.matches(tags[rng.below(tags.len())]), policy.matches(&value), policy.to_string());
                Verdict::Accepted
            }
            Err(err) => Verdict::Rejected(err.to_string()),
        },
    );
}

#[test]
fn scale_tags() {
    let keys = [tags::SCALE_MIN, tags::SCALE_MAX, tags::SCALE_OUT_COOLDOWN, tags::SCALE_IN_COOLDOWN];
    let mut rng = Rng::new(seed("scale keys"));
    tag_parser("deckhand:scale-*", "deckhand:scale-", &["2", "4", "60", "300", "0", "-1", " 3 ", "2147483648", "1e3"], |value| {
        let service_tags = BTreeMap::from([(rng.pick(&keys).to_string(), value)]);
        ScalingPolicy::from_tags(&service_tags).into()
    });
}

/// Markers Deckhand writes and reads back; a person can edit them. Parsed to `None` when not ours.
#[test]
fn marker_tags() {
    let words =
        Dictionary::of(&[], &["out:1795000000:2:3", "in:1795000000", "standby:1795000000", "primary:0", "out:18446744073709551616"]);
    fuzz(
        "markers",
        |rng| tag_value(rng, &words),
        |value| {
            let _ = (LastAction::parse(&value).map(LastAction::tag_value), tags::marker(&value));
            Verdict::Accepted
        },
        |_| Ok(()),
    );
}

#[test]
fn gate_tags() {
    tag_parser(
        "deckhand:gate-*",
        "",
        &["200", "200 204", "200,301", "99", "600", "alarm-a alarm-b", "http://web.internal:8080", "/health"],
        |value| {
            let _ = words(&value);
            status_codes(&value).into()
        },
    );
}

/// Container images of task definitions, and the `IMAGE_URI` a build exports.
#[test]
fn image_reference() {
    let good = [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v1.4.2",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web@sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d",
        "nginx:1",
        "localhost:5000/a/b",
        "docker.io/library/nginx",
    ];
    let words = Dictionary::of(&[], &good);
    fuzz(
        "image-ref",
        |rng| inputs::string(rng, &words),
        |value| match ImageRef::parse(&value) {
            Ok(image) => {
                let _ = (image.ecr_registry(), image.is_from_ecr_repository("123456789012", "us-east-1", "shop/web"), image.to_string());
                let _ = image.pinned_to("sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d").to_string();
                Verdict::Accepted
            }
            Err(err) => Verdict::Rejected(err.to_string()),
        },
        |message| {
            bounded(message, 1024)?;
            if message.contains("image reference") { Ok(()) } else { Err("does not say what it rejects".into()) }
        },
    );
}

/// The generator itself: a seed replays its inputs, and mutations reach every kind of change.
#[test]
fn generator_replays_and_varies() {
    let samples = samples(&["ecr-push-tagged"]);
    let words = Dictionary::of(&samples, &[]);
    let draw = |seed| {
        let mut rng = Rng::new(seed);
        (0..200).map(|_| event(&mut rng, &samples, &words).to_string()).collect::<Vec<_>>()
    };
    assert_eq!(draw(7), draw(7));
    let inputs = draw(7);
    let sample = samples[0].to_string();
    assert!(inputs.iter().filter(|input| **input == sample).count() < 20, "most inputs differ from the sample");
    assert!(inputs.iter().any(|input| !input.contains("\"detail\"")), "keys get deleted");
    assert!(inputs.iter().any(|input| input.len() > 4_000), "strings get huge");
}
