//! Request parsing as DRF does it: JSON, form-urlencoded and multipart bodies, Python's `json`
//! error messages, and `CharField` validation.

use serde_json::{Map, Value};

/// Why a body could not be turned into fields.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParseFailure {
    /// 415 with DRF's message for this raw `Content-Type`.
    Unsupported(String),
    /// 400 `{"detail": "<msg>"}`.
    Detail(String),
    /// 400 `{"non_field_errors": ["<msg>"]}`.
    NonField(String),
}

/// The parsed request data: field name → value (forms give strings, last value wins).
pub(crate) type Data = Map<String, Value>;

/// Parses `body` by its `Content-Type` (raw header text, `None` when absent).
pub(crate) fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Data, ParseFailure> {
    // DRF: no body means empty data, whatever the content type.
    if body.is_empty() {
        return Ok(Map::new());
    }
    let raw = content_type.unwrap_or("");
    let media = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" => parse_json(body),
        "application/x-www-form-urlencoded" => Ok(parse_form(body)),
        "multipart/form-data" => parse_multipart(raw, body),
        _ => Err(ParseFailure::Unsupported(raw.to_owned())),
    }
}

fn parse_form(body: &[u8]) -> Data {
    let mut m = Map::new();
    for (k, v) in form_urlencoded::parse(body) {
        m.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    m
}

/// The value of `name=` in a header's parameters (quoted or not).
fn param<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case(name) {
            let v = v.trim();
            Some(
                v.strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v),
            )
        } else {
            None
        }
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// A small multipart/form-data reader: text fields only (file parts are ignored, as the token
/// serializers have no file fields).
fn parse_multipart(raw: &str, body: &[u8]) -> Result<Data, ParseFailure> {
    let bad = |why: &str| ParseFailure::Detail(format!("Multipart form parse error - {why}"));
    let boundary = param(raw, "boundary")
        .filter(|b| !b.is_empty() && b.len() <= 200)
        .ok_or_else(|| bad("Invalid boundary in multipart: None"))?;
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut pos = find(body, delim, 0).ok_or_else(|| bad("no boundary found"))? + delim.len();
    let mut out = Map::new();
    loop {
        if body[pos..].starts_with(b"--") {
            return Ok(out);
        }
        // Skip the line break after the boundary.
        pos = find(body, b"\r\n", pos).ok_or_else(|| bad("truncated part"))? + 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or_else(|| bad("truncated part"))?;
        let head = String::from_utf8_lossy(&body[pos..head_end]);
        let data_start = head_end + 4;
        let mut next_delim = Vec::with_capacity(delim.len() + 2);
        next_delim.extend_from_slice(b"\r\n");
        next_delim.extend_from_slice(delim);
        let data_end = find(body, &next_delim, data_start).ok_or_else(|| bad("truncated part"))?;
        let disposition = head
            .split("\r\n")
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then_some(v)
            })
            .unwrap_or("");
        if let (Some(name), None) = (param(disposition, "name"), param(disposition, "filename")) {
            let value = String::from_utf8_lossy(&body[data_start..data_end]).into_owned();
            out.insert(name.to_owned(), Value::String(value));
        }
        pos = data_end + next_delim.len();
        if pos >= body.len() {
            return Ok(out);
        }
    }
}

/// Python's name for the type of a JSON value (`type(data).__name__`).
fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn parse_json(body: &[u8]) -> Result<Data, ParseFailure> {
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let byte = body.get(at).copied().unwrap_or(0);
            let why = match e.error_len() {
                None => "unexpected end of data",
                Some(_) if (0x80..0xc2).contains(&byte) || byte >= 0xf5 => "invalid start byte",
                Some(_) => "invalid continuation byte",
            };
            return Err(ParseFailure::Detail(format!(
                "JSON parse error - 'utf-8' codec can't decode byte 0x{byte:02x} in position {at}: {why}"
            )));
        }
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Err(ParseFailure::NonField("No data provided".into())),
        Ok(other) => Err(ParseFailure::NonField(format!(
            "Invalid data. Expected a dictionary, but got {}.",
            py_type(&other)
        ))),
        Err(_) => Err(ParseFailure::Detail(format!(
            "JSON parse error - {}",
            python_json_error(text)
        ))),
    }
}

