//! Query parameters of the forms and users listings, and the selection
//! they make (spec §3 and §4; upstream `api.py` `get_user_forms`,
//! `misc.get_int_or_400`, `sql_criterias.py`).

use super::error::WcsError;
use super::model::WcsData;
use super::python::{self, PyInt};
use super::text::{simplify, unaccent};

type ParseError = (WcsError, String);

use crate::form::Pair;

/// Request form values (blank values kept, like Quixote's form), borrowed
/// where nothing needs decoding.
fn pairs(raw: &str) -> Vec<Pair<'_>> {
    crate::form::parse(raw).collect()
}

fn first<'a>(p: &'a [Pair<'_>], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref())
}

/// `misc.get_int_or_400`: absent is `None`, anything `int()` refuses is a
/// 400 without a message.
pub fn int_or_400(name: &str, v: Option<&str>) -> Result<Option<i64>, ParseError> {
    let Some(v) = v else { return Ok(None) };
    match python::int(v) {
        PyInt::Int(n) if n >= 0 => Ok(Some(n)),
        PyInt::Int(n) => Err((
            WcsError::BadRequest(None),
            format!("{name}={n} is negative (upstream passes it to SQL, which refuses it)"),
        )),
        PyInt::TooBig => Err((
            WcsError::BadRequest(None),
            format!(
                "{name}={v:?} does not fit in 64 bits (upstream passes it to SQL, which refuses it)"
            ),
        )),
        PyInt::Invalid => Err((
            WcsError::BadRequest(None),
            format!("{name}={v:?} is not an integer for Python's int()"),
        )),
    }
}

/// upstream's boolean flags: true/True/on/1 and false/False/off/0.
fn flag(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "True" | "on" | "1"))
}

/// The `status` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusFilter {
    All,
    Open,
    Done,
}

/// Parameters of the forms and drafts listings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FormsQuery {
    pub full: bool,
    pub include_drafts: bool,
    pub include_accessible: bool,
    pub status: StatusFilter,
    pub category_slugs: Option<Vec<String>>,
    pub desc: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// `Some(None)`: a malformed `related`, which matches nothing.
    pub related: Option<Option<String>>,
}

impl FormsQuery {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::from_pairs(&pairs(raw))
    }

    /// [`Self::parse`], over the query's pairs already read.
    pub fn from_pairs(p: &[Pair<'_>]) -> Result<Self, ParseError> {
        let status = match first(p, "status").unwrap_or("") {
            "" | "all" => StatusFilter::All,
            "open" => StatusFilter::Open,
            "done" => StatusFilter::Done,
            other => {
                return Err((
                    WcsError::BadRequest(Some("Invalid status parameter value.".into())),
                    format!("status={other:?}: expected all, open or done"),
                ));
            }
        };
        let related = first(p, "related").map(|r| {
            let parts: Vec<&str> = r.split(':').collect();
            match parts.as_slice() {
                [kind @ ("carddef" | "formdef"), slug, id]
                    if !slug.is_empty() && !id.is_empty() =>
                {
                    Some(format!("{kind}:{slug}:{id}"))
                }
                _ => None,
            }
        });
        Ok(Self {
            full: first(p, "full") == Some("on"),
            include_drafts: flag(first(p, "include-drafts")),
            include_accessible: flag(first(p, "include-accessible")),
            status,
            category_slugs: first(p, "category_slugs").map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
            desc: first(p, "sort") == Some("desc"),
            limit: int_or_400("limit", first(p, "limit"))?,
            offset: int_or_400("offset", first(p, "offset"))?,
            related,
        })
    }
}

