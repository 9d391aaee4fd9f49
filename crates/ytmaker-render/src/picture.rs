//! Reading still images (segment images, thumbnail backgrounds).

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};
use std::path::Path;
use ytmaker_core::{ErrorCode, YtError, YtResult};

/// Decodes a PNG or JPEG as opaque RGB, upright: the EXIF orientation of photos is applied and
/// transparency is composited over black, so what is drawn never depends on hidden pixels.
pub(crate) fn decode_rgb(path: &Path) -> YtResult<RgbImage> {
    let undecodable = |err: image::ImageError| {
        YtError::new(
            ErrorCode::IMAGE_RENDER_FAILED,
            format!("cannot decode image {}: {err}", path.display()),
        )
        .detail("path", path.display().to_string())
        .detail("reason", err.to_string())
    };
    let reader = ImageReader::open(path)
        .and_then(ImageReader::with_guessed_format)
        .map_err(|err| YtError::io("read image", path, &err))?;
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let orientation = decoder.orientation().map_err(undecodable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    image.apply_orientation(orientation);
    if !image.color().has_alpha() {
        return Ok(image.into_rgb8());
    }
    let rgba = image.into_rgba8();
    Ok(RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_black = |c: u8| ((u16::from(c) * u16::from(a) + 127) / 255) as u8;
        image::Rgb([over_black(r), over_black(g), over_black(b)])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_undecodable_images_have_their_own_codes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            decode_rgb(&dir.path().join("none.png")).unwrap_err().code,
            ErrorCode::FILE_NOT_FOUND
        );
        let junk = dir.path().join("junk.png");
        std::fs::write(&junk, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        let err = decode_rgb(&junk).unwrap_err();
        assert_eq!(err.code, ErrorCode::IMAGE_RENDER_FAILED);
        assert_eq!(err.details["path"], junk.display().to_string());
    }

    #[test]
    fn transparency_is_composited_over_black() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        image::RgbaImage::from_pixel(2, 2, image::Rgba([200, 100, 50, 128]))
            .save(&path)
            .unwrap();
        assert_eq!(decode_rgb(&path).unwrap().get_pixel(1, 1).0, [100, 50, 25]);
    }
}
