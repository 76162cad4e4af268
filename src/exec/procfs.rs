//! Processes as Linux's `/proc/PID/stat` describes them: state, parent and process group. Used
//! to find what a command left behind (orphans, escaped descendants, who holds a port). Where
//! there is no `/proc`, nothing is found and callers fall back to what signals can tell.

/// One process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub pid: i32,
    /// The state letter: `R`, `S`, `D`, `T`, `Z` (zombie), `X` (dead), …
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
}

impl Stat {
    /// A zombie or a dead process: it runs nothing any more.
    pub fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

/// `pid (comm) state ppid pgrp …`; `comm` may hold spaces and parentheses, so the fields are
/// read after the last `)`.
fn parse(pid: i32, text: &str) -> Option<Stat> {
    let mut fields = text[text.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some(Stat {
        pid,
        state,
        ppid,
        pgrp,
    })
}

/// The process `pid`, if it exists (zombies included).
pub fn stat(pid: i32) -> Option<Stat> {
    parse(
        pid,
        &std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?,
    )
}

/// Every process visible in `/proc`.
pub fn all() -> impl Iterator<Item = Stat> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<i32>().ok()?;
            parse(
                pid,
                &std::fs::read_to_string(entry.path().join("stat")).ok()?,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_parentheses_and_spaces() {
        let s = parse(7, "7 (a) b (c)) S 1 7 7 0 -1").unwrap();
        assert_eq!((s.state, s.ppid, s.pgrp), ('S', 1, 7));
        assert!(!s.is_dead());
        assert!(parse(7, "7 (x) Z 3 4").unwrap().is_dead());
        assert_eq!(parse(7, "garbage"), None);
    }

    #[test]
    fn this_process_is_found() {
        let me = std::process::id() as i32;
        let s = stat(me).unwrap();
        assert_eq!(s.ppid, nix::unistd::getppid().as_raw());
        assert!(all().any(|p| p.pid == me));
    }
}
