//! What the gate carries from one ECS hook call to the next in `hookDetails`, decoded strictly.
//!
//! ECS hands back what the gate returned, but anyone who may invoke the function can send
//! anything: only the gate's own fields are accepted, numbers in range, so that a tampered
//! budget (`"checks": 4294967295`) fails the hook instead of overflowing and never extends
//! probing. Whatever is refused is named in the reason, its value quoted short.

use crate::ports::ProbeOutcome;
use crate::quote::{clip, quote};
use serde_json::Value;

/// The most bytes of one probe's detail the gate carries (and accepts back).
pub(super) const PROBE_DETAIL_MAX: usize = 1000;

/// The fields of the gate's own reply: `probes` and `checks`, which it reads back, and those it
/// returns for people to read and ignores (`verdict`, `evidence`, `caveats`).
const FIELDS: [&str; 5] = ["probes", "checks", "verdict", "evidence", "caveats"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Carried {
    pub probes: Vec<ProbeOutcome>,
    /// Checks made on the earlier calls, below `GATE_MAX_PROBES` (at that many the gate decides).
    pub checks: u32,
}

/// One probe's outcome as the gate carries it: its detail cut to `PROBE_DETAIL_MAX` bytes.
pub(super) fn bounded(probe: ProbeOutcome) -> ProbeOutcome {
    if probe.detail.len() <= PROBE_DETAIL_MAX {
        return probe;
    }
    // `clip` counts characters, each at most 4 bytes.
    ProbeOutcome { ok: probe.ok, detail: clip(&probe.detail, PROBE_DETAIL_MAX / 4) }
}

/// `hookDetails` as this gate returned it on the previous call; absent, `null` or `{}` on the
/// first.
pub(super) fn decode(details: Option<&Value>, max_probes: u32) -> Result<Carried, String> {
    let fields = match details {
        None | Some(Value::Null) => return Ok(Carried::default()),
        Some(Value::Object(fields)) => fields,
        Some(other) => return Err(format!("field `hookDetails`: expected an object (what this gate returned), got {}", kind(other))),
    };
    if let Some(unknown) = fields.keys().find(|key| !FIELDS.contains(&key.as_str())) {
        return Err(format!(
            "field `hookDetails`: unknown field {}: the gate accepts only its own ({}); do not configure hookDetails on its lifecycle hook",
            quote(unknown),
            FIELDS.join(", ")
        ));
    }
    let checks = match fields.get("checks") {
        None => 0,
        Some(value) => value.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n < max_probes).ok_or_else(|| {
            format!("field `hookDetails.checks`: expected a whole number below GATE_MAX_PROBES ({max_probes}), got {}", shown(value))
        })?,
    };
    let probes = match fields.get("probes") {
        None => Vec::new(),
        Some(Value::Array(items)) if items.len() <= checks as usize => {
            items.iter().enumerate().map(|(at, item)| probe(at, item)).collect::<Result<Vec<_>, _>>()?
        }
        Some(Value::Array(items)) => {
            return Err(format!("field `hookDetails.probes`: expected at most one probe per check ({checks}), got {}", items.len()));
        }
        Some(other) => return Err(format!("field `hookDetails.probes`: expected an array, got {}", kind(other))),
    };
    Ok(Carried { probes, checks })
}

fn probe(at: usize, item: &Value) -> Result<ProbeOutcome, String> {
    let field = |name: &str| format!("field `hookDetails.probes[{at}]{name}`");
    let Value::Object(fields) = item else {
        return Err(format!("{}: expected an object {{ok, detail}}, got {}", field(""), kind(item)));
    };
    if let Some(unknown) = fields.keys().find(|key| !matches!(key.as_str(), "ok" | "detail")) {
        return Err(format!("{}: unknown field {}", field(""), quote(unknown)));
    }
    let Some(Value::Bool(ok)) = fields.get("ok") else {
        return Err(format!("{}: expected true or false, got {}", field(".ok"), fields.get("ok").map_or("nothing", kind)));
    };
    let detail = match fields.get("detail") {
        Some(Value::String(detail)) if detail.len() <= PROBE_DETAIL_MAX => detail.clone(),
        Some(Value::String(detail)) => {
            return Err(format!("{}: expected at most {PROBE_DETAIL_MAX} bytes, got {}", field(".detail"), quote(detail)));
        }
        other => return Err(format!("{}: expected a string, got {}", field(".detail"), other.map_or("nothing", kind))),
    };
    Ok(ProbeOutcome { ok: *ok, detail })
}

