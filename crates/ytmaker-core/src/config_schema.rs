//! The OpenAPI schemas of [`ProjectConfig`] (feature `openapi`): the structure derived by
//! `utoipa::ToSchema` from the types, then every rule of [`RULES`] written into the field it
//! governs — the same table [`ProjectConfig::validate`] checks, so the document and the server
//! state one set of limits. Two families of schemas come out:
//!
//! - `ProjectConfig` and its sections: a configuration as stored and as a template holds it
//!   (a missing section or field takes its default; `subtitles.position` needs both `x` and `y`;
//!   a logo needs its `upload`);
//! - `ProjectConfigOverrides` and `…Overrides` sections: what a project's creation and
//!   `PUT …/configuration` accept, merged field by field into a base configuration, so nothing
//!   in them is required.

use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::config::{FieldRule, ProjectConfig, RULES, Rule};
use crate::error::{ErrorCode, YtError, YtResult};

/// The name of the schema of a configuration as stored.
pub const CONFIG: &str = "ProjectConfig";
/// The suffix of the overrides' schemas (`ProjectConfigOverrides`, `SubtitleStyleOverrides`, …).
pub const OVERRIDES_SUFFIX: &str = "Overrides";

const REF_PREFIX: &str = "#/components/schemas/";

/// The schemas to put in `components.schemas`, by name, rules included.
pub fn config_schemas() -> YtResult<Map<String, Value>> {
    config_schemas_with(RULES)
}

/// [`config_schemas`] with another rule table (a test's changed limit).
pub fn config_schemas_with(rules: &[FieldRule]) -> YtResult<Map<String, Value>> {
    let mut derived: Vec<(String, RefOr<Schema>)> = Vec::new();
    <ProjectConfig as ToSchema>::schemas(&mut derived);
    derived.push((
        <ProjectConfig as ToSchema>::name().into_owned(),
        <ProjectConfig as PartialSchema>::schema(),
    ));
    let mut schemas = Map::new();
    for (name, schema) in derived {
        let schema = serde_json::to_value(schema).map_err(|e| {
            YtError::new(
                ErrorCode::SERVER_PANICKED,
                format!("the schema of {name} cannot be encoded: {e}"),
            )
        })?;
        schemas.insert(name, schema);
    }
    for rule in rules {
        describe_rule(&mut schemas, rule)?;
    }
    add_overrides(&mut schemas);
    Ok(schemas)
}

/// The component a property schema refers to: its `$ref`, or the `$ref` among its `oneOf`
/// alternatives (an optional section).
fn referenced(property: &Value) -> Option<&str> {
    let direct = property.get("$ref").and_then(Value::as_str);
    let among = ["oneOf", "anyOf", "allOf"].iter().find_map(|key| {
        property
            .get(*key)?
            .as_array()?
            .iter()
            .find_map(|alt| alt.get("$ref").and_then(Value::as_str))
    });
    direct.or(among)?.strip_prefix(REF_PREFIX)
}

/// `(component, property)` holding the field of `rule`.
fn locate(schemas: &Map<String, Value>, rule: &FieldRule) -> YtResult<(String, String)> {
    let missing = || {
        YtError::new(
            ErrorCode::SERVER_PANICKED,
            format!(
                "the configuration rule on {} names no field of the {CONFIG} schema",
                rule.field
            ),
        )
        .detail("field", rule.field)
    };
    let mut component = CONFIG.to_owned();
    let mut segments = rule.field.split('.').peekable();
    while let Some(segment) = segments.next() {
        let property = schemas
            .get(&component)
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get(segment))
            .ok_or_else(missing)?;
        if segments.peek().is_none() {
            return Ok((component, segment.to_owned()));
        }
        component = referenced(property).ok_or_else(missing)?.to_owned();
    }
    Err(missing())
}

fn is_integer(property: &Value) -> bool {
    match &property["type"] {
        Value::String(t) => t == "integer",
        Value::Array(types) => types.iter().any(|t| t == "integer"),
        _ => false,
    }
}

