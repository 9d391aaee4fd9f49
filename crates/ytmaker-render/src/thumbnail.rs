//! The 1280×720 JPEG thumbnail: a background image with the video's title on a darkened band.

use ab_glyph::{Font, FontRef, PxScale};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_text_mut, text_size};
use std::path::Path;
use ytmaker_core::config::ThumbnailSettings;
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::fonts::FontFace;
use crate::logo::{LogoOverlay, blend_onto, place_logo};
use crate::picture::decode_rgb;
use crate::subtitles::{parse_hex_color, tokens};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
/// YouTube refuses thumbnails of 2 MB or more.
const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Tried in order until the file is small enough; below 50 JPEG artefacts show on text edges.
const QUALITIES: [u8; 5] = [90, 80, 70, 60, 50];
const MARGIN: u32 = 64;
/// The title is shrunk (never cut) until it fits in this many lines, but not below
/// `MIN_FONT_SIZE`, the smallest title size the configuration allows.
const MAX_LINES: usize = 3;
const MIN_FONT_SIZE: f32 = 40.0;

pub struct ThumbnailJob<'a> {
    pub background: &'a Path,
    pub title: &'a str,
    /// A face from [`crate::resolve_font`]; `.ttc` collections are read at `font.index`.
    pub font: &'a FontFace,
    pub settings: &'a ThumbnailSettings,
    /// Drawn in its corner under the title when set.
    pub logo: Option<LogoOverlay<'a>>,
    pub out: &'a Path,
}

/// Draws the thumbnail: the background scaled to cover 1280×720 and centre-cropped, the lower
/// part darkened, the logo (if any) in its corner, and the title wrapped and centred over it
/// with a dark outline. Encoded as
/// JPEG at the highest quality that stays under 2 MB; `THUMBNAIL_TOO_LARGE` when even the
/// lowest allowed quality does not. A title character the font lacks is `IMAGE_RENDER_FAILED`
/// rather than an empty box on the thumbnail.
pub fn make_thumbnail(job: &ThumbnailJob<'_>) -> YtResult<()> {
    let color = parse_hex_color(&job.settings.text_color).ok_or_else(|| {
        YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "thumbnail.text_color",
            "hex colour #RRGGBB or #RRGGBBAA",
            job.settings.text_color.as_str(),
        )
    })?;
    let font_data = std::fs::read(&job.font.path).map_err(|err| {
        YtError::new(
            ErrorCode::FONT_NOT_FOUND,
            format!("cannot read font file {}: {err}", job.font.path.display()),
        )
        .detail("family", job.font.family.as_str())
        .detail("path", job.font.path.display().to_string())
    })?;
    let font = FontRef::try_from_slice_and_index(&font_data, job.font.index).map_err(|err| {
        YtError::new(
            ErrorCode::IMAGE_RENDER_FAILED,
            format!("{} is not a usable font: {err}", job.font.path.display()),
        )
        .detail("path", job.font.path.display().to_string())
        .detail("index", job.font.index)
    })?;
    let title = job.title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "title",
            "not empty",
            job.title,
        ));
    }
    let missing: String = title
        .chars()
        .filter(|&c| c != ' ' && font.glyph_id(c).0 == 0)
        .collect();
    if !missing.is_empty() {
        return Err(YtError::new(
            ErrorCode::IMAGE_RENDER_FAILED,
            format!("the title font has no glyph for \"{missing}\""),
        )
        .detail("missing_characters", missing)
        .detail("family", job.font.family.as_str()));
    }

    let mut canvas = cover(&decode_rgb(job.background)?);
    let (size, lines) = fit_title(&font, &title, job.settings.title_font_size as f32);
    let scale = PxScale::from(size);
    let line_height = size * 1.25;
    let block_height = line_height * lines.len() as f32;
    let block_top = HEIGHT as f32 - MARGIN as f32 - block_height;
    darken_below(
        &mut canvas,
        (block_top - MARGIN as f32 / 2.0).max(0.0) as u32,
    );
    if let Some(logo) = &job.logo {
        blend_onto(&mut canvas, &place_logo(logo, WIDTH, HEIGHT, false)?);
    }

    let outline = (size / 20.0).max(2.0).round() as i32;
    let fill = blend_over_black(color);
    for (i, line) in lines.iter().enumerate() {
        let (line_w, _) = text_size(scale, &font, line);
        let x = (WIDTH as i32 - line_w as i32) / 2;
        let y = (block_top + line_height * i as f32 + (line_height - size) / 2.0) as i32;
        for dy in -outline..=outline {
            for dx in -outline..=outline {
                if dx * dx + dy * dy <= outline * outline && (dx, dy) != (0, 0) {
                    draw_text_mut(
                        &mut canvas,
                        Rgb([0, 0, 0]),
                        x + dx,
                        y + dy,
                        scale,
                        &font,
                        line,
                    );
                }
            }
        }
        draw_text_mut(&mut canvas, fill, x, y, scale, &font, line);
    }
    write_jpeg(&canvas, job.out)
}

