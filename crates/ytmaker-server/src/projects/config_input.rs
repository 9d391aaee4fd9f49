//! What a project's configuration may be set to through the API: overrides merged into a base
//! configuration and validated, the API's own refusals (a presenter portrait path), YouTube
//! settings checked against the linked accounts.

use super::*;

/// Merges `overrides` into `base` section by section and validates the result.
pub(super) fn merged_config(
    base: &ProjectConfig,
    overrides: Option<&Value>,
) -> Result<ProjectConfig, ApiError> {
    let mut merged = json_value("the base configuration", base)?;
    if let Some(o) = overrides {
        if !o.is_object() {
            return Err(invalid("configuration", "a JSON object", o.clone()));
        }
        merge(&mut merged, o);
    }
    parse_config(merged)
}

/// What a configuration arriving over the API must satisfy beyond `ProjectConfig::validate`:
/// the logo it names was uploaded, and it does not point the presenter at a file of the
/// caller's choosing (SPEC §8: paths never come from user input). A portrait path is set only on
/// the trusted side (the server's config file, the CLI's `--config`), so over the API it must
/// stay what `base` (the default, the template or the project being edited) already had.
pub(crate) async fn check_api_config(
    data: &ytmaker_store::DataDir,
    base: &ProjectConfig,
    config: &ProjectConfig,
) -> Result<(), ApiError> {
    if config.presenter.portrait.is_some() && config.presenter.portrait != base.presenter.portrait {
        return Err(ApiError(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "presenter.portrait",
            "unchanged: a portrait file is named only in the server's or the CLI's configuration file",
            config
                .presenter
                .portrait
                .as_ref()
                .map(|p| p.display().to_string()),
        )));
    }
    ytmaker_pipeline::logos::check_config_logo(data, config).await?;
    Ok(())
}

/// A configuration from JSON: unknown sections or fields and wrong types are `CONFIG_INVALID`
/// naming the parser's complaint; out-of-range values are `CONFIG_INVALID` listing every one.
pub(crate) fn parse_config(raw: Value) -> Result<ProjectConfig, ApiError> {
    let config: ProjectConfig = serde_json::from_value(raw).map_err(|e| {
        ApiError(
            YtError::new(ErrorCode::CONFIG_INVALID, format!("configuration: {e}"))
                .detail("field", "configuration")
                .detail(
                    "rule",
                    "known sections and fields with values of the right type",
                )
                .detail("parser_message", e.to_string()),
        )
    })?;
    config.validate()?;
    Ok(config)
}

fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// Parses and validates a project's YouTube settings; a chosen `account` must be linked now
/// (whether it still is at upload time is the publisher's check).
pub(super) async fn youtube_settings(state: &AppState, raw: &Value) -> Result<Value, ApiError> {
    let settings: YoutubeSettings = serde_json::from_value(raw.clone()).map_err(|e| {
        ApiError(
            YtError::new(ErrorCode::VALIDATION_ERROR, format!("youtube: {e}"))
                .detail("field", "youtube")
                .detail(
                    "rule",
                    "title, description, tags, privacy, publish_at, account",
                )
                .detail("parser_message", e.to_string()),
        )
    })?;
    settings.validate(chrono::Utc::now())?;
    if let Some(account) = settings.chosen_account() {
        let linked = ytmaker_pipeline::youtube_accounts::accounts(&state.cloud, &state.store)
            .await?
            .into_iter()
            .any(|a| a.channel_id == account);
        if !linked {
            return Err(invalid(
                "youtube.account",
                "the channel id of a linked YouTube account",
                account,
            ));
        }
    }
    json_value("the YouTube settings", &settings)
}