fn is_nullable(property: &Value) -> bool {
    let typed_null =
        matches!(&property["type"], Value::Array(types) if types.iter().any(|t| t == "null"));
    let alternative_null = property["oneOf"]
        .as_array()
        .is_some_and(|alts| alts.iter().any(|a| a["type"] == "null"));
    typed_null || alternative_null
}

fn append_description(property: &mut Map<String, Value>, sentence: &str) {
    let text = match property.get("description").and_then(Value::as_str) {
        Some(d) if !d.is_empty() => format!("{d} {sentence}"),
        _ => sentence.to_owned(),
    };
    property.insert("description".into(), Value::String(text));
}

fn describe_rule(schemas: &mut Map<String, Value>, rule: &FieldRule) -> YtResult<()> {
    let (component, field) = locate(schemas, rule)?;
    let Some(object) = schemas.get_mut(&component).and_then(Value::as_object_mut) else {
        return Err(YtError::new(
            ErrorCode::SERVER_PANICKED,
            format!("the {component} schema is not an object"),
        ));
    };
    if rule.rule == Rule::UploadId {
        // The default (no upload) never passes: a logo section names its upload.
        let required = object.entry("required").or_insert_with(|| json!([]));
        if let Some(list) = required.as_array_mut()
            && !list.iter().any(|f| f == field.as_str())
        {
            list.push(Value::String(field.clone()));
        }
    }
    let Some(property) = object
        .get_mut("properties")
        .and_then(|p| p.get_mut(&field))
        .and_then(Value::as_object_mut)
    else {
        return Err(YtError::new(
            ErrorCode::SERVER_PANICKED,
            format!("{component}.{field} is not an object schema"),
        ));
    };
    match rule.rule {
        Rule::Range { min, max } => {
            if is_integer(&Value::Object(property.clone())) {
                // Whole numbers: the limits are whole too (see RULES).
                property.insert("minimum".into(), json!(min as i64));
                property.insert("maximum".into(), json!(max as i64));
                if max > i32::MAX as f64 {
                    property.insert("format".into(), json!("int64"));
                }
            } else {
                property.insert("minimum".into(), json!(min));
                property.insert("maximum".into(), json!(max));
            }
        }
        Rule::GreaterThan(other) => {
            append_description(property, &format!("Must be greater than `{other}`."))
        }
        Rule::MaxChars(n) => {
            property.insert("maxLength".into(), json!(n));
        }
        Rule::OneOf(values) => {
            let nullable = is_nullable(&Value::Object(property.clone()));
            let description = property.get("description").cloned();
            let default = property.get("default").cloned();
            property.clear();
            let mut allowed: Vec<Value> = values.iter().map(|v| json!(v)).collect();
            if nullable {
                allowed.push(Value::Null);
                property.insert("type".into(), json!(["string", "null"]));
            } else {
                property.insert("type".into(), json!("string"));
            }
            property.insert("enum".into(), Value::Array(allowed));
            if let Some(d) = description {
                property.insert("description".into(), d);
            }
            if let Some(d) = default {
                property.insert("default".into(), d);
            }
        }
        Rule::NotBlank | Rule::HexColor | Rule::UploadId | Rule::BaseUrl | Rule::Trimmed => {
            if rule.rule == Rule::NotBlank {
                property.insert("minLength".into(), json!(1));
            }
            if rule.rule == Rule::UploadId {
                // Required, so no default (the derived one, "", is no upload).
                property.remove("default");
            }
            if let Some(pattern) = rule.rule.pattern() {
                property.insert("pattern".into(), json!(pattern));
            }
        }
    }
    Ok(())
}

/// The keywords of a field's schema a form needs to check a value as the server will.
const FIELD_KEYWORDS: [&str; 9] = [
    "type",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "default",
];

/// Every leaf field of the configuration, by dotted path (`subtitles.position.x`), with the
/// keywords of its schema in `schemas` (what [`config_schemas`] makes): the rules as a form
/// reads them. A field whose type is a named enum gets that enum's keywords; an optional
/// section's fields are listed as if it were set.
pub fn config_fields(schemas: &Map<String, Value>) -> YtResult<Map<String, Value>> {
    fields_of(schemas, CONFIG)
}

