//! The query of the spectator feed: an optional viewport, `?x=&y=&w=&h=` in world units.

use axum::http::StatusCode;
use protocol::api::SpectatorViewport;

use crate::http::error::ApiError;
use crate::room::spectator::viewport::Viewport;

/// The viewport's parameters, in the order they are read.
const PARAMS: [&str; 4] = ["x", "y", "w", "h"];

/// The viewport the query asks for: none without parameters, else all four, each once, as
/// numbers in range. Anything else is a 400 naming the parameter.
pub fn viewport(pairs: &[(String, String)]) -> Result<Option<Viewport>, ApiError> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut values = [None; PARAMS.len()];
    for (name, value) in pairs {
        let index = PARAMS
            .iter()
            .position(|p| p == name)
            .ok_or_else(|| invalid(name, format!("unknown query parameter `{name}`")))?;
        if values[index].is_some() {
            return Err(invalid(name, format!("`{name}` is given more than once")));
        }
        let number = value
            .parse::<f64>()
            .map_err(|_| invalid(name, format!("`{name}` must be a number")))?;
        values[index] = Some(number);
    }
    let [x, y, w, h] = values;
    let missing = |i: usize| {
        let name = PARAMS[i];
        invalid(
            name,
            format!("`{name}` is missing: a viewport takes x, y, w and h"),
        )
    };
    let units = SpectatorViewport {
        x: x.ok_or_else(|| missing(0))?,
        y: y.ok_or_else(|| missing(1))?,
        w: w.ok_or_else(|| missing(2))?,
        h: h.ok_or_else(|| missing(3))?,
    };
    Viewport::new(units)
        .map(Some)
        .map_err(|e| invalid(e.field(), e.to_string()))
}

/// The query of a feed showing `viewport`, for a redirect to the node that runs the room.
pub fn to_query(viewport: &Viewport) -> String {
    let SpectatorViewport { x, y, w, h } = viewport.units();
    format!("x={x}&y={y}&w={w}&h={h}")
}

/// A 400 naming the query parameter `field`.
fn invalid(field: &str, message: String) -> ApiError {
    ApiError {
        field: Some(field.to_owned()),
        ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &[(&str, &str)]) -> Result<Option<Viewport>, Option<String>> {
        let pairs: Vec<_> = q
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        viewport(&pairs).map_err(|e| e.field)
    }

    #[test]
    fn no_parameters_is_the_whole_room() {
        assert_eq!(query(&[]), Ok(None));
    }

    #[test]
    fn four_numbers_are_a_viewport_that_survives_a_redirect() {
        let v = query(&[("x", "1.5"), ("y", "-2"), ("w", "30"), ("h", "1e1")])
            .unwrap()
            .unwrap();
        let units = v.units();
        assert_eq!(
            (units.x, units.y, units.w, units.h),
            (1.5, -2.0, 30.0, 10.0)
        );
        let again: Vec<(String, String)> = to_query(&v)
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(viewport(&again).unwrap(), Some(v));
    }

    #[test]
    fn bad_queries_name_the_parameter() {
        let ok = [("x", "0"), ("y", "0"), ("w", "10"), ("h", "10")];
        let with = |i: usize, value: &'static str| {
            let mut q = ok.to_vec();
            q[i].1 = value;
            query(&q)
        };
        assert_eq!(with(0, "abc"), Err(Some("x".into())));
        assert_eq!(with(1, "NaN"), Err(Some("y".into())));
        assert_eq!(with(2, "0"), Err(Some("w".into())));
        assert_eq!(with(3, "-5"), Err(Some("h".into())));
        assert_eq!(with(0, "inf"), Err(Some("x".into())));
        assert_eq!(query(&ok[..3]), Err(Some("h".into())));
        assert_eq!(query(&[("w", "1")]), Err(Some("x".into())));
        let mut twice = ok.to_vec();
        twice.push(("y", "1"));
        assert_eq!(query(&twice), Err(Some("y".into())));
        let mut unknown = ok.to_vec();
        unknown.push(("zoom", "2"));
        assert_eq!(query(&unknown), Err(Some("zoom".into())));
    }
}
