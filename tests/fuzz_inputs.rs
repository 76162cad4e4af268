//! Any input ends in a result or a located error, in bounded time and memory (issue 18).
//!
//! - The fuzz campaign's reproducers (`tests/fixtures/fuzz`, README there) through the binary:
//!   every command that reads a plan, and `fsi types` (then `--check`) on every DTO set, ends
//!   with exit 0, or exit 2 naming `file:line:col`, within 5 s.
//! - A time-budgeted mutation loop over those fixtures and the valid plans and DTOs of the other
//!   tests: `FSI_FUZZ_SECS` seconds per target (plans, DTOs; default 60), seed `FSI_FUZZ_SEED`
//!   (default: the clock; printed). Each mutant goes through the engines in process
//!   ([`fsi::session::load`], [`fsi::typesync::generate`]) and the error printer (miette, as the
//!   CLI renders it; panics caught), and every `FSI_FUZZ_CLI_EVERY`th (default 20) through the
//!   binary as well, which also catches aborts (a stack overflow) and exit codes. Findings are
//!   saved under `target/fuzz-findings/`; the input being tried is in `current.*` there, so an
//!   abort of this process leaves it behind. Counts are printed at the end; any finding fails.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::Regex;

const LIMIT: Duration = Duration::from_secs(5);

static LOCATED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[^\s:\[\]]+:\d+:\d+").unwrap());

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    manifest().join("tests/fixtures/fuzz")
}

fn findings_dir() -> PathBuf {
    let d = manifest().join("target/fuzz-findings");
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Ok,
    Panic,
    Abort,
    Slow,
    Unlocated,
    BadExit,
}

struct Outcome {
    verdict: Verdict,
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
}

/// Run the binary with a 5 s deadline (killed after it); judge the result.
fn run_fsi<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Outcome {
    let err_path = tempfile::NamedTempFile::new().unwrap();
    let err_file = err_path.reopen().unwrap();
    let out_path = tempfile::NamedTempFile::new().unwrap();
    let out_file = out_path.reopen().unwrap();
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fsi"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&std::fs::read(err_path.path()).unwrap()).into_owned();
    let stdout = String::from_utf8_lossy(&std::fs::read(out_path.path()).unwrap()).into_owned();
    // `--json` reports problems on stdout, each with its `location`.
    let located =
        LOCATED.is_match(&stderr) || (stdout.contains("\"location\"") && LOCATED.is_match(&stdout));
    use std::os::unix::process::ExitStatusExt;
    let code = status.and_then(|s| s.code());
    let verdict = match status {
        None => Verdict::Slow,
        Some(s) if s.signal().is_some() => Verdict::Abort,
        Some(_) if elapsed > LIMIT => Verdict::Slow,
        Some(_) => match code {
            Some(0) => Verdict::Ok,
            Some(2) if located => Verdict::Ok,
            Some(2) => Verdict::Unlocated,
            Some(101) => Verdict::Panic,
            _ => Verdict::BadExit,
        },
    };
    Outcome {
        verdict,
        code,
        stderr,
        elapsed,
    }
}

fn assert_ok(what: &str, o: &Outcome) {
    assert_eq!(
        o.verdict,
        Verdict::Ok,
        "{what}: exit {:?} after {:?}\n{}",
        o.code,
        o.elapsed,
        o.stderr.chars().take(3000).collect::<String>()
    );
}

