//! Paging of list endpoints: a `limit` (1–200, default 50) and a `continuation_token` offset.

use crate::error::Result;
use crate::service::ServiceError;

/// One page of a list, and where the next one starts.
pub struct Page<V> {
    pub items: Vec<V>,
    pub has_more: bool,
    pub continuation_token: Option<usize>,
}

/// The page of `all` that `limit` and `continuation_token` select, each item shown by `view`.
pub fn page<T, V>(all: &[T], limit: Option<usize>, continuation_token: Option<usize>, view: impl Fn(&T) -> V) -> Result<Page<V>> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ServiceError::Invalid { field: "limit".into(), message: format!("{limit} is out of range; give 1 to 200") }.into());
    }
    let start = continuation_token.unwrap_or(0);
    let items: Vec<V> = all.iter().skip(start).take(limit).map(view).collect();
    let next = start.saturating_add(items.len());
    let has_more = next < all.len();
    Ok(Page { items, has_more, continuation_token: has_more.then_some(next) })
}
