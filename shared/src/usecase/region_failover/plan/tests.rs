use super::*;

const NOW: u64 = 1_795_000_000;

fn service(desired: i32, running: i32, frozen: Option<FrozenBy>) -> ServiceState {
    ServiceState {
        cluster: "prod".into(),
        service: "web".into(),
        exists: true,
        desired,
        running,
        min: Some(2),
        max: None,
        frozen,
        last_flip: None,
        primary_desired: None,
    }
}

fn region(name: &str, healthy: bool, since: u64, svc: ServiceState) -> RegionState {
    RegionState {
        region: name.into(),
        healthy,
        alarm_state: if healthy { "OK".into() } else { "ALARM".into() },
        alarm_since: Some(since),
        unreadable: None,
        services: Some(vec![svc]),
    }
}

/// Primary (6 tasks) and standby (2 tasks), healthy or not, serving `serving`.
fn seen(primary_ok: bool, standby_ok: bool, serving: Side) -> Observed {
    Observed {
        primary: region("us-east-1", primary_ok, NOW - 60, service(6, 6, None)),
        standby: region("us-west-2", standby_ok, NOW - 3600, service(2, 2, None)),
        serving: Some(serving),
        last_flip: None,
        now: NOW,
        standby_images: None,
    }
}

/// A failover an hour ago, done in full: the flip recorded on both sides.
fn failed_over() -> Observed {
    let mut o = seen(true, true, Side::Standby);
    let flip = Some((Side::Standby, NOW - 3600));
    o.primary.services = Some(vec![ServiceState { last_flip: flip, ..service(6, 6, Some(FrozenBy::Failover)) }]);
    o.standby.services = Some(vec![ServiceState { last_flip: flip, ..service(6, 6, None) }]);
    o.last_flip = flip;
    o
}

fn scale(side: Side, from: i32, to: i32) -> Step {
    Step::Scale { side, cluster: "prod".into(), service: "web".into(), from, to }
}

fn freeze() -> Step {
    Step::Freeze { side: Side::Primary, cluster: "prod".into(), service: "web".into() }
}

fn unfreeze() -> Step {
    Step::Unfreeze { side: Side::Primary, cluster: "prod".into(), service: "web".into() }
}

const AUTO: Intent = Intent::Automatic;

#[test]
fn primary_down_standby_up_fails_over_fully() {
    let plan = plan(&seen(false, true, Side::Primary), AUTO, &Settings::default());
    let expected =
        vec![scale(Side::Standby, 2, 6), Step::MoveDns { to: Side::Standby }, freeze(), Step::RecordFlip { to: Side::Standby, at: NOW }];
    assert_eq!(plan, Plan::Move { to: Side::Standby, steps: expected, warnings: vec![] });
}

#[test]
fn both_down_changes_nothing_and_alerts() {
    assert!(
        matches!(plan(&seen(false, false, Side::Primary), AUTO, &Settings::default()), Plan::Alert { reason } if reason.contains("both regions"))
    );
    assert!(matches!(plan(&seen(false, false, Side::Primary), Intent::Failover, &Settings::default()), Plan::Alert { .. }));
}

#[test]
fn a_standby_without_running_tasks_is_not_a_refuge() {
    let mut o = seen(false, true, Side::Primary);
    o.standby.services = Some(vec![service(2, 0, None)]);
    assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Alert { reason } if reason.contains("no running tasks")));
}

#[test]
fn a_region_to_move_to_that_cannot_be_read_is_retried_not_alerted() {
    let mut o = seen(false, true, Side::Primary);
    o.standby.unreadable = Some("AWS ecs:DescribeServices failed: throttled".into());
    o.standby.services = None;
    let planned = plan(&o, AUTO, &Settings::default());
    assert!(matches!(&planned, Plan::Retry { side: Side::Standby, reason } if reason.contains("throttled")), "{planned:?}");
}

#[test]
fn already_failed_over_has_nothing_left() {
    let mut o = failed_over();
    o.primary.healthy = false;
    assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Hold { reason } if reason.contains("manual")));
    assert!(matches!(plan(&o, Intent::Failover, &Settings::default()), Plan::Hold { reason } if reason.contains("nothing left")));
}

