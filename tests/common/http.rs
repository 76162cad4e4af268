//! Plain HTTP(S) requests for tests: no proxy, no redirects followed, any status returned,
//! and TLS verification off (the certificates are throwaway self-signed ones).

use std::time::Duration;

use ureq::Agent;
use ureq::tls::TlsConfig;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The string at `data.<field>` of the JSON envelope; panics (with the response) if absent.
    pub fn data_str(&self, field: &str) -> String {
        self.json()["data"][field]
            .as_str()
            .unwrap_or_else(|| panic!("no data.{field}: {self:?}"))
            .to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn agent() -> Agent {
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(15)))
        .tls_config(TlsConfig::builder().disable_verification(true).build())
        .build();
    Agent::new_with_config(config)
}

fn finish(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Response, String> {
    let mut response = result.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

pub fn get(url: &str) -> Result<Response, String> {
    finish(agent().get(url).call())
}

pub fn get_with(url: &str, headers: &[(&str, &str)]) -> Result<Response, String> {
    let mut request = agent().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    finish(request.call())
}

pub fn post_json(
    url: &str,
    body: &serde_json::Value,
    headers: &[(&str, &str)],
) -> Result<Response, String> {
    let mut request = agent().post(url).header("Content-Type", "application/json");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    finish(request.send(body.to_string()))
}
