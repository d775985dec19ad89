//! Instance queries: filters, sorting and paging, with the one matching function both stores
//! and the engine use (the memory store is the reference, the Redis store uses it for the
//! filters its indexes do not serve).

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::instance::{InstanceId, InstanceState, ProcessInstance};
use crate::time::Timestamp;
use crate::variable::VariableValue;

/// How a text filter compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextMatch {
    Equals(String),
    /// SQL `LIKE`: `%` any run, `_` any one character.
    Like(String),
    LikeIgnoreCase(String),
}

impl TextMatch {
    pub fn matches(&self, value: Option<&str>) -> bool {
        let Some(value) = value else { return false };
        match self {
            TextMatch::Equals(x) => value == x,
            TextMatch::Like(p) => like(value, p),
            TextMatch::LikeIgnoreCase(p) => like(&value.to_lowercase(), &p.to_lowercase()),
        }
    }
}

/// SQL `LIKE` over characters.
pub fn like(value: &str, pattern: &str) -> bool {
    let v: Vec<char> = value.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    // Iterative wildcard match with backtracking on the last `%`.
    let (mut vi, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == v[vi]) && p[pi] != '%' {
            vi += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

/// Comparison of a variable filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum VariableOp {
    Equals,
    NotEquals,
    EqualsIgnoreCase,
    NotEqualsIgnoreCase,
    Like,
    LikeIgnoreCase,
    GreaterThan,
    GreaterThanOrEquals,
    LessThan,
    LessThanOrEquals,
    Exists,
    NotExists,
}

/// One condition on an instance's variables. `name: None` means "any variable" and is only
/// meaningful with `Equals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableFilter {
    pub name: Option<String>,
    pub op: VariableOp,
    pub value: Option<VariableValue>,
}

impl VariableFilter {
    pub fn matches(&self, vars: &crate::variable::Variables) -> bool {
        match &self.name {
            None => vars.values().any(|v| self.test(Some(v))),
            Some(name) => self.test(vars.get(name)),
        }
    }

    fn test(&self, stored: Option<&VariableValue>) -> bool {
        use VariableOp as Op;
        let wanted = self.value.as_ref();
        match self.op {
            Op::Exists => stored.is_some(),
            Op::NotExists => stored.is_none(),
            Op::Equals => match (stored, wanted) {
                (Some(s), Some(w)) => s.compare(w) == Some(Ordering::Equal),
                _ => false,
            },
            // Flowable's notEquals skips the type check and also matches a null value.
            Op::NotEquals => match (stored, wanted) {
                (Some(VariableValue::Null), _) => true,
                (Some(s), Some(w)) => s.compare(w) != Some(Ordering::Equal),
                _ => false,
            },
            Op::EqualsIgnoreCase | Op::NotEqualsIgnoreCase | Op::Like | Op::LikeIgnoreCase => {
                let (Some(s), Some(w)) = (stored.and_then(|s| s.as_text()), wanted.and_then(|w| w.as_text()))
                else {
                    return self.op == Op::NotEqualsIgnoreCase && matches!(stored, Some(VariableValue::Null));
                };
                match self.op {
                    Op::EqualsIgnoreCase => s.to_lowercase() == w.to_lowercase(),
                    Op::NotEqualsIgnoreCase => s.to_lowercase() != w.to_lowercase(),
                    Op::Like => like(s, w),
                    _ => like(&s.to_lowercase(), &w.to_lowercase()),
                }
            }
            Op::GreaterThan | Op::GreaterThanOrEquals | Op::LessThan | Op::LessThanOrEquals => {
                let Some(ord) = stored.zip(wanted).and_then(|(s, w)| s.compare(w)) else {
                    return false;
                };
                match self.op {
                    Op::GreaterThan => ord == Ordering::Greater,
                    Op::GreaterThanOrEquals => ord != Ordering::Less,
                    Op::LessThan => ord == Ordering::Less,
                    _ => ord != Ordering::Greater,
                }
            }
        }
    }
}

