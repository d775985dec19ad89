//! The pipeline: Integration Server's name/value document a service reads its inputs from and
//! writes its outputs to, as the `/invoke` directive carries it — a query string or a
//! form-urlencoded body (every value a string), a JSON object, or an IData XML document
//! (`IDataXMLCoder`) — and back out as JSON or IData XML.
//!
//! # IData XML
//! ```text
//! <?xml version="1.0" encoding="UTF-8"?>
//! <IDataXMLCoder version="1.0">
//!   <record javaclass="com.wm.data.ISMemDataImpl">
//!     <value name="processKey">OrderProcess</value>
//!     <number name="stepIteration" type="java.lang.Integer">1</number>
//!     <record name="doc" javaclass="com.wm.data.ISMemDataImpl">…</record>
//!     <array name="ids" type="value" depth="1"><value>a</value></array>
//!     <null name="nothing"/>
//!   </record>
//! </IDataXMLCoder>
//! ```

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer, XmlVersion};
use serde_json::{Map, Number, Value};

pub type Pipeline = Map<String, Value>;

/// Deepest nesting of records and arrays an IData document may have (a bound against hostile
/// input; real pipelines are shallow).
const MAX_DEPTH: usize = 64;

/// Name/value pairs of a query string or form body. A repeated name keeps its first value,
/// and all of them go to `<name>List`, as Integration Server's form handler does.
pub fn from_pairs(text: &str) -> Result<Pipeline, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(text).map_err(|e| format!("cannot decode the parameters: {e}"))?;
    let mut p = Pipeline::new();
    for (k, v) in &pairs {
        if p.contains_key(k) {
            let all: Vec<Value> = pairs
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| Value::from(v.clone()))
                .collect();
            p.insert(format!("{k}List"), Value::Array(all));
        } else {
            p.insert(k.clone(), Value::String(v.clone()));
        }
    }
    Ok(p)
}

pub fn from_json(body: &[u8]) -> Result<Pipeline, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the JSON document must be an object".into()),
        Err(e) => Err(format!("cannot parse the JSON document: {e}")),
    }
}

/// One open container while reading IData XML.
enum Open {
    Record(Option<String>, Pipeline),
    Array(Option<String>, Vec<Value>),
    /// A `value`, `number` or Boolean element (its name, its kind, its text so far).
    Scalar(Option<String>, Scalar, String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Text,
    Number,
    Boolean,
}

fn name_of(e: &BytesStart<'_>) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|e| format!("bad attribute: {e}"))?;
        if a.key.as_ref() == "name" {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| format!("bad attribute value: {e}"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn put(stack: &mut [Open], name: Option<String>, v: Value) -> Result<(), String> {
    match stack.last_mut() {
        Some(Open::Record(_, m)) => {
            let name = name.ok_or("an element of a record has no name")?;
            m.insert(name, v);
            Ok(())
        }
        Some(Open::Array(_, items)) => {
            items.push(v);
            Ok(())
        }
        _ => Err("a value outside a record".into()),
    }
}

fn number(text: &str) -> Result<Value, String> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Ok(Value::Number(i.into()));
    }
    t.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| format!("'{t}' is not a number"))
}

/// An IData XML document (`IDataXMLCoder`) as a pipeline.
pub fn from_idata_xml(body: &[u8]) -> Result<Pipeline, String> {
    let mut reader = Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Pipeline> = None;
    let mut seen_coder = false;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("cannot parse the XML document: {e}"))?;
        match event {
            Event::Start(e) | Event::Empty(e) if stack.len() >= MAX_DEPTH => {
                return Err(format!(
                    "the document nests deeper than {MAX_DEPTH} levels at <{}>",
                    e.name().as_ref()
                ))
            }
            Event::Start(e) => {
                let name = name_of(&e)?;
                match e.name().as_ref() {
                    "IDataXMLCoder" if stack.is_empty() && !seen_coder => seen_coder = true,
                    // The encoding Integration Server answers `Accept: text/xml` with: the
                    // root is the record.
                    "Values" if stack.is_empty() && !seen_coder => {
                        seen_coder = true;
                        stack.push(Open::Record(None, Pipeline::new()));
                    }
                    "record" if seen_coder => stack.push(Open::Record(name, Pipeline::new())),
                    "array" | "list" if seen_coder && !stack.is_empty() => {
                        stack.push(Open::Array(name, Vec::new()))
                    }
                    tag @ ("value" | "number" | "Boolean" | "boolean" | "jboolean") if !stack.is_empty() => {
                        let kind = match tag {
                            "value" => Scalar::Text,
                            "number" => Scalar::Number,
                            _ => Scalar::Boolean,
                        };
                        stack.push(Open::Scalar(name, kind, String::new()));
                    }
                    other => return Err(format!("unexpected element <{other}>")),
                }
            }
            Event::Empty(e) => {
                let name = name_of(&e)?;
                let v = match e.name().as_ref() {
                    "null" => Value::Null,
                    "value" => Value::String(String::new()),
                    "record" => Value::Object(Pipeline::new()),
                    "array" => Value::Array(Vec::new()),
                    other => return Err(format!("unexpected element <{other}/>")),
                };
                if stack.is_empty() {
                    return Err("a value outside a record".into());
                }
                put(&mut stack, name, v)?;
            }
            Event::Text(t) => {
                if let Some(Open::Scalar(_, _, text)) = stack.last_mut() {
                    text.push_str(&t.xml_content(XmlVersion::Implicit1_0));
                }
            }
            Event::CData(t) => {
                if let Some(Open::Scalar(_, _, text)) = stack.last_mut() {
                    text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(Open::Scalar(_, _, text)) = stack.last_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                    } else {
                        let name = r.xml_content(XmlVersion::Implicit1_0);
                        let s = quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?;
                        text.push_str(s);
                    }
                }
            }
            Event::End(_) => match stack.pop() {
                None => {}
                Some(Open::Scalar(name, kind, text)) => {
                    let v = match kind {
                        Scalar::Text => Value::String(text),
                        Scalar::Number => number(&text)?,
                        Scalar::Boolean => match text.trim() {
                            "true" => Value::Bool(true),
                            "false" => Value::Bool(false),
                            other => return Err(format!("'{other}' is not a Boolean")),
                        },
                    };
                    put(&mut stack, name, v)?;
                }
                Some(Open::Array(name, items)) => put(&mut stack, name, Value::Array(items))?,
                Some(Open::Record(name, m)) => {
                    if stack.is_empty() {
                        if root.is_some() {
                            return Err("the document holds more than one record".into());
                        }
                        root = Some(m);
                    } else {
                        put(&mut stack, name, Value::Object(m))?;
                    }
                }
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("the XML document ends inside an element".into());
    }
    if !seen_coder {
        return Err("the document is not IData XML (no <IDataXMLCoder> or <Values> root)".into());
    }
    Ok(root.unwrap_or_default())
}

