//! Uploaded logos (SPEC §2 "overlays", §8 uploads): checked, normalised to RGBA PNG and stored
//! under `<data>/uploads/logos/<sha256>.png`. A configuration names a logo by that id, never by
//! path; the renderer gets the path from here.

use image::{ImageFormat, ImageReader};
use sha2::{Digest, Sha256};
use std::io::Cursor;
use std::path::PathBuf;
use ytmaker_core::config::{LogoSettings, ProjectConfig};
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_store::DataDir;

use crate::fingerprints::hex;
use crate::stages::write_atomically;

/// A logo upload's size limit: a logo is drawn at most 576 pixels wide.
pub const MAX_LOGO_BYTES: usize = 2 * 1024 * 1024;
/// The largest width or height accepted; bigger would only be scaled down again, and bounding
/// it bounds the memory a decode can take.
pub const MAX_LOGO_SIDE: u32 = 4096;

/// What an upload became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLogo {
    /// The SHA-256 (hex) of the stored PNG: the same logo uploaded twice is one file.
    pub id: String,
    pub width: u32,
    pub height: u32,
    /// Size of the stored PNG.
    pub bytes: u64,
}

/// Checks an upload and stores it. `content_type` is what the client declared; the bytes must
/// agree with it (a PNG or JPEG signature), decode completely, and stay within
/// [`MAX_LOGO_BYTES`] and [`MAX_LOGO_SIDE`]. Refusals are `PAYLOAD_TOO_LARGE` or
/// `VALIDATION_ERROR` naming the field.
pub async fn store_logo(data: &DataDir, content_type: &str, bytes: &[u8]) -> YtResult<StoredLogo> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(YtError::new(
            ErrorCode::PAYLOAD_TOO_LARGE,
            format!(
                "the logo is {} bytes; at most {MAX_LOGO_BYTES}",
                bytes.len()
            ),
        )
        .detail("limit_bytes", MAX_LOGO_BYTES));
    }
    let declared = match content_type {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        other => {
            return Err(YtError::invalid_field(
                ErrorCode::VALIDATION_ERROR,
                "content-type",
                "image/png or image/jpeg",
                other,
            ));
        }
    };
    let sniffed = image::guess_format(bytes).ok();
    if sniffed != Some(declared) {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "logo",
            &format!("{content_type} content (these bytes do not start like it)"),
            sniffed.map_or("unrecognised content", |f| f.extensions_str()[0]),
        ));
    }
    let unreadable = |e: image::ImageError| {
        YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "logo",
            "a readable PNG or JPEG",
            e.to_string(),
        )
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), declared)
        .into_dimensions()
        .map_err(unreadable)?;
    if width > MAX_LOGO_SIDE || height > MAX_LOGO_SIDE {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "logo",
            &format!("at most {MAX_LOGO_SIDE}×{MAX_LOGO_SIDE} pixels"),
            format!("{width}×{height}"),
        ));
    }
    let rgba = ImageReader::with_format(Cursor::new(bytes), declared)
        .decode()
        .map_err(unreadable)?
        .into_rgba8();
    let mut png = Vec::new();
    rgba.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| {
            YtError::new(
                ErrorCode::IMAGE_RENDER_FAILED,
                format!("cannot encode the logo as PNG: {e}"),
            )
        })?;
    let id = hex(&Sha256::digest(&png));
    let dir = data.logos();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| YtError::io("create", &dir, &e))?;
    let path = dir.join(format!("{id}.png"));
    write_atomically(&path, &png).await?;
    tracing::info!(logo = %id, width, height, bytes = png.len(), "logo stored");
    Ok(StoredLogo {
        id,
        width,
        height,
        bytes: png.len() as u64,
    })
}