fn plan_fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures().join("plans"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn dto_fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures().join("dtos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

// ------------------------------------------------------------------ reproducers

#[test]
fn every_plan_reproducer_validates_or_fails_located_within_5s() {
    let work = tempfile::tempdir().unwrap();
    let files = plan_fixtures();
    assert!(files.len() >= 19, "{files:?}");
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        for json in [false, true] {
            let mut args: Vec<&OsStr> = vec!["sessions".as_ref(), "validate".as_ref()];
            args.extend([OsStr::new("--plan"), f.as_os_str()]);
            if json {
                args.push("--json".as_ref());
            }
            let o = run_fsi(work.path(), &args);
            assert_ok(&format!("validate {name} (json: {json})"), &o);
        }
    }
}

/// The commands that render the plan error (the printer panicked past column 65,535 in all of
/// them), on the wide-column and deep reproducers.
#[test]
fn every_plan_command_survives_the_minimal_reproducers() {
    let work = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &["sessions", "list"],
        &["sessions", "show", "A-01"],
        &["sessions", "graph"],
        &["plan"],
        &["run", "--dry-run", "--all"],
        &["ci", "github"],
        &["sessions", "list", "--json"],
    ];
    for f in plan_fixtures()
        .iter()
        .filter(|f| f.file_name().unwrap().to_string_lossy().starts_with("min-"))
    {
        let name = f.file_name().unwrap().to_string_lossy();
        for c in commands {
            let mut args: Vec<&OsStr> = c.iter().map(OsStr::new).collect();
            args.extend([OsStr::new("--plan"), f.as_os_str()]);
            let o = run_fsi(work.path(), &args);
            assert_ok(&format!("{} {name}", c.join(" ")), &o);
        }
    }
}

