//! Who may talk to the endpoint: the Host and Origin checks against DNS
//! rebinding (403), and the bearer token (401). Every request passes here
//! before any MCP handling, whatever its path.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use subtle::ConstantTimeEq;

/// The token clients must present. Shared with whoever rotates it: a new
/// value applies to the next request.
#[derive(Clone)]
pub struct TokenCell(Arc<RwLock<String>>);

impl TokenCell {
    /// A cell holding `token`.
    pub fn new(token: String) -> TokenCell {
        TokenCell(Arc::new(RwLock::new(token)))
    }

    /// Replaces the token (after a rotation).
    pub fn set(&self, token: String) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// Compares in constant time, so response timing says nothing about
    /// how much of a guess was right.
    fn matches(&self, candidate: &str) -> bool {
        let token = self.0.read().unwrap_or_else(PoisonError::into_inner);
        !token.is_empty() && bool::from(token.as_bytes().ct_eq(candidate.as_bytes()))
    }
}

impl std::fmt::Debug for TokenCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCell(****)")
    }
}

/// What the checks need to know.
#[derive(Clone, Debug)]
pub(crate) struct Guard {
    pub(crate) token: TokenCell,
    /// Host names (without port) a request may address; `None`: any (an
    /// all-interfaces endpoint the user allowed remote access to, whose
    /// names we cannot know).
    pub(crate) hosts: Option<Vec<String>>,
    /// The port we listen on: an Origin must name it.
    pub(crate) port: u16,
    /// Extra origins allowed exactly as written (`scheme://host:port`).
    pub(crate) extra_origins: Vec<String>,
}

impl Guard {
    pub(crate) fn new(
        token: TokenCell,
        addr: SocketAddr,
        allow_remote: bool,
        extra_origins: Vec<String>,
    ) -> Guard {
        let mut hosts: Vec<String> = LOOPBACK_HOSTS.into_iter().map(str::to_owned).collect();
        if allow_remote && !addr.ip().is_loopback() {
            hosts.push(addr.ip().to_string());
        }
        let hosts = (!(allow_remote && addr.ip().is_unspecified())).then_some(hosts);
        Guard {
            token,
            hosts,
            port: addr.port(),
            extra_origins,
        }
    }

    /// The `Origin` values a browser page on this endpoint's own address
    /// would send, for rmcp's (second) Origin check.
    pub(crate) fn origins(&self) -> Vec<String> {
        self.hosts
            .as_deref()
            .unwrap_or(&LOOPBACK_HOSTS.map(str::to_owned))
            .iter()
            .map(|host| match host.contains(':') {
                true => format!("http://[{host}]:{}", self.port),
                false => format!("http://{host}:{}", self.port),
            })
            .chain(self.extra_origins.iter().cloned())
            .collect()
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        let Some(hosts) = &self.hosts else {
            return true;
        };
        let name = host_name(host);
        hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(name))
    }

    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            // Not a browser, or a same-origin GET: nothing to check.
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        if self.extra_origins.iter().any(|allowed| allowed == origin) {
            return true;
        }
        let Some(rest) = origin.strip_prefix("http://") else {
            return false;
        };
        let port = self.port.to_string();
        let (name, origin_port) = match rest.rsplit_once(':') {
            Some((name, p)) if !name.ends_with(':') && !p.contains(']') => (name, p),
            _ => return false,
        };
        let name = name.trim_start_matches('[').trim_end_matches(']');
        origin_port == port
            && self
                .hosts
                .as_deref()
                .unwrap_or(&LOOPBACK_HOSTS.map(str::to_owned))
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
    }
}

/// `host:port`, `[v6]:port` or a bare host: the host name, without
/// brackets.
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match authority.rsplit_once(':') {
        Some((name, _port)) if !name.contains(':') => name,
        _ => authority,
    }
}

/// The names a request on this machine may use.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Query parameters that would carry a token. The spec forbids tokens in
/// URLs (they end up in logs and browser history); a request that tries is
/// refused, even with a good header, so the mistake is noticed.
const TOKEN_PARAMS: [&str; 4] = ["token", "access_token", "auth", "bearer"];

fn refuse(status: StatusCode, message: &str) -> Response {
    let mut response = (status, format!("{message}\n")).into_response();
    // The request body was not read: the connection cannot carry another
    // request, and the client should know before it tries.
    response
        .headers_mut()
        .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static(r#"Bearer realm="gatehouse""#),
        );
    }
    response
}

