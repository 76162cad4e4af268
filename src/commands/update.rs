//! `fsi update`: bring a project up to this fsi's skeletons without losing a user's edit.
//!
//! base = what fsi rendered for the project last (`refs/fsi/base`), ours = the working tree,
//! theirs = this fsi's render of the project's answers and resources. Clean merges are applied
//! and committed once; conflicts are written with standard markers and the update waits for
//! `--continue` (or `--abort`), like `git merge`.

use std::collections::BTreeMap;
use std::path::Path;

use super::Ctx;
use super::add::{generated_project, guard, request_for, stop_if_cancelled};
use crate::config::Project;
use crate::error::{CmdResult, CommandError, ExitStatus};
use crate::scaffold::{
    self, ScaffoldError, base,
    base::{BaseFile, Files},
    diff::Change,
    merge,
};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Print the diff the update would apply (and the conflicts it would leave); write nothing.
    #[arg(long, conflicts_with_all = ["continue_", "abort"])]
    pub dry_run: bool,
    /// After resolving the conflicts of an update: commit it and record the new base.
    #[arg(long = "continue", conflicts_with = "abort")]
    pub continue_: bool,
    /// Undo an update that stopped on conflicts: its files go back to HEAD.
    #[arg(long)]
    pub abort: bool,
}

const TOUCHED: &str = "Touched:";
const CONFLICTS: &str = "Conflicts:";

pub fn run(ctx: &Ctx, args: UpdateArgs) -> CmdResult {
    let ui = ctx.ui;
    let project = generated_project(ctx)?;
    let root = project.root.clone();
    let repo = git2::Repository::open(&root).map_err(|_| {
        CommandError::msg(
            ExitStatus::Refused,
            format!(
                "{} has no git repository: fsi update keeps its base in git and commits its result (`git init` and commit first)",
                root.display()
            ),
        )
    })?;
    let guarded = if args.dry_run {
        None
    } else {
        Some(guard(&project)?)
    };
    let pending = base::target(&root, base::PENDING_REF)?;
    if args.abort {
        return abort(ui, &root, &repo, pending);
    }
    if args.continue_ {
        return finish(ui, &root, &repo, pending);
    }
    if pending.is_some() {
        return Err(CommandError::msg(
            ExitStatus::Refused,
            "an update stopped on conflicts is in progress: resolve the markers, then `fsi update --continue` (or `fsi update --abort`)",
        ));
    }
    let dirty = crate::session::gitops::dirty_paths(&repo, None, &[])
        .map_err(|e| CommandError::msg(ExitStatus::Failure, e))?;
    if !dirty.is_empty() && !args.dry_run {
        let mut paths: Vec<String> = dirty.iter().take(5).cloned().collect();
        if dirty.len() > 5 {
            paths.push(format!("and {} more", dirty.len() - 5));
        }
        return Err(ScaffoldError::Dirty {
            paths,
            extra: String::new(),
        }
        .into());
    }

    let Some(old) = base::read(&root)? else {
        return Err(CommandError::msg(
            ExitStatus::Refused,
            "no update base: neither refs/fsi/base (a clone fetches it with `git fetch origin 'refs/fsi/*:refs/fsi/*'`) nor fsi's scaffold commit at the root of the history",
        ));
    };
    let request = request_for(&project)?;
    let resources = project
        .config
        .resources
        .iter()
        .cloned()
        .map(scaffold::Resource::from_entry)
        .collect::<Result<Vec<_>, _>>()?;
    let rendered = scaffold::plan_project(&request, &resources)?;
    let generated_dir = types_dir(&project);
    let keep = |p: &str| !generated_dir.as_deref().is_some_and(|d| under(p, d));
    let theirs: Files = base::files_of(&repo, &rendered)
        .map_err(|e| git_failed(&root, e))?
        .into_iter()
        .filter(|(p, _)| keep(p))
        .collect();
    let old_origin = old.origin.clone();
    let base_files: Files = old.files.into_iter().filter(|(p, _)| keep(p)).collect();

    let ours = |p: &str| read_file(&root, p);
    let version = env!("CARGO_PKG_VERSION");
    let theirs_label = format!("fsi {version}");
    let m = merge::merge(
        &base_files,
        &theirs,
        &ours,
        &merge::Labels {
            base: "base (what fsi rendered before)",
            ours: "yours",
            theirs: &theirs_label,
        },
    )
    .map_err(|e| git_failed(&root, e))?;

    for (path, why) in &m.kept {
        ui.info(match why {
            merge::Kept::DeletedByYou => {
                format!("kept deleted: {path} (you deleted it; fsi {version} changed it)")
            }
            merge::Kept::ChangedByYou => {
                format!("kept: {path} (fsi no longer generates it; you changed it)")
            }
        });
    }
    if m.is_empty() {
        // The working tree has fsi's changes already (or there were none): the base becomes
        // this render, so the next update starts from it — written only when it differs.
        let recorded = matches!(old_origin, base::Origin::Recorded(_));
        let same = recorded && base_files == theirs;
        if !args.dry_run && !same {
            base::record(
                &root,
                &theirs,
                base::BASE_REF,
                &format!("fsi update to {version}"),
            )?;
        }
        ui.info(format!("up to date with fsi {version}: nothing to change"));
        return Ok(ExitStatus::Success);
    }
    let changes = m.changes(&ours);
    let conflicts: Vec<String> = m.conflicts().into_iter().map(str::to_string).collect();
    if args.dry_run {
        print_diff(ui, &changes);
        ui.info(format!(
            "{} file(s) would change{}; nothing was written",
            changes.len(),
            if conflicts.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} with conflicts ({})",
                    conflicts.len(),
                    conflicts.join(", ")
                )
            }
        ));
        return Ok(ExitStatus::Success);
    }

    if let Some((_, cancel)) = &guarded {
        stop_if_cancelled(cancel)?;
    }
    let exec: BTreeMap<&str, bool> = m
        .actions
        .iter()
        .filter_map(|(p, a)| match a {
            merge::Action::Write(f) | merge::Action::Conflict(f) => {
                Some((p.as_str(), f.executable))
            }
            merge::Action::Remove => None,
        })
        .collect();
    apply(&root, &changes, &|p| exec.get(p).copied())?;
    for p in m.removed() {
        ui.info(format!(
            "removed: {p} (fsi no longer generates it; you had not changed it)"
        ));
    }
    let touched: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();

    if !conflicts.is_empty() {
        let mut message = format!("fsi update to {version} (pending)\n\n{TOUCHED}\n");
        for p in &touched {
            message.push_str(&format!("{p}\n"));
        }
        message.push_str(&format!("{CONFLICTS}\n"));
        for p in &conflicts {
            message.push_str(&format!("{p}\n"));
        }
        base::record_in(&repo, &theirs, base::PENDING_REF, &message)
            .map_err(|e| git_failed(&root, e))?;
        ui.info(format!(
            "updated {} file(s); {} conflict(s):",
            touched.len(),
            conflicts.len()
        ));
        for p in &conflicts {
            ui.out(format!("  conflict: {p}"));
        }
        ui.info("resolve the <<<<<<< / >>>>>>> markers (your text is between <<<<<<< yours and =======), then `fsi update --continue`; `fsi update --abort` undoes the update");
        return Ok(ExitStatus::Failure);
    }

    let types = regenerate_types(&root)?;
    let mut paths = touched.clone();
    paths.extend(types);
    let hash = crate::session::gitops::commit_paths(
        &repo,
        &paths,
        &format!("chore: update to fsi {version} (fsi update)"),
    )
    .map_err(|e| CommandError::msg(ExitStatus::Failure, e))?;
    base::record(
        &root,
        &theirs,
        base::BASE_REF,
        &format!("fsi update to {version}"),
    )?;
    ui.info(format!(
        "updated {} file(s) to fsi {version}; git: committed {hash}",
        touched.len()
    ));
    for c in &changes {
        ui.info(format!(
            "  {} {}",
            if c.new.is_none() {
                "-"
            } else if c.old.is_none() {
                "+"
            } else {
                "~"
            },
            c.path
        ));
    }
    Ok(ExitStatus::Success)
}