#[test]
fn a_partial_failover_is_completed_by_any_run() {
    let mut o = failed_over();
    o.primary.healthy = false;
    o.primary.services = Some(vec![service(6, 6, None)]); // neither frozen nor recorded there
    let steps = vec![freeze(), Step::RecordFlip { to: Side::Standby, at: NOW - 3600 }];
    assert_eq!(plan(&o, Intent::Failover, &Settings::default()), Plan::Move { to: Side::Standby, steps: steps.clone(), warnings: vec![] });
    assert_eq!(
        plan(&o, AUTO, &Settings::default()),
        Plan::Move { to: Side::Standby, steps, warnings: vec![] },
        "the alarm's re-run finishes it too"
    );
}

#[test]
fn a_flip_not_yet_recorded_is_owed_its_record_at_the_time_of_the_run() {
    let mut o = failed_over();
    o.last_flip = None;
    o.primary.services = Some(vec![service(6, 6, Some(FrozenBy::Failover))]);
    o.standby.services = Some(vec![service(6, 6, None)]);
    assert!(o.flip_owed(Side::Standby));
    let steps = vec![Step::RecordFlip { to: Side::Standby, at: NOW }];
    assert_eq!(plan(&o, AUTO, &Settings::default()), Plan::Move { to: Side::Standby, steps, warnings: vec![] });
}

#[test]
fn flapping_within_the_dwell_time_does_not_move_traffic() {
    let mut o = seen(false, true, Side::Primary);
    o.last_flip = Some((Side::Primary, NOW - 120));
    assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Hold { reason } if reason.contains("dwell")));
    o.last_flip = Some((Side::Primary, NOW - 301));
    assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Move { to: Side::Standby, .. }));
    o.last_flip = Some((Side::Primary, NOW - 120));
    assert!(matches!(plan(&o, Intent::Failover, &Settings::default()), Plan::Move { .. }), "an operator's failover is not damped");
}

#[test]
fn failback_waits_for_the_stabilization_window() {
    let auto = Settings { auto_failback: true, ..Settings::default() };
    let mut o = failed_over();
    o.primary.alarm_since = Some(NOW - 599);
    assert!(matches!(plan(&o, AUTO, &auto), Plan::Hold { reason } if reason.contains("stabilization")));
    assert!(matches!(plan(&o, Intent::Failback, &Settings::default()), Plan::Hold { reason } if reason.contains("stabilization")));
    o.primary.alarm_since = Some(NOW - 601);
    let expected = vec![Step::MoveDns { to: Side::Primary }, unfreeze(), Step::RecordFlip { to: Side::Primary, at: NOW }];
    assert_eq!(plan(&o, AUTO, &auto), Plan::Move { to: Side::Primary, steps: expected.clone(), warnings: vec![] });
    assert_eq!(plan(&o, Intent::Failback, &Settings::default()), Plan::Move { to: Side::Primary, steps: expected, warnings: vec![] });
}

#[test]
fn automatic_failback_waits_for_a_healthy_primary_without_alerting() {
    let auto = Settings { auto_failback: true, ..Settings::default() };
    let mut o = failed_over();
    o.primary.healthy = false;
    assert!(matches!(plan(&o, AUTO, &auto), Plan::Hold { reason } if reason.contains("us-east-1 is not healthy")));
}

