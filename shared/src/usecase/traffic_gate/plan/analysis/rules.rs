//! How the gate compares the new revision's target group with the old one's: `GATE_ANALYSIS`
//! for every service, the tag `deckhand:analysis` for one, in the same syntax. ECS tag values
//! allow only letters, digits, spaces and `_ . : / = + - @`, so settings are `key=value` words:
//! `requests=100 errors=2 latency=25 window=10m`, or `off`; durations as in every Deckhand tag
//! (`10`, `10m`, `1h`). Parsed strictly: an unknown word, a
//! setting given twice or a value out of range is refused, naming the word.

use crate::config::minutes;
use crate::quote::quote;
use serde::Serialize;

/// The analysis's thresholds. Margins are fixed-point, in hundredths, so the rules compare
/// exactly and stay `Eq` (the configuration is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnalysisRules {
    /// `off` turns the analysis off.
    pub enabled: bool,
    /// `requests=`: requests the new target group must have served in the window before it is
    /// judged; also what makes the old one a baseline.
    pub min_requests: u64,
    /// `errors=`: how many percentage points the new group's 5xx share may exceed the old one's,
    /// in hundredths of a point (`errors=1` is 100).
    pub error_margin: u32,
    /// `latency=`: how much slower (percent) the new group's p99 may be, in hundredths of a
    /// percent (`latency=20` is 2000).
    pub latency_margin: u32,
    /// `window=`: seconds of metrics looked at, whole minutes up to an hour (`window=5m` is 300).
    pub window: u32,
}

impl Default for AnalysisRules {
    fn default() -> Self {
        Self { enabled: true, min_requests: 50, error_margin: 100, latency_margin: 2000, window: 300 }
    }
}

const SYNTAX: &str = "off, on, requests=N, errors=P, latency=P or window=DURATION";
/// A margin of more than this many units (points or percent) is no check at all.
const ERRORS_MAX: u32 = 100;
const LATENCY_MAX: u32 = 1000;
const REQUESTS_MAX: u64 = 1_000_000_000;
const WINDOW_MAX_MINUTES: u32 = 60;

impl AnalysisRules {
    /// `value` (a tag's or `GATE_ANALYSIS`) over `base`: `off` alone turns the analysis off; any
    /// other setting turns it on and replaces the one it names. Blank is an error: a tag that
    /// says nothing is a mistake, not a default.
    pub fn parse(value: &str, base: AnalysisRules) -> Result<Self, String> {
        let words: Vec<&str> = value.split_whitespace().collect();
        if words.is_empty() {
            return Err(format!("{} is empty: write off, or settings such as requests=100 errors=2 latency=25 window=10m", quote(value)));
        }
        if words.contains(&"off") {
            return match words.as_slice() {
                [_] => Ok(Self { enabled: false, ..base }),
                _ => Err("\"off\" cannot be combined with other settings".into()),
            };
        }
        let mut rules = Self { enabled: true, ..base };
        let mut seen: Vec<&str> = Vec::new();
        for word in words {
            let (key, raw) = word.split_once('=').unwrap_or((word, ""));
            if key != "on" && seen.contains(&key) {
                return Err(format!("{}: {key} is given twice", quote(word)));
            }
            seen.push(key);
            let bad = |expected: &str| format!("{}: {key} must be {expected}", quote(word));
            match key {
                "on" if word == "on" => {}
                "requests" => {
                    rules.min_requests = raw
                        .parse::<u64>()
                        .ok()
                        .filter(|n| (1..=REQUESTS_MAX).contains(n) && raw.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| bad(&format!("a whole number from 1 to {REQUESTS_MAX}")))?
                }
                "errors" => {
                    rules.error_margin = hundredths(raw, ERRORS_MAX).ok_or_else(|| {
                        bad(&format!("percentage points from 0 to {ERRORS_MAX}, at most two decimals (errors=1, errors=0.5)"))
                    })?
                }
                "latency" => {
                    rules.latency_margin = hundredths(raw, LATENCY_MAX)
                        .ok_or_else(|| bad(&format!("a percentage from 0 to {LATENCY_MAX}, at most two decimals (latency=20)")))?
                }
                "window" => {
                    rules.window = minutes(raw)
                        .ok()
                        .filter(|m| *m <= WINDOW_MAX_MINUTES)
                        .map(|m| m * 60)
                        .ok_or_else(|| bad(&format!("a duration from 1m to {WINDOW_MAX_MINUTES}m (window=10m, window=1h)")))?
                }
                _ => return Err(format!("unknown setting {}: expected {SYNTAX}", quote(word))),
            }
        }
        Ok(rules)
    }