/// The message CPython's `json.loads` raises for `text`, e.g. `Expecting value: line 1 column 1
/// (char 0)`. Only called on text serde_json rejected.
pub(crate) fn python_json_error(text: &str) -> String {
    let s: Vec<char> = text.chars().collect();
    let scan = PyScan { s: &s };
    let (msg, pos) = match scan.document() {
        Err(e) => e,
        // serde_json and Python disagree (e.g. NaN or a huge number): say something sensible.
        Ok(()) => ("Out of range float values are not permitted", 0),
    };
    let before = &s[..pos.min(s.len())];
    let lineno = before.iter().filter(|&&c| c == '\n').count() + 1;
    let colno = match before.iter().rposition(|&c| c == '\n') {
        Some(nl) => pos - nl,
        None => pos + 1,
    };
    format!("{msg}: line {lineno} column {colno} (char {pos})")
}

type PyErr = (&'static str, usize);

/// A validating scanner mirroring CPython 3.11's `_json.c` error positions and messages.
struct PyScan<'a> {
    s: &'a [char],
}

impl PyScan<'_> {
    fn ws(&self, mut i: usize) -> usize {
        while i < self.s.len() && matches!(self.s[i], ' ' | '\t' | '\n' | '\r') {
            i += 1;
        }
        i
    }

    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    fn document(&self) -> Result<(), PyErr> {
        let start = self.ws(0);
        let end = self.value(start, 0)?;
        let end = self.ws(end);
        if end != self.s.len() {
            return Err(("Extra data", end));
        }
        Ok(())
    }

    fn lit(&self, i: usize, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(k, c)| self.at(i + k) == Some(c))
    }

    fn value(&self, i: usize, depth: usize) -> Result<usize, PyErr> {
        if depth > 200 {
            return Err(("maximum recursion depth exceeded", i));
        }
        match self.at(i) {
            None => Err(("Expecting value", i)),
            Some('"') => self.string(i + 1),
            Some('{') => self.object(i + 1, depth),
            Some('[') => self.array(i + 1, depth),
            Some('n') if self.lit(i, "null") => Ok(i + 4),
            Some('t') if self.lit(i, "true") => Ok(i + 4),
            Some('f') if self.lit(i, "false") => Ok(i + 5),
            Some('N') if self.lit(i, "NaN") => Ok(i + 3),
            Some('I') if self.lit(i, "Infinity") => Ok(i + 8),
            Some('-') if self.lit(i, "-Infinity") => Ok(i + 9),
            Some(_) => self.number(i),
        }
    }

    fn digits(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        i
    }

    fn number(&self, start: usize) -> Result<usize, PyErr> {
        let mut i = start;
        if self.at(i) == Some('-') {
            i += 1;
        }
        match self.at(i) {
            Some('0') => i += 1,
            Some('1'..='9') => i = self.digits(i),
            _ => return Err(("Expecting value", start)),
        }
        if self.at(i) == Some('.') && self.at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            i = self.digits(i + 1);
        }
        if matches!(self.at(i), Some('e' | 'E')) {
            let mut j = i + 1;
            if matches!(self.at(j), Some('+' | '-')) {
                j += 1;
            }
            if self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                i = self.digits(j);
            }
        }
        Ok(i)
    }

    /// `i` is just after the opening quote.
    fn string(&self, i: usize) -> Result<usize, PyErr> {
        let begin = i - 1;
        let mut n = i;
        loop {
            let Some(c) = self.at(n) else {
                return Err(("Unterminated string starting at", begin));
            };
            match c {
                '"' => return Ok(n + 1),
                '\\' => {
                    n += 1;
                    let Some(e) = self.at(n) else {
                        return Err(("Unterminated string starting at", begin));
                    };
                    if e == 'u' {
                        n += 1;
                        let end = n + 4;
                        if end >= self.s.len() {
                            return Err(("Invalid \\uXXXX escape", n - 1));
                        }
                        if !self.s[n..end].iter().all(char::is_ascii_hexdigit) {
                            return Err(("Invalid \\uXXXX escape", n - 1));
                        }
                        n = end;
                    } else if matches!(e, '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') {
                        n += 1;
                    } else {
                        return Err(("Invalid \\escape", n - 1));
                    }
                }
                c if (c as u32) <= 0x1f => return Err(("Invalid control character at", n)),
                _ => n += 1,
            }
        }
    }

    /// `i` is just after `{`.
    fn object(&self, i: usize, depth: usize) -> Result<usize, PyErr> {
        let mut i = self.ws(i);
        if self.at(i) == Some('}') {
            return Ok(i + 1);
        }
        loop {
            if self.at(i) != Some('"') {
                return Err(("Expecting property name enclosed in double quotes", i));
            }
            i = self.ws(self.string(i + 1)?);
            if self.at(i) != Some(':') {
                return Err(("Expecting ':' delimiter", i));
            }
            i = self.ws(i + 1);
            i = self.ws(self.value(i, depth + 1)?);
            match self.at(i) {
                Some('}') => return Ok(i + 1),
                Some(',') => i = self.ws(i + 1),
                _ => return Err(("Expecting ',' delimiter", i)),
            }
        }
    }

    /// `i` is just after `[`.
    fn array(&self, i: usize, depth: usize) -> Result<usize, PyErr> {
        let mut i = self.ws(i);
        if self.at(i) == Some(']') {
            return Ok(i + 1);
        }
        loop {
            i = self.ws(self.value(i, depth + 1)?);
            match self.at(i) {
                Some(']') => return Ok(i + 1),
                Some(',') => i = self.ws(i + 1),
                _ => return Err(("Expecting ',' delimiter", i)),
            }
        }
    }
}