#[test]
fn every_dto_reproducer_generates_or_fails_located_within_5s() {
    let sets = dto_fixtures();
    assert!(sets.len() >= 10, "{sets:?}");
    for d in &sets {
        let name = d.file_name().unwrap().to_string_lossy();
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("out");
        let gen_args: Vec<&OsStr> = vec![
            "types".as_ref(),
            "--from".as_ref(),
            d.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        let g = run_fsi(work.path(), &gen_args);
        assert_ok(&format!("types {name}"), &g);
        let mut check_args = gen_args.clone();
        check_args.push("--check".as_ref());
        let c = run_fsi(work.path(), &check_args);
        assert_ok(&format!("types --check {name}"), &c);
        assert_eq!(
            g.code, c.code,
            "types {name}: --check disagrees\n{}",
            c.stderr
        );
    }
}

#[test]
fn dto_reproducers_end_as_the_issue_asks() {
    // What each reproducer must end in, not just "no crash".
    let expect: &[(&str, i32, &str)] = &[
        ("stackoverflow-alias-cycle", 0, "refers to itself"),
        ("badexit-selfref-20b355a09b", 0, "refers to itself"),
        ("stackoverflow-deep-type", 2, "too many nested parentheses"),
        ("slow-chain", 2, "inherits through more than 64 levels"),
        ("panic-wide-column", 2, "the line is too long to show"),
        ("unlocated-byteflip-000ba47321", 2, "not valid UTF-8"),
        ("slow-literal", 0, ""),
    ];
    for (name, code, text) in expect {
        let work = tempfile::tempdir().unwrap();
        let d = fixtures().join("dtos").join(name);
        let out = work.path().join("out");
        let o = run_fsi(
            work.path(),
            &[
                OsStr::new("types"),
                "--from".as_ref(),
                d.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ],
        );
        assert_eq!(o.code, Some(*code), "{name}\n{}", o.stderr);
        assert!(
            o.stderr.contains(text),
            "{name}: no `{text}` in\n{}",
            o.stderr
        );
    }
    // A star import of typing resolves (no "cannot resolve `TypeVar`"-style warning).
    let work = tempfile::tempdir().unwrap();
    let pkg = work.path().join("pkg");
    std::fs::create_dir_all(pkg.join("m")).unwrap();
    std::fs::write(pkg.join("m/__init__.py"), "").unwrap();
    std::fs::write(
        pkg.join("m/base.py"),
        "from typing import *\nfrom pydantic import *\n__all__ = [\"Base\", \"Tag\"]\n\
         class Base(BaseModel):\n    ids: List[int]\nclass Tag(BaseModel):\n    name: str\n\
         class Hidden(BaseModel):\n    x: int\n",
    )
    .unwrap();
    std::fs::write(
        pkg.join("m/dtos.py"),
        "from .base import *\nfrom typing import Optional\nclass Item(Base):\n    tag: Optional[Tag] = None\n    h: Hidden\n",
    )
    .unwrap();
    let out = work.path().join("out");
    let o = run_fsi(
        work.path(),
        &[
            OsStr::new("types"),
            "--from".as_ref(),
            pkg.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(!o.stderr.contains("List"), "{}", o.stderr);
    assert!(!o.stderr.contains("`Tag`"), "{}", o.stderr);
    // `Hidden` is not in base's __all__: a star import does not bind it.
    assert!(o.stderr.contains("cannot resolve `Hidden`"), "{}", o.stderr);
    let ts = std::fs::read_to_string(out.join("dtos.ts")).unwrap();
    assert!(ts.contains("export interface Item extends Base"), "{ts}");
    assert!(ts.contains("tag?: Tag | null"), "{ts}");
}

/// Left-nested chains (`A | B | …`, `a.b.c…`) are walked, not recursed: 20,000 links
/// overflowed the stack.
#[test]
fn long_chains_in_type_positions_end() {
    let work = tempfile::tempdir().unwrap();
    let pkg = work.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let n = 20_000;
    std::fs::write(
        pkg.join("dtos.py"),
        format!(
            "import typing\nfrom pydantic import BaseModel\nclass A(BaseModel):\n    u: {}\n    a: {}\n",
            vec!["int"; n].join(" | "),
            vec!["typing"; n].join(".")
        ),
    )
    .unwrap();
    let out = work.path().join("out");
    let o = run_fsi(
        work.path(),
        &[
            OsStr::new("types"),
            "--from".as_ref(),
            pkg.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_ok("chains", &o);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let ts = std::fs::read_to_string(out.join("dtos.ts")).unwrap();
    assert!(ts.contains("u: number;"), "{ts}");
}

#[test]
fn proto_alias_is_a_field_not_a_prototype() {
    let work = tempfile::tempdir().unwrap();
    let pkg = work.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("dtos.py"),
        "from pydantic import BaseModel, Field\nclass P(BaseModel):\n    x: int = Field(alias=\"__proto__\")\n",
    )
    .unwrap();
    let out = work.path().join("out");
    let o = run_fsi(
        work.path(),
        &[
            OsStr::new("types"),
            "--from".as_ref(),
            pkg.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let zod = std::fs::read_to_string(out.join("dtos.zod.ts")).unwrap();
    assert!(zod.contains("[\"__proto__\"]: z.number()"), "{zod}");
    assert!(!zod.contains("  __proto__:"), "{zod}");
    assert!(!zod.contains("  \"__proto__\":"), "{zod}");
}

/// A dependency cycle through 20,000 sessions (petgraph's Tarjan recursed once per session)
/// and a chain of 20,000: one located error, and an order.
#[test]
fn twenty_thousand_sessions_in_a_cycle_or_a_chain() {
    let work = tempfile::tempdir().unwrap();
    let n = 20_000;
    for cycle in [true, false] {
        let mut plan = String::new();
        for i in 0..n {
            plan.push_str(&format!("<session id=\"S-{i}\">\n"));
            if i > 0 || cycle {
                let p = (i + n - 1) % n;
                plan.push_str(&format!(
                    "<dependencies><requires>S-{p}</requires></dependencies>\n"
                ));
            }
            plan.push_str("</session>\n");
        }
        std::fs::write(work.path().join("plan.xml"), plan).unwrap();
        for cmd in [&["sessions", "validate"][..], &["plan"][..]] {
            let mut args: Vec<&str> = cmd.to_vec();
            args.extend(["--plan", "plan.xml"]);
            let o = run_fsi(work.path(), &args);
            assert_ok(&format!("{cmd:?} (cycle: {cycle})"), &o);
            assert_eq!(o.code, Some(if cycle { 2 } else { 0 }), "{}", o.stderr);
            if cycle {
                assert!(
                    o.stderr.contains("dependency cycle: S-0 -> S-19999"),
                    "{}",
                    &o.stderr[..500]
                );
                assert!(o.stderr.contains("more places"), "{}", &o.stderr[..500]);
            }
        }
    }
}

#[test]
fn plan_paths_outside_the_project_are_refused_with_a_location() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("proj");
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(work.path(), root.join("up")).unwrap();
    let cases = [
        ("../x.txt", true),
        ("/tmp/x.txt", true),
        ("up/x.txt", true),
        ("a/../../x.txt", true),
        ("a/../b.txt", false),
        ("src/new.txt", false),
    ];
    for (file, refused) in cases {
        for action in ["CREATE", "REPLACE_PLACEHOLDER"] {
            let plan = format!(
                "<session id=\"A-01\">\n<tasks>\n<task id=\"1\" action=\"{action}\" file=\"{file}\"><find_marker>M</find_marker><code_snippet>x</code_snippet></task>\n</tasks>\n</session>\n"
            );
            std::fs::write(root.join("plan.xml"), plan).unwrap();
            let o = run_fsi(&root, &["sessions", "validate", "--plan", "plan.xml"]);
            if refused {
                assert_eq!(o.code, Some(2), "{action} {file}: {}", o.stderr);
                assert!(o.stderr.contains("outside-project"), "{}", o.stderr);
                assert!(o.stderr.contains("plan.xml:3:1"), "{}", o.stderr);
            } else {
                assert_eq!(o.code, Some(0), "{action} {file}: {}", o.stderr);
            }
        }
    }
}

#[test]
fn a_300_character_project_name_is_a_usage_error() {
    let work = tempfile::tempdir().unwrap();
    let name = "a".repeat(300);
    let o = run_fsi(work.path(), &["new", name.as_str(), "--yes"]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(
        o.stderr.contains("is not a usable project name"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("at most"), "{}", o.stderr);
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
}

// ------------------------------------------------------------------ mutation loop

/// A small, fast PRNG (xorshift64*): no dependency, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const MAX_INPUT: usize = 1 << 20;

/// The commands a plan mutant is also run through (the binary).
const PLAN_COMMANDS: &[&[&str]] = &[
    &["sessions", "validate"],
    &["sessions", "validate", "--json"],
    &["sessions", "list"],
    &["plan"],
    &["sessions", "graph"],
    &["ci", "github"],
    &["run", "--dry-run", "--all"],
];

const PLAN_TOKENS: &[&str] = &[
    "@CHAIN",
    "<session id=\"A-01\">",
    "<session id=\"B-02\" project=\"{project}\">\n",
    "</session>",
    "\n</session>\n",
    "<session id=\"C-01\"/>",
    "<tasks>",
    "</tasks>",
    "<task id=\"1\" action=\"CREATE\" file=\"a.txt\">",
    "<task id=\"2\" action=\"REPLACE_PLACEHOLDER\" file=\"../x\">",
    "file=\"/etc/passwd\"",
    "</task>",
    "<code_snippet language=\"ts\">",
    "</code_snippet>",
    "<find_marker>",
    "</find_marker>",
    "<metadata>",
    "</metadata>",
    "<title>",
    "</title>",
    "<wave>x</wave>",
    "<dependencies>",
    "</dependencies>",
    "<requires status=\"complete\">A-01</requires>",
    "<depends>B-02</depends>",
    "<verification>",
    "</verification>",
    "<check name=\"c\" command=\"true\" timeout=\"zz\" retries=\"-1\">exit 0</check>",
    "<integration_gate enabled=\"true\">",
    "</integration_gate>",
    "<services><service name=\"db\" port=\"99999\" log=\"../../l\"/></services>",
    "<forbidden paths=\"[,**\"><pattern>x</pattern></forbidden>",
    "<a>",
    "</a>",
    "<b x=\"",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?xml version=\"1.0\"?>",
    "<!DOCTYPE x [<!ENTITY e \"&e;&e;\">]>",
    "&amp;",
    "&#x1F600;",
    "&#99999999;",
    "&#xD800;",
    "&",
    "<",
    ">",
    "\"",
    "'",
    "\\\"",
    "{project}",
    "{N+1}",
    "{PROJECT}",
    "{{",
    "}}",
    "é",
    "\u{FEFF}",
    "\u{0}",
    "\r\n",
    "\n",
    "\t",
    "```xml\n",
    "### A-01 Session: T\n",
];

const PY_TOKENS: &[&str] = &[
    "@CHAIN",
    "int | ",
    "typing.",
    "class X(BaseModel):\n    x: int\n",
    "class Y(X):\n    y: str\n",
    "    z: int\n",
    "from typing import *\n",
    "from pydantic import *\n",
    "from . import *\n",
    "from .dtos import *\n",
    "__all__ = [\"X\"]\n",
    "A = B\nB = A\n",
    "C = C\n",
    "T = TypeVar(\"T\")\n",
    "type U = list[U]\n",
    "List[",
    "Optional[",
    "Literal[",
    "Union[",
    "Annotated[",
    "dict[str, ",
    "]",
    "1, ",
    "\"a\", ",
    " | ",
    "int | None",
    "Field(alias=\"__proto__\")",
    "Field(default=None, alias=\"constructor\")",
    "model_config = ConfigDict(populate_by_name=True)\n",
    "@computed_field\n    @property\n    def p(self) -> int: ...\n",
    "(",
    ")",
    "[",
    "{",
    "}",
    "\"\"\"",
    "'",
    "#",
    "\\",
    ":",
    "    ",
    "\t",
    "\n",
    "\r\n",
    "é",
    "\u{0}",
    "Generic[T]",
    "class Z(Z):\n    pass\n",
];

/// A generated structure many links long: sessions each requiring the previous one (closing a
/// cycle or not), or models each inheriting from / referring to the previous one.
fn chain(rng: &mut Rng, plan: bool) -> Vec<u8> {
    use std::fmt::Write;
    let n = [10, 100, 1_000, 5_000, 20_000][rng.below(5)];
    let cycle = rng.below(2) == 0;
    let mut out = String::new();
    for i in 0..n {
        let prev = if i > 0 {
            Some(i - 1)
        } else if cycle {
            Some(n - 1)
        } else {
            None
        };
        if plan {
            let _ = write!(out, "\n<session id=\"G-{i}\">\n");
            if let Some(p) = prev {
                let _ = writeln!(
                    out,
                    "<dependencies><requires>G-{p}</requires></dependencies>"
                );
            }
            out.push_str("</session>\n");
        } else {
            match (rng.below(2), prev) {
                (0, Some(p)) if p < i => {
                    let _ = writeln!(out, "class G{i}(G{p}):\n    f{i}: int");
                }
                (_, Some(p)) => {
                    let _ = writeln!(out, "class G{i}(BaseModel):\n    r: \"G{p} | None\" = None");
                }
                _ => {
                    let _ = writeln!(out, "class G{i}(BaseModel):\n    x: int");
                }
            }
        }
    }
    out.into_bytes()
}

/// Mutate `input` (1–4 operations) using `tokens` and bytes of the other seeds.
fn mutate(rng: &mut Rng, input: &[u8], tokens: &[&str], others: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(12) {
            0 => {
                if !v.is_empty() {
                    let i = rng.below(v.len());
                    v[i] = rng.next() as u8;
                }
            }
            1 => {
                let len = rng.below(64.min(v.len() - at.min(v.len())) + 1);
                v.drain(at..(at + len).min(v.len()));
            }
            2 => {
                let len = rng.below(256.min(v.len() - at.min(v.len())) + 1);
                let piece = v[at..(at + len).min(v.len())].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, piece);
            }
            3..=5 => {
                let t = rng.pick(tokens);
                let t = if *t == "@CHAIN" {
                    chain(rng, tokens == PLAN_TOKENS)
                } else {
                    t.as_bytes().to_vec()
                };
                v.splice(at..at, t);
            }
            6 => {
                // A bomb: one token many times (deep or unclosed elements, long unions).
                let t = rng.pick(tokens);
                let n = [10, 100, 300, 2_000, 20_000][rng.below(5)];
                let piece = t.repeat(n).into_bytes();
                v.splice(at..at, piece);
            }
            7 => {
                // A long line: past miette's column limit.
                let n = [1_000, 66_000, 70_000][rng.below(3)];
                v.splice(at..at, std::iter::repeat_n(b'x', n));
            }
            8 => {
                let bad: &[&[u8]] = &[b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\0"];
                v.splice(at..at, rng.pick(bad).iter().copied());
            }
            9 => {
                // CRLF line ends.
                let mut out = Vec::with_capacity(v.len() + v.len() / 20);
                for &b in &v {
                    if b == b'\n' {
                        out.push(b'\r');
                    }
                    out.push(b);
                }
                v = out;
            }
            10 => {
                if !others.is_empty() {
                    let o = rng.pick(others);
                    let s = rng.below(o.len() + 1);
                    let len = rng.below(2048.min(o.len() - s) + 1);
                    v.splice(at..at, o[s..s + len].iter().copied());
                }
            }
            _ => v.truncate(at),
        }
        if v.len() > MAX_INPUT {
            v.truncate(MAX_INPUT);
        }
    }
    v
}

#[derive(Default, Debug)]
struct Counts {
    inputs: u64,
    cli_runs: u64,
    ok: u64,
    located_errors: u64,
    panics: u64,
    aborts: u64,
    slow: u64,
    unlocated: u64,
    bad_exit: u64,
    max_ms: u128,
}

impl Counts {
    fn findings(&self) -> u64 {
        self.panics + self.aborts + self.slow + self.unlocated + self.bad_exit
    }
    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Ok => {}
            Verdict::Panic => self.panics += 1,
            Verdict::Abort => self.aborts += 1,
            Verdict::Slow => self.slow += 1,
            Verdict::Unlocated => self.unlocated += 1,
            Verdict::BadExit => self.bad_exit += 1,
        }
    }
}

fn budget() -> Duration {
    let secs = std::env::var("FSI_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

fn seed() -> u64 {
    std::env::var("FSI_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
        | 1
}

fn cli_every() -> u64 {
    std::env::var("FSI_FUZZ_CLI_EVERY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .max(1)
}

fn save_finding(kind: Verdict, n: u64, name: &str, data: &[(String, Vec<u8>)], note: &str) {
    let d = findings_dir().join(format!("{kind:?}-{n}-{name}").to_lowercase());
    std::fs::create_dir_all(&d).unwrap();
    for (rel, bytes) in data {
        let p = d.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    std::fs::write(d.join("NOTE.txt"), note).unwrap();
}

/// Run `f` on a thread with the main thread's stack (8 MiB), catching a panic.
fn in_process<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)))
        .unwrap()
        .join()
        .unwrap_or_else(|e| Err(e))
        .map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
}

/// Render as the CLI does (default miette handler, with the hook the binary installs).
fn render(report: miette::Report) -> String {
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .break_words(false)
                .color(false)
                .width(80)
                .build(),
        )
    }));
    format!("{report:?}")
}

/// One plan through the engine and the printer: its verdict and whether it had errors.
fn plan_in_process(root: &Path, file: &Path) -> (Verdict, String) {
    let root = root.to_path_buf();
    let file = file.to_path_buf();
    let r = in_process(move || {
        let set = fsi::session::load(&root, &[file], &fsi::session::Vars::new(BTreeMap::new()));
        let unlocated: Vec<String> = set
            .problems
            .iter()
            .filter(|p| p.is_error() && (p.file.is_none() || p.span.is_none()))
            .map(|p| p.message.clone())
            .collect();
        // Every problem (warnings too) rendered, plain and as the CLI does.
        let _ = fsi::session::diag::render_plain(&set.problems, &set.files);
        let _ = set.located_problems();
        let mut text = String::new();
        if let Err(e) = set.check() {
            text = render(miette::Report::new(e));
            if !LOCATED.is_match(&text) {
                return (Verdict::Unlocated, text);
            }
        }
        if !unlocated.is_empty() {
            return (Verdict::Unlocated, unlocated.join("\n"));
        }
        // Ok, with the rendered errors when there were any.
        (Verdict::Ok, text)
    });
    r.unwrap_or_else(|p| (Verdict::Panic, p))
}

/// One DTO set through the engine and the printer.
fn dtos_in_process(root: &Path) -> (Verdict, String) {
    let root = root.to_path_buf();
    let r = in_process(move || {
        let config = fsi::typesync::TypesConfig {
            roots: vec!["pkg".into()],
            package_root: "pkg".into(),
            out_dir: "out".into(),
            by_alias: true,
            zod: true,
        };
        match fsi::typesync::generate(&root, &config) {
            Ok(g) => {
                let _ = fsi::typesync::check(&root, &g);
                (Verdict::Ok, String::new())
            }
            Err(e) => {
                let text = render(miette::Report::new(e));
                if LOCATED.is_match(&text) {
                    (Verdict::Ok, text)
                } else {
                    (Verdict::Unlocated, text)
                }
            }
        }
    });
    r.unwrap_or_else(|p| (Verdict::Panic, p))
}

fn read_dir_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, std::fs::read(e.path()).unwrap()));
        }
    }
    out
}

