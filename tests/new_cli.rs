//! `fsi new` through the real binary.

use std::process::Command;

mod common;

fn fsi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fsi"))
}

#[test]
fn dry_run_lists_the_plan_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = fsi()
        .current_dir(dir.path())
        .args(["new", "shop", "--yes", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    // A unified diff against nothing: every file is new.
    assert!(
        stdout.contains("--- /dev/null\n+++ b/fsi.toml\n@@ -0,0 +1,"),
        "{stdout}"
    );
    assert!(stdout.contains("+++ b/docs/PROGRESS.md\n"), "{stdout}");
    assert!(stdout.contains("\n+[answers]\n"), "{stdout}");
    assert!(!stdout.contains('\x1b'), "no colour without a terminal");
    assert!(!dir.path().join("shop").exists());
}

#[test]
fn new_writes_config_and_commits_then_refuses_a_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let ok = fsi()
        .current_dir(dir.path())
        .args([
            "new",
            "shop",
            "--yes",
            "--no-realtime",
            "--database",
            "postgresql",
        ])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    // The types come from the DTO modules only: no warning about the backend's own machinery
    // (`common/openapi.py`'s `Contract` once became a bogus API type with three warnings).
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert!(!stderr.contains("warning"), "{stderr}");
    let root = dir.path().join("shop");
    let types = root.join("frontend/src/types");
    assert!(types.join("common/pagination.ts").is_file());
    assert!(!types.join("common/openapi.ts").exists());
    let config: toml::Table = std::fs::read_to_string(root.join("fsi.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(config["project"]["name"].as_str(), Some("shop"));
    assert_eq!(config["answers"]["realtime"].as_str(), Some("none"));
    assert_eq!(config["answers"]["backend"].as_str(), Some("quart"));
    assert_eq!(config["answers"]["database"].as_str(), Some("postgresql"));
    assert_eq!(config["vars"]["PROJECT"].as_str(), Some("SHOP"));

    let repo = git2::Repository::open(&root).unwrap();
    assert_eq!(repo.head().unwrap().shorthand().unwrap(), "main");
    let dirty = common::git::uncommitted(&repo);
    assert!(dirty.is_empty(), "not committed: {dirty:?}");
    // The per-project secret exists but is ignored, never committed.
    assert!(root.join(".env").is_file());
    assert!(
        repo.status_should_ignore(std::path::Path::new(".env"))
            .unwrap()
    );
    let head_tree = repo.head().unwrap().peel_to_tree().unwrap();
    assert!(head_tree.get_name(".env").is_none());

    // fsi's output ends with the project's own front-door commands.
    let stderr = String::from_utf8(ok.stderr).unwrap();
    assert!(stderr.contains("cd shop"), "{stderr}");

    let before = std::fs::read(root.join("fsi.toml")).unwrap();
    let again = fsi()
        .current_dir(dir.path())
        .args(["new", "shop", "--yes"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(3), "{again:?}");
    let stderr = String::from_utf8(again.stderr).unwrap();
    assert!(stderr.contains("exists and is not empty"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read(root.join("fsi.toml")).unwrap(), before);
}

#[test]
fn bad_names_and_missing_names_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = fsi()
        .current_dir(dir.path())
        .args(["new", "9lives", "--yes"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a usable project name"));

    // No TTY and no name: nothing is asked, a clear usage error instead.
    let none = fsi()
        .current_dir(dir.path())
        .args(["new"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("needs a NAME"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn force_writes_into_a_non_empty_directory_and_keeps_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shop");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("NOTES.txt"), "mine\n").unwrap();
    let out = fsi()
        .current_dir(dir.path())
        .args(["new", "shop", "--yes", "--force", "--no-git"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(root.join("NOTES.txt")).unwrap(),
        "mine\n"
    );
    assert!(root.join("fsi.toml").is_file());
    assert!(!root.join(".git").exists());
}

/// `fsi new NAME --yes --no-types` in `home`, with git seeing only the config and templates the
/// test puts in `home` (not the developer's or the system's).
fn new_with_git_home(home: &std::path::Path, name: &str) -> Command {
    let mut cmd = fsi();
    cmd.current_dir(home)
        .args(["new", name, "--yes", "--no-types"])
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_TEMPLATE_DIR");
    cmd
}

/// A git template directory under `home` with one executable hook.
fn template_with_hook(home: &std::path::Path, hook: &str) -> std::path::PathBuf {
    let template = home.join("template");
    std::fs::create_dir_all(template.join("hooks")).unwrap();
    std::fs::write(template.join("hooks").join(hook), "#!/bin/sh\nexit 0\n").unwrap();
    template
}

#[test]
fn a_configured_git_template_is_honoured_and_the_sample_hooks_are_not_copied_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    // A template the user set up, e.g. to install a pre-commit hook in every new repository.
    let template = template_with_hook(dir.path(), "pre-commit");
    let run = |name: &str, template: Option<&std::path::Path>| {
        let mut cmd = new_with_git_home(dir.path(), name);
        if let Some(t) = template {
            cmd.env("GIT_TEMPLATE_DIR", t);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        dir.path().join(name).join(".git/hooks")
    };
    let with = run("with-template", Some(&template));
    assert!(with.join("pre-commit").is_file());
    let without = run("without-template", None);
    let samples: Vec<_> = std::fs::read_dir(&without)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !samples
            .iter()
            .any(|n| n.to_string_lossy() == "pre-commit.sample"),
        "{samples:?}"
    );
}

#[test]
fn init_template_dir_from_git_config_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let template = template_with_hook(dir.path(), "commit-msg");
    std::fs::write(
        dir.path().join(".gitconfig"),
        format!("[init]\n\ttemplateDir = {}\n", template.display()),
    )
    .unwrap();
    let out = new_with_git_home(dir.path(), "hooked").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.path().join("hooked/.git/hooks/commit-msg").is_file());
}

#[test]
fn names_that_need_quoting_are_refused_and_next_is_shell_quoted() {
    let dir = tempfile::tempdir().unwrap();
    for (name, problem) in [
        ("my app", "it contains whitespace"),
        ("my$app", "`$` would need quoting in the shell"),
    ] {
        let out = fsi()
            .current_dir(dir.path())
            .args(["new", name, "--yes"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(problem), "{name}: {err}");
        assert!(err.contains("e.g. `my-app`"), "{name}: {err}");
        assert!(!dir.path().join(name).exists());
    }
    // Spaces in the parent path are fine; the `cd` line is quoted so it can be pasted.
    let parent = dir.path().join("work dir");
    std::fs::create_dir(&parent).unwrap();
    let out = fsi()
        .current_dir(dir.path())
        .args(["new", "work dir/shop", "--yes", "--no-git", "--no-types"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(parent.join("shop/fsi.toml").is_file());
    let next = err
        .lines()
        .find_map(|l| l.strip_prefix("Next: "))
        .unwrap_or_else(|| panic!("no Next line in {err}"));
    assert_eq!(
        shell_words::split(next).unwrap(),
        ["cd", "work dir/shop"],
        "{next}"
    );
}

#[test]
fn backend_and_realtime_choices_and_their_contradictions() {
    let dir = tempfile::tempdir().unwrap();
    // Flask defaults to Server-Sent Events and serves with gunicorn.
    let ok = fsi()
        .current_dir(dir.path())
        .args([
            "new",
            "flasky",
            "--yes",
            "--backend",
            "flask",
            "--no-git",
            "--no-types",
        ])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let root = dir.path().join("flasky");
    let config: toml::Table = std::fs::read_to_string(root.join("fsi.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(config["answers"]["backend"].as_str(), Some("flask"));
    assert_eq!(config["answers"]["realtime"].as_str(), Some("sse"));
    let command = config["services"]["backend"]["command"].as_str().unwrap();
    assert!(
        command.contains("gunicorn --config gunicorn.conf.py"),
        "{command}"
    );
    assert!(command.contains("app.wsgi:app"), "{command}");
    assert!(root.join("backend/app/wsgi.py").is_file());
    assert!(
        root.join("backend/app/modules/realtime/tickets.py")
            .is_file()
    );
    assert!(!root.join("backend/app/asgi.py").exists());
    let hook = std::fs::read_to_string(root.join("frontend/src/hooks/useItemUpdates.ts")).unwrap();
    assert!(hook.contains("new EventSource("), "the SSE hook");
    let vite = std::fs::read_to_string(root.join("frontend/vite.config.ts")).unwrap();
    assert!(vite.contains("'/sse'") && !vite.contains("'/ws'"), "{vite}");

    // Quart with Server-Sent Events: the async SSE module, the shared EventSource hook, no
    // WebSocket files (the default backend is Quart, so `--realtime sse` alone asks for it).
    let ok = fsi()
        .current_dir(dir.path())
        .args([
            "new",
            "quart-sse",
            "--yes",
            "--realtime",
            "sse",
            "--no-git",
            "--no-types",
        ])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let root = dir.path().join("quart-sse");
    let config: toml::Table = std::fs::read_to_string(root.join("fsi.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(config["answers"]["backend"].as_str(), Some("quart"));
    assert_eq!(config["answers"]["realtime"].as_str(), Some("sse"));
    assert!(root.join("backend/app/asgi.py").is_file());
    let tickets =
        std::fs::read_to_string(root.join("backend/app/modules/realtime/tickets.py")).unwrap();
    assert!(
        tickets.contains("from redis.asyncio import Redis") && tickets.contains("async def redeem"),
        "the async ticket store: {tickets}"
    );
    let controller =
        std::fs::read_to_string(root.join("backend/app/modules/realtime/controller.py")).unwrap();
    assert!(
        controller.contains("text/event-stream") && !controller.contains("websocket"),
        "{controller}"
    );
    let main = std::fs::read_to_string(root.join("backend/app/main.py")).unwrap();
    assert!(
        main.contains(r#"url_prefix="/sse""#)
            && main.contains(r#"url_prefix="/api/realtime""#)
            && !main.contains(r#"url_prefix="/ws""#),
        "{main}"
    );
    assert!(root.join("backend/tests/test_sse.py").is_file());
    assert!(!root.join("backend/tests/test_realtime.py").exists());
    let hook = std::fs::read_to_string(root.join("frontend/src/hooks/useItemUpdates.ts")).unwrap();
    assert!(
        hook.contains("new EventSource(") && !hook.contains("new WebSocket("),
        "the SSE hook"
    );
    assert!(root.join("frontend/src/test/fakeEventSource.ts").is_file());
    let vite = std::fs::read_to_string(root.join("frontend/vite.config.ts")).unwrap();
    assert!(vite.contains("'/sse'") && !vite.contains("'/ws'"), "{vite}");

    // A contradiction is a usage error that says why, before anything is written.
    let args = [
        "new",
        "nope",
        "--yes",
        "--backend",
        "flask",
        "--realtime",
        "websocket",
    ];
    let out = fsi().current_dir(dir.path()).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WebSocket"), "{args:?}: {stderr}");
    assert!(!dir.path().join("nope").exists());
    let both = fsi()
        .current_dir(dir.path())
        .args(["new", "nope", "--yes", "--no-realtime", "--realtime", "sse"])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2), "{both:?}");
}
