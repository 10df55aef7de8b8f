//! `deckhand:shift`: how an ECS-native deployment (BLUE_GREEN, LINEAR, CANARY) of a service
//! shifts traffic, over the service's own deployment configuration. ECS tag values allow only
//! letters, digits, spaces and `_ . : / = + - @`, so it is space-separated words:
//!
//! - at most one strategy: `blue-green`, `linear=PERCENT` (each step's share) or
//!   `canary=PERCENT` (the canary's share);
//! - `step-bake=DURATION`: the wait between linear steps, or after the canary;
//! - `bake=DURATION`: how long both revisions stay up once all production traffic moved.
//!
//! Durations are minutes: `15`, `15m` or `2h`. The limits are the ECS API reference's
//! (`LinearConfiguration`, `CanaryConfiguration`, `DeploymentConfiguration`): minutes 0 to 1440,
//! percentages multiples of 0.1, from 3 to 100 for a linear step and from 0.1 to 100 for a canary.
//! Checked here so that a typo reads as the service's reason, not as an UpdateService error.

use crate::config::minutes_in;
use crate::ports::{Shift, Strategy};
use crate::quote::quote;
use crate::tags;
use thiserror::Error;

/// The most minutes ECS accepts for a bake time (24 hours).
const MAX_MINUTES: u32 = 1440;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid {} {}: {reason}", tags::SHIFT, quote(.value))]
pub struct ShiftError {
    pub value: String,
    pub reason: String,
}

const EXPECTED: &str = "expected blue-green, linear=PERCENT, canary=PERCENT, step-bake=MINUTES or bake=MINUTES";

/// The shift `value` asks of a service whose own strategy is `strategy` (the one that applies
/// when `value` names none).
pub fn parse(value: &str, strategy: Strategy) -> Result<Shift, ShiftError> {
    let invalid = |reason: String| ShiftError { value: value.to_owned(), reason };
    let mut shift = Shift::default();
    let mut step_bake_word = None;
    if value.trim().is_empty() {
        return Err(invalid(format!("empty; {EXPECTED}")));
    }
    for word in value.split_whitespace() {
        let (key, argument) = word.split_once('=').map_or((word, None), |(key, argument)| (key, Some(argument)));
        let already = match key {
            "blue-green" | "linear" | "canary" => shift.strategy.is_some(),
            "step-bake" => shift.step_bake_minutes.is_some(),
            "bake" => shift.bake_minutes.is_some(),
            _ => false,
        };
        if already {
            return Err(invalid(format!("{} repeats a setting given before it", quote(word))));
        }
        match (key, argument) {
            ("blue-green", None) => shift.strategy = Some(Strategy::BlueGreen),
            ("linear", Some(text)) => {
                shift.strategy = Some(Strategy::Linear);
                shift.percent = Some(percent(word, text, 30, "a linear step").map_err(invalid)?);
            }
            ("canary", Some(text)) => {
                shift.strategy = Some(Strategy::Canary);
                shift.percent = Some(percent(word, text, 1, "a canary").map_err(invalid)?);
            }
            ("step-bake", Some(text)) => {
                shift.step_bake_minutes = Some(minutes(word, text).map_err(invalid)?);
                step_bake_word = Some(word);
            }
            ("bake", Some(text)) => shift.bake_minutes = Some(minutes(word, text).map_err(invalid)?),
            ("blue-green", Some(_)) => return Err(invalid(format!("{} takes no value: blue-green", quote(word)))),
            ("linear" | "canary" | "step-bake" | "bake", None) => {
                return Err(invalid(format!("{} needs a value: {key}=…", quote(word))));
            }
            _ => return Err(invalid(format!("unknown word {}; {EXPECTED}", quote(word)))),
        }
    }
    if let Some(word) = step_bake_word
        && shift.strategy.unwrap_or(strategy) == Strategy::BlueGreen
    {
        return Err(invalid(format!("{} applies to linear and canary shifts; blue-green moves all traffic at once", quote(word))));
    }
    Ok(shift)
}

/// A percentage in tenths from `min_tenths` to 100 %: `10`, `2.5`.
fn percent(word: &str, text: &str, min_tenths: u32, what: &str) -> Result<f64, String> {
    let (whole, tenth) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str, most: usize| !s.is_empty() && s.len() <= most && s.bytes().all(|b| b.is_ascii_digit());
    let tenths = (digits(whole, 3) && digits(tenth, 1))
        .then(|| whole.parse::<u32>().ok().zip(tenth.parse::<u32>().ok()).map(|(w, t)| w * 10 + t))
        .flatten()
        .filter(|tenths| (min_tenths..=1000).contains(tenths));
    let min = f64::from(min_tenths) / 10.0;
    tenths
        .map(|tenths| f64::from(tenths) / 10.0)
        .ok_or_else(|| format!("{}: {what} is a multiple of 0.1 from {min} to 100 percent", quote(word)))
}

