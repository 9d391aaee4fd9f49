//! The presenter's two still frames: "idle" and "talking". The local presenter cross-fades between
//! them with the narration's loudness, so the talking frame holds everything that moves with the
//! voice: an open mouth (built-in presenter only — where the mouth is on a user's photo is not
//! known) and a lit ring with a glow around the portrait.

use image::imageops::FilterType;
use image::{RgbImage, Rgba, RgbaImage};
use imageproc::drawing::{draw_filled_ellipse_mut, draw_polygon_mut};
use imageproc::point::Point;

use super::paint::{Canvas, Color, mix, rgb};

/// Frame size of the presenter clip.
pub(crate) const FRAME: u32 = 720;
/// The portrait disc.
const DISC_CX: f32 = 360.0;
const DISC_CY: f32 = 330.0;
const DISC_R: f32 = 262.0;
/// Where the waveform FFmpeg draws sits: below the disc.
pub(crate) const WAVE_X: u32 = 160;
pub(crate) const WAVE_Y: u32 = 618;
pub(crate) const WAVE_W: u32 = 400;
pub(crate) const WAVE_H: u32 = 84;

/// Bumped whenever the drawing changes, so cached frames of an older look are not reused.
pub(crate) const LOOK_VERSION: u32 = 1;

pub(crate) struct Frames {
    pub idle: RgbImage,
    pub talking: RgbImage,
}

/// Frames around a user's portrait, cropped to a square (biased upwards, where faces are).
pub(crate) fn frames_for_photo(photo: &image::DynamicImage) -> Frames {
    let (w, h) = (photo.width(), photo.height());
    let side = w.min(h);
    let x = (w - side) / 2;
    // Portraits put the face in the upper part of the picture.
    let y = ((h - side) as f32 * 0.3) as u32;
    let diameter = (DISC_R * 2.0) as u32;
    let square = photo
        .crop_imm(x, y, side, side)
        .resize_exact(diameter, diameter, FilterType::Lanczos3)
        .to_rgba8();
    Frames {
        idle: compose(&square, false),
        talking: compose(&square, true),
    }
}

/// Frames of the built-in presenter: the same drawing with the mouth closed (a smile) and open.
pub(crate) fn frames_builtin() -> Frames {
    Frames {
        idle: compose(&builtin_portrait(false), false),
        talking: compose(&builtin_portrait(true), true),
    }
}

/// The built-in presenter alone (mouth closed, no ring or waveform strip) as a PNG, for services
/// that animate a portrait photo themselves (D-ID).
pub(crate) fn builtin_portrait_png() -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgba8(builtin_portrait(false))
        .into_rgb8()
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )?;
    Ok(bytes)
}

/// The built-in drawing, one disc across.
fn builtin_portrait(mouth_open: bool) -> RgbaImage {
    let diameter = (DISC_R * 2.0) as u32;
    // Drawn at twice the size and scaled down: imageproc's shapes are not anti-aliased,
    // the down-scaling smooths their edges.
    let big = draw_presenter(diameter * 2, mouth_open);
    // Through DynamicImage: its resize is compiled optimised inside the image crate.
    image::DynamicImage::ImageRgba8(big)
        .resize_exact(diameter, diameter, FilterType::Lanczos3)
        .into_rgba8()
}

fn compose(portrait: &RgbaImage, talking: bool) -> RgbImage {
    let (top, bottom) = (rgb(0x1f2a48), rgb(0x0b1226));
    let mut canvas = Canvas::from_fn(FRAME, FRAME, |_, y| mix(top, bottom, y / FRAME as f32));
    // A soft light behind the portrait separates it from the background.
    canvas.disc(DISC_CX, DISC_CY, DISC_R + 60.0, rgb(0x3a5a8c), 0.35, 70.0);
    let accent = rgb(0x5bc0be);
    let lit = rgb(0x9ff5f2);
    if talking {
        canvas.glow(DISC_CX, DISC_CY, DISC_R + 10.0, 30.0, lit, 0.55);
    }
    let offset = (DISC_CX - DISC_R).round() as i32;
    canvas.draw_image_in_disc(
        portrait,
        offset,
        (DISC_CY - DISC_R).round() as i32,
        DISC_CX,
        DISC_CY,
        DISC_R,
    );
    let (ring, alpha): (Color, f32) = if talking { (lit, 0.95) } else { (accent, 0.55) };
    canvas.ring(DISC_CX, DISC_CY, DISC_R + 6.0, 9.0, ring, alpha);
    // The waveform's resting line, so the strip is visible during pauses too.
    let mid = (WAVE_Y + WAVE_H / 2) as f32;
    canvas.pill(
        WAVE_X as f32,
        mid - 1.5,
        (WAVE_X + WAVE_W) as f32,
        mid + 1.5,
        accent,
        0.35,
    );
    canvas.into_rgb8()
}