fn pending_lists(repo: &git2::Repository, pending: git2::Oid) -> (Vec<String>, Vec<String>) {
    let message = repo
        .find_commit(pending)
        .ok()
        .and_then(|c| c.message().ok().map(str::to_string))
        .unwrap_or_default();
    let (mut touched, mut conflicts) = (Vec::new(), Vec::new());
    let mut into: Option<&mut Vec<String>> = None;
    for line in message.lines() {
        match line {
            TOUCHED => into = Some(&mut touched),
            CONFLICTS => into = Some(&mut conflicts),
            "" => {}
            p => {
                if let Some(v) = into.as_mut() {
                    v.push(p.to_string());
                }
            }
        }
    }
    (touched, conflicts)
}

fn no_update() -> CommandError {
    CommandError::msg(ExitStatus::Refused, "no update is in progress")
}

fn finish(ui: &Ui, root: &Path, repo: &git2::Repository, pending: Option<git2::Oid>) -> CmdResult {
    let pending = pending.ok_or_else(no_update)?;
    let (touched, conflicts) = pending_lists(repo, pending);
    let unresolved: Vec<&String> = conflicts
        .iter()
        .filter(|p| {
            std::fs::read(root.join(p)).is_ok_and(|b| {
                String::from_utf8_lossy(&b)
                    .lines()
                    .any(|l| l.starts_with("<<<<<<< ") || l.starts_with(">>>>>>> "))
            })
        })
        .collect();
    if !unresolved.is_empty() {
        return Err(CommandError::msg(
            ExitStatus::Refused,
            format!(
                "conflict markers remain in {}: resolve them first",
                unresolved
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let types = regenerate_types(root)?;
    let mut paths = touched;
    paths.extend(types);
    let version = env!("CARGO_PKG_VERSION");
    let hash = crate::session::gitops::commit_paths(
        repo,
        &paths,
        &format!("chore: update to fsi {version} (fsi update)"),
    )
    .map_err(|e| CommandError::msg(ExitStatus::Failure, e))?;
    base::set(root, base::BASE_REF, Some(pending), "fsi update --continue")?;
    base::set(root, base::PENDING_REF, None, "fsi update --continue")?;
    ui.info(format!("update to fsi {version} committed: {hash}"));
    Ok(ExitStatus::Success)
}

fn abort(ui: &Ui, root: &Path, repo: &git2::Repository, pending: Option<git2::Oid>) -> CmdResult {
    let pending = pending.ok_or_else(no_update)?;
    let (touched, _) = pending_lists(repo, pending);
    let head = repo
        .head()
        .and_then(|h| h.peel_to_tree())
        .map_err(|e| git_failed(root, e))?;
    let mut changes = Vec::new();
    for p in &touched {
        let old = head.get_path(Path::new(p)).ok().and_then(|e| {
            repo.find_blob(e.id())
                .ok()
                .map(|b| (b.content().to_vec(), e.filemode() == 0o100755))
        });
        changes.push((p.clone(), old));
    }
    let file_changes: Vec<crate::fsutil::FileChange<'_>> = changes
        .iter()
        .map(|(p, old)| crate::fsutil::FileChange {
            path: root.join(p),
            contents: old.as_ref().map(|(c, _)| c.as_slice()),
            executable: old.as_ref().is_some_and(|(_, x)| *x),
        })
        .collect();
    crate::fsutil::apply_all(&file_changes, true, &|| false).map_err(|e| {
        CommandError::msg(
            ExitStatus::Failure,
            format!("cannot restore {}: {}", e.path.display(), e.source),
        )
    })?;
    base::set(root, base::PENDING_REF, None, "fsi update --abort")?;
    ui.info(format!(
        "update aborted: {} file(s) back as they are in HEAD",
        touched.len()
    ));
    Ok(ExitStatus::Success)
}

fn git_failed(root: &Path, source: git2::Error) -> CommandError {
    ScaffoldError::Git {
        path: root.to_path_buf(),
        source,
    }
    .into()
}

/// `path` is `dir` or inside it.
fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// The generated types' directory, project-relative: fsi types owns it, the merge leaves it out.
fn types_dir(project: &Project) -> Option<String> {
    let out = &project.config.types.out_dir;
    (!out.is_absolute()).then(|| out.to_string_lossy().replace('\\', "/"))
}

fn read_file(root: &Path, rel: &str) -> Option<BaseFile> {
    use std::os::unix::fs::PermissionsExt;
    let path = root.join(rel);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    Some(BaseFile {
        contents: std::fs::read(&path).ok()?,
        executable: meta.permissions().mode() & 0o111 != 0,
    })
}

/// Write every change in one transaction: all of them or none.
pub(super) fn apply(
    root: &Path,
    changes: &[Change],
    executable: &dyn Fn(&str) -> Option<bool>,
) -> Result<(), CommandError> {
    use std::os::unix::fs::PermissionsExt;
    let file_changes: Vec<crate::fsutil::FileChange<'_>> = changes
        .iter()
        .map(|c| {
            let path = root.join(&c.path);
            let keep_mode =
                std::fs::metadata(&path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
            crate::fsutil::FileChange {
                executable: executable(&c.path).unwrap_or(keep_mode),
                path,
                contents: c.new.as_deref(),
            }
        })
        .collect();
    crate::fsutil::apply_all(&file_changes, true, &|| false).map_err(|e| {
        CommandError::new(
            ExitStatus::Failure,
            ScaffoldError::Io {
                path: e.path,
                source: e.source,
            },
        )
    })
}

/// Regenerate the TypeScript types after the DTOs changed; the paths written or removed.
pub(super) fn regenerate_types(root: &Path) -> Result<Vec<String>, CommandError> {
    let project = crate::config::Project::discover(root)?;
    let generated = crate::typesync::generate(&project.root, &project.config.types)?;
    let report = crate::typesync::write(&project.root, &generated)?;
    Ok(report
        .written
        .iter()
        .chain(&report.removed)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect())
}

/// The diffs of `changes`, coloured on a terminal.
pub(super) fn print_diff(ui: &Ui, changes: &[Change]) {
    use std::io::IsTerminal;
    let text = scaffold::diff::unified_all(changes);
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.lines() {
        let code = if !colour {
            None
        } else if line.starts_with("+++") || line.starts_with("---") || line.starts_with("diff ") {
            Some("1")
        } else if line.starts_with('+') {
            Some("32")
        } else if line.starts_with('-') {
            Some("31")
        } else if line.starts_with("@@") {
            Some("36")
        } else {
            None
        };
        match code {
            Some(c) => out.push_str(&format!("\x1b[{c}m{line}\x1b[0m\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    ui.out(out.trim_end_matches('\n'));
}