/// A number as given (short), anything else by its kind.
fn shown(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("the string {}", quote(s)),
        other => kind(other).to_owned(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(detail: &str) -> ProbeOutcome {
        ProbeOutcome { ok: true, detail: detail.into() }
    }

    #[test]
    fn what_the_gate_returned_comes_back() {
        assert_eq!(decode(None, 10), Ok(Carried::default()));
        assert_eq!(decode(Some(&Value::Null), 10), Ok(Carried::default()));
        assert_eq!(decode(Some(&json!({})), 10), Ok(Carried::default()));
        let returned = json!({
            "probes": [{"ok": true, "detail": "HTTP 200 in 3 ms"}],
            "checks": 1,
            "verdict": {"verdict": "pending", "reason": "1 probes so far"},
            "evidence": {"freeze": null},
            "caveats": ["not checked: target health"],
        });
        assert_eq!(decode(Some(&returned), 10), Ok(Carried { probes: vec![ok("HTTP 200 in 3 ms")], checks: 1 }));
        assert_eq!(decode(Some(&json!({"checks": 9})), 10).unwrap().checks, 9);
    }

    /// Issue 13 item 5: a budget out of range fails, naming the field; it never wraps.
    #[test]
    fn a_tampered_budget_is_refused_naming_the_field() {
        for checks in
            [json!(4294967295u64), json!(u64::MAX), json!(10), json!(11), json!(-1), json!(1.5), json!(1e300), json!("1"), json!(null)]
        {
            let err = decode(Some(&json!({ "checks": checks })), 10).unwrap_err();
            assert!(
                err.starts_with("field `hookDetails.checks`: expected a whole number below GATE_MAX_PROBES (10), got"),
                "{checks}: {err}"
            );
        }
        let err = decode(Some(&json!({"checks": 4294967295u64})), 10).unwrap_err();
        assert!(err.ends_with("got 4294967295"), "{err}");
        let err = decode(Some(&json!({"checks": "x".repeat(1 << 20)})), 10).unwrap_err();
        assert!(err.len() < 300, "{err}");
    }

    #[test]
    fn anything_but_the_gates_own_fields_is_refused_naming_it() {
        let cases = [
            (json!([1]), "field `hookDetails`: expected an object"),
            (json!("checks"), "field `hookDetails`: expected an object"),
            (json!({"check": 1}), "unknown field \"check\""),
            (json!({"checks": 1, "probes": {}}), "field `hookDetails.probes`: expected an array"),
            (
                json!({"checks": 1, "probes": [{"ok": true, "detail": "a"}, {"ok": true, "detail": "b"}]}),
                "at most one probe per check (1), got 2",
            ),
            (json!({"probes": [{"ok": true, "detail": "a"}]}), "at most one probe per check (0)"),
            (json!({"checks": 2, "probes": [{"ok": true, "detail": "a"}, 7]}), "field `hookDetails.probes[1]`: expected an object"),
            (json!({"checks": 1, "probes": [{"ok": "true", "detail": "a"}]}), "field `hookDetails.probes[0].ok`: expected true or false"),
            (json!({"checks": 1, "probes": [{"ok": true}]}), "field `hookDetails.probes[0].detail`: expected a string, got nothing"),
            (
                json!({"checks": 1, "probes": [{"ok": true, "detail": "a", "weight": 9}]}),
                "field `hookDetails.probes[0]`: unknown field \"weight\"",
            ),
            (json!({"checks": 1, "probes": [{"ok": true, "detail": "d".repeat(PROBE_DETAIL_MAX + 1)}]}), "expected at most 1000 bytes"),
        ];
        for (details, expected) in cases {
            let err = decode(Some(&details), 10).unwrap_err();
            assert!(err.contains(expected), "{details}: {err}");
            assert!(err.len() < 400, "{err}");
        }
        let key = "k".repeat(1 << 20);
        let err = decode(Some(&json!({ key: 1 })), 10).unwrap_err();
        assert!(err.len() < 400 && err.contains("bytes)"), "{err}");
    }

    #[test]
    fn a_long_probe_detail_is_carried_short() {
        let long = ProbeOutcome { ok: false, detail: "cannot connect: ".repeat(100) + &"é".repeat(1000) };
        let carried = bounded(long);
        assert!(carried.detail.len() <= PROBE_DETAIL_MAX && carried.detail.ends_with("bytes)"), "{}", carried.detail);
        assert_eq!(bounded(ok("HTTP 200 in 3 ms")), ok("HTTP 200 in 3 ms"));
    }
}