/// Python's `str.strip()` whitespace.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// DRF `CharField(trim_whitespace=True)` on one input value: the cleaned string or the error.
pub(crate) fn char_field(v: Option<&Value>) -> Result<String, &'static str> {
    let s = match v {
        None => return Err("This field is required."),
        Some(Value::Null) => return Err("This field may not be null."),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => {
            return Err("Not a valid string.");
        }
    };
    let t = s.trim_matches(py_space);
    if t.is_empty() {
        return Err("This field may not be blank.");
    }
    if t.contains('\0') {
        return Err("Null characters are not allowed.");
    }
    Ok(t.to_owned())
}

/// The value the token endpoints read for the field `name` of a request body: the body parsed
/// by its `Content-Type` as the endpoints parse it (a JSON object, a form where the last value
/// wins, or the text fields of multipart/form-data) and the value cleaned as DRF's `CharField`
/// cleans it (a number becomes its text; Python's whitespace is trimmed). `None` wherever the
/// endpoint would answer 4xx instead: an unsupported or malformed body, a missing, null, blank
/// or non-string field, a NUL character.
///
/// For a middleware in front of the endpoints that needs the token a request carries (to end
/// a session on logout, say) and must read it exactly as the endpoint will.
///
/// ```
/// use tower_jwt_auth::token::body_field;
///
/// let json = br#"{"refresh": "  eyJ.x.y\n"}"#;
/// assert_eq!(body_field(Some("application/json"), json, "refresh").as_deref(), Some("eyJ.x.y"));
/// let form = b"refresh=old&refresh=new";
/// let ct = Some("application/x-www-form-urlencoded");
/// assert_eq!(body_field(ct, form, "refresh").as_deref(), Some("new"));
/// assert_eq!(body_field(Some("text/plain"), b"refresh=x", "refresh"), None);
/// assert_eq!(body_field(Some("application/json"), br#"{"refresh": ""}"#, "refresh"), None);
/// ```
pub fn body_field(content_type: Option<&str>, body: &[u8], name: &str) -> Option<String> {
    let data = parse_body(content_type, body).ok()?;
    char_field(data.get(name)).ok()
}