/// A friendly, stylised presenter (head and shoulders) on a light backdrop, `size` pixels square.
/// Coordinates are designed on a 524 grid and scaled.
fn draw_presenter(size: u32, mouth_open: bool) -> RgbaImage {
    let k = size as f32 / 524.0;
    let s = |v: f32| (v * k).round() as i32;
    let px = |hex: u32| {
        let c = rgb(hex);
        Rgba([
            (c[0] * 255.0) as u8,
            (c[1] * 255.0) as u8,
            (c[2] * 255.0) as u8,
            255,
        ])
    };
    let (backdrop_top, backdrop_bottom) = (rgb(0xf3ece2), rgb(0xd9e4ee));
    let mut img = RgbaImage::from_fn(size, size, |_, y| {
        let c = mix(backdrop_top, backdrop_bottom, y as f32 / size as f32);
        Rgba([
            (c[0] * 255.0) as u8,
            (c[1] * 255.0) as u8,
            (c[2] * 255.0) as u8,
            255,
        ])
    });
    let ellipse = |img: &mut RgbaImage, cx: f32, cy: f32, rx: f32, ry: f32, hex: u32| {
        draw_filled_ellipse_mut(img, (s(cx), s(cy)), s(rx), s(ry), px(hex));
    };
    let polygon = |img: &mut RgbaImage, points: &[(f32, f32)], hex: u32| {
        let pts: Vec<Point<i32>> = points
            .iter()
            .map(|&(x, y)| Point::new(s(x), s(y)))
            .collect();
        draw_polygon_mut(img, &pts, px(hex));
    };

    let (skin, skin_shade, hair, jacket, jacket_dark) =
        (0xf6cdb0, 0xe2ad8c, 0x3a2a22, 0x33507a, 0x243b5c);
    // Hair behind the head (a bob that frames the face).
    ellipse(&mut img, 262.0, 215.0, 124.0, 134.0, hair);
    ellipse(&mut img, 262.0, 285.0, 128.0, 92.0, hair);
    // Shoulders and jacket, shirt and lapels.
    ellipse(&mut img, 262.0, 575.0, 215.0, 185.0, jacket);
    polygon(
        &mut img,
        &[(226.0, 392.0), (298.0, 392.0), (262.0, 478.0)],
        0xf7f7f7,
    );
    polygon(
        &mut img,
        &[
            (214.0, 398.0),
            (250.0, 470.0),
            (226.0, 524.0),
            (176.0, 420.0),
        ],
        jacket_dark,
    );
    polygon(
        &mut img,
        &[
            (310.0, 398.0),
            (274.0, 470.0),
            (298.0, 524.0),
            (348.0, 420.0),
        ],
        jacket_dark,
    );
    // Neck, ears, face.
    polygon(
        &mut img,
        &[
            (234.0, 320.0),
            (290.0, 320.0),
            (292.0, 398.0),
            (262.0, 418.0),
            (232.0, 398.0),
        ],
        skin_shade,
    );
    ellipse(&mut img, 162.0, 242.0, 15.0, 23.0, skin_shade);
    ellipse(&mut img, 362.0, 242.0, 15.0, 23.0, skin_shade);
    ellipse(&mut img, 262.0, 236.0, 101.0, 118.0, skin);
    // Fringe, swept to one side.
    ellipse(&mut img, 236.0, 146.0, 104.0, 54.0, hair);
    ellipse(&mut img, 306.0, 160.0, 78.0, 40.0, hair);
    // Eyebrows: gentle arches, highest in the middle (a relaxed, friendly look).
    polygon(
        &mut img,
        &[
            (202.0, 214.0),
            (221.0, 204.0),
            (242.0, 209.0),
            (242.0, 215.0),
            (221.0, 210.0),
            (203.0, 220.0),
        ],
        hair,
    );
    polygon(
        &mut img,
        &[
            (322.0, 214.0),
            (303.0, 204.0),
            (282.0, 209.0),
            (282.0, 215.0),
            (303.0, 210.0),
            (321.0, 220.0),
        ],
        hair,
    );
    // Eyes: white, iris, pupil, highlight.
    for x in [222.0, 302.0] {
        ellipse(&mut img, x, 245.0, 17.0, 12.0, 0xffffff);
        ellipse(&mut img, x, 246.0, 9.5, 9.5, 0x4a2e1d);
        ellipse(&mut img, x, 246.0, 4.5, 4.5, 0x150d08);
        ellipse(&mut img, x + 3.5, 242.0, 3.0, 3.0, 0xffffff);
    }
    // Nose.
    ellipse(&mut img, 262.0, 276.0, 7.0, 4.5, skin_shade);
    // Cheeks: translucent, with soft edges.
    for x in [198.0, 326.0] {
        blush(
            &mut img,
            x * k,
            284.0 * k,
            22.0 * k,
            13.0 * k,
            [242, 139, 130],
            0.35,
        );
    }
    if mouth_open {
        ellipse(&mut img, 262.0, 310.0, 25.0, 17.0, 0x7a2631);
        ellipse(&mut img, 262.0, 319.0, 14.0, 6.5, 0xe57373);
        ellipse(&mut img, 262.0, 298.0, 17.0, 5.0, 0xffffff);
    } else {
        // A smile: the lower rim of a mouth-coloured ellipse under a skin-coloured one.
        ellipse(&mut img, 262.0, 303.0, 27.0, 12.0, 0xa8434a);
        ellipse(&mut img, 262.0, 297.0, 30.0, 11.0, skin);
    }
    img
}

/// A translucent ellipse whose opacity fades out towards its rim.
fn blush(img: &mut RgbaImage, cx: f32, cy: f32, rx: f32, ry: f32, color: [u8; 3], alpha: f32) {
    let (x0, x1) = (
        (cx - rx).floor().max(0.0) as u32,
        ((cx + rx).ceil() as u32).min(img.width()),
    );
    let (y0, y1) = (
        (cy - ry).floor().max(0.0) as u32,
        ((cy + ry).ceil() as u32).min(img.height()),
    );
    for y in y0..y1 {
        for x in x0..x1 {
            let d = ((x as f32 + 0.5 - cx) / rx).powi(2) + ((y as f32 + 0.5 - cy) / ry).powi(2);
            if d >= 1.0 {
                continue;
            }
            let a = alpha * (1.0 - d);
            let p = img.get_pixel_mut(x, y);
            for c in 0..3 {
                p[c] = (p[c] as f32 + (color[c] as f32 - p[c] as f32) * a).round() as u8;
            }
        }
    }
}