/// The counts, on stderr (shown with `--nocapture`, and in a failure's output).
#[allow(clippy::print_stderr)]
fn report(target: &str, seed: u64, c: &Counts, started: Instant) {
    eprintln!(
        "fuzz {target}: seed {seed}, {:.0} s: {} inputs ({} also through the binary): {} ok, {} located errors; \
         panics {}, aborts {}, >5 s {}, unlocated errors {}, bad exit codes {}; slowest {} ms",
        started.elapsed().as_secs_f64(),
        c.inputs,
        c.cli_runs,
        c.ok,
        c.located_errors,
        c.panics,
        c.aborts,
        c.slow,
        c.unlocated,
        c.bad_exit,
        c.max_ms
    );
}

#[test]
fn fuzz_plans() {
    let budget = budget();
    let seed = seed();
    let mut rng = Rng(seed);
    let every = cli_every();
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for dir in [
        "tests/fixtures/sessions/valid",
        "tests/fixtures/sessions/invalid",
    ] {
        for (_, bytes) in read_dir_files(&manifest().join(dir)) {
            seeds.push(bytes);
        }
    }
    for f in plan_fixtures() {
        let b = std::fs::read(&f).unwrap();
        if b.len() <= 300_000 {
            seeds.push(b);
        }
    }
    let work = tempfile::tempdir().unwrap();
    let current = findings_dir().join("current-plan.xml");
    let mut c = Counts::default();
    let started = Instant::now();
    while started.elapsed() < budget {
        let base = rng.pick(&seeds).clone();
        let input = mutate(&mut rng, &base, PLAN_TOKENS, &seeds);
        let ext = if rng.below(4) == 0 { "md" } else { "xml" };
        let file = work.path().join(format!("plan.{ext}"));
        std::fs::write(&file, &input).unwrap();
        std::fs::write(&current, &input).unwrap();
        c.inputs += 1;
        let t = Instant::now();
        let (mut verdict, mut note) = plan_in_process(work.path(), &file);
        let el = t.elapsed();
        c.max_ms = c.max_ms.max(el.as_millis());
        if verdict == Verdict::Ok && el > LIMIT {
            verdict = Verdict::Slow;
            note = format!("{el:?} in process");
        }
        if verdict == Verdict::Ok && !note.is_empty() {
            c.located_errors += 1;
        }
        if verdict == Verdict::Ok && c.inputs.is_multiple_of(every) {
            c.cli_runs += 1;
            let cmd = PLAN_COMMANDS[rng.below(PLAN_COMMANDS.len())];
            let mut args: Vec<&OsStr> = cmd.iter().map(OsStr::new).collect();
            args.extend([OsStr::new("--plan"), file.as_os_str()]);
            let o = run_fsi(work.path(), &args);
            if o.verdict != Verdict::Ok {
                verdict = o.verdict;
                note = format!(
                    "{}: exit {:?} after {:?}\n{}",
                    cmd.join(" "),
                    o.code,
                    o.elapsed,
                    o.stderr
                );
            }
        }
        c.add(verdict);
        if verdict == Verdict::Ok {
            c.ok += 1;
        } else {
            save_finding(
                verdict,
                c.inputs,
                "plan",
                &[(format!("plan.{ext}"), input)],
                &note,
            );
        }
    }
    let _ = std::fs::remove_file(&current);
    report("plans", seed, &c, started);
    assert_eq!(
        c.findings(),
        0,
        "findings saved under target/fuzz-findings: {c:?}"
    );
}

