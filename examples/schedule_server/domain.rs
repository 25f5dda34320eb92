//! The weekly schedule: its types and its validation, a port of the Django reference's
//! `schedule_app/serializers.py` with the same checks, in the same order, with the same messages
//! and the same DRF-shaped nested errors.
//!
//! The accepted shape (every day optional, days `monday`..`sunday`):
//!
//! ```json
//! {"schedule": {"monday": [{"start": "00:00", "stop": "01:00", "ids": [1]}]}}
//! ```
//!
//! * `start` / `stop`: strings in 24-hour `"HH:MM"` (`00:00`..`23:59`); `stop` may also be
//!   `"24:00"` (end of day) and must be later than `start`;
//! * `ids`: a list of JSON integers (booleans, strings and floats are rejected).
//!
//! Error bodies follow DRF: keys are the input's keys in the input's order, list positions become
//! string keys (`"0"`, `"1"`, …), leaves are lists of messages. To keep the input's key order
//! (DRF reports errors in that order) the request body is parsed into [`Json`], an ordered JSON
//! tree, rather than `serde_json::Value` (whose maps are sorted unless `preserve_order` is on).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// The seven days, in calendar order (the order of normalised schedules).
pub(crate) const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// One time slot: `start` < `stop`, both `"HH:MM"`, and the ids it applies to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Slot {
    /// `"HH:MM"`, `00:00`..`23:59`.
    pub(crate) start: String,
    /// `"HH:MM"`, `00:01`..`24:00`, later than `start`.
    pub(crate) stop: String,
    /// JSON integers (kept as written, within the 64-bit range).
    pub(crate) ids: Vec<serde_json::Number>,
}

/// A validated, normalised weekly schedule: the days present in the request, in calendar order.
/// A day may be present with no slots (`"friday": []`), as in the reference.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Schedule {
    days: Vec<(Day, Vec<Slot>)>,
}

/// An index into [`DAYS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Day(usize);

impl Day {
    /// The day called `name` (lower case, as DRF compares it), if any.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        DAYS.iter().position(|d| *d == name).map(Day)
    }

    /// The day's name.
    pub(crate) fn name(self) -> &'static str {
        DAYS[self.0]
    }
}

/// Serialises as `{"monday":[{"start":…,"stop":…,"ids":[…]}],…}`, days in calendar order.
impl Serialize for Schedule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.days.len()))?;
        for (day, slots) in &self.days {
            map.serialize_entry(day.name(), slots)?;
        }
        map.end()
    }
}

/// Reads a stored schedule back. Stored data went through [`validate_schedule`] before it was
/// written, but it is validated again here so a hand-edited file cannot smuggle in bad data.
impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = Json::deserialize(d)?;
        validate_schedule(&json).map_err(|_| de::Error::custom("invalid stored schedule"))
    }
}

// ------------------------------------------------------------------------------------------------
// An ordered JSON tree
// ------------------------------------------------------------------------------------------------

/// A JSON value that keeps object keys in input order (a duplicated key keeps its first position
/// and its last value, as Python's `json` module does).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number (integers beyond 64 bits arrive as floats).
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, in input order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The Python type name DRF puts in its messages (`dict`, `list`, `str`, `int`, …).
    pub(crate) fn python_type(&self) -> &'static str {
        match self {
            Json::Null => "NoneType",
            Json::Bool(_) => "bool",
            Json::Number(n) if n.is_f64() => "float",
            Json::Number(_) => "int",
            Json::String(_) => "str",
            Json::Array(_) => "list",
            Json::Object(_) => "dict",
        }
    }

    /// The value of `key` in an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(v)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("non-finite number"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Json::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut out: Vec<(String, Json)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    match out.iter_mut().find(|(key, _)| *key == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Ok(Json::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

// ------------------------------------------------------------------------------------------------
// DRF-shaped errors
// ------------------------------------------------------------------------------------------------

/// A DRF validation error: a list of messages, or a map of nested errors in insertion order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Errors {
    /// `["message", …]`
    List(Vec<String>),
    /// `{"key": <errors>, …}`
    Map(Vec<(String, Errors)>),
}

impl Errors {
    fn one(msg: impl Into<String>) -> Self {
        Errors::List(vec![msg.into()])
    }

    fn field(key: impl Into<String>, e: Errors) -> Self {
        Errors::Map(vec![(key.into(), e)])
    }
}

