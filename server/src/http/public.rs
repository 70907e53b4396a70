//! The base URL a client reaches this server at, as seat `ws_url`s and room links carry it.
//!
//! With `--public-url`, or when bound to a concrete address, the base is fixed. Bound to an
//! unspecified address (`0.0.0.0`, `[::]`) without `--public-url`, the listening address is of
//! no use to a remote client, so each request's own `Host` is used instead (and, with
//! `--trust-proxy`, the `Forwarded` or `X-Forwarded-Host` / `X-Forwarded-Proto` headers).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header, uri::Authority};
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static REQUEST_BASE: String;
}

/// Longest `Host` (or forwarded host) used in a URL.
const MAX_HOST: usize = 255;

/// Whether seat URLs must come from each request: bound to an unspecified address without
/// `--public-url`.
pub fn derived_from_requests(public_url: Option<&str>, local: SocketAddr) -> bool {
    public_url.is_none() && local.ip().is_unspecified()
}

/// The base URL derived from the request being handled (`http://host:port` or `https://…`),
/// when the server derives it from requests.
pub fn request_base() -> Option<String> {
    REQUEST_BASE.try_with(Clone::clone).ok()
}

/// Middleware: makes the request's base URL visible to [`request_base`] while it is handled.
/// `trust_proxy` is `--trust-proxy`.
pub async fn derive(State(trust_proxy): State<bool>, request: Request, next: Next) -> Response {
    match base_of(request.headers(), trust_proxy) {
        Some(base) => REQUEST_BASE.scope(base, next.run(request)).await,
        None => {
            tracing::debug!("a request without a usable Host: seat URLs use the bind address");
            next.run(request).await
        }
    }
}

/// The base URL a request names, if it names a valid one.
fn base_of(headers: &HeaderMap, trust_proxy: bool) -> Option<String> {
    let forwarded = trust_proxy.then(|| forwarded(headers)).flatten();
    let (scheme, host) = match forwarded {
        Some((scheme, host)) => (scheme, host),
        None => ("http", headers.get(header::HOST)?.to_str().ok()?.to_owned()),
    };
    let host = valid_host(&host)?;
    Some(format!("{scheme}://{host}"))
}

/// The scheme and host a trusted proxy reports: `Forwarded` (RFC 7239) first, else
/// `X-Forwarded-Host` and `X-Forwarded-Proto`. Only the first (client-side) entry counts.
fn forwarded(headers: &HeaderMap) -> Option<(&'static str, String)> {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned())
    };
    let (proto, host) = match first("forwarded") {
        Some(entry) => {
            let param = |key: &str| {
                entry.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.eq_ignore_ascii_case(key)
                        .then(|| v.trim_matches('"').to_owned())
                })
            };
            (param("proto"), param("host")?)
        }
        None => (first("x-forwarded-proto"), first("x-forwarded-host")?),
    };
    let scheme = match proto.as_deref() {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        Some(p) if !p.eq_ignore_ascii_case("http") => return None,
        _ => "http",
    };
    Some((scheme, host))
}

/// `host` if it is a bare `host[:port]` fit for a URL (no user info, path or odd bytes) and
/// not itself an unspecified address.
fn valid_host(host: &str) -> Option<&str> {
    if host.is_empty() || host.len() > MAX_HOST || host.contains('@') {
        return None;
    }
    let authority: Authority = host.parse().ok()?;
    if authority.as_str() != host {
        return None;
    }
    let ip = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified()) {
        return None;
    }
    Some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    axum::http::HeaderName::from_static(k),
                    axum::http::HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn host_is_used_and_proxy_headers_only_when_trusted() {
        let h = headers(&[
            ("host", "192.168.1.5:8080"),
            ("x-forwarded-host", "game.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            base_of(&h, false).as_deref(),
            Some("http://192.168.1.5:8080")
        );
        assert_eq!(base_of(&h, true).as_deref(), Some("https://game.example"));
        let f = headers(&[
            ("host", "internal:8080"),
            (
                "forwarded",
                "for=1.2.3.4;proto=https;host=\"play.example:443\", for=5.6.7.8",
            ),
        ]);
        assert_eq!(
            base_of(&f, true).as_deref(),
            Some("https://play.example:443")
        );
    }

    #[test]
    fn hostile_hosts_are_not_used() {
        for bad in ["evil@x", "x/y", "0.0.0.0:8080", "[::]:1", "a b", ""] {
            let h: HeaderMap = [(
                header::HOST,
                axum::http::HeaderValue::from_str(bad).unwrap(),
            )]
            .into_iter()
            .collect();
            assert_eq!(base_of(&h, false), None, "{bad:?}");
        }
        let h = headers(&[
            ("host", "x"),
            ("x-forwarded-proto", "gopher"),
            ("x-forwarded-host", "y"),
        ]);
        assert_eq!(
            base_of(&h, true).as_deref(),
            Some("http://x"),
            "forwarded headers with an unknown scheme are not used"
        );
    }
}
