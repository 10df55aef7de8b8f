//! Newer outside input: the hook state changes and service actions ECS sends (through
//! deploy-events' decoder, which hands hook state changes to the gate's), the tags that steer a
//! native deployment, and the scan results ECR and Inspector send (the scan gate).

use super::{json_decoder, tag_parser};
use deckhand::config::minutes;
use deckhand::event::{deployment, ecr_scan};
use deckhand::ports::Strategy;
use deckhand::tags;
use deckhand::usecase::image_pushed::shift;
use deckhand::usecase::traffic_gate::plan::AnalysisRules;

#[test]
fn hook_state_and_service_action() {
    json_decoder("ecs-native-events", &["ecs-hook-awaiting-action", "ecs-service-"], |event| {
        deployment::decode(event)
            .map(|change| {
                if let deployment::DeploymentEvent::Hook(change) = change {
                    let _ = (change.cluster_and_service(), change.deployment_id(), change.is_pause_awaiting_action());
                }
            })
            .into()
    });
}

#[test]
fn shift_tag() {
    let strategies = [Strategy::BlueGreen, Strategy::Linear, Strategy::Canary, Strategy::Rolling];
    let mut turn = 0;
    tag_parser(
        "deckhand:shift",
        tags::SHIFT,
        &["canary=10", "linear=20", "blue-green", "step-bake=5m", "bake=15m", "bake=2h", "canary=0.1", "linear=3", "bake=1441"],
        |value| {
            turn += 1;
            shift::parse(&value, strategies[turn % strategies.len()]).map_err(|err| err.to_string()).into()
        },
    );
}

#[test]
fn analysis_and_deadline_tags() {
    tag_parser(
        "deckhand:analysis",
        "",
        &["requests=50", "errors=1", "latency=20", "window=5m", "off", "on", "errors=0.25", "window=61", "requests=0"],
        |value| AnalysisRules::parse(&value, AnalysisRules::default()).into(),
    );
    tag_parser("deckhand:progress-deadline", "", &["45", "45m", "2h", "0", "10081", "1.5h"], |value| minutes(&value).into());
}

#[test]
fn scan_results() {
    json_decoder("ecr-scan", &["ecr-image-scan", "inspector2-scan", "ecr-push-"], |event| ecr_scan::decode(event).into());
}