impl Serialize for Errors {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Errors::List(msgs) => {
                let mut seq = s.serialize_seq(Some(msgs.len()))?;
                for m in msgs {
                    seq.serialize_element(m)?;
                }
                seq.end()
            }
            Errors::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

// DRF's messages, verbatim.
const REQUIRED: &str = "This field is required.";
const NULL: &str = "This field may not be null.";
const BAD_TIME: &str = "Time must be a string in 24-hour \"HH:MM\" format.";
const BAD_INT: &str = "A valid integer is required.";
const STOP_NOT_LATER: &str = "stop must be later than start.";

fn not_a_list(v: &Json) -> String {
    format!(
        "Expected a list of items but got type \"{}\".",
        v.python_type()
    )
}

// ------------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------------

/// Validates a request body (`WeeklyScheduleSerializer`): `{"schedule": {...}}`.
///
/// # Errors
/// The DRF error tree, to be sent as a 400 body.
pub(crate) fn validate_body(body: &Json) -> Result<Schedule, Errors> {
    match body {
        // `Serializer.errors` turns the "may not be null" of a null body into this.
        Json::Null => Err(Errors::field(
            "non_field_errors",
            Errors::one("No data provided"),
        )),
        Json::Object(_) => match body.get("schedule") {
            None => Err(Errors::field("schedule", Errors::one(REQUIRED))),
            Some(Json::Null) => Err(Errors::field("schedule", Errors::one(NULL))),
            Some(schedule) => validate_schedule(schedule).map_err(|e| Errors::field("schedule", e)),
        },
        other => Err(Errors::field(
            "non_field_errors",
            Errors::one(format!(
                "Invalid data. Expected a dictionary, but got {}.",
                other.python_type()
            )),
        )),
    }
}

/// Validates the value of `"schedule"` (`ScheduleField`): unknown days and per-day errors are all
/// reported, keyed by day in input order.
///
/// # Errors
/// The DRF error tree for this field.
pub(crate) fn validate_schedule(value: &Json) -> Result<Schedule, Errors> {
    let Json::Object(days) = value else {
        return Err(Errors::one(format!(
            "Expected a dictionary of days but got type \"{}\".",
            value.python_type()
        )));
    };
    let mut errors = Vec::new();
    let mut valid: Vec<(Day, Vec<Slot>)> = Vec::new();
    for (name, slots) in days {
        let Some(day) = Day::from_name(name) else {
            errors.push((
                name.clone(),
                Errors::one(format!(
                    "Unknown day \"{name}\"; expected one of {}.",
                    DAYS.join(", ")
                )),
            ));
            continue;
        };
        match validate_slots(slots) {
            Ok(s) => valid.push((day, s)),
            Err(e) => errors.push((name.clone(), e)),
        }
    }
    if !errors.is_empty() {
        return Err(Errors::Map(errors));
    }
    valid.sort_by_key(|(d, _)| *d);
    Ok(Schedule { days: valid })
}

/// `ListField(child=IntervalSerializer())`.
fn validate_slots(value: &Json) -> Result<Vec<Slot>, Errors> {
    let items = list(value)?;
    let mut out = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match validate_slot(item) {
            Ok(s) => out.push(s),
            Err(e) => errors.push((i.to_string(), e)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Errors::Map(errors))
    }
}

/// DRF `ListField.run_validation` up to the children: null, then "not a list".
fn list(value: &Json) -> Result<&[Json], Errors> {
    match value {
        Json::Null => Err(Errors::one(NULL)),
        Json::Array(items) => Ok(items),
        other => Err(Errors::one(not_a_list(other))),
    }
}

/// `IntervalSerializer`: fields `start`, `stop`, `ids` in that order, then `validate()`.
fn validate_slot(value: &Json) -> Result<Slot, Errors> {
    let Json::Object(_) = value else {
        return Err(match value {
            Json::Null => Errors::one(NULL),
            other => Errors::field(
                "non_field_errors",
                Errors::one(format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    other.python_type()
                )),
            ),
        });
    };
    let mut errors = Vec::new();
    let start = field(value, "start", |v| time(v, false), &mut errors);
    let stop = field(value, "stop", |v| time(v, true), &mut errors);
    let ids = field(value, "ids", ids, &mut errors);
    let (Some(start), Some(stop), Some(ids)) = (start, stop, ids) else {
        return Err(Errors::Map(errors));
    };
    if minutes(&stop) <= minutes(&start) {
        return Err(Errors::field("stop", Errors::one(STOP_NOT_LATER)));
    }
    Ok(Slot { start, stop, ids })
}

/// One serializer field: "required", "may not be null", then the field's own check.
fn field<T>(
    obj: &Json,
    name: &str,
    check: impl FnOnce(&Json) -> Result<T, Errors>,
    errors: &mut Vec<(String, Errors)>,
) -> Option<T> {
    let result = match obj.get(name) {
        None => Err(Errors::one(REQUIRED)),
        Some(Json::Null) => Err(Errors::one(NULL)),
        Some(v) => check(v),
    };
    result.map_err(|e| errors.push((name.to_owned(), e))).ok()
}

