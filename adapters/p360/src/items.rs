//! Items, lists and workflow statuses: `list/{entity}` write (`entityItemTable` →
//! `writeProtocol`), `list/{entity}/byCatalog` read (→ `entityItemTable`), and
//! `manage/workflow/status/enter|leave` (`enterWorkflowStatus` → `statusModificationInfo…`).

use bpm_compat_model::{Item, Page, StatusChange};
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::{json, Value};

use crate::XML_HEAD;

/// A list write: the entity, its columns, and per row the item and its values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub entity: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub id: String,
    pub label: Option<String>,
    pub entity_id: Option<String>,
    pub values: Vec<String>,
}

/// What [`leaves`] gives for the start of a marked element.
pub const START: &str = "\u{1}";

/// The elements of an XML document as (path, text) in document order, each when it ends
/// (its trimmed text), and a ([`START`]) entry when one of `starts` begins, so that repeated
/// elements can be told apart: the simple documents of the Service API need no more.
pub fn leaves(body: &[u8], starts: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut reader = Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut out = Vec::new();
    loop {
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("The XML document cannot be read: {e}"))?
        {
            Event::Start(e) => {
                if path.len() > 32 {
                    return Err("The XML document nests too deep".into());
                }
                let name = e.local_name().as_ref().to_owned();
                path.push(name);
                if starts.contains(&path.last().map(String::as_str).unwrap_or_default()) {
                    out.push((path.join("/"), START.to_owned()));
                }
                text.clear();
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_owned();
                out.push((format!("{}/{name}", path.join("/")), String::new()));
            }
            Event::Text(t) => text.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::CData(t) => text.push_str(&t.into_inner()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else if let Some(s) =
                    quick_xml::escape::resolve_predefined_entity(&r.xml_content(XmlVersion::Implicit1_0))
                {
                    text.push_str(s);
                }
            }
            Event::End(_) => {
                out.push((path.join("/"), text.trim().to_owned()));
                path.pop();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !path.is_empty() {
        return Err("The XML document ends inside an element".into());
    }
    Ok(out)
}

pub fn table_from_xml(body: &[u8]) -> Result<Table, String> {
    let mut t = Table::default();
    for (path, text) in leaves(body, &["row"])? {
        let tail = path.strip_prefix("entityItemTable/").unwrap_or(&path);
        match tail {
            "entityIdentifier" => t.entity = text,
            "columns/column/identifier" => t.columns.push(text),
            "rows/row" if text == START => t.rows.push(Row::default()),
            "rows/row/object/id" => set(&mut t, |r| r.id = text.clone()),
            "rows/row/object/label" => set(&mut t, |r| r.label = Some(text.clone())),
            "rows/row/object/entityId" => set(&mut t, |r| r.entity_id = Some(text.clone())),
            "rows/row/values/value" => set(&mut t, |r| r.values.push(text.clone())),
            _ => {}
        }
    }
    Ok(t)
}

fn set(t: &mut Table, f: impl FnOnce(&mut Row)) {
    if let Some(r) = t.rows.last_mut() {
        f(r);
    }
}

/// `enterWorkflowStatus` (also under a `leave…` root): processId, workflowId, status, entity,
/// itemId.
pub fn status_request_from_xml(body: &[u8]) -> Result<BTreeLike, String> {
    let mut m = BTreeLike::new();
    for (path, text) in leaves(body, &[])? {
        if let Some((_, leaf)) = path.split_once('/') {
            if !leaf.contains('/') {
                m.insert(leaf.to_owned(), text);
            }
        }
    }
    Ok(m)
}

pub type BTreeLike = std::collections::BTreeMap<String, String>;

/// A `taskCreationProfile`: its `task/…` fields by path, and the `items` of its content's
/// parameters (comma-separated).
pub fn task_profile_from_xml(body: &[u8]) -> Result<BTreeLike, String> {
    let mut m = BTreeLike::new();
    let mut key = String::new();
    let mut items: Vec<String> = Vec::new();
    for (path, text) in leaves(body, &[])? {
        let tail = path.strip_prefix("taskCreationProfile/").unwrap_or(&path);
        match tail {
            t if t.starts_with("task/") && !t["task/".len()..].contains('/') => {
                m.insert(t.to_owned(), text);
            }
            "content/parameters/entry/key" => key = text,
            "content/parameters/entry/value" if key == "items" => items.push(text),
            _ => {}
        }
    }
    m.insert("items".into(), items.join(","));
    Ok(m)
}

pub fn status_request_from_json(body: &[u8]) -> Result<BTreeLike, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("The JSON document cannot be read: {e}"))?;
    let Value::Object(m) = v else {
        return Err("The JSON document must be an object".into());
    };
    Ok(m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
}

/// A JSON value as text: a string as it is, anything else as JSON.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// One written row's outcome: the row number, the item, `CREATED`/`UPDATED`, or the error.
pub struct Written {
    pub row: usize,
    pub id: String,
    pub label: Option<String>,
    pub entity_id: Option<String>,
    pub status: Result<bool, String>,
}

pub fn write_protocol(written: &[Written], json: bool) -> String {
    let created = written.iter().filter(|w| w.status == Ok(true)).count();
    let updated = written.iter().filter(|w| w.status == Ok(false)).count();
    let errors = written.iter().filter(|w| w.status.is_err()).count();
    let word = |w: &Written| match &w.status {
        Ok(true) => "CREATED".to_owned(),
        Ok(false) => "UPDATED".to_owned(),
        Err(e) => e.clone(),
    };
    if json {
        let objects: Vec<Value> = written
            .iter()
            .map(|w| {
                json!({"row": w.row, "object": {"id": w.id, "label": w.label, "entityId": w.entity_id},
                       "status": [word(w)]})
            })
            .collect();
        return json!({"counters": {"errors": errors, "warnings": 0, "createdObjects": created,
                                   "updatedObjects": updated, "objectsWithErrors": errors, "objectsWithWarnings": 0},
                      "entries": [], "objects": objects})
        .to_string();
    }
    let mut out = format!(
        "{XML_HEAD}<writeProtocol><counters><errors>{errors}</errors><warnings>0</warnings><createdObjects>{created}</createdObjects><updatedObjects>{updated}</updatedObjects><objectsWithErrors>{errors}</objectsWithErrors><objectsWithWarnings>0</objectsWithWarnings></counters><entries/><objects>"
    );
    for w in written {
        out.push_str(&format!(
            "<entry><row>{}</row><object><id>{}</id>",
            w.row,
            esc(&w.id)
        ));
        if let Some(l) = &w.label {
            out.push_str(&format!("<label>{}</label>", esc(l)));
        }
        if let Some(e) = &w.entity_id {
            out.push_str(&format!("<entityId>{}</entityId>", esc(e)));
        }
        out.push_str(&format!(
            "</object><status><entry>{}</entry></status></entry>",
            esc(&word(w))
        ));
    }
    out.push_str("</objects></writeProtocol>");
    out
}

/// `entityItemTable`, the read answer; `columns` are the fields asked for.
pub fn entity_item_table(
    entity: &str,
    page: &Page<Item>,
    page_size: usize,
    columns: &[String],
    json: bool,
) -> String {
    if json {
        let rows: Vec<Value> = page
            .items
            .iter()
            .map(|i| {
                let values: Vec<Value> = columns.iter().map(|c| json!(i.values.get(c))).collect();
                json!({"object": {"id": i.id, "entityId": i.entity_id}, "values": values})
            })
            .collect();
        return json!({"cacheId": "no-cache", "entityIdentifier": entity, "totalSize": page.total,
                      "startIndex": page.start, "pageSize": page_size, "rowCount": page.items.len(),
                      "columnCount": columns.len(), "columns": columns, "rows": rows})
        .to_string();
    }
    let mut out = format!(
        "{XML_HEAD}<entityItemTable><cacheId>no-cache</cacheId><entityIdentifier>{}</entityIdentifier><totalSize>{}</totalSize><startIndex>{}</startIndex><pageSize>{page_size}</pageSize><rowCount>{}</rowCount><columnCount>{}</columnCount>",
        esc(entity),
        page.total,
        page.start,
        page.items.len(),
        columns.len()
    );
    if columns.is_empty() {
        out.push_str("<columns/>");
    } else {
        out.push_str("<columns>");
        for c in columns {
            out.push_str(&format!("<column><identifier>{}</identifier></column>", esc(c)));
        }
        out.push_str("</columns>");
    }
    out.push_str("<rows>");
    for i in &page.items {
        out.push_str(&format!("<row><object><id>{}</id>", esc(&i.id)));
        if let Some(e) = &i.entity_id {
            out.push_str(&format!("<entityId>{}</entityId>", esc(e)));
        }
        out.push_str("</object>");
        if columns.is_empty() {
            out.push_str("<values/>");
        } else {
            out.push_str("<values>");
            for c in columns {
                match i.values.get(c) {
                    Some(v) => out.push_str(&format!("<value>{}</value>", esc(v))),
                    None => out.push_str("<value/>"),
                }
            }
            out.push_str("</values>");
        }
        out.push_str("</row>");
    }
    out.push_str("</rows></entityItemTable>");
    out
}

/// `statusModificationInfoEnter` / `…Leave`.
pub fn status_info(c: &StatusChange, enter: bool, json: bool) -> String {
    let (root, last_name, last) = if enter {
        (
            "statusModificationInfoEnter",
            "workflowTaskNotFound",
            c.workflow_found && !c.status_found,
        )
    } else {
        (
            "statusModificationInfoLeave",
            "isMissingEnterState",
            c.item_found && c.workflow_found && !c.was_in_status,
        )
    };
    let fields = [
        ("successful", c.done),
        ("canNotFindItem", !c.item_found),
        ("canNotFindWorkflowId", !c.workflow_found),
        (last_name, last),
    ];
    if json {
        let m: serde_json::Map<String, Value> =
            fields.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        return Value::Object(m).to_string();
    }
    let mut out = format!("{XML_HEAD}<{root}>");
    for (k, v) in fields {
        out.push_str(&format!("<{k}>{v}</{k}>"));
    }
    out.push_str(&format!("</{root}>"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_write_reads_as_rows_with_values_in_column_order() {
        let t = table_from_xml(
            br#"<entityItemTable><entityIdentifier>Article</entityIdentifier>
                <columns><column><identifier>Article.CurrentStatus</identifier></column><column><identifier>Article.Name</identifier></column></columns>
                <rows><row><object><id>1@1</id><label>Drill</label><entityId>1000</entityId></object><values><value>01 New</value><value>Drill &amp; bits</value></values></row>
                <row><object><id>2@1</id></object><values><value/><value>Saw</value></values></row></rows></entityItemTable>"#,
        )
        .expect("reads");
        assert_eq!(t.entity, "Article");
        assert_eq!(t.columns, vec!["Article.CurrentStatus", "Article.Name"]);
        assert_eq!(
            t.rows,
            vec![
                Row {
                    id: "1@1".into(),
                    label: Some("Drill".into()),
                    entity_id: Some("1000".into()),
                    values: vec!["01 New".into(), "Drill & bits".into()],
                },
                Row {
                    id: "2@1".into(),
                    label: None,
                    entity_id: None,
                    values: vec![String::new(), "Saw".into()],
                },
            ]
        );
    }

    #[test]
    fn status_requests_read_their_fields() {
        let m = status_request_from_xml(
            b"<enterWorkflowStatus><processId>1234</processId><workflowId>Workflow1</workflowId><status>S1</status><entity>Article</entity><itemId>1@1</itemId></enterWorkflowStatus>",
        )
        .expect("reads");
        assert_eq!(m.get("itemId").map(String::as_str), Some("1@1"));
        assert_eq!(m.get("processId").map(String::as_str), Some("1234"));
    }
}
