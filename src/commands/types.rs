//! `fsi types`: Pydantic DTOs → TypeScript + Zod, `--check` for drift, `--watch`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Ctx;
use crate::error::{CmdResult, CommandError, ExitStatus};
use crate::typesync::{self, Drift, Generated, TypesConfig};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct TypesArgs {
    /// Read DTOs from PATH (a .py file or a directory) instead of the `[types] roots` in fsi.toml.
    /// Repeatable.
    #[arg(long = "from", value_name = "PATH")]
    pub from: Vec<PathBuf>,
    /// Write the .ts files to DIR instead of `[types] out_dir`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Compare instead of writing; exit 1 on drift, with a per-declaration diff.
    #[arg(long, conflicts_with = "watch")]
    pub check: bool,
    /// Regenerate whenever a .py file under the package root changes (Ctrl-C stops).
    #[arg(long)]
    pub watch: bool,
    /// Machine-readable output on stdout.
    #[arg(long)]
    pub json: bool,
    /// Do not emit Zod schemas (overrides `[types] zod`).
    #[arg(long)]
    pub no_zod: bool,
}

/// Resolve `[types]` plus command-line overrides.
pub fn settings(ctx: &Ctx, args: &TypesArgs) -> Result<(PathBuf, TypesConfig), CommandError> {
    let project = ctx.project()?;
    let mut config = project.config.types.clone();
    if !args.from.is_empty() {
        config.roots = args
            .from
            .iter()
            .map(|p| ctx.cwd.join(p).display().to_string())
            .collect();
    }
    if let Some(out) = &args.out {
        let abs = ctx.cwd.join(out);
        config.out_dir = abs
            .strip_prefix(&project.root)
            .map(Path::to_path_buf)
            .unwrap_or(abs);
    }
    if args.no_zod {
        config.zod = false;
    }
    Ok((project.root, config))
}

pub fn run(ctx: &Ctx, args: TypesArgs) -> CmdResult {
    let (root, config) = settings(ctx, &args)?;
    if args.watch {
        return watch(ctx.ui, &root, &config, args.json);
    }
    let generated = typesync::generate(&root, &config)?;
    if args.check {
        let drift = typesync::check(&root, &generated);
        if args.json {
            let v = serde_json::json!({
                "clean": drift.is_clean(),
                "drift": drift,
                "warnings": generated.warnings,
            });
            ctx.ui.out(serde_json::to_string_pretty(&v).expect("json"));
        } else {
            print_warnings(ctx.ui, &generated);
            print_drift(ctx.ui, &drift);
        }
        return Ok(if drift.is_clean() {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        });
    }
    let report = typesync::write(&root, &generated)?;
    if args.json {
        let v = serde_json::json!({
            "written": report.written,
            "unchanged": report.unchanged,
            "removed": report.removed,
            "modules": generated.modules,
            "warnings": generated.warnings,
        });
        ctx.ui.out(serde_json::to_string_pretty(&v).expect("json"));
    } else {
        print_warnings(ctx.ui, &generated);
        summary(ctx.ui, &generated, &report);
    }
    Ok(ExitStatus::Success)
}

fn summary(ui: &Ui, g: &Generated, r: &typesync::WriteReport) {
    for p in &r.written {
        ui.info(format!("wrote {}", p.display()));
    }
    for p in &r.removed {
        ui.info(format!(
            "removed {} (its MIRRORS source is gone)",
            p.display()
        ));
    }
    ui.out(format!(
        "types: {} modules, {} files written, {} unchanged, {} removed → {}",
        g.modules.len(),
        r.written.len(),
        r.unchanged,
        r.removed.len(),
        g.out_dir.display()
    ));
}

fn print_warnings(ui: &Ui, g: &Generated) {
    for w in &g.warnings {
        ui.warn(w.to_string());
    }
}