/// The stored PNG of an upload id. An id that is not 64 lowercase hex digits is
/// `VALIDATION_ERROR` (it never becomes a path); a well-formed id with no file is `NOT_FOUND`.
pub async fn logo_file(data: &DataDir, id: &str) -> YtResult<PathBuf> {
    let path = data.logo(id).ok_or_else(|| {
        YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "id",
            "an upload id (64 lowercase hex digits)",
            id,
        )
    })?;
    match tokio::fs::metadata(&path).await {
        Ok(meta) if meta.is_file() => Ok(path),
        Ok(_) => Err(no_logo(id)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(no_logo(id)),
        Err(e) => Err(YtError::io("inspect", &path, &e)),
    }
}

fn no_logo(id: &str) -> YtError {
    YtError::new(
        ErrorCode::NOT_FOUND,
        format!("no uploaded logo has the id {id}"),
    )
    .detail("resource", "logo")
    .detail("id", id)
}

/// Refuses a configuration naming a logo that was never uploaded (`VALIDATION_ERROR`,
/// field `logo.upload`), so a project cannot be created that would fail at render time.
pub async fn check_config_logo(data: &DataDir, config: &ProjectConfig) -> YtResult<()> {
    let Some(logo) = &config.logo else {
        return Ok(());
    };
    match logo_file(data, &logo.upload).await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code, ErrorCode::NOT_FOUND | ErrorCode::VALIDATION_ERROR) => {
            Err(YtError::invalid_field(
                ErrorCode::VALIDATION_ERROR,
                "logo.upload",
                "the id of an uploaded logo (POST /api/v1/uploads/logo)",
                logo.upload.as_str(),
            ))
        }
        Err(e) => Err(e),
    }
}

/// The logo file for a run. Missing at render time (deleted after the project was created) is
/// `FILE_NOT_FOUND` with the path: the render fails rather than leave the logo out.
pub(crate) async fn logo_for_render(data: &DataDir, logo: &LogoSettings) -> YtResult<PathBuf> {
    let path = data.logo(&logo.upload).ok_or_else(|| {
        YtError::invalid_field(
            ErrorCode::CONFIG_INVALID,
            "logo.upload",
            "the id of an uploaded logo (64 lowercase hex digits)",
            logo.upload.as_str(),
        )
    })?;
    tokio::fs::metadata(&path).await.map_err(|e| {
        YtError::io("read the logo", &path, &e).detail("upload", logo.upload.as_str())
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        image::RgbaImage::from_pixel(width, height, image::Rgba([10, 20, 30, 128]))
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[tokio::test]
    async fn a_logo_is_stored_by_content_hash_and_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let stored = store_logo(&data, "image/png", &png(40, 20)).await.unwrap();
        assert_eq!((stored.width, stored.height), (40, 20));
        let path = logo_file(&data, &stored.id).await.unwrap();
        assert_eq!(
            path,
            dir.path().join(format!("uploads/logos/{}.png", stored.id))
        );
        assert_eq!(
            hex(&Sha256::digest(std::fs::read(&path).unwrap())),
            stored.id
        );
        let again = store_logo(&data, "image/png", &png(40, 20)).await.unwrap();
        assert_eq!(again, stored);
    }

    #[tokio::test]
    async fn mismatched_oversized_and_huge_images_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let err = store_logo(&data, "image/jpeg", &png(4, 4))
            .await
            .unwrap_err();
        assert_eq!(
            (err.code, err.details["field"].as_str()),
            (ErrorCode::VALIDATION_ERROR, Some("logo"))
        );
        let err = store_logo(&data, "image/png", &png(MAX_LOGO_SIDE + 1, 1))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::VALIDATION_ERROR);
        assert_eq!(err.details["value"], format!("{}×1", MAX_LOGO_SIDE + 1));
        let err = store_logo(&data, "image/png", &vec![0; MAX_LOGO_BYTES + 1])
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::PAYLOAD_TOO_LARGE);
        assert!(
            !data.logos().exists() || std::fs::read_dir(data.logos()).unwrap().next().is_none()
        );
    }
}
