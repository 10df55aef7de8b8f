//! Generated inputs: mutations of the samples in `events/` (keys deleted, added and misspelt,
//! types swapped, huge strings, control characters, deep nesting, out-of-range numbers) and
//! random JSON, drawn from a seeded generator so that a seed replays a run exactly.

use serde_json::{Map, Number, Value};

/// SplitMix64: small, fast, and the same sequence for the same seed on every machine.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Strings that break parsers, beside the samples' own words.
const TRICKY: &[&str] = &[
    "",
    " ",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e999",
    "NaN",
    "\u{0}",
    "\u{7f}",
    "\u{1b}[31mred\u{1b}[0m",
    "\r\n",
    "line\nInjected: yes",
    "\t",
    "\u{202e}txt.exe",
    "\u{2028}",
    "\u{feff}",
    "é",
    "\u{10ffff}",
    "😀",
    "\"",
    "\\",
    "`",
    "'",
    "%s%n",
    "${IMAGE_URI}",
    "../",
    "sha256:",
    "sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d",
    "sha512:00",
    ":",
    "/",
    "//",
    "@",
    "*",
    "?",
    "[",
    "{",
    "{a,b}",
    "^",
    ">=",
    ",",
    "semver:",
    "prefix:",
    "glob:",
    "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
    ":service/",
    "arn:aws:ecs:us-east-1:123456789012:service/",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v1@sha256:",
    "http://",
    "failover to ",
];

/// Numbers at the edges: of the integer types the decoders read into, and of JSON itself.
const EDGES: &[&str] = &[
    "0",
    "-0.0",
    "-1",
    "1",
    "2",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "0.5",
    "1e308",
    "-1e308",
    "1e-308",
    "3.4028235e38",
];

/// The words mutations draw on: every key and string value of the samples, and `TRICKY`.
pub struct Dictionary(Vec<String>);

impl Dictionary {
    pub fn of(samples: &[Value], extra: &[&str]) -> Self {
        fn collect(value: &Value, words: &mut Vec<String>) {
            match value {
                Value::String(text) => words.push(text.clone()),
                Value::Array(items) => items.iter().for_each(|item| collect(item, words)),
                Value::Object(fields) => fields.iter().for_each(|(key, item)| {
                    words.push(key.clone());
                    collect(item, words);
                }),
                _ => {}
            }
        }
        let mut words: Vec<String> = TRICKY.iter().chain(extra).map(|w| w.to_string()).collect();
        samples.iter().for_each(|sample| collect(sample, &mut words));
        words.sort();
        words.dedup();
        Self(words)
    }

    pub fn word(&self, rng: &mut Rng) -> &str {
        &self.0[rng.below(self.0.len())]
    }
}

pub fn number(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => Value::Number(rng.next().into()),
        1 => Value::Number((rng.next() as i64).into()),
        2 => Number::from_f64(f64::from_bits(rng.next())).map_or(Value::Null, Value::Number),
        _ => serde_json::from_str(EDGES[rng.below(EDGES.len())]).expect("an edge number"),
    }
}

/// A character of any kind: ASCII, control, multi-byte, invisible.
fn char_of(rng: &mut Rng) -> char {
    match rng.below(6) {
        0 | 1 => (b' ' + rng.below(95) as u8) as char,
        2 => char::from_u32(rng.below(32) as u32).unwrap_or('\0'),
        3 => *rng.pick(&['é', 'ß', '中', '😀', '\u{202e}', '\u{2028}', '\u{200b}', '\u{feff}', '\u{7f}', '\u{85}']),
        4 => *rng.pick(&['"', '\\', '`', '\'', ':', '/', '@', '*', '?', '[', ']', '{', '}', ',', '^', '<', '>', '=', '~', ' ']),
        _ => char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}'),
    }
}

/// A string a field could hold: a word of the samples (mutated or not), a tricky one, random
/// characters, a huge one (up to 64 KiB; 1 MiB once in 5,000).
pub fn string(rng: &mut Rng, words: &Dictionary) -> String {
    match rng.below(12) {
        0..=3 => {
            let word = words.word(rng).to_owned();
            mutate_string(rng, words, word)
        }
        4 | 5 => words.word(rng).to_owned(),
        6 => rng.pick(TRICKY).to_string(),
        7 => (0..rng.below(40)).map(|_| char_of(rng)).collect(),
        8 => huge(rng),
        9 => {
            let glue = *rng.pick(&["", ":", "/", "@", "-", ".", " ", ","]);
            [words.word(rng), glue, words.word(rng)].concat()
        }
        10 => number(rng).to_string(),
        _ => String::new(),
    }
}

fn huge(rng: &mut Rng) -> String {
    let size = if rng.one_in(5_000) { 1 << 20 } else { *rng.pick(&[300, 1024, 4097, 65_536]) };
    let unit = rng.pick(&["x", "é", "\n", "\u{0}", "ab:", "😀"]).to_string();
    unit.repeat(size / unit.len().max(1))
}

/// One small edit: a character inserted, removed or replaced, case flipped, a tricky affix, a cut.
pub fn mutate_string(rng: &mut Rng, words: &Dictionary, text: String) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let at = rng.below(chars.len() + 1);
    match rng.below(9) {
        0 => chars.insert(at, char_of(rng)),
        1 if at < chars.len() => {
            chars.remove(at);
        }
        2 if at < chars.len() => chars[at] = char_of(rng),
        3 => return text.to_ascii_lowercase(),
        4 => return text.to_ascii_uppercase(),
        5 => return format!("{}{text}", rng.pick(TRICKY)),
        6 => return format!("{text}{}", rng.pick(TRICKY)),
        7 => chars.truncate(at),
        8 => return format!("{text}{}", words.word(rng)),
        _ => chars.push(char_of(rng)),
    }
    chars.into_iter().collect()
}

