//! ECS-native deployments (BLUE_GREEN, LINEAR, CANARY): the service's `deckhand:shift`, and the
//! newest image winning over an advancing deployment of an older one.

use super::{ActiveRollout, ImagePush, RolloutPlan, already_deploying};
use crate::ports::{ImageUpdate, NativeDeployment, Service, Shift, Strategy};
use crate::tags;
use crate::usecase::image_pushed::shift;

/// An ECS-native deployment (BLUE_GREEN, LINEAR, CANARY).
#[derive(Debug, Clone, PartialEq)]
pub struct NativeRollout {
    /// The strategy it runs: `deckhand:shift`'s, else the service's.
    pub strategy: Strategy,
    pub updates: Vec<ImageUpdate>,
    /// `deckhand:shift`, over the service's own deployment configuration.
    pub shift: Option<Shift>,
    /// The newest image wins: the service's advancing deployment of an older image, stopped
    /// with rollback first.
    pub supersede: Option<String>,
}

/// How ECS deploys `updates` to a service whose strategy shifts traffic.
pub(super) fn rollout(
    push: &ImagePush,
    service: &Service,
    updates: Vec<ImageUpdate>,
    active: Option<&ActiveRollout>,
    only_container: Option<&str>,
) -> RolloutPlan {
    let shift = match service.tags.get(tags::SHIFT).map(|value| shift::parse(value, service.strategy)).transpose() {
        Ok(shift) => shift,
        Err(err) => return RolloutPlan::Ignore(err.to_string()),
    };
    if let Some(unchanged) = already_deploying(push, service, active, only_container, "service deployment") {
        return unchanged;
    }
    RolloutPlan::Native(NativeRollout {
        strategy: shift.and_then(|s| s.strategy).unwrap_or(service.strategy),
        updates,
        shift,
        supersede: active.map(|a| a.id.clone()),
    })
}

/// The ECS-native deployment a new one supersedes: the newest advancing (PENDING, IN_PROGRESS)
/// of `deployments` (newest first). One already stopping or rolling back is left alone: the new
/// UpdateService goes ahead and ECS handles the overlap; should ECS refuse it, the error fails
/// the service, Lambda retries, and the retry converges once the rollback is over.
pub fn to_supersede(deployments: &[NativeDeployment]) -> Option<&NativeDeployment> {
    deployments.iter().find(|d| d.advancing())
}

#[cfg(test)]
mod tests {
    use super::super::plan;
    use super::super::tests::{DIGEST, REGISTRY, container, push, service_tags};
    use super::*;
    use crate::ports::{Controller, LoadBalancer, TaskDefinition};
    use std::collections::BTreeMap;

