//! CloudWatch's DescribeAlarms as AWS answers it, for the composite alarms moto lacks. moto 5.2.5
//! has no PutCompositeAlarm and ignores `AlarmTypes` (it answers every kind, whatever was asked),
//! so against moto a composite alarm can be neither created nor missed. The API reference says of
//! `AlarmTypes`: "If you omit this parameter, only metric alarms are returned, even if composite
//! alarms exist in the account"; with it, the kinds named, metric alarms under `MetricAlarms` and
//! composite ones under `CompositeAlarms`. An `aws-smithy-mocks` client answers DescribeAlarms so,
//! from the alarms put here, shaped as AWS returns them; every other call stays on moto.

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::operation::describe_alarms::{DescribeAlarmsInput, DescribeAlarmsOutput};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, CompositeAlarm, Dimension, MetricAlarm, StateValue, Statistic};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The alarms put, by kind, as DescribeAlarms returns them.
#[derive(Debug, Default)]
struct Stored {
    metric: Vec<MetricAlarm>,
    composite: Vec<CompositeAlarm>,
}

impl Stored {
    /// Removes the alarm of this name, of either kind (alarm names are unique across both).
    fn remove(&mut self, name: &str) {
        self.metric.retain(|a| a.alarm_name() != Some(name));
        self.composite.retain(|a| a.alarm_name() != Some(name));
    }
}

/// One region's alarms, and a client whose DescribeAlarms answers from them.
pub struct CloudWatchLikeAws {
    region: String,
    alarms: Arc<Mutex<Stored>>,
    rule: Rule,
}

impl CloudWatchLikeAws {
    pub fn new(region: &str) -> Self {
        let alarms: Arc<Mutex<Stored>> = Arc::default();
        let stored = Arc::clone(&alarms);
        let rule = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_compute_output(move |req| answer(&stored.lock().unwrap(), req));
        Self { region: region.to_owned(), alarms, rule }
    }

    /// A client of this region's CloudWatch, configured from `sdk` as the function's would be;
    /// only DescribeAlarms is answered. (Not `mock_client!`: its test defaults need the SDK's
    /// `test-util` feature, which in CloudWatch 1.99 pulls crates the lock file does not hold.)
    pub fn client(&self, sdk: &SdkConfig) -> aws_sdk_cloudwatch::Client {
        let answers = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny).with_rule(&self.rule);
        let config = aws_sdk_cloudwatch::config::Builder::from(sdk).http_client(create_mock_http_client()).interceptor(answers).build();
        aws_sdk_cloudwatch::Client::from_conf(config)
    }

    /// How many DescribeAlarms calls were answered.
    pub fn describe_calls(&self) -> usize {
        self.rule.num_calls()
    }

    fn arn(&self, name: &str) -> String {
        format!("arn:aws:cloudwatch:{}:123456789012:alarm:{name}", self.region)
    }

    /// PutCompositeAlarm, then the state `state` (as its rule would set it).
    pub fn put_composite_alarm(&self, name: &str, rule: &str, state: &str) {
        let now = now();
        let mut alarms = self.alarms.lock().unwrap();
        alarms.remove(name);
        alarms.composite.push(
            CompositeAlarm::builder()
                .alarm_name(name)
                .alarm_arn(self.arn(name))
                .alarm_rule(rule)
                .actions_enabled(true)
                .alarm_configuration_updated_timestamp(now)
                .state_value(StateValue::from(state))
                .state_reason(format!("arn:aws:cloudwatch:{}:123456789012:alarm:{name}-signal transitioned to {state}", self.region))
                .state_reason_data(r#"{"triggeringAlarms":[]}"#)
                .state_updated_timestamp(now)
                .state_transitioned_timestamp(now)
                .build(),
        );
    }

    /// PutMetricAlarm on a load balancer's 5xx count, then the state `state`.
    #[allow(dead_code, reason = "the gate's test puts a metric alarm beside the composite; the failover's does not")]
    pub fn put_metric_alarm(&self, name: &str, state: &str) {
        let now = now();
        let mut alarms = self.alarms.lock().unwrap();
        alarms.remove(name);
        alarms.metric.push(
            MetricAlarm::builder()
                .alarm_name(name)
                .alarm_arn(self.arn(name))
                .actions_enabled(true)
                .alarm_configuration_updated_timestamp(now)
                .namespace("AWS/ApplicationELB")
                .metric_name("HTTPCode_Target_5XX_Count")
                .dimensions(Dimension::builder().name("LoadBalancer").value("app/shop/50dc6c495c0c9188").build())
                .statistic(Statistic::Sum)
                .period(60)
                .evaluation_periods(1)
                .threshold(10.0)
                .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                .state_value(StateValue::from(state))
                .state_reason("Threshold Crossed: 1 datapoint [2.0 (22/11/26 10:14:00)] was not greater than the threshold (10.0).")
                .state_reason_data(r#"{"version":"1.0","statistic":"Sum","period":60,"recentDatapoints":[2.0],"threshold":10.0}"#)
                .state_updated_timestamp(now)
                .state_transitioned_timestamp(now)
                .build(),
        );
    }
}

fn now() -> DateTime {
    DateTime::from_secs(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64)
}

/// The alarms `req` selects, of the kinds it asks for (metric only when it names none).
fn answer(stored: &Stored, req: &DescribeAlarmsInput) -> DescribeAlarmsOutput {
    let wants =
        |kind: AlarmType| if req.alarm_types().is_empty() { kind == AlarmType::MetricAlarm } else { req.alarm_types().contains(&kind) };
    let selected = |name: Option<&str>, state: Option<&StateValue>| {
        let name = name.unwrap_or_default();
        (req.alarm_names().is_empty() || req.alarm_names().iter().any(|n| n == name))
            && req.alarm_name_prefix().is_none_or(|prefix| name.starts_with(prefix))
            && req.state_value().is_none_or(|wanted| Some(wanted) == state)
    };
    let metric = stored.metric.iter().filter(|a| wants(AlarmType::MetricAlarm) && selected(a.alarm_name(), a.state_value()));
    let composite = stored.composite.iter().filter(|a| wants(AlarmType::CompositeAlarm) && selected(a.alarm_name(), a.state_value()));
    DescribeAlarmsOutput::builder()
        .set_metric_alarms(Some(metric.cloned().collect()))
        .set_composite_alarms(Some(composite.cloned().collect()))
        .build()
}