/// `HHMMField`: `"HH:MM"` from `00:00` to `23:59`, or `"24:00"` where allowed.
///
/// The reference's regex `^(?:[01][0-9]|2[0-3]):[0-5][0-9]$` also accepts a trailing newline
/// (Python's `$`); this port does not, on purpose.
fn time(value: &Json, allow_end_of_day: bool) -> Result<String, Errors> {
    let bad = || Errors::one(BAD_TIME);
    let Json::String(s) = value else {
        return Err(bad());
    };
    let ok = match s.as_bytes() {
        [h1, h2, b':', m1, m2] => {
            let hour_ok = matches!((h1, h2), (b'0'..=b'1', b'0'..=b'9') | (b'2', b'0'..=b'3'));
            let min_ok = matches!((m1, m2), (b'0'..=b'5', b'0'..=b'9'));
            hour_ok && min_ok
        }
        _ => false,
    };
    if ok || (allow_end_of_day && s == "24:00") {
        Ok(s.clone())
    } else {
        Err(bad())
    }
}

/// Minutes since midnight of an already validated `"HH:MM"`.
fn minutes(hhmm: &str) -> u32 {
    let digit = |i: usize| u32::from(hhmm.as_bytes().get(i).map_or(0, |b| b.saturating_sub(b'0')));
    (digit(0) * 10 + digit(1)) * 60 + digit(3) * 10 + digit(4)
}

/// `ListField(child=StrictIntegerField())`: JSON integers only.
fn ids(value: &Json) -> Result<Vec<serde_json::Number>, Errors> {
    let items = list(value)?;
    let mut out = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Json::Number(n) if !n.is_f64() => out.push(n.clone()),
            Json::Null => errors.push((i.to_string(), Errors::one(NULL))),
            _ => errors.push((i.to_string(), Errors::one(BAD_INT))),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Errors::Map(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Result<String, String> {
        let json: Json = serde_json::from_str(body).expect("test bodies are JSON");
        match validate_body(&json) {
            Ok(s) => Ok(serde_json::to_string(&s).expect("serialises")),
            Err(e) => Err(serde_json::to_string(&e).expect("serialises")),
        }
    }

    #[test]
    fn normalises_day_and_key_order() {
        assert_eq!(
            check(
                r#"{"schedule":{"sunday":[],"monday":[{"ids":[2],"stop":"24:00","start":"23:59"}]}}"#
            ),
            Ok(r#"{"monday":[{"start":"23:59","stop":"24:00","ids":[2]}],"sunday":[]}"#.into())
        );
    }

    #[test]
    fn every_field_error_of_a_bad_week_is_reported_at_its_path() {
        let body = r#"{"schedule":{"funday":[],"monday":[{"start":"0:00","stop":"25:00","ids":["1"]},{"start":"10:00","stop":"09:00","ids":[1]},{"start":"10:00","ids":[true,1.5]}],"tuesday":{"start":"00:00"}}}"#;
        let want = r#"{"funday":["Unknown day \"funday\"; expected one of monday, tuesday, wednesday, thursday, friday, saturday, sunday."],"monday":{"0":{"start":["Time must be a string in 24-hour \"HH:MM\" format."],"stop":["Time must be a string in 24-hour \"HH:MM\" format."],"ids":{"0":["A valid integer is required."]}},"1":{"stop":["stop must be later than start."]},"2":{"stop":["This field is required."],"ids":{"0":["A valid integer is required."],"1":["A valid integer is required."]}}},"tuesday":["Expected a list of items but got type \"dict\"."]}"#;
        assert_eq!(check(body), Err(format!(r#"{{"schedule":{want}}}"#)));
    }

    #[test]
    fn times() {
        for ok in ["00:00", "09:59", "19:30", "23:59"] {
            assert!(time(&Json::String(ok.into()), false).is_ok(), "{ok}");
        }
        for bad in [
            "24:00", "0:00", "00:60", "24:01", "12:00\n", " 12:00", "1200", "", "ab:cd",
        ] {
            assert!(time(&Json::String(bad.into()), false).is_err(), "{bad:?}");
        }
        assert!(time(&Json::String("24:00".into()), true).is_ok());
        assert!(time(&Json::Number(1.into()), true).is_err());
        assert_eq!(minutes("24:00"), 1440);
        assert_eq!(minutes("13:07"), 787);
    }

    #[test]
    fn duplicate_keys_keep_first_position_last_value() {
        assert_eq!(
            check(r#"{"schedule":{"tuesday":1,"monday":2,"tuesday":[]}}"#),
            Err(
                r#"{"schedule":{"monday":["Expected a list of items but got type \"int\"."]}}"#
                    .into()
            )
        );
    }
}