/// Random JSON, at most `depth` levels deep.
pub fn value(rng: &mut Rng, words: &Dictionary, depth: usize) -> Value {
    let kinds = if depth == 0 { 4 } else { 6 };
    match rng.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.one_in(2)),
        2 => number(rng),
        3 => Value::String(string(rng, words)),
        4 => Value::Array((0..rng.below(4)).map(|_| value(rng, words, depth - 1)).collect()),
        _ => Value::Object((0..rng.below(4)).map(|_| (key(rng, words), value(rng, words, depth - 1))).collect()),
    }
}

fn key(rng: &mut Rng, words: &Dictionary) -> String {
    let word = words.word(rng).to_owned();
    if rng.one_in(2) { word } else { mutate_string(rng, words, word) }
}

/// A node of `value`, reached by a random walk from the root (the root itself too).
fn node<'a>(rng: &mut Rng, value: &'a mut Value) -> &'a mut Value {
    let len = match value {
        Value::Array(items) => items.len(),
        Value::Object(fields) => fields.len(),
        _ => 0,
    };
    if len == 0 || rng.one_in(4) {
        return value;
    }
    let at = rng.below(len);
    match value {
        Value::Array(items) => node(rng, &mut items[at]),
        Value::Object(fields) => node(rng, fields.values_mut().nth(at).expect("an index below the length")),
        _ => unreachable!("only containers have children"),
    }
}

/// The same value as another JSON type: `"42"` for 42, an object for an array, …
fn swapped(rng: &mut Rng, words: &Dictionary, value: &Value) -> Value {
    match value {
        Value::String(text) => {
            serde_json::from_str::<Number>(text).map(Value::Number).unwrap_or_else(|_| Value::Array(vec![value.clone()]))
        }
        Value::Number(number) => Value::String(number.to_string()),
        Value::Bool(flag) => Value::String(flag.to_string()),
        Value::Null => Value::Object(Map::new()),
        Value::Array(items) => Value::Object(items.iter().map(|item| (key(rng, words), item.clone())).collect()),
        Value::Object(fields) => Value::Array(fields.values().cloned().collect()),
    }
}

/// Nodes and string bytes (in units of 64) of `value`, counted up to `limit`.
fn weight(value: &Value, limit: usize) -> usize {
    match value {
        Value::String(text) => 1 + text.len() / 64,
        Value::Array(items) => items.iter().fold(1, |sum, item| if sum >= limit { sum } else { sum + weight(item, limit - sum) }),
        Value::Object(fields) => fields.values().fold(1, |sum, item| if sum >= limit { sum } else { sum + weight(item, limit - sum) }),
        _ => 1,
    }
}

/// 1 to 4 mutations of `value`; at most one of them nests (the Lambda runtime refuses JSON
/// deeper than 128 levels before any handler sees it), and at most one grows an array.
pub fn mutate(rng: &mut Rng, words: &Dictionary, value: &mut Value) {
    let (mut nested, mut grown) = (false, false);
    for _ in 0..1 + rng.below(4) {
        if rng.one_in(60) {
            *value = self::value(rng, words, 3);
            continue;
        }
        let at = node(rng, value);
        match rng.below(13) {
            0 | 1 => {
                if let Value::Object(fields) = at
                    && !fields.is_empty()
                {
                    let key = fields.keys().nth(rng.below(fields.len())).cloned().expect("a key");
                    fields.remove(&key);
                }
            }
            2 => *at = self::value(rng, words, 2),
            3 => *at = swapped(rng, words, at),
            4 => {
                *at = match at.take() {
                    Value::String(text) => Value::String(mutate_string(rng, words, text)),
                    _ => Value::String(string(rng, words)),
                }
            }
            5 => *at = number(rng),
            6 => {
                if let Value::Object(fields) = at {
                    fields.insert(key(rng, words), self::value(rng, words, 2));
                }
            }
            7 => {
                if let Value::Object(fields) = at
                    && !fields.is_empty()
                {
                    let old = fields.keys().nth(rng.below(fields.len())).cloned().expect("a key");
                    let item = fields.remove(&old).expect("the key's value");
                    fields.insert(mutate_string(rng, words, old), item);
                }
            }
            8 if !nested => {
                nested = true;
                for _ in 0..1 + rng.below(100) {
                    let inner = at.take();
                    *at = if rng.one_in(2) {
                        Value::Array(vec![inner])
                    } else {
                        Value::Object([(key(rng, words), inner)].into_iter().collect())
                    };
                }
            }
            9 => *at = Value::String(huge(rng)),
            10 => *at = Value::Null,
            11 if !grown => {
                grown = true;
                if let Value::Array(items) = at
                    && let Some(first) = items.first().cloned()
                {
                    // Many copies of something small, a few of something big: inputs stay
                    // within what Lambda accepts (6 MB for a synchronous invocation).
                    let copies = if weight(&first, 64) < 64 { rng.below(2_000) } else { rng.below(8) };
                    items.extend(std::iter::repeat_n(first, copies));
                } else {
                    *at = if rng.one_in(2) { Value::Array(Vec::new()) } else { Value::Object(Map::new()) };
                }
            }
            _ => *at = Value::String(string(rng, words)),
        }
    }
}