    /// What `plan` should answer for an ECS-native service; the strings are parts of the reason.
    #[derive(Debug)]
    enum Want {
        Ignore(&'static str),
        Unchanged(&'static str),
        Native { strategy: Strategy, shift: Option<Shift>, supersede: Option<&'static str> },
    }

    /// Name, the service's strategy, its `deckhand:shift`, its current image, the advancing deployment, wanted.
    type Case<'a> = (&'a str, Strategy, Option<&'a str>, &'a str, Option<ActiveRollout>, Want);

    #[test]
    fn plans_ecs_native_services_by_strategy_shift_tag_and_advancing_deployment() {
        use Strategy::{BlueGreen, Canary, Linear, Rolling};
        let (old, new) = (format!("{REGISTRY}/shop/web:v1"), format!("{REGISTRY}/shop/web@{DIGEST}"));
        let older = format!("{REGISTRY}/shop/web@sha256:{}", "0".repeat(64));
        let advancing = |image: Option<&str>| {
            let revision = image.map(|image| TaskDefinition {
                arn: "arn:td/web:4".into(),
                revision: 4,
                containers: vec![container("web", image)],
                revised_from: None,
            });
            Some(ActiveRollout { id: "arn:sd/1".into(), revision })
        };
        let canary = Shift { strategy: Some(Canary), percent: Some(10.0), step_bake_minutes: Some(5), bake_minutes: Some(15) };
        let bake = Shift { bake_minutes: Some(30), ..Shift::default() };
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("BLUE_GREEN, nothing deploying", BlueGreen, None, &old, None, Want::Native { strategy: BlueGreen, shift: None, supersede: None }),
            ("LINEAR with a bake", Linear, Some("bake=30m"), &old, None, Want::Native { strategy: Linear, shift: Some(bake), supersede: None }),
            ("BLUE_GREEN shifted to a canary", BlueGreen, Some("canary=10 step-bake=5 bake=15"), &old, None, Want::Native { strategy: Canary, shift: Some(canary), supersede: None }),
            ("CANARY, an older image deploying", Canary, None, &old, advancing(Some(&older)), Want::Native { strategy: Canary, shift: None, supersede: Some("arn:sd/1") }),
            ("CANARY, deploying a revision ECS did not describe", Canary, None, &old, advancing(None), Want::Native { strategy: Canary, shift: None, supersede: Some("arn:sd/1") }),
            ("LINEAR, the pushed image deploying", Linear, None, &old, advancing(Some(&new)), Want::Unchanged("already deploying sha256:111111111111 in service deployment arn:sd/1")),
            ("LINEAR, already pinned", Linear, None, &new, advancing(Some(&older)), Want::Unchanged("already runs")),
            ("a bad shift tag", Canary, Some("canary=10 fast"), &old, advancing(Some(&older)), Want::Ignore("invalid deckhand:shift \"canary=10 fast\": unknown word \"fast\"")),
            ("step-bake on BLUE_GREEN", BlueGreen, Some("step-bake=5"), &old, None, Want::Ignore("applies to linear and canary")),
            ("a shift tag on ROLLING", Rolling, Some("canary=10"), &old, None, Want::Ignore("deckhand:shift applies to BLUE_GREEN, LINEAR and CANARY services; this one is ROLLING")),
        ];
        for (case, strategy, shift_tag, image, active, want) in cases {
            let mut tag_map = service_tags(&[(tags::TRACK, "latest")]);
            if let Some(value) = shift_tag {
                tag_map.insert(tags::SHIFT.into(), value.into());
            }
            let service = web(strategy, tag_map);
            let current = TaskDefinition {
                arn: service.task_definition.clone(),
                revision: 3,
                containers: vec![container("web", image)],
                revised_from: None,
            };
            let got = plan(&push(Some("latest")), &service, &current, active.as_ref());
            let ok = match (&want, &got) {
                (Want::Ignore(part), RolloutPlan::Ignore(reason))
                | (Want::Unchanged(part), RolloutPlan::Unchanged { reason, owed: None }) => reason.contains(part),
                (Want::Native { strategy, shift, supersede }, RolloutPlan::Native(native)) => {
                    (native.strategy, native.shift, native.supersede.as_deref()) == (*strategy, *shift, *supersede)
                        && native.updates.len() == 1
                        && native.updates[0].to == new
                }
                _ => false,
            };
            assert!(ok, "{case}: wanted {want:?}, got {got:?}");
        }
    }

    /// prod/web under the ECS controller, on `strategy`, behind a load balancer.
    fn web(strategy: Strategy, tags: BTreeMap<String, String>) -> Service {
        Service {
            arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
            name: "web".into(),
            cluster_arn: "arn:aws:ecs:us-east-1:123456789012:cluster/prod".into(),
            task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3".into(),
            controller: Controller::Ecs,
            strategy,
            tags,
            load_balancers: vec![LoadBalancer { container_name: "web".into(), container_port: 8080 }],
        }
    }

    #[test]
    fn only_an_advancing_deployment_is_superseded() {
        let service = web(Strategy::Canary, BTreeMap::new());
        let deployment = |id: usize, status: &str| NativeDeployment {
            status: status.into(),
            ..crate::fakes::native_deployment(&service, id, "arn:td/web:1", "arn:td/web:2")
        };
        #[rustfmt::skip]
        let cases: [(&str, Vec<NativeDeployment>, Option<usize>); 6] = [
            ("none", vec![], None),
            ("in progress", vec![deployment(1, "IN_PROGRESS")], Some(1)),
            ("pending behind one rolling back", vec![deployment(2, "PENDING"), deployment(1, "ROLLBACK_IN_PROGRESS")], Some(2)),
            ("rolling back, then finished", vec![deployment(2, "ROLLBACK_REQUESTED"), deployment(1, "SUCCESSFUL")], None),
            ("stopping", vec![deployment(1, "STOP_REQUESTED")], None),
            ("the newest advancing", vec![deployment(3, "SUCCESSFUL"), deployment(2, "IN_PROGRESS"), deployment(1, "IN_PROGRESS")], Some(2)),
        ];
        for (case, deployments, want) in cases {
            let want = want.map(|id| deployment(id, "").arn);
            assert_eq!(to_supersede(&deployments).map(|d| d.arn.clone()), want, "{case}");
        }
    }
}