#[test]
fn fuzz_dtos() {
    let budget = budget();
    let seed = seed() ^ 0x9E37_79B9_7F4A_7C15;
    let mut rng = Rng(seed | 1);
    let every = cli_every();
    // A seed is a whole package: the reproducers' sets, and each typesync case with `common`.
    let mut sets: Vec<Vec<(String, Vec<u8>)>> =
        dto_fixtures().iter().map(|d| read_dir_files(d)).collect();
    let cases = manifest().join("tests/fixtures/typesync");
    let common = read_dir_files(&cases.join("common"));
    for (name, bytes) in read_dir_files(&cases.join("cases")) {
        let mut set: Vec<(String, Vec<u8>)> = common
            .iter()
            .map(|(r, b)| (format!("common/{r}"), b.clone()))
            .collect();
        set.push((format!("modules/{name}"), bytes));
        sets.push(set);
    }
    sets.retain(|s| s.iter().map(|(_, b)| b.len()).sum::<usize>() <= 300_000);
    let all_bytes: Vec<Vec<u8>> = sets.iter().flatten().map(|(_, b)| b.clone()).collect();
    let work = tempfile::tempdir().unwrap();
    let mut c = Counts::default();
    let started = Instant::now();
    while started.elapsed() < budget {
        let mut set = rng.pick(&sets).clone();
        let k = rng.below(set.len());
        set[k].1 = mutate(&mut rng, &set[k].1, PY_TOKENS, &all_bytes);
        let pkg = work.path().join("pkg");
        let _ = std::fs::remove_dir_all(&pkg);
        let _ = std::fs::remove_dir_all(work.path().join("out"));
        for (rel, bytes) in &set {
            let p = pkg.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, bytes).unwrap();
        }
        save_current_dtos(&set);
        c.inputs += 1;
        let t = Instant::now();
        let (mut verdict, mut note) = dtos_in_process(work.path());
        let el = t.elapsed();
        c.max_ms = c.max_ms.max(el.as_millis());
        if verdict == Verdict::Ok && el > LIMIT {
            verdict = Verdict::Slow;
            note = format!("{el:?} in process");
        }
        if verdict == Verdict::Ok && !note.is_empty() {
            c.located_errors += 1;
        }
        if verdict == Verdict::Ok && c.inputs.is_multiple_of(every) {
            c.cli_runs += 1;
            let o = run_fsi(work.path(), &["types", "--from", "pkg", "--out", "out2"]);
            if o.verdict != Verdict::Ok {
                verdict = o.verdict;
                note = format!(
                    "types: exit {:?} after {:?}\n{}",
                    o.code, o.elapsed, o.stderr
                );
            }
        }
        c.add(verdict);
        if verdict == Verdict::Ok {
            c.ok += 1;
        } else {
            let files: Vec<(String, Vec<u8>)> = set
                .iter()
                .map(|(r, b)| (format!("pkg/{r}"), b.clone()))
                .collect();
            save_finding(verdict, c.inputs, "dtos", &files, &note);
        }
    }
    let _ = std::fs::remove_dir_all(current_dtos_dir());
    report("dtos", seed, &c, started);
    assert_eq!(
        c.findings(),
        0,
        "findings saved under target/fuzz-findings: {c:?}"
    );
}

/// Where the DTO set under test is written while it runs (a crash leaves it there). One per
/// process: a debug and a release run of this harness may run side by side.
fn current_dtos_dir() -> PathBuf {
    findings_dir().join(format!("current-dtos-{}", std::process::id()))
}

fn save_current_dtos(set: &[(String, Vec<u8>)]) {
    let d = current_dtos_dir();
    let _ = std::fs::remove_dir_all(&d);
    for (rel, bytes) in set {
        let p = d.join("pkg").join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}