/// Which instances a query selects. Every field is a conjunct; `None`/empty means "any".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InstanceFilter {
    pub ids: Option<Vec<InstanceId>>,
    pub name: Option<TextMatch>,
    pub definition_key: Option<TextMatch>,
    /// Any of these keys.
    pub definition_keys: Option<Vec<String>>,
    pub excluded_definition_keys: Option<Vec<String>>,
    /// Any of these definition ids (the engine also resolves definition name, category and
    /// version filters into this list).
    pub definition_ids: Option<Vec<String>>,
    /// Definition name, category and version: not matched here; the engine resolves them
    /// against the deployed definitions into `definition_ids` before the store sees the query.
    #[serde(default)]
    pub definition_name: Option<TextMatch>,
    #[serde(default)]
    pub definition_category: Option<TextMatch>,
    #[serde(default)]
    pub definition_version: Option<u32>,
    pub business_key: Option<TextMatch>,
    pub business_status: Option<TextMatch>,
    pub started_by: Option<String>,
    pub started_before: Option<Timestamp>,
    pub started_after: Option<Timestamp>,
    #[serde(default)]
    pub finished_before: Option<Timestamp>,
    #[serde(default)]
    pub finished_after: Option<Timestamp>,
    pub activity_ids: Option<Vec<String>>,
    pub involved_user: Option<String>,
    pub suspended: Option<bool>,
    pub tenant_id: Option<TextMatch>,
    pub without_tenant: bool,
    pub variables: Vec<VariableFilter>,
    /// States to include; empty means open instances only (active or suspended).
    pub states: Vec<InstanceState>,
    /// A condition no instance can meet (e.g. a sub-process filter in a core without
    /// call activities): the query answers nothing without touching the store's data.
    pub impossible: bool,
}

impl InstanceFilter {
    pub fn matches(&self, i: &ProcessInstance) -> bool {
        let text = |m: &Option<TextMatch>, v: Option<&str>| m.as_ref().is_none_or(|m| m.matches(v));
        let within =
            |list: &Option<Vec<String>>, v: &str| list.as_ref().is_none_or(|l| l.iter().any(|x| x == v));
        let state_ok = if self.states.is_empty() {
            i.state.is_open()
        } else {
            self.states.contains(&i.state)
        };
        !self.impossible
            && state_ok
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&i.id))
            && text(&self.name, i.name.as_deref())
            && text(&self.definition_key, Some(&i.definition_key))
            && within(&self.definition_keys, &i.definition_key)
            && self
                .excluded_definition_keys
                .as_ref()
                .is_none_or(|l| !l.contains(&i.definition_key))
            && within(&self.definition_ids, &i.definition_id)
            && text(&self.business_key, i.business_key.as_deref())
            && text(&self.business_status, i.business_status.as_deref())
            && self
                .started_by
                .as_ref()
                .is_none_or(|u| i.start_user_id.as_ref() == Some(u))
            && self.started_before.is_none_or(|t| i.start_time < t)
            && self.started_after.is_none_or(|t| i.start_time > t)
            && self
                .finished_before
                .is_none_or(|t| i.end_time.is_some_and(|e| e < t))
            && self
                .finished_after
                .is_none_or(|t| i.end_time.is_some_and(|e| e > t))
            && self
                .activity_ids
                .as_ref()
                .is_none_or(|l| i.activity_id.as_ref().is_some_and(|a| l.contains(a)))
            && self.involved_user.as_ref().is_none_or(|u| i.is_involved(u))
            && self
                .suspended
                .is_none_or(|s| (i.state == InstanceState::Suspended) == s)
            && text(&self.tenant_id, Some(&i.tenant_id))
            && (!self.without_tenant || i.tenant_id.is_empty())
            && self.variables.iter().all(|f| f.matches(&i.variables))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InstanceSort {
    /// The id in string order (Flowable's default).
    #[default]
    Id,
    DefinitionId,
    DefinitionKey,
    StartTime,
    TenantId,
    BusinessKey,
    EndTime,
    /// End time minus start time (running instances have none and sort first).
    Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

impl InstanceSort {
    /// Total order used by every store: the sort key, then the id in string order.
    pub fn compare(self, a: &ProcessInstance, b: &ProcessInstance) -> Ordering {
        let primary = match self {
            InstanceSort::Id => Ordering::Equal,
            InstanceSort::DefinitionId => a.definition_id.cmp(&b.definition_id),
            InstanceSort::DefinitionKey => a.definition_key.cmp(&b.definition_key),
            InstanceSort::StartTime => a.start_time.cmp(&b.start_time),
            InstanceSort::TenantId => a.tenant_id.cmp(&b.tenant_id),
            InstanceSort::BusinessKey => a.business_key.cmp(&b.business_key),
            InstanceSort::EndTime => a.end_time.cmp(&b.end_time),
            InstanceSort::Duration => {
                let d = |i: &ProcessInstance| i.end_time.map(|e| e.0 - i.start_time.0);
                d(a).cmp(&d(b))
            }
        };
        primary.then_with(|| id_string_cmp(a.id, b.id))
    }
}

/// Ids compare as their decimal strings (`"10" < "9"`), as Flowable sorts them.
pub fn id_string_cmp(a: InstanceId, b: InstanceId) -> Ordering {
    LexId::new(a).cmp(&LexId::new(b))
}

/// An instance id that orders as its decimal string, for indexes kept in Flowable's order.
///
/// The key is computed once, so that an index lookup compares integers: the id's digits
/// left-aligned to twenty places (`u64::MAX` has twenty), then its digit count, which breaks
/// the tie when one id's string is a prefix of the other's (`"1"` before `"10"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LexId(u128);

impl LexId {
    const WIDTH: u32 = 20;
    /// Bits for the digit count (at most twenty).
    const COUNT_BITS: u32 = 5;

    pub fn new(id: InstanceId) -> LexId {
        let digits = id.0.checked_ilog10().unwrap_or(0) + 1;
        let padded = u128::from(id.0) * 10u128.pow(Self::WIDTH - digits);
        LexId(padded << Self::COUNT_BITS | u128::from(digits))
    }

    pub fn id(self) -> InstanceId {
        let digits = (self.0 & ((1 << Self::COUNT_BITS) - 1)) as u32;
        let padded = self.0 >> Self::COUNT_BITS;
        // Exact: `new` multiplied by this same power of ten, and the id fits in a u64.
        InstanceId((padded / 10u128.pow(Self::WIDTH - digits)) as u64)
    }
}

/// A page request with its filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceQuery {
    pub filter: InstanceFilter,
    pub sort: InstanceSort,
    pub order: SortOrder,
    pub start: usize,
    pub size: usize,
    /// Whether the caller uses the items' variables and identity links (the default). When
    /// not, the store leaves them empty and saves reading, decoding and copying them (about a
    /// sixth of a list's CPU on Redis, docs/PERFORMANCE.md).
    #[serde(default = "yes")]
    pub with_details: bool,
}

