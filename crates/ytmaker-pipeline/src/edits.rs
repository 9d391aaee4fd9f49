//! Changes a user makes to a stopped project before continuing it (SPEC §2, partial
//! re-generation; the design review's image-failure policy): edit one segment's image
//! description, put their own image in its place, ask for one image again, or choose to continue
//! without the presenter. Each is allowed only while no run can read the project (FAILED or
//! PAUSED, no live job), is recorded as an `edit` event, and takes effect on the next
//! resume/retry, which redoes exactly what depends on it and keeps everything else.

use serde_json::json;
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetKind};
use ytmaker_core::event::{Edit, ProjectEvent};
use ytmaker_core::script::Segment;
use ytmaker_core::{ErrorCode, ProjectStatus, TraceId, YtError, YtResult};
use ytmaker_store::{DataDir, JobQueue, Project, Store};

use crate::checkpoint::hash_file;
use crate::stages::write_atomically;

/// Puts the user's image-description edits of `previous` on the segments of `rewritten` with the
/// same index, so that a change that rewrites the script (a new prompt, model or speaking rate)
/// never drops an accepted edit, just as an uploaded image is kept by index. Returns the indexes
/// of edited segments the rewritten script no longer has, for the caller to report.
pub(crate) fn keep_description_edits(
    previous: Option<&ytmaker_core::script::Script>,
    rewritten: &mut ytmaker_core::script::Script,
) -> Vec<u32> {
    let mut dropped = Vec::new();
    for edited in previous
        .into_iter()
        .flat_map(|s| &s.segments)
        .filter(|s| s.description_edited)
    {
        match rewritten.segments.get_mut(edited.index as usize) {
            Some(segment) => {
                segment.image_description = edited.image_description.clone();
                segment.image_prompt = edited.image_prompt.clone();
                segment.description_edited = true;
            }
            None => dropped.push(edited.index),
        }
    }
    dropped
}

/// An uploaded image's size limit.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
/// Marks an image the user supplied: it is kept until the user edits or regenerates it.
pub(crate) const USER_UPLOAD: &str = "user_upload";

async fn editable(store: &Store, id: Uuid, what: &str) -> YtResult<Project> {
    let project = store.get_project(id).await?;
    let idle = matches!(
        project.status,
        ProjectStatus::Failed | ProjectStatus::Paused
    );
    if !idle || store.live_job(id).await?.is_some() {
        return Err(YtError::new(
            ErrorCode::INVALID_STATE_TRANSITION,
            format!(
                "cannot {what} while the project is {}; pause it, or wait until it fails or stops",
                project.status
            ),
        )
        .detail("action", what)
        .detail("status", project.status.as_str()));
    }
    Ok(project)
}

fn script_of(project: &Project) -> YtResult<ytmaker_core::script::Script> {
    project.script.clone().ok_or_else(|| {
        YtError::new(
            ErrorCode::INVALID_STATE_TRANSITION,
            "the project has no script yet; its segments do not exist",
        )
        .detail("status", project.status.as_str())
    })
}

fn segment_of(project: &Project, index: u32) -> YtResult<Segment> {
    let script = project.script.as_ref().ok_or_else(|| {
        YtError::new(
            ErrorCode::INVALID_STATE_TRANSITION,
            "the project has no script yet; its segments do not exist",
        )
        .detail("status", project.status.as_str())
    })?;
    script.segments.get(index as usize).cloned().ok_or_else(|| {
        YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "index",
            &format!("0–{}", script.segments.len().saturating_sub(1)),
            index,
        )
    })
}

async fn record(store: &Store, id: Uuid, trace: &TraceId, edit: Edit) -> YtResult<()> {
    tracing::info!(project_id = %id, edit = ?edit, "project edited");
    store
        .append_event(id, &ProjectEvent::Edit(edit), trace)
        .await?;
    Ok(())
}

/// Replaces one segment's image description (and the English prompt sent to an image model; the
/// description itself when none is given). The segment's image is made again on the next run.
pub async fn edit_segment_image(
    store: &Store,
    data: &DataDir,
    id: Uuid,
    index: u32,
    description: &str,
    prompt: Option<&str>,
    trace: &TraceId,
) -> YtResult<Segment> {
    let description = description.trim();
    let chars = description.chars().count();
    if !(1..=2000).contains(&chars) {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "image_description",
            "1–2000 characters",
            chars,
        ));
    }
    let project = editable(store, id, "edit a segment").await?;
    let mut script = script_of(&project)?;
    segment_of(&project, index)?;
    let Some(segment) = script.segments.get_mut(index as usize) else {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "index",
            "an existing segment",
            index,
        ));
    };
    segment.image_description = description.to_owned();
    segment.image_prompt = Some(prompt.map_or(description, str::trim).to_owned());
    segment.description_edited = true;
    let edited = segment.clone();
    let json = serde_json::to_vec_pretty(&script).map_err(|e| {
        YtError::new(
            ErrorCode::FILE_SYSTEM_ERROR,
            format!("cannot serialise the script: {e}"),
        )
    })?;
    write_atomically(&data.project(id).script(), &json).await?;
    store.save_script(id, &script).await?;
    store
        .invalidate_asset(id, AssetKey::indexed(AssetKind::Image, index))
        .await?;
    record(
        store,
        id,
        trace,
        Edit::ImageDescription {
            segment_index: index,
        },
    )
    .await?;
    Ok(edited)
}