fn write_value<W: std::io::Write>(w: &mut Writer<W>, name: Option<&str>, v: &Value) -> std::io::Result<()> {
    let start = |tag: &'static str| {
        let mut e = BytesStart::new(tag);
        if let Some(n) = name {
            e.push_attribute(("name", n));
        }
        e
    };
    match v {
        Value::Null => w.write_event(Event::Empty(start("null"))),
        Value::String(s) => {
            w.write_event(Event::Start(start("value")))?;
            // Only `<`, `>` and `&` need escaping in text; quotes stay readable.
            w.write_event(Event::Text(BytesText::from_escaped(
                quick_xml::escape::partial_escape(s),
            )))?;
            w.write_event(Event::End(BytesEnd::new("value")))
        }
        Value::Bool(b) => {
            w.write_event(Event::Start(start("value")))?;
            w.write_event(Event::Text(BytesText::new(if *b { "true" } else { "false" })))?;
            w.write_event(Event::End(BytesEnd::new("value")))
        }
        Value::Number(n) => {
            let mut e = start("number");
            e.push_attribute((
                "type",
                if n.is_i64() || n.is_u64() {
                    "java.lang.Long"
                } else {
                    "java.lang.Double"
                },
            ));
            w.write_event(Event::Start(e))?;
            w.write_event(Event::Text(BytesText::new(&n.to_string())))?;
            w.write_event(Event::End(BytesEnd::new("number")))
        }
        Value::Object(m) => write_record(w, name, m),
        Value::Array(items) => {
            let mut e = start("array");
            let kind = if items.iter().all(Value::is_object) && !items.is_empty() {
                "record"
            } else {
                "value"
            };
            e.push_attribute(("type", kind));
            e.push_attribute(("depth", "1"));
            w.write_event(Event::Start(e))?;
            for item in items {
                write_value(w, None, item)?;
            }
            w.write_event(Event::End(BytesEnd::new("array")))
        }
    }
}

fn write_record<W: std::io::Write>(
    w: &mut Writer<W>,
    name: Option<&str>,
    m: &Pipeline,
) -> std::io::Result<()> {
    let mut e = BytesStart::new("record");
    if let Some(n) = name {
        e.push_attribute(("name", n));
    }
    e.push_attribute(("javaclass", "com.wm.data.ISMemDataImpl"));
    w.write_event(Event::Start(e))?;
    for (k, v) in m {
        write_value(w, Some(k), v)?;
    }
    w.write_event(Event::End(BytesEnd::new("record")))
}

/// A pipeline as an IData XML document.
pub fn to_idata_xml(p: &Pipeline) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let written = (|| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut coder = BytesStart::new("IDataXMLCoder");
        coder.push_attribute(("version", "1.0"));
        w.write_event(Event::Start(coder))?;
        write_record(&mut w, None, p)?;
        w.write_event(Event::End(BytesEnd::new("IDataXMLCoder")))
    })();
    // Writing to a Vec cannot fail.
    debug_assert!(written.is_ok());
    w.into_inner()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn html_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push_str(&html_escape(s)),
        Value::Object(m) => html_table(m, out),
        Value::Array(items) => {
            out.push_str("<TABLE bgcolor=#dddddd border=1>");
            for item in items {
                out.push_str("<TR><TD>");
                html_value(item, out);
                out.push_str("</TD></TR>");
            }
            out.push_str("</TABLE>");
        }
        other => out.push_str(&html_escape(&other.to_string())),
    }
}