/// [`config_fields`] for any object schema among `schemas` (`YoutubeSettings`, say).
pub fn fields_of(schemas: &Map<String, Value>, component: &str) -> YtResult<Map<String, Value>> {
    let mut fields = Map::new();
    collect_fields(schemas, component, "", &mut fields, 0)?;
    Ok(fields)
}

fn collect_fields(
    schemas: &Map<String, Value>,
    component: &str,
    prefix: &str,
    fields: &mut Map<String, Value>,
    depth: usize,
) -> YtResult<()> {
    let broken = |what: String| YtError::new(ErrorCode::SERVER_PANICKED, what);
    if depth > 8 {
        return Err(broken(format!("the {component} schema nests too deep")));
    }
    let properties = schemas
        .get(component)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .ok_or_else(|| broken(format!("the {component} schema has no properties")))?;
    for (name, property) in properties {
        let path = format!("{prefix}{name}");
        let target = referenced(property).and_then(|t| schemas.get(t).map(|s| (t, s)));
        match target {
            Some((t, s)) if s.get("properties").is_some() => {
                collect_fields(schemas, t, &format!("{path}."), fields, depth + 1)?
            }
            _ => {
                let mut field = Map::new();
                for source in [target.map(|(_, s)| s), Some(property)]
                    .into_iter()
                    .flatten()
                {
                    for keyword in FIELD_KEYWORDS {
                        if let Some(v) = source.get(keyword) {
                            field.insert(keyword.into(), v.clone());
                        }
                    }
                }
                if is_nullable(property) && field.get("type").is_some_and(Value::is_string) {
                    let t = field["type"].clone();
                    field.insert("type".into(), json!([t, "null"]));
                }
                fields.insert(path, Value::Object(field));
            }
        }
    }
    Ok(())
}

/// Rewrites every `$ref` to an object schema of `objects` into its overrides' name.
fn point_at_overrides(value: &mut Value, objects: &[String]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref")
                && let Some(name) = target.strip_prefix(REF_PREFIX)
                && objects.iter().any(|o| o == name)
            {
                *target = format!("{REF_PREFIX}{name}{OVERRIDES_SUFFIX}");
            }
            for v in map.values_mut() {
                point_at_overrides(v, objects);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| point_at_overrides(v, objects)),
        _ => {}
    }
}