/// Validates `fields` of `data` in order: the cleaned values, or DRF's error body
/// (`{"<field>":["<msg>"],…}` in field order).
pub(crate) fn fields<const N: usize>(
    data: &Data,
    fields: [&str; N],
) -> Result<[String; N], String> {
    let mut errors = String::new();
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (slot, name) in out.iter_mut().zip(fields) {
        match char_field(data.get(name)) {
            Ok(v) => *slot = v,
            Err(msg) => {
                errors.push(if errors.is_empty() { '{' } else { ',' });
                errors.push_str(&super::reply::json_str(name));
                errors.push_str(":[");
                errors.push_str(&super::reply::json_str(msg));
                errors.push(']');
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.push('}');
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_messages() {
        assert_eq!(
            python_json_error(r#"{"username": "alice","#),
            "Expecting property name enclosed in double quotes: line 1 column 22 (char 21)"
        );
        assert_eq!(
            python_json_error(""),
            "Expecting value: line 1 column 1 (char 0)"
        );
        assert_eq!(
            python_json_error("{\"a\" 1}"),
            "Expecting ':' delimiter: line 1 column 6 (char 5)"
        );
        assert_eq!(
            python_json_error("{\"a\":1 \"b\"}"),
            "Expecting ',' delimiter: line 1 column 8 (char 7)"
        );
        assert_eq!(
            python_json_error("[1,]"),
            "Expecting value: line 1 column 4 (char 3)"
        );
        assert_eq!(
            python_json_error("{} x"),
            "Extra data: line 1 column 4 (char 3)"
        );
        assert_eq!(
            python_json_error("{\"a\":\n\"b"),
            "Unterminated string starting at: line 2 column 1 (char 6)"
        );
        assert_eq!(
            python_json_error("\"\\x\""),
            "Invalid \\escape: line 1 column 2 (char 1)"
        );
        assert_eq!(
            python_json_error("{'a':1}"),
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        );
    }

    #[test]
    fn python_escape_messages() {
        assert_eq!(
            python_json_error("\"\\u12\""),
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)"
        );
        assert_eq!(
            python_json_error("\"a\u{1}\""),
            "Invalid control character at: line 1 column 3 (char 2)"
        );
    }

    #[test]
    fn char_field_rules() {
        assert_eq!(char_field(None), Err("This field is required."));
        assert_eq!(
            char_field(Some(&Value::Null)),
            Err("This field may not be null.")
        );
        assert_eq!(
            char_field(Some(&Value::from(" \t "))),
            Err("This field may not be blank.")
        );
        assert_eq!(
            char_field(Some(&Value::from(true))),
            Err("Not a valid string.")
        );
        assert_eq!(
            char_field(Some(&serde_json::json!([]))),
            Err("Not a valid string.")
        );
        assert_eq!(char_field(Some(&Value::from(42))), Ok("42".into()));
        assert_eq!(char_field(Some(&Value::from("  a b "))), Ok("a b".into()));
        assert_eq!(
            char_field(Some(&Value::from("a\0b"))),
            Err("Null characters are not allowed.")
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
                                ct in proptest::sample::select(vec![
                                    "application/json", "application/x-www-form-urlencoded",
                                    "multipart/form-data; boundary=a", "multipart/form-data; boundary=\"\"",
                                    "text/plain", ""])) {
            let _ = parse_body(Some(ct), &body);
            if let Ok(text) = std::str::from_utf8(&body) {
                let _ = python_json_error(text);
            }
        }

        #[test]
        fn multipart_never_panics(body in "(--a|\r\n|Content-Disposition: form-data; name=\"x\"|--|v){0,30}") {
            let _ = parse_body(Some("multipart/form-data; boundary=a"), body.as_bytes());
        }
    }

    #[test]
    fn multipart_text_fields() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nzz\r\n--XX\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npw\r\n--XX--\r\n";
        let d = parse_body(Some("multipart/form-data; boundary=XX"), body).expect("parses");
        assert_eq!(d.get("username"), Some(&Value::from("alice")));
        assert_eq!(d.get("password"), Some(&Value::from("pw")));
        assert_eq!(d.get("f"), None);
    }

    #[test]
    fn body_field_reads_as_the_endpoints_do() {
        let mp = b"--XX\r\nContent-Disposition: form-data; name=\"refresh\"\r\n\r\n t1 \r\n--XX\r\nContent-Disposition: form-data; name=\"refresh\"; filename=\"a\"\r\n\r\nfile\r\n--XX--\r\n";
        let ct = Some("multipart/form-data; boundary=XX");
        assert_eq!(body_field(ct, mp, "refresh").as_deref(), Some("t1"));
        assert_eq!(body_field(ct, b"--XX\r\n", "refresh"), None);
        let json = Some("application/json; charset=utf-8");
        assert_eq!(
            body_field(json, br#"{"token":12}"#, "token").as_deref(),
            Some("12")
        );
        for bad in [
            r#"{"token":null}"#,
            r#"{"token":["x"]}"#,
            r#"{"token":"a\u0000b"}"#,
            "[]",
            "{",
        ] {
            assert_eq!(body_field(json, bad.as_bytes(), "token"), None, "{bad}");
        }
        assert_eq!(body_field(None, b"token=x", "token"), None);
        assert_eq!(body_field(json, b"", "token"), None);
    }
}
