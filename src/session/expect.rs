//! The expected-text mini-language of verification checks (guide §5.3): the text of a
//! `<check command="…">expected</check>`.
//!
//! | text | passes when |
//! |---|---|
//! | empty, `exit 0`, `present`, `ok`, `identical`, `No errors`, `Compiles`, `All pass`, `Valid JSON`, … | exit status 0 |
//! | `exit N` | exit status N |
//! | `N` (bare integer) | stdout, trimmed, is the number N (`wc -l` padding and a trailing file name are ignored) |
//! | `>= N`, `<= N`, `> N`, `< N`, `== N` (also `>>= N`, as raw files write it) | the last number in stdout compares |
//! | `N files`, `N tools …` | a number followed by that word in stdout equals N (else the last number) |
//! | `N+ …` | as above, at least N |
//! | anything else | exit status 0; the text is recorded as a note for the human |
//!
//! Numeric forms ignore the exit status (`grep -c` exits 1 when it counts 0) but need a number.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "form")]
pub enum Expectation {
    /// Exit status equals this.
    Exit { code: i32 },
    /// A numeric comparison against stdout.
    Number {
        op: Op,
        value: f64,
        /// Word that follows the number (`tests` in `21+ tests collected`).
        unit: Option<String>,
        /// Bare `N`: the whole trimmed stdout must be the number.
        whole: bool,
    },
    /// Exit 0, and the prose is shown to the human.
    Prose { text: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
}

impl Op {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Eq => (a - b).abs() < 1e-9,
            Op::Ge => a >= b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Lt => a < b,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Lt => "<",
        }
    }
}

static EXIT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^exit(?:\s+code)?\s*(?:=\s*)?(\d+)$").unwrap());
static CMP_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^>*?(>=|<=|==|=|>|<)\s*(-?\d+(?:\.\d+)?)\s*(.*)$").unwrap());
static COUNT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(-?\d+(?:\.\d+)?)(\+)?(?:\s+([A-Za-z_]+).*)?$").unwrap());
static NUMBER_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"-?\d+(?:\.\d+)?").unwrap());

const SUCCESS_WORDS: &[&str] = &[
    "",
    "present",
    "ok",
    "okay",
    "identical",
    "no errors",
    "no error",
    "compiles",
    "all pass",
    "all passed",
    "pass",
    "passes",
    "passed",
    "success",
    "succeeds",
    "valid json",
    "exists",
    "true",
    "clean",
];

impl Expectation {
    pub fn parse(text: &str) -> Expectation {
        let t = text.trim();
        let lower = t.to_lowercase();
        let lower = lower.trim_end_matches(['.', '!']);
        if SUCCESS_WORDS.contains(&lower) {
            return Expectation::Exit { code: 0 };
        }
        if let Some(c) = EXIT_RE.captures(t) {
            return Expectation::Exit {
                code: c[1].parse().unwrap_or(0),
            };
        }
        if let Some(c) = CMP_RE.captures(t) {
            let op = match &c[1] {
                ">=" => Op::Ge,
                "<=" => Op::Le,
                ">" => Op::Gt,
                "<" => Op::Lt,
                _ => Op::Eq,
            };
            return Expectation::Number {
                op,
                value: c[2].parse().unwrap_or(0.0),
                unit: c[3].split_whitespace().next().map(str::to_lowercase),
                whole: false,
            };
        }
        if let Some(c) = COUNT_RE.captures(t) {
            let value = c[1].parse().unwrap_or(0.0);
            let plus = c.get(2).is_some();
            let unit = c.get(3).map(|u| u.as_str().to_lowercase());
            return Expectation::Number {
                op: if plus { Op::Ge } else { Op::Eq },
                value,
                whole: !plus && unit.is_none(),
                unit,
            };
        }
        Expectation::Prose {
            text: t.to_string(),
        }
    }

    /// `Ok(note)` when the outcome matches, `Err(reason)` otherwise.
    pub fn evaluate(&self, exit_code: i32, stdout: &str) -> Result<Option<String>, String> {
        match self {
            Expectation::Exit { code } => {
                if exit_code == *code {
                    Ok(None)
                } else {
                    Err(format!("expected exit status {code}, got {exit_code}"))
                }
            }
            Expectation::Prose { text } => {
                if exit_code == 0 {
                    Ok(Some(format!(
                        "expected: {text} (confirm by reading the output)"
                    )))
                } else {
                    Err(format!("exit status {exit_code} (expected: {text})"))
                }
            }
            Expectation::Number {
                op,
                value,
                unit,
                whole,
            } => {
                let got = find_number(stdout, unit.as_deref(), *whole).ok_or_else(|| {
                    format!(
                        "expected a number {} {value} in the output, found none (exit status {exit_code})",
                        op.as_str()
                    )
                })?;
                if op.holds(got, *value) {
                    Ok(None)
                } else {
                    Err(format!(
                        "expected {} {}, got {}",
                        op.as_str(),
                        fmt_num(*value),
                        fmt_num(got)
                    ))
                }
            }
        }
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

fn find_number(stdout: &str, unit: Option<&str>, whole: bool) -> Option<f64> {
    let trimmed = stdout.trim();
    if whole {
        // `      4` (wc -l) or `4 file.txt` (wc -l file): the first token.
        return trimmed.split_whitespace().next()?.parse().ok();
    }
    if let Some(unit) = unit {
        let re = Regex::new(&format!(r"(?i)(-?\d+(?:\.\d+)?)\s+{}", regex::escape(unit))).ok()?;
        if let Some(c) = re.captures_iter(trimmed).last() {
            return c[1].parse().ok();
        }
    }
    NUMBER_RE
        .find_iter(trimmed)
        .last()
        .and_then(|m| m.as_str().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(expected: &str, code: i32, out: &str) -> bool {
        Expectation::parse(expected).evaluate(code, out).is_ok()
    }

    #[test]
    fn forms() {
        assert!(ok("exit 0", 0, ""));
        assert!(!ok("exit 0", 1, ""));
        assert!(ok("exit 2", 2, ""));
        assert!(ok("present", 0, ""));
        assert!(ok("All pass", 0, ""));
        assert!(ok("4", 0, "      4\n"));
        assert!(ok("4", 0, "4 file.txt\n"));
        assert!(!ok("4", 0, "5\n"));
        assert!(ok("0", 1, "0\n"));
        assert!(ok(">= 1", 0, "found 3\n"));
        assert!(ok(">>= 1", 0, "2"));
        assert!(!ok("<= 1", 0, "2"));
        assert!(ok("4 files", 0, "4\n"));
        assert!(ok(
            "21+ tests collected",
            0,
            "21 tests collected in 0.05s\n"
        ));
        assert!(ok(
            "21+ tests collected",
            0,
            "30 tests collected in 0.05s\n"
        ));
        assert!(!ok(
            "21+ tests collected",
            0,
            "3 tests collected in 0.05s\n"
        ));
        assert!(ok("No mock data", 0, ""));
        assert!(!ok("No mock data", 1, ""));
        assert!(!ok(">= 1", 0, "nothing"));
    }
}