fn yes() -> bool {
    true
}

impl Default for InstanceQuery {
    fn default() -> Self {
        InstanceQuery {
            filter: InstanceFilter::default(),
            sort: InstanceSort::Id,
            order: SortOrder::Asc,
            start: 0,
            size: 10,
            with_details: true,
        }
    }
}

impl InstanceQuery {
    pub fn compare(&self, a: &ProcessInstance, b: &ProcessInstance) -> Ordering {
        let o = self.sort.compare(a, b);
        match self.order {
            SortOrder::Asc => o,
            SortOrder::Desc => o.reverse(),
        }
    }
}

/// One page of results and the number of all matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub start: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_as_strings() {
        let mut ids: Vec<u64> = vec![
            0,
            1,
            9,
            10,
            11,
            100,
            19,
            2,
            99,
            1000,
            u64::MAX,
            1_844_674_407_370_955_161,
        ];
        let mut expected: Vec<String> = ids.iter().map(u64::to_string).collect();
        expected.sort();
        ids.sort_by(|a, b| id_string_cmp(InstanceId(*a), InstanceId(*b)));
        assert_eq!(ids.iter().map(u64::to_string).collect::<Vec<_>>(), expected);
        for id in ids {
            assert_eq!(
                LexId::new(InstanceId(id)).id(),
                InstanceId(id),
                "{id} round-trips"
            );
        }
    }

    #[test]
    fn like_patterns() {
        assert!(like("order-123", "order%"));
        assert!(like("order-123", "%-1_3"));
        assert!(like("", "%"));
        assert!(!like("order", "order_"));
        assert!(like("a%b", "a%b"));
        assert!(!like("abc", "b%"));
        assert!(like("abcabc", "%bc%c"));
    }

    #[test]
    fn variable_ops() {
        let mut vars = crate::variable::Variables::new();
        vars.insert("amount".into(), VariableValue::Long(250));
        vars.insert("who".into(), VariableValue::String("Kermit".into()));
        let f = |name: &str, op, value| VariableFilter {
            name: Some(name.into()),
            op,
            value,
        };
        assert!(f("amount", VariableOp::GreaterThan, Some(VariableValue::Long(100))).matches(&vars));
        // Same number, other type: no match (the engine compares typed values).
        assert!(!f("amount", VariableOp::Equals, Some(VariableValue::Integer(250))).matches(&vars));
        assert!(f(
            "who",
            VariableOp::EqualsIgnoreCase,
            Some(VariableValue::String("kermit".into()))
        )
        .matches(&vars));
        assert!(f(
            "who",
            VariableOp::LikeIgnoreCase,
            Some(VariableValue::String("ker%".into()))
        )
        .matches(&vars));
        assert!(f("nope", VariableOp::NotExists, None).matches(&vars));
        assert!(!f("who", VariableOp::NotExists, None).matches(&vars));
        let any = VariableFilter {
            name: None,
            op: VariableOp::Equals,
            value: Some(VariableValue::Long(250)),
        };
        assert!(any.matches(&vars));
    }
}
