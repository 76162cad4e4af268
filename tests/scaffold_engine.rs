//! The scaffold engine on a small fixture skeleton and on the real embedded skeletons.

mod common;

use fsi::scaffold::{self, Answers, Database, Existing, Names, Request};
use include_dir::{Dir, include_dir};

static FIXTURE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/skeleton");

fn request(answers: Answers) -> Request {
    Request {
        names: Names::new("Demo-Shop").unwrap(),
        answers,
        jwt_secret: "0".repeat(64),
    }
}

fn paths(plan: &scaffold::Plan) -> Vec<&str> {
    plan.files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn names_are_derived_and_validated() {
    let n = Names::new("Demo-Shop").unwrap();
    assert_eq!(n.project_slug, "demo-shop");
    assert_eq!(n.package_name, "demo_shop");
    assert_eq!(n.project_title, "Demo Shop");
    assert_eq!(n.project_upper, "DEMO_SHOP");
    for bad in ["", "1app", "my--app", "app-", "my/app", "héllo"] {
        assert!(Names::new(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn gates_templates_and_modes() {
    let plan = scaffold::plan_from(&FIXTURE, &request(Answers::default())).unwrap();
    // broken.txt.jinja is gated off by an always-false condition, pg.txt by the database.
    assert_eq!(
        paths(&plan),
        ["feature/auth.txt", "maybe.txt", "plain.txt", "scripts/run"]
    );
    let run = plan.get("scripts/run").unwrap();
    assert!(run.executable);
    assert_eq!(run.contents, b"#!/usr/bin/env bash\necho demo-shop\n");
    // Non-template files are copied byte for byte, braces included.
    assert_eq!(
        plan.get("plain.txt").unwrap().contents,
        b"plain {{ not rendered }}\n"
    );
    // `{%- %}` eats the newline before a tag; the trailing newline is kept.
    assert_eq!(
        plan.get("maybe.txt").unwrap().contents,
        b"realtime on for demo_shop\n"
    );

    let off = Answers {
        auth: false,
        realtime: fsi::scaffold::Realtime::None,
        database: Database::Postgresql,
        ..Answers::default()
    };
    let plan = scaffold::plan_from(&FIXTURE, &request(off)).unwrap();
    // maybe.txt renders empty and is skipped; pg.txt appears; auth.txt goes.
    assert_eq!(paths(&plan), ["feature/pg.txt", "plain.txt", "scripts/run"]);
}

#[test]
fn template_errors_point_into_the_template() {
    let err = scaffold::plan_from(&NO_GATES, &request(Answers::default())).unwrap_err();
    let rendered = format!("{:?}", miette::Report::new(err));
    assert!(
        rendered.contains("skeletons/project/broken.txt.jinja"),
        "{rendered}"
    );
    assert!(rendered.contains("missing_variable"), "{rendered}");
    assert!(
        rendered.contains("2 │"),
        "the caret points at line 2:\n{rendered}"
    );
}

static NO_GATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/skeleton-ungated");

#[test]
fn write_refuses_non_empty_targets_and_leaves_nothing_half_written() {
    let plan = scaffold::plan_from(&FIXTURE, &request(Answers::default())).unwrap();
    let root = tempfile::tempdir().unwrap();
    let target = root.path().join("app");
    scaffold::write(&plan, &target, Existing::Refuse).unwrap();
    assert!(target.join("scripts/run").is_file());

    // A second write refuses and changes nothing.
    std::fs::write(target.join("plain.txt"), "user edit\n").unwrap();
    let err = scaffold::write(&plan, &target, Existing::Refuse).unwrap_err();
    assert!(matches!(
        err,
        scaffold::ScaffoldError::TargetNotEmpty { .. }
    ));
    assert_eq!(
        std::fs::read_to_string(target.join("plain.txt")).unwrap(),
        "user edit\n"
    );

    // An empty existing directory is fine (the user's fresh cwd).
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    scaffold::write(&plan, &empty, Existing::Refuse).unwrap();
    assert!(empty.join("plain.txt").is_file());

    // No staging directories are left next to the targets.
    let leftovers: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".fsi"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_failed_write_leaves_no_target_behind() {
    let plan = scaffold::plan_from(&FIXTURE, &request(Answers::default())).unwrap();
    let root = tempfile::tempdir().unwrap();
    // The parent of the target is a file: staging cannot be created, nothing may appear.
    std::fs::write(root.path().join("blocker"), "").unwrap();
    let target = root.path().join("blocker/app");
    assert!(scaffold::write(&plan, &target, Existing::Refuse).is_err());
    assert!(!target.exists());
}

#[test]
fn git_init_makes_one_commit_on_main() {
    let plan = scaffold::plan_from(&FIXTURE, &request(Answers::default())).unwrap();
    let root = tempfile::tempdir().unwrap();
    let target = root.path().join("app");
    scaffold::write(&plan, &target, Existing::Refuse).unwrap();
    let hash = scaffold::git_init(&target, "chore: scaffold").unwrap();
    let repo = git2::Repository::open(&target).unwrap();
    let head = repo.head().unwrap();
    assert_eq!(head.shorthand().unwrap(), "main");
    let commit = head.peel_to_commit().unwrap();
    assert!(commit.id().to_string().starts_with(&hash));
    assert_eq!(commit.message().unwrap(), "chore: scaffold");
    assert_eq!(commit.tree().unwrap().len(), 4); // feature/, maybe.txt, plain.txt, scripts/
    assert!(repo.statuses(None).unwrap().is_empty());
}

/// Every embedded skeleton renders for every combination of answers, and every Python file it
/// produces parses.
#[test]
fn every_skeleton_renders_for_every_feature_combination() {
    for answers in Answers::all_combinations() {
        let plan = scaffold::plan(&request(answers.clone()))
            .unwrap_or_else(|e| panic!("{answers:?}: {:?}", miette::Report::new(e)));
        assert!(!plan.files.is_empty());
        for f in &plan.files {
            assert!(!f.path.ends_with(".jinja"), "{}", f.path);
            if f.path.ends_with(".py") {
                let text = std::str::from_utf8(&f.contents).unwrap();
                if let Err(e) = ruff_python_parser::parse_module(text) {
                    panic!("{answers:?}: {} does not parse: {e}", f.path);
                }
            }
            if f.path.ends_with(".toml") {
                let text = std::str::from_utf8(&f.contents).unwrap();
                if let Err(e) = text.parse::<toml::Table>() {
                    panic!("{answers:?}: {} is not TOML: {e}", f.path);
                }
            }
            if (f.path.ends_with(".yml") || f.path.ends_with(".yaml"))
                && let Err(e) = serde_yaml::from_slice::<serde_yaml::Value>(&f.contents)
            {
                panic!("{answers:?}: {} is not YAML: {e}", f.path);
            }
            if f.path.ends_with(".json")
                && let Err(e) = serde_json::from_slice::<serde_json::Value>(&f.contents)
            {
                panic!("{answers:?}: {} is not JSON: {e}", f.path);
            }
        }
    }
}

/// The rendered tree for the default answers, as a list of paths with their modes.
#[test]
fn default_tree_snapshot() {
    let plan = scaffold::plan(&request(Answers::default())).unwrap();
    let listing: Vec<String> = plan
        .files
        .iter()
        .map(|f| format!("{} {}", if f.executable { "x" } else { "-" }, f.path))
        .collect();
    insta::assert_snapshot!(listing.join("\n"));
}

/// The in-memory commit of a fresh project records exactly what `git add -A` would, and leaves a
/// clean working tree.
#[test]
fn in_memory_first_commit_equals_git_add_all() {
    let plan = scaffold::plan(&request(Answers::default())).unwrap();
    let root = tempfile::tempdir().unwrap();
    let tree_of = |dir: &std::path::Path| {
        let repo = git2::Repository::open(dir).unwrap();
        assert!(
            common::git::uncommitted(&repo).is_empty(),
            "dirty tree in {}",
            dir.display()
        );
        repo.head().unwrap().peel_to_tree().unwrap().id()
    };
    let a = root.path().join("a");
    scaffold::write(&plan, &a, Existing::Refuse).unwrap();
    scaffold::git_init(&a, "first").unwrap();
    let b = root.path().join("b");
    scaffold::write(&plan, &b, Existing::Refuse).unwrap();
    scaffold::git_init_files(&b, "first", &plan.git_files()).unwrap();
    assert_eq!(tree_of(&a), tree_of(&b));
    // The pack is a real, complete repository: git itself agrees.
    let fsck = std::process::Command::new("git")
        .args(["fsck", "--full", "--strict"])
        .current_dir(&b)
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
}

/// `skeletons/resource/` for a resource with every field type (optional and required, names
/// that shadow `datetime`'s), for every feature combination of both flavours, with and without
/// a frontend (Flask's code sync, Quart's async, the feed under /sse or /ws): it
/// renders, its Python parses, its anchors are all in the project's files, and its helpers
/// (`_macros.jinja`, `_anchors.toml.jinja`) are never written while `__init__.py` and the
/// placeholder-named files are.
#[test]
fn every_resource_template_renders_for_every_feature_combination() {
    let fields = [
        "title:str",
        "notes:text?",
        "pages:int",
        "rating:float?",
        "price:decimal",
        "in_stock:bool",
        "date:date?",
        "datetime:datetime",
        "ref:uuid?",
        "genre:enum(fiction|non-fiction|poetry)",
        "mood:enum(calm|tense)?",
    ];
    // Both flavours: the same templates render Quart's async code and Flask's sync code, and
    // the live feed of either transport (Server-Sent Events on both, WebSockets on Quart).
    let combinations = Answers::all_combinations();
    assert!(
        combinations
            .iter()
            .any(|a| a.backend == scaffold::Backend::Quart && a.realtime == scaffold::Realtime::Sse),
        "Quart with Server-Sent Events is among the combinations"
    );
    for answers in combinations {
        for frontend in [true, false] {
            let entry = scaffold::ResourceEntry {
                name: "book".into(),
                plural: "books".into(),
                fields: fields.iter().map(|f| f.to_string()).collect(),
                frontend,
                revision: "0002_books".into(),
                down_revision: "0001".into(),
                sessions: scaffold::ResourceSessions {
                    backend: "BE-05".into(),
                    backend_after: "BE-04".into(),
                    frontend: frontend.then(|| "FE-03".into()),
                    frontend_after: frontend.then(|| "FE-02".into()),
                },
            };
            let resource = scaffold::Resource::from_entry(entry).unwrap();
            let request = request(answers.clone());
            let mut plan = scaffold::plan(&request).unwrap();
            let slice = scaffold::plan_resource(&request, &resource)
                .unwrap_or_else(|e| panic!("{answers:?}: {:?}", miette::Report::new(e)));
            let written = paths_of(&slice.files);
            for must in [
                "backend/app/modules/books/__init__.py",
                "backend/app/modules/books/dtos.py",
                "backend/migrations/versions/0002_books.py",
                "backend/tests/test_books.py",
                "sessions/BE-05.xml",
            ] {
                assert!(written.contains(&must), "{answers:?}: {must} not rendered");
            }
            assert_eq!(
                written.contains(&"backend/app/modules/books/events.py"),
                answers.realtime != scaffold::Realtime::None,
                "{answers:?}"
            );
            for f in ["frontend/src/pages/BooksPage.tsx", "sessions/FE-03.xml"] {
                assert_eq!(written.contains(&f), frontend, "{answers:?}: {f}");
            }
            for f in &slice.files {
                let placeholders = [
                    "__plural__",
                    "__name__",
                    "__Class__",
                    "__Plural__",
                    "__revision__",
                ];
                assert!(
                    !placeholders.iter().any(|p| f.path.contains(p)),
                    "{}",
                    f.path
                );
                assert!(!f.path.ends_with(".jinja"), "{}", f.path);
                let base = f.path.rsplit('/').next().unwrap();
                assert!(
                    !base.starts_with('_') || base == "__init__.py",
                    "{}",
                    f.path
                );
                if f.path.ends_with(".py") {
                    let text = std::str::from_utf8(&f.contents).unwrap();
                    if let Err(e) = ruff_python_parser::parse_module(text) {
                        panic!("{answers:?}: {} does not parse: {e}\n{text}", f.path);
                    }
                }
            }
            scaffold::apply_resource(&mut plan, &slice)
                .unwrap_or_else(|e| panic!("{answers:?}: {:?}", miette::Report::new(e)));
            let main = std::str::from_utf8(&plan.get("backend/app/main.py").unwrap().contents)
                .unwrap()
                .to_string();
            assert!(main.contains("url_prefix=\"/api/books\""), "{main}");
            let flask = answers.backend == scaffold::Backend::Flask;
            let controller = std::str::from_utf8(
                &plan
                    .get("backend/app/modules/books/controller.py")
                    .unwrap()
                    .contents,
            )
            .unwrap();
            assert!(
                controller.contains(if flask {
                    "from flask import Blueprint"
                } else {
                    "from quart import Blueprint"
                }),
                "{answers:?}: {controller}"
            );
            assert_eq!(
                controller.contains("async def") || controller.contains("await "),
                !flask,
                "{answers:?}: Flask's code is sync, Quart's async\n{controller}"
            );
            if answers.realtime != scaffold::Realtime::None {
                let sse = answers.realtime == scaffold::Realtime::Sse;
                let prefix = if sse { "/sse" } else { "/ws" };
                assert!(
                    main.contains(&format!(
                        "app.register_blueprint(books_feed_blueprint, url_prefix=\"{prefix}\")"
                    )),
                    "{answers:?}: {main}"
                );
                // The feed route: a GET stream through the realtime module's serve_feed (SSE),
                // or a WebSocket route.
                let route = if sse {
                    "@feed_blueprint.get(\"/books\")"
                } else {
                    "@feed_blueprint.websocket(\"/books\")"
                };
                assert!(controller.contains(route), "{answers:?}: {controller}");
                let call = match (sse, flask) {
                    (true, true) => "return serve_feed(books_channel",
                    (true, false) => "return await serve_feed(books_channel",
                    (false, _) => "await serve_feed(books_channel",
                };
                assert!(controller.contains(call), "{answers:?}: {controller}");
                let tests =
                    std::str::from_utf8(&plan.get("backend/tests/test_books.py").unwrap().contents)
                        .unwrap();
                let feed = format!("FEED = \"{prefix}/books\"");
                assert!(tests.contains(&feed), "{answers:?}: {tests}");
                assert_eq!(
                    tests.contains("from tests.test_sse import"),
                    sse,
                    "{answers:?}: {tests}"
                );
            }
            if let Err(e) = ruff_python_parser::parse_module(&main) {
                panic!("{answers:?}: main.py does not parse after the inserts: {e}\n{main}");
            }
        }
    }
}

fn paths_of(files: &[scaffold::PlannedFile]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

/// Each backend × realtime transport gets its own realtime files and no other transport's.
#[test]
fn realtime_transports_render_their_own_files() {
    use scaffold::{Backend, Realtime};
    let sse_only = [
        "backend/app/modules/realtime/tickets.py",
        "backend/tests/test_sse.py",
        "frontend/src/test/fakeEventSource.ts",
    ];
    let ws_only = ["backend/tests/test_realtime.py"];
    for (backend, realtime) in [
        (Backend::Quart, Realtime::Websocket),
        (Backend::Quart, Realtime::Sse),
        (Backend::Quart, Realtime::None),
        (Backend::Flask, Realtime::Sse),
        (Backend::Flask, Realtime::None),
    ] {
        let answers = Answers {
            backend,
            realtime,
            ..Answers::default()
        };
        let plan = scaffold::plan(&request(answers)).unwrap();
        let listed = paths(&plan);
        let what = format!("{backend:?} × {realtime:?}");
        for p in sse_only {
            assert_eq!(
                listed.contains(&p),
                realtime == Realtime::Sse,
                "{what}: {p}"
            );
        }
        for p in ws_only {
            assert_eq!(
                listed.contains(&p),
                realtime == Realtime::Websocket,
                "{what}: {p}"
            );
        }
        let text = |p: &str| String::from_utf8(plan.get(p).unwrap().contents.clone()).unwrap();
        if realtime == Realtime::None {
            assert!(
                !listed.contains(&"frontend/src/hooks/useItemUpdates.ts"),
                "{what}"
            );
            assert!(
                !listed.iter().any(|p| p.contains("modules/realtime/")),
                "{what}"
            );
            continue;
        }
        let hook = text("frontend/src/hooks/useItemUpdates.ts");
        let controller = text("backend/app/modules/realtime/controller.py");
        let main = text("backend/app/main.py");
        if realtime == Realtime::Sse {
            assert!(
                hook.contains("new EventSource(") && !hook.contains("new WebSocket("),
                "{what}"
            );
            assert!(controller.contains("text/event-stream"), "{what}");
            assert!(main.contains(r#"url_prefix="/sse""#), "{what}");
            assert!(!main.contains(r#"url_prefix="/ws""#), "{what}");
        } else {
            assert!(
                hook.contains("new WebSocket(") && !hook.contains("EventSource"),
                "{what}"
            );
            assert!(controller.contains("@blueprint.websocket"), "{what}");
            assert!(main.contains(r#"url_prefix="/ws""#), "{what}");
        }
        let tickets = listed
            .contains(&"backend/app/modules/realtime/tickets.py")
            .then(|| text("backend/app/modules/realtime/tickets.py"));
        if let Some(tickets) = tickets {
            // One shared template: async for Quart, sync for Flask.
            assert_eq!(
                tickets.contains("async def redeem"),
                backend == Backend::Quart,
                "{what}"
            );
        }
    }
}