fn html_table(m: &Pipeline, out: &mut String) {
    out.push_str("<TABLE bgcolor=#dddddd border=1>\n");
    for (k, v) in m {
        out.push_str(&format!(
            "<TR>\n<TD valign=top><B>{}</B></TD>\n<TD>",
            html_escape(k)
        ));
        html_value(v, out);
        out.push_str("</TD>\n</TR>\n");
    }
    out.push_str("</TABLE>\n");
}

/// A pipeline as the HTML page Integration Server's CGI handler answers: one table, a row per
/// name, documents as nested tables.
pub fn to_html(p: &Pipeline) -> String {
    let mut out =
        String::from("<HTML><HEAD><TITLE>IntegrationServer</TITLE></HEAD>\n<BODY bgcolor=#dddddd>\n");
    html_table(p, &mut out);
    out.push_str("</BODY></HTML>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn idata_xml_round_trips() {
        let p = json!({
            "processKey": "Order <1> & co",
            "stepIteration": 2,
            "rate": 1.5,
            "nothing": null,
            "doc": {"a": "b", "ids": ["x", "y"]},
            "rows": [{"n": 1}],
        });
        let Value::Object(p) = p else { unreachable!() };
        let xml = to_idata_xml(&p);
        let text = String::from_utf8_lossy(&xml);
        assert!(text.contains("<IDataXMLCoder version=\"1.0\">"), "{text}");
        assert!(
            text.contains("<number name=\"stepIteration\" type=\"java.lang.Long\">2</number>"),
            "{text}"
        );
        assert!(text.contains("Order &lt;1&gt; &amp; co"), "{text}");
        assert_eq!(from_idata_xml(&xml), Ok(p));
    }

    #[test]
    fn idata_xml_reads_what_clients_send() {
        let xml = br#"<?xml version="1.0"?>
            <IDataXMLCoder version="1.0"><record javaclass="com.wm.data.ISMemDataImpl">
              <value name="processKey">P1</value><value name="empty"/>
              <number name="stepIteration" type="java.lang.Integer"> 3 </number>
              <value name="text"><![CDATA[a<b]]></value>
            </record></IDataXMLCoder>"#;
        assert_eq!(
            from_idata_xml(xml),
            Ok(
                json!({"processKey": "P1", "empty": "", "stepIteration": 3, "text": "a<b"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            )
        );
    }

    #[test]
    fn bad_idata_xml_is_refused() {
        for bad in [
            &b"<record><value name=\"a\">1</value></record>"[..],
            b"<IDataXMLCoder><record><value>no name</value></record></IDataXMLCoder>",
            b"<IDataXMLCoder><record><number name=\"n\">one</number></record></IDataXMLCoder>",
            b"<IDataXMLCoder><record><value name=\"a\">open</record></IDataXMLCoder>",
            b"<IDataXMLCoder><record><script name=\"a\"/></record></IDataXMLCoder>",
            b"<IDataXMLCoder><record>",
        ] {
            assert!(from_idata_xml(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!(
            "<IDataXMLCoder>{}{}</IDataXMLCoder>",
            "<record name=\"r\">".repeat(100),
            "</record>".repeat(100)
        );
        assert!(from_idata_xml(deep.as_bytes()).is_err());
    }

    #[test]
    fn html_tables_name_every_field() {
        let p = json!({"processKey": "P<1>", "doc": {"a": "b"}, "n": 2});
        let Value::Object(p) = p else { unreachable!() };
        let html = to_html(&p);
        assert!(
            html.starts_with("<HTML><HEAD><TITLE>IntegrationServer</TITLE></HEAD>\n<BODY bgcolor=#dddddd>"),
            "{html}"
        );
        assert!(
            html.contains("<TD valign=top><B>processKey</B></TD>\n<TD>P&lt;1&gt;</TD>"),
            "{html}"
        );
        assert!(html.contains("<B>doc</B></TD>\n<TD><TABLE bgcolor=#dddddd border=1>\n<TR>\n<TD valign=top><B>a</B></TD>\n<TD>b</TD>"), "{html}");
        assert!(html.contains("<B>n</B></TD>\n<TD>2</TD>"), "{html}");
    }

    #[test]
    fn values_documents_are_read_too() {
        let xml = br#"<Values version="2.0"><value name="a">x</value>
            <Boolean name="ok">true</Boolean><list name="l"><value>1</value></list>
            <record name="r" javaclass="com.wm.util.Values"><null name="n"/></record></Values>"#;
        assert_eq!(
            from_idata_xml(xml),
            Ok(json!({"a": "x", "ok": true, "l": ["1"], "r": {"n": null}})
                .as_object()
                .cloned()
                .unwrap_or_default())
        );
    }

    #[test]
    fn pairs_keep_the_first_value_of_a_name_and_list_them_all() {
        assert_eq!(
            from_pairs("a=1&b=x%20y&a=2"),
            Ok(json!({"a": "1", "b": "x y", "aList": ["1", "2"]})
                .as_object()
                .cloned()
                .unwrap_or_default())
        );
    }
}