fn add_overrides(schemas: &mut Map<String, Value>) {
    let objects: Vec<String> = schemas
        .iter()
        .filter(|(_, s)| s.get("properties").is_some())
        .map(|(name, _)| name.clone())
        .collect();
    for name in &objects {
        let Some(mut copy) = schemas.get(name).cloned() else {
            continue;
        };
        if let Some(object) = copy.as_object_mut() {
            object.remove("required");
            append_description(
                object,
                "Overrides: any subset of the fields, merged into the configuration they change.",
            );
        }
        point_at_overrides(&mut copy, &objects);
        schemas.insert(format!("{name}{OVERRIDES_SUFFIX}"), copy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property<'a>(schemas: &'a Map<String, Value>, component: &str, field: &str) -> &'a Value {
        &schemas[component]["properties"][field]
    }

    #[test]
    fn every_rule_is_written_into_the_schema_of_its_field() {
        let schemas = config_schemas().expect("schemas");
        for rule in RULES {
            let (component, field) = locate(&schemas, rule).expect("located");
            let p = property(&schemas, &component, &field);
            match rule.rule {
                Rule::Range { min, max } => {
                    assert_eq!(p["minimum"].as_f64(), Some(min), "{}", rule.field);
                    assert_eq!(p["maximum"].as_f64(), Some(max), "{}", rule.field);
                }
                Rule::MaxChars(n) => assert_eq!(p["maxLength"], json!(n), "{}", rule.field),
                Rule::OneOf(values) => {
                    let listed: Vec<&str> = p["enum"]
                        .as_array()
                        .expect("enum")
                        .iter()
                        .filter_map(Value::as_str)
                        .collect();
                    assert_eq!(listed, values, "{}", rule.field);
                }
                Rule::GreaterThan(other) => assert!(
                    p["description"].as_str().is_some_and(|d| d.contains(other)),
                    "{}",
                    rule.field
                ),
                Rule::NotBlank
                | Rule::HexColor
                | Rule::UploadId
                | Rule::BaseUrl
                | Rule::Trimmed => {
                    assert_eq!(p["pattern"].as_str(), rule.rule.pattern(), "{}", rule.field)
                }
            }
        }
    }

    #[test]
    fn a_changed_limit_moves_the_schema() {
        // The schema reads the limits from RULES, not from a copy: the value in the document is
        // the one validate enforces.
        let schemas = config_schemas().expect("schemas");
        let font_size = RULES
            .iter()
            .find(|r| r.field == "subtitles.font_size")
            .expect("a font size rule");
        let Rule::Range { min, max } = font_size.rule else {
            panic!("font size is a range");
        };
        let p = property(&schemas, "SubtitleStyle", "font_size");
        assert_eq!(
            (p["minimum"].as_f64(), p["maximum"].as_f64()),
            (Some(min), Some(max))
        );
        let mut c = ProjectConfig::default();
        c.subtitles.font_size = max as u32 + 1;
        assert!(c.validate().is_err());
        c.subtitles.font_size = max as u32;
        assert!(c.validate().is_ok());
    }

    #[test]
    fn whole_and_fractional_numbers_keep_their_types() {
        let schemas = config_schemas().expect("schemas");
        let crf = property(&schemas, "RenderSettings", "crf");
        assert_eq!(crf["type"], "integer");
        assert_eq!(
            (crf["minimum"].clone(), crf["maximum"].clone()),
            (json!(0), json!(51))
        );
        // Beyond an int32: the format says so, and the maximum is the type's own.
        let seed = property(&schemas, "ImageSettings", "seed");
        assert_eq!(seed["format"], "int64");
        assert_eq!(seed["maximum"], json!(u32::MAX));
        let zoom = property(&schemas, "KenBurnsSettings", "zoom");
        assert_eq!(
            (zoom["minimum"].clone(), zoom["maximum"].clone()),
            (json!(1.0), json!(1.5))
        );
    }

    #[test]
    fn unknown_fields_are_refused_and_overrides_require_nothing() {
        let schemas = config_schemas().expect("schemas");
        assert_eq!(
            schemas["SubtitleStyle"]["additionalProperties"],
            json!(false)
        );
        assert_eq!(schemas["Point"]["required"], json!(["x", "y"]));
        assert_eq!(schemas["LogoSettings"]["required"], json!(["upload"]));
        assert!(
            schemas["LogoSettings"]["properties"]["upload"]
                .get("default")
                .is_none()
        );
        assert!(schemas["PointOverrides"].get("required").is_none());
        assert!(schemas["LogoSettingsOverrides"].get("required").is_none());
        assert_eq!(
            schemas["SubtitleStyleOverrides"]["properties"]["position"]["$ref"],
            json!("#/components/schemas/PointOverrides")
        );
        assert_eq!(
            schemas["SubtitleStyleOverrides"]["properties"]["font_size"]["maximum"],
            json!(100)
        );
        // Every reference resolves.
        let text = serde_json::to_string(&schemas).expect("json");
        for target in text.split(REF_PREFIX).skip(1) {
            let name: String = target.chars().take_while(|c| *c != '"').collect();
            assert!(
                schemas.contains_key(&name),
                "{name} is referenced but missing"
            );
        }
    }

    #[test]
    fn a_provider_slot_lists_only_its_two_kinds() {
        let schemas = config_schemas().expect("schemas");
        assert_eq!(
            property(&schemas, "ProviderChoice", "narration")["enum"],
            json!(["local", "google_tts"])
        );
        let preset = property(&schemas, "ImageSettings", "style_preset");
        assert_eq!(preset["type"], json!(["string", "null"]));
        assert!(
            preset["enum"]
                .as_array()
                .is_some_and(|e| e.contains(&Value::Null))
        );
    }
}