fn cover(background: &RgbImage) -> RgbImage {
    let (w, h) = (
        f64::from(background.width().max(1)),
        f64::from(background.height().max(1)),
    );
    let factor = (f64::from(WIDTH) / w).max(f64::from(HEIGHT) / h);
    let (sw, sh) = (
        ((w * factor).ceil() as u32).max(WIDTH),
        ((h * factor).ceil() as u32).max(HEIGHT),
    );
    let scaled = imageops::resize(background, sw, sh, FilterType::CatmullRom);
    imageops::crop_imm(&scaled, (sw - WIDTH) / 2, (sh - HEIGHT) / 2, WIDTH, HEIGHT).to_image()
}

/// Picks the largest size, from `preferred` down, at which the title wraps into at most
/// [`MAX_LINES`] lines; at [`MIN_FONT_SIZE`] it takes as many lines as it needs.
fn fit_title(font: &FontRef<'_>, title: &str, preferred: f32) -> (f32, Vec<String>) {
    let mut size = preferred.max(MIN_FONT_SIZE);
    loop {
        let lines = wrap_to_width(font, title, size, WIDTH - 2 * MARGIN);
        if lines.len() <= MAX_LINES || size <= MIN_FONT_SIZE {
            return (size, lines);
        }
        size = (size * 0.9).max(MIN_FONT_SIZE);
    }
}

fn wrap_to_width(font: &FontRef<'_>, text: &str, size: f32, max_width: u32) -> Vec<String> {
    let fits = |s: &str| text_size(PxScale::from(size), font, s.trim()).0 <= max_width;
    let mut lines = Vec::new();
    let mut line = String::new();
    for token in tokens(text) {
        let candidate = format!("{line}{token}");
        if fits(&candidate) || line.trim().is_empty() {
            line = candidate;
            continue;
        }
        lines.push(line.trim().to_owned());
        line = token.trim_start().to_owned();
    }
    if !line.trim().is_empty() {
        lines.push(line.trim().to_owned());
    }
    lines
}

/// Darkens every row from `top` down, fading in over [`MARGIN`] rows so there is no hard edge,
/// so light text stays legible on any background.
fn darken_below(canvas: &mut RgbImage, top: u32) {
    for (y, row) in canvas.enumerate_rows_mut().skip(top as usize) {
        let ramp = ((y - top) as f32 / MARGIN as f32).min(1.0);
        let keep = 1.0 - 0.6 * ramp * ramp * (3.0 - 2.0 * ramp);
        for (_, _, px) in row {
            px.0 = px.0.map(|c| (f32::from(c) * keep) as u8);
        }
    }
}

/// The text colour's alpha applied against black, the outline colour it is drawn over.
fn blend_over_black([r, g, b, a]: [u8; 4]) -> Rgb<u8> {
    let over = |c: u8| ((u16::from(c) * u16::from(a) + 127) / 255) as u8;
    Rgb([over(r), over(g), over(b)])
}

fn write_jpeg(canvas: &RgbImage, out: &Path) -> YtResult<()> {
    let mut size = 0;
    for quality in QUALITIES {
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, quality)
            .encode_image(canvas)
            .map_err(|err| {
                YtError::new(
                    ErrorCode::IMAGE_RENDER_FAILED,
                    format!("cannot encode the thumbnail: {err}"),
                )
                .detail("quality", quality)
            })?;
        if bytes.len() < MAX_BYTES {
            tracing::debug!(quality, bytes = bytes.len(), "thumbnail encoded");
            return std::fs::write(out, bytes)
                .map_err(|err| YtError::io("write thumbnail", out, &err));
        }
        size = bytes.len();
    }
    Err(YtError::new(
        ErrorCode::THUMBNAIL_TOO_LARGE,
        format!(
            "the thumbnail is {size} bytes even at JPEG quality {}",
            QUALITIES[QUALITIES.len() - 1]
        ),
    )
    .detail("bytes", size)
    .detail("limit_bytes", MAX_BYTES))
}
