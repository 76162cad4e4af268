//! The generated `nginx/nginx.conf` (an http-context file naming the compose host `api`), checked
//! as it is with `nginx -t`, and adapted to loopback to run in front of a local backend.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::process::Background;
use super::{http, run, run_ok, running_as_root, tool, wait_until};

/// Where the generated config expects its certificate and key (mounted by compose).
pub const CERT_PATH: &str = "/etc/nginx/ssl/fullchain.pem";
pub const KEY_PATH: &str = "/etc/nginx/ssl/privkey.pem";

pub struct TlsPair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A throwaway self-signed certificate for localhost in `dir`.
pub fn self_signed(dir: &Path) -> TlsPair {
    let cert = dir.join("fullchain.pem");
    let key = dir.join("privkey.pem");
    run_ok(
        Command::new(tool("openssl"))
            .args([
                "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "2",
            ])
            .args(["-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    TlsPair { cert, key }
}

fn replace_required(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the generated nginx config no longer contains `{from}`; update tests/common/nginx.rs"
    );
    text.replace(from, to)
}

/// The generated config with only the TLS paths pointed at `tls` (everything else as shipped).
pub fn with_tls_paths(site: &str, tls: &TlsPair) -> String {
    let site = replace_required(site, CERT_PATH, &tls.cert.to_string_lossy());
    replace_required(&site, KEY_PATH, &tls.key.to_string_lossy())
}

/// How to run the generated site on loopback.
pub struct Loopback<'a> {
    pub http_port: u16,
    pub https_port: u16,
    /// `127.0.0.1:PORT` of the backend (replaces the compose host `api:5000`).
    pub api: String,
    /// The built SPA (replaces /usr/share/nginx/html).
    pub root: &'a Path,
    pub tls: &'a TlsPair,
}

/// The generated config adapted to loopback: listen ports, backend address, web root, TLS paths;
/// IPv6 listeners dropped; the HTTP→HTTPS redirect keeps the HTTPS port.
pub fn adapt(site: &str, lb: &Loopback<'_>) -> String {
    let mut site = with_tls_paths(site, lb.tls);
    site = replace_required(&site, "server api:5000;", &format!("server {};", lb.api));
    site = replace_required(&site, "    listen [::]:80;\n", "");
    site = replace_required(&site, "    listen [::]:443 ssl;\n", "");
    site = replace_required(
        &site,
        "listen 80;",
        &format!("listen 127.0.0.1:{};", lb.http_port),
    );
    site = replace_required(
        &site,
        "listen 443 ssl;",
        &format!("listen 127.0.0.1:{} ssl;", lb.https_port),
    );
    site = replace_required(
        &site,
        "return 301 https://$host$request_uri;",
        &format!("return 301 https://$host:{}$request_uri;", lb.https_port),
    );
    replace_required(
        &site,
        "root /usr/share/nginx/html;",
        &format!("root {};", lb.root.display()),
    )
}

/// A main nginx.conf in `dir` (pid, logs and temp paths inside it) that includes `site_conf`.
pub fn main_config(dir: &Path, site_conf: &Path) -> String {
    let d = dir.display();
    let user = if running_as_root() {
        "user root;\n"
    } else {
        ""
    };
    format!(
        "{user}worker_processes 1;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n\
         \x20   include /etc/nginx/mime.types;\n\
         \x20   default_type application/octet-stream;\n\
         \x20   access_log {d}/access.log;\n\
         \x20   client_body_temp_path {d}/tmp/body;\n\
         \x20   proxy_temp_path {d}/tmp/proxy;\n\
         \x20   fastcgi_temp_path {d}/tmp/fastcgi;\n\
         \x20   uwsgi_temp_path {d}/tmp/uwsgi;\n\
         \x20   scgi_temp_path {d}/tmp/scgi;\n\
         \x20   include {site};\n\
         }}\n",
        site = site_conf.display(),
    )
}

/// Write `site` and a main config into `dir`; returns the main config's path.
pub fn write_config(dir: &Path, site: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("tmp")).expect("nginx temp dir");
    let site_conf = dir.join("site.conf");
    std::fs::write(&site_conf, site).expect("write site.conf");
    let main = dir.join("main.conf");
    std::fs::write(&main, main_config(dir, &site_conf)).expect("write main.conf");
    main
}

