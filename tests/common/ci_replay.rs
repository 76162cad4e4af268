//! Replays a GitHub Actions workflow of a generated project, job by job and step by step, on
//! this machine: every job gets a fresh `git clone` of the project (what `actions/checkout`
//! gives a runner), `run:` steps run in bash with the workflow, job and step `env`, the job's
//! `defaults.run.working-directory` (or the step's), `CI=true`, `GITHUB_ACTIONS=true` and a
//! `$GITHUB_ENV` file whose assignments reach the job's later steps. `uses:` steps are emulated:
//! checkout = the clone, setup-python = a venv of the machine's python3 (its `python` and `pip`
//! first on PATH), setup-node = the machine's node (version checked), upload-artifact = skipped.
//! A job's `services` (postgres, redis) are started on free loopback ports (postgres.rs,
//! redis.rs) and env values naming their standard ports rewritten to those. `sudo apt-get`
//! steps are skipped only when every package they install is already installed (dpkg), else
//! the replay fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_yaml::Value;

use super::postgres::Postgres;
use super::redis::Redis;
use super::{run_ok, tail};

/// What a replay needs besides the workflow.
pub struct Replay {
    /// The repository each job clones.
    pub origin: PathBuf,
    /// Scratch space: job checkouts, the emulated Python, step logs.
    pub work: PathBuf,
    /// Directories put first on every step's PATH (e.g. where the install step puts `fsi`).
    pub path_prefix: Vec<PathBuf>,
    /// Extra environment for every step.
    pub env: BTreeMap<String, String>,
}

/// Seconds each job and step took, for the report.
#[derive(Debug, Default)]
pub struct Timings {
    pub steps: Vec<(String, String, Duration)>,
}

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

fn env_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(map) = v.and_then(Value::as_mapping) {
        for (k, v) in map {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => panic!("unsupported env value {other:?}"),
            };
            out.insert(k.as_str().expect("env key").to_string(), value);
        }
    }
    out
}