/// The forms of user `target` matching `q`, each with its `readable`
/// flag. `caller_roles` applies the cross-user rule.
pub fn select(
    data: &WcsData,
    target: usize,
    q: &FormsQuery,
    drafts_only: bool,
    caller_roles: Option<&[String]>,
) -> Vec<(usize, bool)> {
    let user = &data.users[target];
    let empty = Vec::new();
    let mut candidates: Vec<usize> = data
        .index
        .forms_by_user
        .get(&user.id)
        .unwrap_or(&empty)
        .clone();
    if q.include_accessible {
        let mut roles = user.roles.clone();
        roles.push(format!("_user:{}", user.id));
        for r in &roles {
            if let Some(v) = data.index.forms_by_role.get(r) {
                candidates.extend(v);
            }
        }
        candidates.sort_by_key(|&i| (data.index.receipt[i], data.forms[i].id));
        candidates.dedup();
    }
    let include_drafts = drafts_only || q.include_drafts;
    let mut out = Vec::new();
    for i in candidates {
        let form = &data.forms[i];
        let Some(def) = data.formdef(&form.formdef_id) else {
            continue;
        };
        if form.is_draft() {
            if !include_drafts || def.disabled {
                continue;
            }
        } else if drafts_only {
            continue;
        }
        if let Some(slugs) = &q.category_slugs {
            let slug = def
                .category_id
                .as_deref()
                .and_then(|c| data.category(c))
                .map(|c| c.slug.as_str());
            if !slug.is_some_and(|s| slugs.iter().any(|x| x == s)) {
                continue;
            }
        }
        let endpoint = super::render::real_status(data, form).1;
        match q.status {
            StatusFilter::All => {}
            StatusFilter::Open if endpoint => continue,
            StatusFilter::Done if !endpoint => continue,
            _ => {}
        }
        if let Some(related) = &q.related {
            match related {
                Some(r) if form.related.iter().any(|x| x == r) => {}
                _ => continue,
            }
        }
        let readable = match caller_roles {
            None => true,
            Some(roles) => form.concerned_roles.iter().any(|r| roles.contains(r)),
        };
        if !readable && def.skip_from_360_view {
            continue;
        }
        out.push((i, readable));
    }
    if q.desc {
        out.reverse();
    }
    let offset = q.offset.unwrap_or(0) as usize;
    let out: Vec<_> = out.into_iter().skip(offset).collect();
    match q.limit {
        Some(l) => out.into_iter().take(l as usize).collect(),
        None => out,
    }
}

/// Parameters of the users directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersQuery {
    pub q: Option<String>,
    pub roles: Option<Vec<String>>,
    pub limit: Option<i64>,
}

impl UsersQuery {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let p = pairs(raw);
        Ok(Self {
            q: first(&p, "q").filter(|q| !q.is_empty()).map(str::to_owned),
            roles: first(&p, "roles").map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
            limit: int_or_400("limit", first(&p, "limit"))?,
        })
    }
}

/// Non-deleted users matching `q`, ordered by name.
pub fn search_users(data: &WcsData, q: &UsersQuery) -> Vec<usize> {
    let needle = q.q.as_deref().map(|s| s.to_lowercase());
    let ascii = q.q.as_deref().map(|s| simplify(s, ' '));
    let unaccented = needle.as_deref().map(unaccent);
    let limit = q.limit.map(|l| l as usize).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for &i in &data.index.users_by_name {
        if out.len() >= limit {
            break;
        }
        let u = &data.users[i];
        if u.deleted {
            continue;
        }
        if let Some(roles) = &q.roles
            && !u.roles.iter().any(|r| roles.contains(r))
        {
            continue;
        }
        if let (Some(n), Some(a), Some(raw)) = (&needle, &ascii, &q.q) {
            let hit = u.name.to_lowercase().contains(n.as_str())
                || data.index.ascii_names[i].contains(a.as_str())
                || unaccented
                    .as_deref()
                    .is_some_and(|un| data.index.ascii_names[i].contains(un))
                || u.email
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains(n.as_str()))
                || u.name_identifiers.iter().any(|x| x == raw)
                || u.fields.values().any(|v| {
                    v.as_str()
                        .is_some_and(|s| s.to_lowercase().contains(n.as_str()))
                });
            if !hit {
                continue;
            }
        }
        out.push(i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(v: &str) -> bool {
        matches!(
            int_or_400("limit", Some(v)),
            Err((WcsError::BadRequest(None), _))
        )
    }

    #[test]
    fn int_or_400_takes_what_pythons_int_takes() {
        assert_eq!(int_or_400("limit", None).unwrap(), None);
        assert_eq!(int_or_400("limit", Some("1_0")).unwrap(), Some(10));
        assert_eq!(int_or_400("limit", Some(" +7\n")).unwrap(), Some(7));
        assert_eq!(int_or_400("limit", Some("-0")).unwrap(), Some(0));
        assert_eq!(int_or_400("limit", Some("\u{663}")).unwrap(), Some(3));
    }

    #[test]
    fn int_or_400_refuses_misplaced_underscores_and_other_non_integers() {
        for v in [
            "_1", "1_", "1__0", "_", "", " ", "1.0", "ten", "- 1", "\x1c1",
        ] {
            assert!(bad(v), "{v:?}");
        }
    }

    #[test]
    fn int_or_400_refuses_negative_and_oversized_values() {
        assert!(bad("-1"));
        assert!(bad("99999999999999999999"));
        let (_, why) = int_or_400("limit", Some("1__0")).unwrap_err();
        assert_eq!(why, "limit=\"1__0\" is not an integer for Python's int()");
    }
}
