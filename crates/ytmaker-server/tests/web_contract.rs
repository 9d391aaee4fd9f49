//! The web UI checks its forms with rules generated from the server's (issue 13: one source for
//! every rule): `web/src/generated/contract.ts` is what `ytmaker_server::web_contract` makes
//! of the rule table, and the UI's checker (`web/src/contract/check.js`) reads nothing else.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use ytmaker_core::config::{FieldRule, ProjectConfig, RULES, Rule};
use ytmaker_core::config_schema;
use ytmaker_server::web_contract::{self, PATH};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What the UI's own checker says of `value` for `field` under `contract`: the problem object,
/// or null. Runs `web/src/contract/check.js` under Node.
fn ui_problem(contract: &Value, field: &str, value: Value) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let contract_path = dir.path().join("contract.json");
    std::fs::write(&contract_path, contract.to_string()).expect("write contract");
    let checker = repo_root().join("web/src/contract/check.js");
    let script = r#"
        const [checker, contractPath, field, value] = process.argv.slice(1);
        const { fieldProblem } = await import('file://' + checker);
        const fs = await import('node:fs');
        const contract = JSON.parse(fs.readFileSync(contractPath, 'utf8'));
        const rule = contract.config[field];
        if (!rule) throw new Error('no rule for ' + field);
        console.log(JSON.stringify(fieldProblem(rule, JSON.parse(value))));
    "#;
    let out = Command::new("node")
        .args(["--input-type=module", "-e", script])
        .arg(&checker)
        .arg(&contract_path)
        .arg(field)
        .arg(value.to_string())
        .output()
        .expect("node (Node.js 20, as the web build needs) runs");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the checker prints JSON")
}

fn ensure_fresh(relative: &str, fresh: &str) {
    let path = repo_root().join(relative);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, fresh).expect("write");
        panic!("{relative} was stale and has been regenerated: rebuild the web UI and commit it");
    }
}

#[test]
fn the_committed_openapi_document_is_the_served_one() {
    ensure_fresh(
        web_contract::OPENAPI_PATH,
        &web_contract::openapi_file().expect("document"),
    );
}

#[test]
fn the_committed_contract_is_what_the_rules_make() {
    let fresh = web_contract::contract_file().expect("contract");
    let path = repo_root().join(PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &fresh).expect("write");
        panic!("{PATH} was stale and has been regenerated: rebuild the web UI and commit it");
    }
}

#[test]
fn the_contract_states_every_rule_of_the_table() {
    let contract = web_contract::web_contract(&config_schema::config_schemas().expect("schemas"))
        .expect("contract");
    for rule in RULES {
        let field = &contract["config"][rule.field];
        assert!(field.is_object(), "{} is missing", rule.field);
        match rule.rule {
            Rule::Range { min, max } => {
                assert_eq!(field["minimum"].as_f64(), Some(min), "{}", rule.field);
                assert_eq!(field["maximum"].as_f64(), Some(max), "{}", rule.field);
            }
            Rule::MaxChars(n) => assert_eq!(field["maxLength"], json!(n), "{}", rule.field),
            Rule::OneOf(values) => {
                for v in values {
                    assert!(
                        field["enum"]
                            .as_array()
                            .is_some_and(|e| e.contains(&json!(v))),
                        "{}: {v}",
                        rule.field
                    );
                }
            }
            Rule::NotBlank | Rule::HexColor | Rule::UploadId | Rule::BaseUrl | Rule::Trimmed => {
                assert_eq!(
                    field["pattern"].as_str(),
                    rule.rule.pattern(),
                    "{}",
                    rule.field
                )
            }
            Rule::GreaterThan(_) => {}
        }
    }
    // Enums of the types themselves come along too (no rule row names them).
    assert_eq!(
        contract["config"]["ken_burns.mode"]["enum"],
        json!([
            "auto",
            "zoom_in",
            "zoom_out",
            "pan_left",
            "pan_right",
            "still"
        ])
    );
    assert_eq!(
        contract["config"]["narration.voice"]["enum"],
        json!(["female", "male"])
    );
}

#[test]
fn a_changed_limit_moves_the_server_and_the_ui() {
    // The font size's maximum, lowered in the rule table: what validate refuses and what the
    // UI's generated checker refuses move together.
    let rules: Vec<FieldRule> = RULES
        .iter()
        .map(|r| match (r.field, r.rule) {
            ("subtitles.font_size", Rule::Range { min, .. }) => FieldRule {
                field: r.field,
                rule: Rule::Range { min, max: 64.0 },
            },
            _ => *r,
        })
        .collect();
    let mut config = ProjectConfig::default();
    config.subtitles.font_size = 80;
    assert!(config.validate().is_ok(), "80 is within today's limit");
    let refused = config
        .validate_with(&rules)
        .expect_err("80 is over the new limit");
    assert_eq!(
        refused.details["violations"][0]["field"],
        json!("subtitles.font_size")
    );

    let today = web_contract::web_contract(&config_schema::config_schemas().expect("schemas"))
        .expect("contract");
    let changed =
        web_contract::web_contract(&config_schema::config_schemas_with(&rules).expect("schemas"))
            .expect("contract");
    assert_eq!(
        ui_problem(&today, "subtitles.font_size", json!(80)),
        Value::Null
    );
    assert_eq!(
        ui_problem(&changed, "subtitles.font_size", json!(80)),
        json!({ "kind": "range", "min": 20, "max": 64 })
    );
    assert_eq!(
        ui_problem(&changed, "subtitles.font_size", json!(64)),
        Value::Null
    );
    // The other kinds of rule reach the UI's checker the same way.
    assert_eq!(
        ui_problem(&today, "subtitles.primary_color", json!("#FFFFFF80")),
        Value::Null
    );
    assert_eq!(
        ui_problem(&today, "subtitles.primary_color", json!("white"))["kind"],
        json!("pattern")
    );
    assert_eq!(
        ui_problem(&today, "render.x264_preset", json!("ludicrous"))["kind"],
        json!("enum")
    );
    assert_eq!(
        ui_problem(&today, "images.style_preset", Value::Null),
        Value::Null
    );
    assert_eq!(
        ui_problem(&today, "images.negative_prompt", json!("x".repeat(1001))),
        json!({ "kind": "maxLength", "max": 1000 })
    );
    assert_eq!(
        ui_problem(&today, "render.crf", json!(20.5))["kind"],
        json!("integer")
    );
}