/// The middleware: Host, then Origin (403), then the token (401).
pub(crate) async fn check(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if !guard.host_allowed(headers) {
        tracing::warn!(host = ?headers.get(header::HOST), "refused a request for another host");
        return refuse(
            StatusCode::FORBIDDEN,
            "Forbidden: this Gatehouse endpoint only answers requests addressed to localhost",
        );
    }
    if !guard.origin_allowed(headers) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "refused a request from another origin");
        return refuse(
            StatusCode::FORBIDDEN,
            "Forbidden: requests from web pages of other origins are refused",
        );
    }
    let query_token = request.uri().query().is_some_and(|query| {
        query.split('&').any(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            TOKEN_PARAMS
                .iter()
                .any(|param| key.eq_ignore_ascii_case(param))
        })
    });
    if query_token {
        tracing::warn!("refused a request with a token in its URL");
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: a token in the URL is refused (URLs end up in logs); send it in the `Authorization: Bearer` header",
        );
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    match presented {
        Some(token) if guard.token.matches(token) => next.run(request).await,
        Some(_) => {
            tracing::warn!("refused a request with a wrong token");
            refuse(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: wrong token; `gatehouse token show` prints the current one",
            )
        }
        None => refuse(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: send `Authorization: Bearer <token>`; `gatehouse token show` prints the token",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new(
            TokenCell::new("secret".to_owned()),
            "127.0.0.1:8737".parse().unwrap(),
            false,
            vec!["https://app.example:443".to_owned()],
        )
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), value.parse().unwrap()))
            .collect()
    }

    #[test]
    fn only_loopback_hosts_are_answered() {
        let guard = guard();
        for host in [
            "127.0.0.1:8737",
            "localhost:8737",
            "LOCALHOST",
            "[::1]:8737",
        ] {
            assert!(
                guard.host_allowed(&headers(&[(header::HOST, host)])),
                "{host}"
            );
        }
        for host in [
            "evil.example",
            "evil.example:8737",
            "127.0.0.1.evil.example:8737",
            "",
        ] {
            assert!(
                !guard.host_allowed(&headers(&[(header::HOST, host)])),
                "{host}"
            );
        }
        assert!(!guard.host_allowed(&HeaderMap::new()), "no Host at all");
    }

    #[test]
    fn origins_must_be_this_endpoint_or_listed() {
        let guard = guard();
        for origin in [
            "http://127.0.0.1:8737",
            "http://localhost:8737",
            "http://[::1]:8737",
            "https://app.example:443",
        ] {
            assert!(
                guard.origin_allowed(&headers(&[(header::ORIGIN, origin)])),
                "{origin}"
            );
        }
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:9999",
            "https://127.0.0.1:8737",
            "null",
            "http://localhost",
        ] {
            assert!(
                !guard.origin_allowed(&headers(&[(header::ORIGIN, origin)])),
                "{origin}"
            );
        }
        assert!(
            guard.origin_allowed(&HeaderMap::new()),
            "no Origin: not a browser"
        );
    }

    #[test]
    fn an_all_interfaces_endpoint_with_remote_access_answers_any_host_but_not_any_origin() {
        let guard = Guard::new(
            TokenCell::new("secret".to_owned()),
            "0.0.0.0:8737".parse().unwrap(),
            true,
            Vec::new(),
        );
        for host in [
            "0.0.0.0:8737",
            "192.168.1.20:8737",
            "my-desktop.lan:8737",
            "127.0.0.1:8737",
        ] {
            assert!(
                guard.host_allowed(&headers(&[(header::HOST, host)])),
                "{host}"
            );
        }
        assert!(!guard.origin_allowed(&headers(&[(header::ORIGIN, "http://evil.example")])));
        assert!(guard.origin_allowed(&headers(&[(header::ORIGIN, "http://localhost:8737")])));
    }

    #[test]
    fn the_token_compares_exactly() {
        let cell = TokenCell::new("abc".to_owned());
        assert!(cell.matches("abc"));
        assert!(!cell.matches("abd") && !cell.matches("ab") && !cell.matches("abcd"));
        cell.set("new".to_owned());
        assert!(!cell.matches("abc") && cell.matches("new"));
        assert!(
            !TokenCell::new(String::new()).matches(""),
            "an empty token never matches"
        );
    }
}