    pub fn window_minutes(&self) -> u32 {
        self.window / 60
    }
}

/// `1`, `0.5`, `12.25` → 100, 50, 1225: digits, optionally a dot and one or two more; at most
/// `max` whole units.
fn hundredths(raw: &str, max: u32) -> Option<u32> {
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 4 || !digits(whole) || !digits(fraction) || fraction.len() > 2 {
        return None;
    }
    if raw.contains('.') && fraction.is_empty() {
        return None;
    }
    let cents = format!("{fraction:0<2}").parse::<u32>().ok()?;
    let value = whole.parse::<u32>().ok()? * 100 + cents;
    (value <= max * 100).then_some(value)
}

/// A fixed-point value in hundredths as people write it: 150 → `1.5`, 2000 → `20`.
pub(super) fn shown(hundredths: u32) -> String {
    let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_replace_what_they_name_over_the_base() {
        let base = AnalysisRules::default();
        let table = [
            (
                "requests=100 errors=2 latency=25 window=10m",
                AnalysisRules { enabled: true, min_requests: 100, error_margin: 200, latency_margin: 2500, window: 600 },
            ),
            ("errors=0.5", AnalysisRules { error_margin: 50, ..base }),
            ("  latency=12.25\twindow=1m ", AnalysisRules { latency_margin: 1225, window: 60, ..base }),
            ("errors=0 latency=0", AnalysisRules { error_margin: 0, latency_margin: 0, ..base }),
            ("on", base),
            ("off", AnalysisRules { enabled: false, ..base }),
            ("window=60m requests=1000000000", AnalysisRules { window: 3600, min_requests: 1_000_000_000, ..base }),
            // Durations as everywhere else in Deckhand's tags: bare minutes, `m` or `h`.
            ("window=1h", AnalysisRules { window: 3600, ..base }),
            ("window=10", AnalysisRules { window: 600, ..base }),
        ];
        for (value, expected) in table {
            assert_eq!(AnalysisRules::parse(value, base), Ok(expected), "{value}");
        }
        let off = AnalysisRules { enabled: false, ..base };
        assert_eq!(AnalysisRules::parse("errors=3", off), Ok(AnalysisRules { error_margin: 300, ..base }), "a setting turns it on");
        assert_eq!(AnalysisRules::parse("on", off), Ok(base));
    }

    #[test]
    fn bad_settings_are_refused_naming_the_word() {
        let table = [
            ("", "is empty"),
            ("   ", "is empty"),
            ("off errors=2", "\"off\" cannot be combined"),
            ("errors=2 errors=3", "\"errors=3\": errors is given twice"),
            ("error=2", "unknown setting \"error=2\": expected off, on"),
            ("errors", "\"errors\": errors must be percentage points"),
            ("errors=", "\"errors=\": errors must be"),
            ("errors=-1", "\"errors=-1\": errors must be"),
            ("errors=1.", "\"errors=1.\""),
            ("errors=.5", "\"errors=.5\""),
            ("errors=0.125", "\"errors=0.125\""),
            ("errors=101", "\"errors=101\""),
            ("errors=1e2", "\"errors=1e2\""),
            ("latency=20%", "\"latency=20%\": latency must be a percentage"),
            ("latency=1000.01", "\"latency=1000.01\""),
            ("requests=0", "\"requests=0\": requests must be a whole number from 1"),
            ("requests=+5", "\"requests=+5\""),
            ("requests=1.5", "\"requests=1.5\""),
            ("window=10s", "\"window=10s\": window must be a duration from 1m to 60m"),
            ("window=0m", "\"window=0m\""),
            ("window=61m", "\"window=61m\""),
            ("window=2h", "\"window=2h\""),
            ("on=1", "unknown setting \"on=1\""),
            ("OFF", "unknown setting \"OFF\""),
        ];
        for (value, expected) in table {
            let err = AnalysisRules::parse(value, AnalysisRules::default()).unwrap_err();
            assert!(err.contains(expected), "{value:?}: {err}");
        }
        let long = format!("errors={}", "9".repeat(10_000));
        assert!(AnalysisRules::parse(&long, AnalysisRules::default()).unwrap_err().len() < 300, "quoted short");
    }

    #[test]
    fn fixed_point_values_are_shown_as_written() {
        let table = [(100, "1"), (150, "1.5"), (5, "0.05"), (2000, "20"), (0, "0"), (1225, "12.25")];
        for (value, text) in table {
            assert_eq!(shown(value), text);
        }
    }
}