/// Automatic decisions while the standby serves: (why, seconds since the failover, seconds the
/// primary has been healthy (`None`: unhealthy), standby healthy, auto failback, traffic goes back).
#[test]
fn standby_serving_decisions() {
    let cases = [
        ("failback is manual", 3600, Some(3000), true, false, false),
        ("auto failback after the window", 3600, Some(601), true, true, true),
        ("auto failback within the window", 3600, Some(30), true, true, false),
        ("auto failback within the dwell", 120, Some(3000), true, true, false),
        ("failed standby, primary within its window", 3600, Some(30), false, false, true),
        // Issue 11 (5): "never worse" wins over flap damping.
        ("failed standby within the dwell", 120, Some(30), false, false, true),
        ("failed standby, primary unhealthy", 120, None, false, false, false),
    ];
    for (why, flipped, primary_ok_for, standby_ok, auto_failback, back) in cases {
        let mut o = failed_over();
        let flip = Some((Side::Standby, NOW - flipped));
        o.last_flip = flip;
        for service in o.primary.services.iter_mut().chain(o.standby.services.iter_mut()).flatten() {
            service.last_flip = flip;
        }
        o.primary.healthy = primary_ok_for.is_some();
        o.primary.alarm_since = Some(NOW - primary_ok_for.unwrap_or(60));
        o.standby.healthy = standby_ok;
        let planned = plan(&o, AUTO, &Settings { auto_failback, ..Settings::default() });
        assert_eq!(matches!(planned, Plan::Move { to: Side::Primary, .. }), back, "{why}: {planned:?}");
    }
}

#[test]
fn failback_to_an_unhealthy_primary_is_refused() {
    let mut o = failed_over();
    o.primary.healthy = false;
    o.primary.alarm_state = "ALARM".into();
    assert!(
        matches!(plan(&o, Intent::Failback, &Settings::default()), Plan::Alert { reason } if reason.contains("us-east-1 is not healthy"))
    );
}

#[test]
fn failback_leaves_a_freeze_a_person_set() {
    let mut o = failed_over();
    o.primary.alarm_since = Some(NOW - 3600);
    o.primary.services.as_mut().unwrap()[0].frozen = Some(FrozenBy::Person);
    let expected = vec![Step::MoveDns { to: Side::Primary }, Step::RecordFlip { to: Side::Primary, at: NOW }];
    assert_eq!(plan(&o, Intent::Failback, &Settings::default()), Plan::Move { to: Side::Primary, steps: expected, warnings: vec![] });

    let mut o = seen(false, true, Side::Primary);
    o.primary.services.as_mut().unwrap()[0].frozen = Some(FrozenBy::Person);
    let planned = plan(&o, AUTO, &Settings::default());
    assert!(matches!(&planned, Plan::Move { steps, .. } if !steps.contains(&freeze())), "already frozen, by a person: {planned:?}");
}

#[test]
fn a_primary_that_cannot_be_read_is_replaced_by_what_is_known_of_it() {
    let mut o = seen(false, true, Side::Primary);
    o.primary.unreadable = Some("AWS ecs:DescribeServices failed".into());
    o.primary.services = None;
    let remembered = |primary_desired, max| ServiceState { primary_desired, max, ..service(2, 2, None) };

    o.standby.services = Some(vec![remembered(Some(6), Some(10))]);
    let steps = vec![scale(Side::Standby, 2, 6), Step::MoveDns { to: Side::Standby }, Step::RecordFlip { to: Side::Standby, at: NOW }];
    assert_eq!(
        plan(&o, AUTO, &Settings::default()),
        Plan::Move { to: Side::Standby, steps, warnings: vec![] },
        "no freeze: nothing to freeze is known"
    );

    o.standby.services = Some(vec![remembered(None, Some(10))]);
    assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Move { steps, .. } if steps[0] == scale(Side::Standby, 2, 10)));
}

#[test]
fn the_primary_counts_are_remembered_while_it_serves_and_only_when_they_change() {
    let mut o = seen(true, true, Side::Primary);
    let remember = Step::RememberPrimaryCount { cluster: "prod".into(), service: "web".into(), desired: 6 };
    assert_eq!(counts_to_remember(&o), [remember]);
    o.standby.services.as_mut().unwrap()[0].primary_desired = Some(6);
    assert!(counts_to_remember(&o).is_empty(), "unchanged");
    o.standby.services.as_mut().unwrap()[0].primary_desired = Some(4);
    o.serving = Some(Side::Standby);
    assert!(counts_to_remember(&o).is_empty(), "not while the standby serves");
}