/// Minutes from 0 to 1440: `15`, `15m` or `2h`.
fn minutes(word: &str, text: &str) -> Result<i32, String> {
    let minutes = minutes_in(text, 0..=MAX_MINUTES).and_then(|m| i32::try_from(m).ok());
    minutes.ok_or_else(|| format!("{}: minutes from 0 to {MAX_MINUTES} (24h), as 15, 15m or 2h", quote(word)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Strategy::{BlueGreen, Canary, Linear};

    fn shift(strategy: Option<Strategy>, percent: Option<f64>, step_bake: Option<i32>, bake: Option<i32>) -> Shift {
        Shift { strategy, percent, step_bake_minutes: step_bake, bake_minutes: bake }
    }

    #[test]
    fn reads_the_strategy_its_share_and_the_bake_times() {
        #[rustfmt::skip]
        let cases = [
            ("canary=10 step-bake=5m bake=15m", Canary, shift(Some(Canary), Some(10.0), Some(5), Some(15))),
            ("linear=20 step-bake=3 bake=10", BlueGreen, shift(Some(Linear), Some(20.0), Some(3), Some(10))),
            ("blue-green bake=30m", Linear, shift(Some(BlueGreen), None, None, Some(30))),
            ("bake=0", BlueGreen, shift(None, None, None, Some(0))),
            ("  bake=2h   step-bake=1440  ", Linear, shift(None, None, Some(1440), Some(120))),
            ("canary=0.1", Canary, shift(Some(Canary), Some(0.1), None, None)),
            ("linear=3", Linear, shift(Some(Linear), Some(3.0), None, None)),
            ("linear=100.0 bake=24h", Canary, shift(Some(Linear), Some(100.0), None, Some(1440))),
            ("canary=12.5 step-bake=0m", Linear, shift(Some(Canary), Some(12.5), Some(0), None)),
        ];
        for (value, strategy, want) in cases {
            assert_eq!(parse(value, strategy), Ok(want), "{value}");
        }
    }

    #[test]
    fn refuses_what_ecs_would_refuse_or_misread_naming_the_word() {
        #[rustfmt::skip]
        let cases = [
            ("", BlueGreen, "empty"),
            ("canary=10 fast", Canary, "unknown word \"fast\""),
            ("canary 10", Canary, "\"canary\" needs a value"),
            ("blue-green=1", BlueGreen, "\"blue-green=1\" takes no value"),
            ("bake=5 bake=10", Linear, "\"bake=10\" repeats"),
            ("linear=20 canary=10", Linear, "\"canary=10\" repeats"),
            ("step-bake=1 step-bake=2", Linear, "\"step-bake=2\" repeats"),
            ("blue-green step-bake=5", Canary, "\"step-bake=5\" applies to linear and canary"),
            ("step-bake=5", BlueGreen, "\"step-bake=5\" applies to linear and canary"),
            ("linear=2.9", Linear, "\"linear=2.9\": a linear step is a multiple of 0.1 from 3 to 100"),
            ("linear=101", Linear, "\"linear=101\""),
            ("canary=0", Canary, "\"canary=0\": a canary is a multiple of 0.1 from 0.1 to 100"),
            ("canary=0.05", Canary, "\"canary=0.05\""),
            ("canary=10%", Canary, "\"canary=10%\""),
            ("canary=-5", Canary, "\"canary=-5\""),
            ("canary=+5", Canary, "\"canary=+5\""),
            ("canary=1e1", Canary, "\"canary=1e1\""),
            ("bake=1441", Linear, "\"bake=1441\": minutes from 0 to 1440"),
            ("bake=25h", Linear, "\"bake=25h\""),
            ("bake=5s", Linear, "\"bake=5s\""),
            ("bake=m", Linear, "\"bake=m\""),
            ("bake=99999999999", Linear, "\"bake=99999999999\""),
            ("bake=+5", Linear, "\"bake=+5\""),
        ];
        for (value, strategy, part) in cases {
            let err = parse(value, strategy).unwrap_err().to_string();
            assert!(err.starts_with("invalid deckhand:shift") && err.contains(part), "{value}: {err}");
        }
    }

    #[test]
    fn a_long_bad_value_is_quoted_short() {
        let value = format!("bake={}", "9".repeat(10_000));
        let err = parse(&value, Linear).unwrap_err().to_string();
        assert!(err.len() < 300, "{} bytes: {err}", err.len());
    }
}
