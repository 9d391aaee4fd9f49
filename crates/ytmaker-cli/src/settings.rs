//! Where things are and how a project is configured: the data directory, the database URL, the
//! language of recovery guides, and the project configuration from TOML files plus `YTMAKER_*`
//! environment variables.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_store::{DataDir, Store};

pub struct Settings {
    pub data: DataDir,
    pub database_url: String,
    pub lang: Lang,
}

impl Settings {
    /// `--data-dir`, else `$YTMAKER_DATA_DIR`, else the platform's data directory (XDG on Linux).
    pub fn resolve(data_dir_flag: Option<&Path>) -> YtResult<Settings> {
        let root = match (data_dir_flag, std::env::var_os("YTMAKER_DATA_DIR")) {
            (Some(flag), _) => flag.to_owned(),
            (None, Some(env)) if !env.is_empty() => PathBuf::from(env),
            _ => directories::ProjectDirs::from("", "", "ytmaker")
                .map(|d| d.data_dir().to_owned())
                .ok_or_else(|| {
                    YtError::new(
                        ErrorCode::CONFIG_INVALID,
                        "no home directory to put the data directory in; set YTMAKER_DATA_DIR",
                    )
                    .detail("field", "YTMAKER_DATA_DIR")
                })?,
        };
        std::fs::create_dir_all(&root)
            .map_err(|e| YtError::io("create the data directory", &root, &e))?;
        let data = DataDir::new(root);
        let database_url = match std::env::var("YTMAKER_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => Store::sqlite_url(&data.database()),
        };
        let lang = match std::env::var("YTMAKER_LANG").as_deref() {
            Ok("en") => Lang::En,
            Ok("zh-TW") | Ok("") | Err(_) => Lang::ZhTw,
            Ok(other) => {
                return Err(YtError::invalid_field(
                    ErrorCode::CONFIG_INVALID,
                    "YTMAKER_LANG",
                    "zh-TW or en",
                    other,
                ));
            }
        };
        Ok(Settings {
            data,
            database_url,
            lang,
        })
    }

    pub fn user_config_file(&self) -> PathBuf {
        self.data.root().join("config.toml")
    }
}

/// The project configuration: defaults, then `<data>/config.toml`, then `--config`, then
/// environment variables such as `YTMAKER_SUBTITLES__FONT_SIZE=48`. Unknown keys are errors.
pub fn load_project_config(
    settings: &Settings,
    explicit: Option<&Path>,
) -> YtResult<ProjectConfig> {
    let mut figment = Figment::from(Serialized::defaults(ProjectConfig::default()));
    let user_file = settings.user_config_file();
    if user_file.is_file() {
        figment = figment.merge(Toml::string(&project_sections(&user_file)?));
    }
    if let Some(path) = explicit {
        figment = figment.merge(Toml::string(&project_sections(path)?));
    }
    figment = figment.merge(
        Env::prefixed("YTMAKER_")
            .filter(|k| {
                k.as_str().contains("__")
                    // `UncasedStr::starts_with` ignores case: the variables are upper case.
                    && !SERVICE_SECTIONS
                        .iter()
                        .any(|s| k.starts_with(&format!("{s}__")))
            })
            .split("__"),
    );
    let config: ProjectConfig = figment.extract().map_err(|e| {
        let fields: Vec<String> = e.clone().into_iter().map(|e| e.path.join(".")).collect();
        YtError::new(
            ErrorCode::CONFIG_INVALID,
            format!("configuration does not fit: {e}"),
        )
        .detail("fields", fields)
        .detail("reason", e.to_string())
    })?;
    config.validate()?;
    Ok(config)
}

/// Sections of the settings file that configure the service, not a project.
const SERVICE_SECTIONS: [&str; 2] = ["monitoring", "quotas"];

/// The file's TOML without the service sections, for the project configuration.
fn project_sections(path: &Path) -> YtResult<String> {
    let mut table = check_toml(path)?;
    for section in SERVICE_SECTIONS {
        table.remove(section);
    }
    Ok(table.to_string())
}

/// The `[monitoring]` section of `<data>/config.toml`, then `YTMAKER_MONITORING__FIELD`
/// environment variables, over the defaults.
pub fn load_monitor_config(settings: &Settings) -> YtResult<ytmaker_monitor::MonitorConfig> {
    let mut figment = Figment::from(Serialized::defaults(
        ytmaker_monitor::MonitorConfig::default(),
    ));
    let user_file = settings.user_config_file();
    if user_file.is_file()
        && let Some(section) = check_toml(&user_file)?.remove("monitoring")
    {
        figment = figment.merge(Serialized::defaults(section));
    }
    figment = figment.merge(Env::prefixed("YTMAKER_MONITORING__"));
    let config: ytmaker_monitor::MonitorConfig = figment.extract().map_err(|e| {
        YtError::new(
            ErrorCode::CONFIG_INVALID,
            format!("[monitoring] does not fit: {e}"),
        )
        .detail("reason", e.to_string())
    })?;
    config.validate()?;
    Ok(config)
}

/// The `[quotas]` section of `<data>/config.toml`, then `YTMAKER_QUOTAS__FIELD` variables
/// (e.g. `YTMAKER_QUOTAS__YOUTUBE_UNITS_PER_DAY=1000`). Unknown keys are errors.
pub fn load_quota_limits(settings: &Settings) -> YtResult<ytmaker_core::quota::QuotaLimits> {
    let mut figment = Figment::from(Serialized::defaults(
        ytmaker_core::quota::QuotaLimits::default(),
    ));
    let user_file = settings.user_config_file();
    if user_file.is_file()
        && let Some(section) = check_toml(&user_file)?.remove("quotas")
    {
        figment = figment.merge(Serialized::defaults(section));
    }
    figment = figment.merge(Env::prefixed("YTMAKER_QUOTAS__"));
    figment.extract().map_err(|e| {
        YtError::new(
            ErrorCode::CONFIG_INVALID,
            format!("[quotas] does not fit: {e}"),
        )
        .detail("reason", e.to_string())
    })
}

/// Figment skips a missing file and reports TOML errors without the file name; a user who passes
/// `--config` deserves to hear exactly which file is missing or where its syntax breaks.
fn check_toml(path: &Path) -> YtResult<toml::Table> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        YtError::new(
            ErrorCode::CONFIG_UNREADABLE,
            format!("cannot read the configuration file {}: {e}", path.display()),
        )
        .detail("path", path.display().to_string())
        .detail("os_error", e.to_string())
    })?;
    toml::from_str::<toml::Table>(&text).map_err(|e| {
        YtError::new(
            ErrorCode::CONFIG_UNREADABLE,
            format!("{} is not valid TOML: {}", path.display(), e.message()),
        )
        .detail("path", path.display().to_string())
        .detail("parser", e.to_string())
    })
}