/// `nginx -t` on `site` with `hosts` (e.g. `api`, `db`) resolving to 127.0.0.1: in a private mount
/// namespace where a temporary hosts file is bind-mounted over /etc/hosts (the real one is left
/// alone). Returns the output; check `status` yourself.
pub fn test_config(dir: &Path, site: &str, hosts: &[&str]) -> Output {
    let main = write_config(dir, site);
    let hosts_file = dir.join("hosts");
    std::fs::write(
        &hosts_file,
        format!("127.0.0.1 localhost {}\n", hosts.join(" ")),
    )
    .expect("write hosts");
    let nginx = tool("nginx");
    let script = format!(
        "mount --bind '{}' /etc/hosts && exec '{}' -t -e '{}' -c '{}'",
        hosts_file.display(),
        nginx.display(),
        dir.join("error.log").display(),
        main.display()
    );
    let mut cmd = Command::new(tool("unshare"));
    if running_as_root() {
        cmd.arg("-m");
    } else {
        cmd.args(["-r", "-m"]);
    }
    run(cmd.args(["sh", "-c", &script]))
}

/// `dir/www` holding a stand-in for the built SPA (`index.html` with `<div id=root>`).
pub fn spa_root(dir: &Path) -> PathBuf {
    let web_root = dir.join("www");
    std::fs::create_dir_all(&web_root).unwrap();
    std::fs::write(
        web_root.join("index.html"),
        "<!doctype html><div id=root>spa</div>",
    )
    .unwrap();
    web_root
}

/// nginx running a loopback-adapted site.
pub struct Nginx {
    pub http_port: u16,
    pub https_port: u16,
    server: Background,
}

impl Nginx {
    /// The shipped `site` adapted to loopback on two free ports, in front of the API on
    /// `api_port`, serving `web_root` with `tls`; started from `dir/loopback`.
    pub fn in_front_of(
        dir: &Path,
        site: &str,
        tls: &TlsPair,
        web_root: &Path,
        api_port: u16,
    ) -> Nginx {
        let (http_port, https_port) = (super::free_port(), super::free_port());
        let adapted = adapt(
            site,
            &Loopback {
                http_port,
                https_port,
                api: format!("127.0.0.1:{api_port}"),
                root: web_root,
                tls,
            },
        );
        Nginx::start(&dir.join("loopback"), &adapted, http_port, https_port)
    }

    /// Start nginx on `site` (already adapted with [`adapt`]) from `dir`; waits until the HTTPS
    /// port answers.
    pub fn start(dir: &Path, site: &str, http_port: u16, https_port: u16) -> Nginx {
        let main = write_config(dir, site);
        let nginx = tool("nginx");
        run_ok(
            Command::new(&nginx)
                .arg("-t")
                .arg("-e")
                .arg(dir.join("error.log"))
                .arg("-c")
                .arg(&main),
        );
        let mut cmd = Command::new(&nginx);
        cmd.arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&main)
            .args(["-g", "daemon off;"]);
        // SIGQUIT: graceful shutdown.
        let mut server = Background::spawn("nginx", cmd, dir).with_stop_signal(Signal::SIGQUIT);
        let probe = format!("https://127.0.0.1:{https_port}/");
        wait_until(
            "nginx to answer over HTTPS",
            Duration::from_secs(15),
            || {
                server.assert_running();
                http::get(&probe).map(|_| ())
            },
        );
        Nginx {
            http_port,
            https_port,
            server,
        }
    }

    pub fn https(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.https_port)
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    pub fn log_tail(&self) -> String {
        self.server.log_tail()
    }
}