/// "major.minor" of `out` (`Python 3.11.7`, `v20.19.2`) as a comparable pair.
fn version_of(text: &str) -> (u32, u32) {
    let v = text
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .trim_start_matches('v');
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Packages of `sudo apt-get install [-y] a b …` in `script`; panics on other sudo commands.
fn apt_packages(script: &str) -> Vec<String> {
    let mut packages = Vec::new();
    for part in script.split("&&").map(str::trim) {
        let words: Vec<&str> = part.split_whitespace().collect();
        match words.as_slice() {
            ["sudo", "apt-get", "update", ..] => {}
            ["sudo", "apt-get", "install", rest @ ..] => packages.extend(
                rest.iter()
                    .filter(|w| !w.starts_with('-'))
                    .map(|w| w.to_string()),
            ),
            _ => panic!("cannot replay `{part}` (only `sudo apt-get update/install` are emulated)"),
        }
    }
    packages
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Apply and empty the `$GITHUB_ENV` file (`KEY=VALUE` lines and `KEY<<DELIM` blocks).
fn read_github_env(file: &Path, env: &mut BTreeMap<String, String>) {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((key, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            env.insert(key.to_string(), value.join("\n"));
        } else {
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("GITHUB_ENV line without `=`: {line:?}"));
            env.insert(key.to_string(), value.to_string());
        }
    }
    std::fs::write(file, "").unwrap();
}

impl Replay {
    /// Every job of `workflow` (YAML text) in file order (each job's `needs` must come before
    /// it). Panics with the failing step's output tail.
    pub fn run(&self, workflow: &str) -> Timings {
        let doc: Value = serde_yaml::from_str(workflow).expect("the workflow is YAML");
        let workflow_env = env_map(doc.get("env"));
        let jobs = doc.get("jobs").and_then(Value::as_mapping).expect("jobs");
        let mut done: Vec<String> = Vec::new();
        let mut timings = Timings::default();
        for (name, job) in jobs {
            let name = name.as_str().unwrap().to_string();
            let needs: Vec<String> = match job.get("needs") {
                Some(Value::String(one)) => vec![one.clone()],
                Some(Value::Sequence(many)) => many
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect(),
                _ => vec![],
            };
            for need in &needs {
                assert!(done.contains(need), "job {name} needs {need}, not run yet");
            }
            self.run_job(&name, job, &workflow_env, &mut timings);
            done.push(name);
        }
        timings
    }

    fn run_job(
        &self,
        name: &str,
        job: &Value,
        workflow_env: &BTreeMap<String, String>,
        timings: &mut Timings,
    ) {
        let job_dir = self.work.join("jobs").join(name);
        std::fs::create_dir_all(&job_dir).unwrap();
        let checkout = job_dir.join("checkout");
        let github_env = job_dir.join("github_env");
        std::fs::write(&github_env, "").unwrap();

        // Services, on free loopback ports; `5432`/`6379` in env values point at them.
        let mut rewrites: Vec<(String, String)> = Vec::new();
        let mut postgres: Option<Postgres> = None;
        let mut redis: Option<Redis> = None;
        if let Some(services) = job.get("services").and_then(Value::as_mapping) {
            for (svc_name, svc) in services {
                let image = svc.get("image").and_then(s).unwrap_or_default();
                if image.starts_with("postgres") {
                    let pg = Postgres::start();
                    let svc_env = env_map(svc.get("env"));
                    let db = svc_env
                        .get("POSTGRES_DB")
                        .cloned()
                        .unwrap_or("postgres".into());
                    assert_eq!(
                        svc_env.get("POSTGRES_USER").map(String::as_str),
                        Some("app"),
                        "postgres.rs starts a server whose user is `app`"
                    );
                    if db != "postgres" {
                        pg.create_database(&db);
                    }
                    rewrites.push(("127.0.0.1:5432".into(), format!("127.0.0.1:{}", pg.port)));
                    postgres = Some(pg);
                } else if image.starts_with("redis") {
                    let r = Redis::start();
                    rewrites.push(("127.0.0.1:6379".into(), format!("127.0.0.1:{}", r.port)));
                    redis = Some(r);
                } else {
                    panic!("job {name}: service {svc_name:?} ({image}) cannot be emulated");
                }
            }
        }
        let rewrite = |mut env: BTreeMap<String, String>| {
            for value in env.values_mut() {
                for (from, to) in &rewrites {
                    *value = value.replace(from.as_str(), to);
                }
            }
            env
        };

        let default_dir = job
            .get("defaults")
            .and_then(|d| d.get("run"))
            .and_then(|r| r.get("working-directory"))
            .and_then(s)
            .map(str::to_string);
        let mut job_env = workflow_env.clone();
        job_env.extend(env_map(job.get("env")));
        let mut path = self.path_prefix.clone();
        let mut python_ready = false;

        let steps = job
            .get("steps")
            .and_then(Value::as_sequence)
            .expect("steps");
        for (i, step) in steps.iter().enumerate() {
            let label = step
                .get("name")
                .and_then(s)
                .or_else(|| step.get("uses").and_then(s))
                .or_else(|| step.get("run").and_then(s))
                .unwrap_or("?")
                .lines()
                .next()
                .unwrap_or("?")
                .to_string();
            let started = Instant::now();
            if let Some(uses) = step.get("uses").and_then(s) {
                let action = uses.split('@').next().unwrap();
                let with = step.get("with");
                match action {
                    "actions/checkout" => {
                        run_ok(
                            Command::new("git")
                                .args(["clone", "-q"])
                                .arg(&self.origin)
                                .arg(&checkout),
                        );
                    }
                    "actions/setup-python" => {
                        let venv = self.work.join("setup-python");
                        if !python_ready && !venv.join("bin/python").exists() {
                            // The machine's Python, with its packages (no download of uv).
                            run_ok(
                                Command::new("python3")
                                    .args(["-m", "venv", "--system-site-packages"])
                                    .arg(&venv),
                            );
                        }
                        python_ready = true;
                        let out = run_ok(Command::new(venv.join("bin/python")).arg("--version"));
                        let have = version_of(&String::from_utf8_lossy(&out.stdout));
                        if let Some(want) = with.and_then(|w| w.get("python-version")).and_then(s) {
                            let want = version_of(want);
                            assert!(
                                have >= want,
                                "setup-python: want {want:?}, python3 is {have:?}"
                            );
                        }
                        path.insert(0, venv.join("bin"));
                    }
                    "actions/setup-node" => {
                        let out = run_ok(Command::new("node").arg("--version"));
                        let have = version_of(&String::from_utf8_lossy(&out.stdout));
                        if let Some(want) = with.and_then(|w| w.get("node-version")).and_then(s) {
                            let want = version_of(want);
                            assert!(
                                have.0 >= want.0,
                                "setup-node: want {want:?}, node is {have:?}"
                            );
                        }
                    }
                    "actions/upload-artifact" => {}
                    other => panic!("job {name}: `uses: {other}` cannot be emulated"),
                }
                timings
                    .steps
                    .push((name.to_string(), label, started.elapsed()));
                continue;
            }
            let script = step
                .get("run")
                .and_then(s)
                .unwrap_or_else(|| panic!("step {i} of {name}: neither uses nor run"));
            if script.trim_start().starts_with("sudo ") {
                let missing: Vec<String> = apt_packages(script)
                    .into_iter()
                    .filter(|p| !dpkg_installed(p))
                    .collect();
                assert!(
                    missing.is_empty(),
                    "job {name}: `{script}` would install {missing:?}, missing here"
                );
                timings.steps.push((
                    name.to_string(),
                    format!("{label} (installed already)"),
                    started.elapsed(),
                ));
                continue;
            }
            let dir = step
                .get("working-directory")
                .and_then(s)
                .map(str::to_string)
                .or_else(|| default_dir.clone());
            let cwd = match &dir {
                Some(d) => checkout.join(d),
                None => checkout.clone(),
            };
            let mut env = job_env.clone();
            env.extend(env_map(step.get("env")));
            let env = rewrite(env);

            let log = job_dir.join(format!("step-{i:02}.log"));
            let file = std::fs::File::create(&log).unwrap();
            let mut cmd = Command::new("bash");
            cmd.args([
                "--noprofile",
                "--norc",
                "-e",
                "-o",
                "pipefail",
                "-c",
                script,
            ])
            .current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
            for var in super::DEVELOPER_VARS.iter().chain(&["GITHUB_ENV"]) {
                cmd.env_remove(var);
            }
            let base_path = std::env::var_os("PATH").unwrap_or_default();
            let full_path = std::env::join_paths(
                path.iter()
                    .cloned()
                    .chain(std::env::split_paths(&base_path)),
            )
            .unwrap();
            cmd.env("PATH", full_path)
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_WORKSPACE", &checkout)
                .env("GITHUB_ENV", &github_env)
                .envs(&self.env)
                .envs(&env);
            let status = cmd
                .status()
                .unwrap_or_else(|e| panic!("cannot run bash: {e}"));
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                status.success(),
                "job {name}, step `{label}` failed ({status}) in {}:\n{script}\n--- output (tail) ---\n{}",
                cwd.display(),
                tail(&output, 12000)
            );
            read_github_env(&github_env, &mut job_env);
            timings
                .steps
                .push((name.to_string(), label, started.elapsed()));
        }
        drop(redis);
        drop(postgres);
    }
}