#[test]
fn healthy_primary_holds() {
    assert!(matches!(plan(&seen(true, true, Side::Primary), AUTO, &Settings::default()), Plan::Hold { .. }));
}

#[test]
fn an_unreadable_alarm_of_the_serving_region_whose_services_answer_moves_nothing() {
    let mut o = seen(false, true, Side::Primary);
    o.primary.unreadable = Some("AWS cloudwatch:DescribeAlarms failed: throttled".into());
    o.primary.alarm_state = "UNREADABLE".into();
    assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Retry { side: Side::Primary, .. }));

    o.primary.services = None; // and its ECS does not answer either: a region down
    assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Move { to: Side::Standby, .. }));
}

#[test]
fn a_freeze_a_person_lifted_after_the_flip_was_recorded_stays_lifted() {
    let mut o = failed_over();
    o.primary.healthy = false;
    o.primary.services.as_mut().unwrap()[0].frozen = None;
    assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Hold { .. }), "the primary's part in the flip is done");
}

#[test]
fn a_failover_after_dns_was_moved_back_by_hand_is_a_new_flip() {
    // Failed over an hour ago, recorded; a person moved DNS back to the primary since.
    let mut o = failed_over();
    o.serving = Some(Side::Primary);
    o.primary.services.as_mut().unwrap()[0].frozen = None;
    assert!(o.flip_owed(Side::Standby), "DNS is elsewhere: owed whatever the record says");
    let steps = vec![Step::MoveDns { to: Side::Standby }, freeze(), Step::RecordFlip { to: Side::Standby, at: NOW }];
    assert_eq!(plan(&o, Intent::Failover, &Settings::default()), Plan::Move { to: Side::Standby, steps, warnings: vec![] });
}

#[test]
fn a_failback_after_dns_was_moved_by_hand_without_a_record_is_a_new_flip() {
    let mut o = seen(true, true, Side::Standby);
    o.primary.alarm_since = Some(NOW - 3600);
    assert!(o.flip_owed(Side::Primary));
    let steps = vec![Step::MoveDns { to: Side::Primary }, Step::RecordFlip { to: Side::Primary, at: NOW }];
    assert_eq!(plan(&o, Intent::Failback, &Settings::default()), Plan::Move { to: Side::Primary, steps, warnings: vec![] });
}

#[test]
fn a_service_missing_in_one_region_is_neither_remembered_frozen_nor_owed_a_record() {
    let missing = || ServiceState { service: "jobs".into(), exists: false, ..service(0, 0, None) };

    // Missing on the standby: nothing to remember on it.
    let mut o = seen(true, true, Side::Primary);
    o.standby.services.as_mut().unwrap()[0].primary_desired = Some(6);
    o.primary.services.as_mut().unwrap().push(ServiceState { service: "jobs".into(), ..service(3, 3, None) });
    o.standby.services.as_mut().unwrap().push(missing());
    assert!(counts_to_remember(&o).is_empty(), "{:?}", counts_to_remember(&o));

    // Missing on the primary after a flip: the flip is done on every service that exists.
    let mut o = failed_over();
    o.primary.healthy = false;
    o.primary.services.as_mut().unwrap().push(missing());
    o.standby.services.as_mut().unwrap().push(ServiceState { service: "jobs".into(), last_flip: o.last_flip, ..service(2, 2, None) });
    assert!(matches!(plan(&o, Intent::Failover, &Settings::default()), Plan::Hold { .. }));

    // Missing on the primary before a flip: nothing to freeze there.
    let mut o = seen(false, true, Side::Primary);
    o.primary.services.as_mut().unwrap().push(missing());
    o.standby.services.as_mut().unwrap().push(ServiceState { service: "jobs".into(), ..service(2, 2, None) });
    let planned = plan(&o, AUTO, &Settings::default());
    let freezes = match &planned {
        Plan::Move { steps, .. } => steps.iter().filter(|s| matches!(s, Step::Freeze { .. })).count(),
        other => panic!("{other:?}"),
    };
    assert_eq!(freezes, 1, "{planned:?}");
}
