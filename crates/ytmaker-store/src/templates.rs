//! Prompt templates and visual configuration templates (SPEC §4). The default prompt template is
//! created with the database and cannot be deleted.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::error::now_rfc3339;
use ytmaker_core::prompt::{DEFAULT_PROMPT_TEMPLATE, DEFAULT_PROMPT_TEMPLATE_NAME};
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::{Store, db_err, json_err};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PromptTemplate {
    pub id: Uuid,
    pub name: String,
    pub content: String,
    pub is_default: bool,
    /// Starts at 1 and grows with every update.
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigTemplate {
    pub id: Uuid,
    pub name: String,
    pub configuration: ProjectConfig,
    pub created_at: String,
    pub updated_at: String,
}

fn column<T>(row: &AnyRow, c: &str) -> YtResult<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(c)
        .map_err(|e| db_err(&format!("read column {c}"), e))
}

fn corrupt(c: &str) -> YtError {
    YtError::new(
        ErrorCode::DATABASE_ERROR,
        format!("stored {c} is not valid"),
    )
    .detail("column", c)
}

fn prompt_from_row(row: &AnyRow) -> YtResult<PromptTemplate> {
    let id: String = column(row, "id")?;
    Ok(PromptTemplate {
        id: Uuid::parse_str(&id).map_err(|_| corrupt("prompt_templates.id"))?,
        name: column(row, "name")?,
        content: column(row, "content")?,
        is_default: column::<i64>(row, "is_default")? != 0,
        version: column(row, "version")?,
        created_at: column(row, "created_at")?,
        updated_at: column(row, "updated_at")?,
    })
}

fn config_from_row(row: &AnyRow) -> YtResult<ConfigTemplate> {
    let id: String = column(row, "id")?;
    let raw: String = column(row, "configuration")?;
    Ok(ConfigTemplate {
        id: Uuid::parse_str(&id).map_err(|_| corrupt("configurations.id"))?,
        name: column(row, "name")?,
        configuration: serde_json::from_str(&raw)
            .map_err(|_| corrupt("configurations.configuration"))?,
        created_at: column(row, "created_at")?,
        updated_at: column(row, "updated_at")?,
    })
}

fn not_found(what: &str, id: Uuid) -> YtError {
    YtError::new(ErrorCode::NOT_FOUND, format!("no {what} with id {id}"))
        .detail("resource", what)
        .detail("id", id.to_string())
}

impl Store {
    /// Creates the default prompt template if the database has none (called by `open`).
    pub(crate) async fn seed_default_prompt(&self) -> YtResult<()> {
        let existing = sqlx::query("SELECT id FROM prompt_templates WHERE is_default = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("look for the default prompt template", e))?;
        if existing.is_none() {
            self.insert_prompt(DEFAULT_PROMPT_TEMPLATE_NAME, DEFAULT_PROMPT_TEMPLATE, true)
                .await?;
        }
        Ok(())
    }

    async fn insert_prompt(
        &self,
        name: &str,
        content: &str,
        is_default: bool,
    ) -> YtResult<PromptTemplate> {
        let now = now_rfc3339();
        let row = sqlx::query(
            "INSERT INTO prompt_templates (id, name, content, is_default, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING *",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(name.trim())
        .bind(content)
        .bind(i64::from(is_default))
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("create a prompt template", e))?;
        prompt_from_row(&row)
    }

    pub async fn create_prompt_template(
        &self,
        name: &str,
        content: &str,
    ) -> YtResult<PromptTemplate> {
        self.insert_prompt(name, content, false).await
    }

    pub async fn list_prompt_templates(&self) -> YtResult<Vec<PromptTemplate>> {
        let rows =
            sqlx::query("SELECT * FROM prompt_templates ORDER BY is_default DESC, created_at")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err("list prompt templates", e))?;
        rows.iter().map(prompt_from_row).collect()
    }

    pub async fn prompt_template(&self, id: Uuid) -> YtResult<PromptTemplate> {
        let row = sqlx::query("SELECT * FROM prompt_templates WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("read a prompt template", e))?;
        prompt_from_row(&row.ok_or_else(|| not_found("prompt template", id))?)
    }

    pub async fn default_prompt_template(&self) -> YtResult<PromptTemplate> {
        let row = sqlx::query("SELECT * FROM prompt_templates WHERE is_default = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_err("read the default prompt template", e))?;
        prompt_from_row(&row)
    }

    /// Changes name and content; the version grows by one.
    pub async fn update_prompt_template(
        &self,
        id: Uuid,
        name: &str,
        content: &str,
    ) -> YtResult<PromptTemplate> {
        let row = sqlx::query(
            "UPDATE prompt_templates SET name = $1, content = $2, version = version + 1, updated_at = $3 \
             WHERE id = $4 RETURNING *",
        )
        .bind(name.trim())
        .bind(content)
        .bind(now_rfc3339())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("update a prompt template", e))?;
        prompt_from_row(&row.ok_or_else(|| not_found("prompt template", id))?)
    }

    /// Deletes a template; the default one is protected (`VALIDATION_ERROR`, rule `protected`).
    pub async fn delete_prompt_template(&self, id: Uuid) -> YtResult<()> {
        let template = self.prompt_template(id).await?;
        if template.is_default {
            return Err(YtError::new(
                ErrorCode::VALIDATION_ERROR,
                "the default prompt template cannot be deleted",
            )
            .detail("field", "id")
            .detail("rule", "the default template is protected")
            .detail("value", id.to_string()));
        }
        sqlx::query("DELETE FROM prompt_templates WHERE id = $1 AND is_default = 0")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("delete a prompt template", e))?;
        Ok(())
    }

    pub async fn create_config_template(
        &self,
        name: &str,
        configuration: &ProjectConfig,
    ) -> YtResult<ConfigTemplate> {
        let json =
            serde_json::to_string(configuration).map_err(|e| json_err("configuration", e))?;
        let now = now_rfc3339();
        let row = sqlx::query(
            "INSERT INTO configurations (id, name, configuration, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING *",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(name.trim())
        .bind(json)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("create a configuration template", e))?;
        config_from_row(&row)
    }

    pub async fn list_config_templates(&self) -> YtResult<Vec<ConfigTemplate>> {
        let rows = sqlx::query("SELECT * FROM configurations ORDER BY created_at")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("list configuration templates", e))?;
        rows.iter().map(config_from_row).collect()
    }

    pub async fn config_template(&self, id: Uuid) -> YtResult<ConfigTemplate> {
        let row = sqlx::query("SELECT * FROM configurations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("read a configuration template", e))?;
        config_from_row(&row.ok_or_else(|| not_found("configuration template", id))?)
    }

    pub async fn update_config_template(
        &self,
        id: Uuid,
        name: &str,
        configuration: &ProjectConfig,
    ) -> YtResult<ConfigTemplate> {
        let json =
            serde_json::to_string(configuration).map_err(|e| json_err("configuration", e))?;
        let row = sqlx::query(
            "UPDATE configurations SET name = $1, configuration = $2, updated_at = $3 WHERE id = $4 RETURNING *",
        )
        .bind(name.trim())
        .bind(json)
        .bind(now_rfc3339())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("update a configuration template", e))?;
        config_from_row(&row.ok_or_else(|| not_found("configuration template", id))?)
    }

    pub async fn delete_config_template(&self, id: Uuid) -> YtResult<()> {
        let deleted = sqlx::query("DELETE FROM configurations WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("delete a configuration template", e))?
            .rows_affected();
        if deleted == 0 {
            return Err(not_found("configuration template", id));
        }
        Ok(())
    }
}