/// Puts the user's own PNG or JPEG in place of one segment's image; it is kept (never sent to the
/// illustrator) until the user edits that segment or asks for the image again.
pub async fn replace_segment_image(
    store: &Store,
    data: &DataDir,
    id: Uuid,
    index: u32,
    bytes: &[u8],
    trace: &TraceId,
) -> YtResult<(u32, u32)> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(YtError::new(
            ErrorCode::PAYLOAD_TOO_LARGE,
            format!(
                "the image is {} bytes; at most {MAX_UPLOAD_BYTES}",
                bytes.len()
            ),
        )
        .detail("limit_bytes", MAX_UPLOAD_BYTES));
    }
    let format = image::guess_format(bytes)
        .ok()
        .filter(|f| matches!(f, image::ImageFormat::Png | image::ImageFormat::Jpeg));
    let Some(format) = format else {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "image",
            "a PNG or JPEG file",
            "other content",
        ));
    };
    let decoded = image::load_from_memory_with_format(bytes, format).map_err(|e| {
        YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "image",
            "a readable PNG or JPEG",
            e.to_string(),
        )
    })?;
    let (width, height) = (decoded.width(), decoded.height());
    if width < 640 || height < 360 {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "image",
            "at least 640×360 pixels (it is scaled and cropped to 1920×1080)",
            format!("{width}×{height}"),
        ));
    }
    let project = editable(store, id, "replace an image").await?;
    segment_of(&project, index)?;
    let dir = data.project(id);
    let images = dir.images();
    tokio::fs::create_dir_all(&images)
        .await
        .map_err(|e| YtError::io("create", &images, &e))?;
    let ext = if format == image::ImageFormat::Png {
        "png"
    } else {
        "jpg"
    };
    let path = images.join(format!("segment-{index:03}-upload.{ext}"));
    write_atomically(&path, bytes).await?;
    let key = AssetKey::indexed(AssetKind::Image, index);
    store.begin_asset(id, key, USER_UPLOAD).await?;
    let hash = hash_file(&path).await?;
    let relative = path
        .strip_prefix(dir.root())
        .unwrap_or(&path)
        .display()
        .to_string();
    store
        .complete_asset(
            id,
            key,
            &relative,
            &hash,
            &json!({ "width": width, "height": height, "source": USER_UPLOAD }),
        )
        .await?;
    record(
        store,
        id,
        trace,
        Edit::ImageUpload {
            segment_index: index,
            width,
            height,
        },
    )
    .await?;
    Ok((width, height))
}

/// Asks for one segment's image again (the provider is called on the next run even though its
/// inputs did not change); an uploaded image is dropped in favour of a generated one.
pub async fn regenerate_segment_image(
    store: &Store,
    id: Uuid,
    index: u32,
    trace: &TraceId,
) -> YtResult<()> {
    let project = editable(store, id, "regenerate an image").await?;
    segment_of(&project, index)?;
    store
        .invalidate_asset(id, AssetKey::indexed(AssetKind::Image, index))
        .await?;
    record(
        store,
        id,
        trace,
        Edit::ImageRegenerate {
            segment_index: index,
        },
    )
    .await
}

/// The user's explicit choice to finish the video without the presenter (after a D-ID failure,
/// say). It is stored in the project's configuration and as an event, and shown with the project.
pub async fn continue_without_presenter(
    store: &Store,
    id: Uuid,
    trace: &TraceId,
) -> YtResult<Project> {
    let project = editable(store, id, "continue without the presenter").await?;
    let mut config = project.configuration.clone();
    config.presenter.enabled = false;
    let updated = store
        .update_project_settings(
            id,
            &ytmaker_store::ProjectSettings {
                configuration: Some(config),
                ..Default::default()
            },
        )
        .await?;
    record(store, id, trace, Edit::ContinueWithoutPresenter).await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use ytmaker_core::script::{Language, NarrationLine, Script, Segment};

    use super::keep_description_edits;

    fn script(segments: u32, edited: &[u32]) -> Script {
        let line = |text: &str| NarrationLine {
            text: text.into(),
            estimated_seconds: 1.0,
        };
        Script {
            language: Language::En,
            title: "t".into(),
            description: String::new(),
            tags: Vec::new(),
            intro: line("intro"),
            segments: (0..segments)
                .map(|index| Segment {
                    index,
                    narration: format!("narration {index}"),
                    image_description: if edited.contains(&index) {
                        format!("the user's picture {index}")
                    } else {
                        format!("written {index}")
                    },
                    image_prompt: None,
                    key_phrase: String::new(),
                    estimated_seconds: 5.0,
                    description_edited: edited.contains(&index),
                })
                .collect(),
            outro: line("outro"),
            condensation: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn edits_follow_the_index_and_the_ones_without_a_segment_are_reported() {
        let previous = script(3, &[0, 2]);
        let mut rewritten = script(2, &[]);
        let dropped = keep_description_edits(Some(&previous), &mut rewritten);
        assert_eq!(dropped, [2], "segment 2 is gone: its edit is reported");
        assert_eq!(
            rewritten.segments[0].image_description,
            "the user's picture 0"
        );
        assert!(rewritten.segments[0].description_edited);
        assert_eq!(rewritten.segments[1].image_description, "written 1");
        assert!(!rewritten.segments[1].description_edited);
        // No earlier script: nothing to keep, nothing to report.
        assert!(keep_description_edits(None, &mut rewritten).is_empty());
    }
}
