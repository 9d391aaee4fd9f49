//! The logo overlay: where a logo goes in a frame and how big, shared by the clips (overlaid by
//! FFmpeg) and the thumbnail (blended here).

use image::imageops::{self, FilterType};
use image::{ImageReader, RgbImage, RgbaImage};
use std::path::Path;
use ytmaker_core::config::{FRAME_WIDTH, LogoCorner, LogoSettings};
use ytmaker_core::{ErrorCode, YtError, YtResult};

/// A logo to draw: the stored PNG (resolved from the upload id by the caller) and its settings.
#[derive(Clone, Copy, Debug)]
pub struct LogoOverlay<'a> {
    pub file: &'a Path,
    pub settings: &'a LogoSettings,
}

/// The logo scaled for one frame size, with the configured opacity already in its alpha, and
/// the top-left corner it is drawn at.
pub(crate) struct PlacedLogo {
    pub image: RgbaImage,
    pub x: u32,
    pub y: u32,
}

/// Reads the logo and fits it to a `frame_width`×`frame_height` frame: the longer side becomes
/// `size_percent` of the frame width, the margin scales with the frame (it is given for 1920
/// wide). With `even`, size and position are rounded to even pixels so the 4:2:0 chroma of a
/// video frame lines up with the logo's edges. A missing file is `FILE_NOT_FOUND`, an unreadable
/// one `MEDIA_INVALID`, both with the path: a logo the user chose is never dropped silently.
pub(crate) fn place_logo(
    logo: &LogoOverlay<'_>,
    frame_width: u32,
    frame_height: u32,
    even: bool,
) -> YtResult<PlacedLogo> {
    let path = logo.file;
    let undecodable = |err: image::ImageError| {
        YtError::new(
            ErrorCode::MEDIA_INVALID,
            format!("cannot decode the logo {}: {err}", path.display()),
        )
        .detail("path", path.display().to_string())
        .detail("reason", err.to_string())
    };
    let source = ImageReader::open(path)
        .and_then(ImageReader::with_guessed_format)
        .map_err(|err| YtError::io("read the logo", path, &err))?
        .decode()
        .map_err(undecodable)?
        .into_rgba8();
    let s = logo.settings;
    let round = |v: f64| {
        let v = v.round().max(if even { 2.0 } else { 1.0 }) as u32;
        if even { v & !1 } else { v }
    };
    let longest = f64::from(frame_width) * s.size_percent / 100.0;
    let (w, h) = (
        f64::from(source.width().max(1)),
        f64::from(source.height().max(1)),
    );
    let factor = longest / w.max(h);
    let (width, height) = (round(w * factor), round(h * factor));
    let mut image = imageops::resize(&source, width, height, FilterType::CatmullRom);
    let opacity = s.opacity.clamp(0.0, 1.0);
    for px in image.pixels_mut() {
        px.0[3] = (f64::from(px.0[3]) * opacity).round() as u8;
    }
    let margin =
        (f64::from(s.margin) * f64::from(frame_width) / f64::from(FRAME_WIDTH)).round() as u32;
    let right = frame_width.saturating_sub(width + margin);
    let bottom = frame_height.saturating_sub(height + margin);
    let (x, y) = match s.position {
        LogoCorner::TopLeft => (margin, margin),
        LogoCorner::TopRight => (right, margin),
        LogoCorner::BottomLeft => (margin, bottom),
        LogoCorner::BottomRight => (right, bottom),
    };
    let (x, y) = if even { (x & !1, y & !1) } else { (x, y) };
    Ok(PlacedLogo { image, x, y })
}

/// Draws the placed logo over `canvas` (straight alpha, sRGB values, as FFmpeg's `overlay` does).
pub(crate) fn blend_onto(canvas: &mut RgbImage, logo: &PlacedLogo) {
    for (lx, ly, px) in logo.image.enumerate_pixels() {
        let (x, y) = (logo.x + lx, logo.y + ly);
        if x >= canvas.width() || y >= canvas.height() {
            continue;
        }
        let [r, g, b, a] = px.0;
        let a = u32::from(a);
        let under = canvas.get_pixel_mut(x, y);
        for (c, over) in under.0.iter_mut().zip([r, g, b]) {
            *c = ((u32::from(over) * a + u32::from(*c) * (255 - a) + 127) / 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn settings(position: LogoCorner, size_percent: f64, margin: u32) -> LogoSettings {
        LogoSettings {
            upload: String::new(),
            position,
            size_percent,
            opacity: 0.5,
            margin,
            on_thumbnail: true,
        }
    }

    fn logo_file(dir: &Path, width: u32, height: u32) -> std::path::PathBuf {
        let path = dir.join("logo.png");
        RgbaImage::from_pixel(width, height, Rgba([255, 0, 0, 200]))
            .save(&path)
            .unwrap();
        path
    }

    #[test]
    fn the_longer_side_is_the_percentage_of_the_frame_width_in_the_chosen_corner() {
        let dir = tempfile::tempdir().unwrap();
        let file = logo_file(dir.path(), 300, 100);
        let s = settings(LogoCorner::BottomRight, 10.0, 40);
        let placed = place_logo(
            &LogoOverlay {
                file: &file,
                settings: &s,
            },
            1920,
            1080,
            true,
        )
        .unwrap();
        assert_eq!(placed.image.dimensions(), (192, 64));
        assert_eq!((placed.x, placed.y), (1920 - 192 - 40, 1080 - 64 - 40));
        // Opacity multiplies the logo's own alpha: 200 × 0.5.
        assert_eq!(placed.image.get_pixel(10, 10).0[3], 100);

        let s = settings(LogoCorner::TopLeft, 10.0, 40);
        let placed = place_logo(
            &LogoOverlay {
                file: &file,
                settings: &s,
            },
            1280,
            720,
            false,
        )
        .unwrap();
        assert_eq!(placed.image.width(), 128);
        assert_eq!(
            (placed.x, placed.y),
            (27, 27),
            "margin scaled to the thumbnail"
        );
    }

    #[test]
    fn a_missing_or_broken_logo_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(LogoCorner::TopRight, 12.0, 0);
        let missing = dir.path().join("nope.png");
        let err = place_logo(
            &LogoOverlay {
                file: &missing,
                settings: &s,
            },
            1920,
            1080,
            true,
        )
        .err()
        .unwrap();
        assert_eq!(err.code, ErrorCode::FILE_NOT_FOUND);
        assert_eq!(err.details["path"], missing.display().to_string());

        let broken = dir.path().join("broken.png");
        std::fs::write(&broken, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        let err = place_logo(
            &LogoOverlay {
                file: &broken,
                settings: &s,
            },
            1920,
            1080,
            true,
        )
        .err()
        .unwrap();
        assert_eq!(err.code, ErrorCode::MEDIA_INVALID);
        assert_eq!(err.details["path"], broken.display().to_string());
    }

    #[test]
    fn blending_mixes_by_alpha() {
        let mut canvas = RgbImage::from_pixel(4, 4, image::Rgb([0, 0, 255]));
        let logo = PlacedLogo {
            image: RgbaImage::from_pixel(2, 2, Rgba([255, 0, 0, 128])),
            x: 2,
            y: 2,
        };
        blend_onto(&mut canvas, &logo);
        assert_eq!(canvas.get_pixel(3, 3).0, [128, 0, 127]);
        assert_eq!(canvas.get_pixel(1, 1).0, [0, 0, 255]);
    }
}