fn print_drift(ui: &Ui, d: &Drift) {
    if d.is_clean() {
        ui.out("types: in sync");
        return;
    }
    for f in &d.files {
        let what = if f.missing { " (missing)" } else { "" };
        ui.out(format!("drift: {}{what}", f.path.display()));
        for decl in &f.declarations {
            let sign = match decl.change {
                typesync::check::Change::Added => "+",
                typesync::check::Change::Removed => "-",
                typesync::check::Change::Changed => "~",
            };
            ui.out(format!("  {sign} {} ({:?})", decl.name, decl.change).to_lowercase_kind());
            for line in decl.diff.lines() {
                ui.out(format!("    {line}"));
            }
        }
    }
    for o in &d.orphaned {
        let why = if o.source_gone {
            "source is gone"
        } else {
            "source no longer produces it"
        };
        ui.out(format!(
            "orphaned: {} mirrors {} ({why})",
            o.path.display(),
            o.mirrors
        ));
    }
    for u in &d.unmirrored {
        ui.out(format!("no mirror: {} has no {}", u.py, u.ts.display()));
    }
    ui.out(format!(
        "types out of date: {} files differ, {} orphaned, {} modules without a mirror; run `fsi types`",
        d.files.len(),
        d.orphaned.len(),
        d.unmirrored.len()
    ));
}

trait LowerKind {
    fn to_lowercase_kind(self) -> String;
}

impl LowerKind for String {
    /// `(Changed)` → `(changed)` without touching the declaration name.
    fn to_lowercase_kind(self) -> String {
        match self.rfind('(') {
            Some(i) => format!("{}{}", &self[..i], self[i..].to_lowercase()),
            None => self,
        }
    }
}

fn run_once(ui: &Ui, root: &Path, config: &TypesConfig, json: bool) {
    match typesync::generate(root, config).and_then(|g| typesync::write(root, &g).map(|r| (g, r))) {
        Ok((g, r)) => {
            if json {
                let v = serde_json::json!({"written": r.written, "removed": r.removed, "warnings": g.warnings});
                ui.out(serde_json::to_string(&v).expect("json"));
            } else {
                print_warnings(ui, &g);
                summary(ui, &g, &r);
            }
        }
        Err(e) => ui.report(&miette::Report::new(e)),
    }
}

fn watch(ui: &Ui, root: &Path, config: &TypesConfig, json: bool) -> CmdResult {
    use notify::{RecursiveMode, Watcher};
    run_once(ui, root, config, json);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev
            && ev
                .paths
                .iter()
                .any(|p| p.extension().is_some_and(|x| x == "py"))
        {
            let _ = tx.send(());
        }
    })
    .map_err(|e| CommandError::msg(ExitStatus::Failure, format!("cannot watch: {e}")))?;
    // Watch the package root (imports resolve anywhere below it) and any root outside it.
    let mut dirs = vec![root.join(&config.package_root)];
    for r in &config.roots {
        let literal: Vec<&str> = r
            .split('/')
            .take_while(|s| !s.contains(['*', '?', '[']))
            .collect();
        let p = root.join(literal.join("/"));
        let d = if p.is_file() {
            p.parent().map(Path::to_path_buf).unwrap_or(p)
        } else {
            p
        };
        if !dirs.iter().any(|x| d.starts_with(x)) {
            dirs.push(d);
        }
    }
    for d in &dirs {
        if d.is_dir() {
            watcher.watch(d, RecursiveMode::Recursive).map_err(|e| {
                CommandError::msg(
                    ExitStatus::Failure,
                    format!("cannot watch {}: {e}", d.display()),
                )
            })?;
        }
    }
    ui.info(format!(
        "watching {} for .py changes (Ctrl-C stops)",
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    while rx.recv().is_ok() {
        // Debounce: editors write several events per save.
        std::thread::sleep(Duration::from_millis(100));
        while rx.try_recv().is_ok() {}
        run_once(ui, root, config, json);
    }
    Ok(ExitStatus::Success)
}
