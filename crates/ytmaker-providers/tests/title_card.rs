//! Title cards: size, real text pixels, deterministic colours, and no font substitution.

use image::{GenericImageView, RgbImage};
use ytmaker_core::ErrorCode;
use ytmaker_core::script::{Language, Segment};
use ytmaker_providers::local::{CARD_HEIGHT, CARD_WIDTH, TitleCardIllustrator};
use ytmaker_providers::{Illustrator, ImageRequest};

fn segment(index: u32, key_phrase: &str) -> Segment {
    Segment {
        index,
        narration: "颱風的誕生需要幾個關鍵條件。".into(),
        image_description: "颱風的誕生需要幾個關鍵條件。".into(),
        image_prompt: None,
        key_phrase: key_phrase.into(),
        estimated_seconds: 4.0,
        description_edited: false,
    }
}

/// Pixels of the central text area that differ clearly between two cards.
fn differing_pixels(a: &RgbImage, b: &RgbImage) -> usize {
    let (x0, y0, x1, y1) = (
        CARD_WIDTH / 2 - 750,
        CARD_HEIGHT / 2 - 300,
        CARD_WIDTH / 2 + 750,
        CARD_HEIGHT / 2 + 400,
    );
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
            if p.0.iter().zip(q.0).any(|(u, v)| u.abs_diff(v) > 60) {
                n += 1;
            }
        }
    }
    n
}

#[tokio::test]
async fn a_card_is_a_2560x1440_png_with_the_key_phrase_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let illustrator = TitleCardIllustrator::new();
    let seg = segment(6, "颱風的誕生需要幾個關鍵條件");
    let asset = illustrator
        .illustrate(&ImageRequest {
            segment: &seg,
            language: Language::ZhTw,
            out_dir: dir.path(),
            file_stem: "image-006",
        })
        .await
        .unwrap();
    assert_eq!((asset.width, asset.height), (CARD_WIDTH, CARD_HEIGHT));
    assert_eq!(asset.path, dir.path().join("image-006.png"));
    let decoded = image::open(&asset.path).unwrap();
    assert_eq!(decoded.dimensions(), (2560, 1440));
    let card = decoded.to_rgb8();

    let blank = illustrator
        .render_card(6, "颱風的誕生需要幾個關鍵條件", "")
        .await
        .unwrap();
    let text_pixels = differing_pixels(&card, &blank);
    // 13 bold ideographs at ≥ 100 px are well over 40,000 pixels of ink.
    assert!(text_pixels > 40_000, "only {text_pixels} pixels of text");
    // Mostly white text in the middle of the card.
    let white = (CARD_WIDTH / 2 - 750..CARD_WIDTH / 2 + 750)
        .flat_map(|x| (CARD_HEIGHT / 2 - 300..CARD_HEIGHT / 2 + 400).map(move |y| (x, y)))
        .filter(|&(x, y)| card.get_pixel(x, y).0.iter().all(|&c| c > 240))
        .count();
    assert!(white > 20_000, "{white} white pixels");
}

#[tokio::test]
async fn colours_are_deterministic_and_differ_between_segments() {
    let illustrator = TitleCardIllustrator::new();
    let phrase = "Lighthouses relied on open flames";
    let a = illustrator.render_card(0, phrase, phrase).await.unwrap();
    let again = illustrator.render_card(0, phrase, phrase).await.unwrap();
    assert!(a == again, "same segment, same card");
    let b = illustrator.render_card(1, phrase, phrase).await.unwrap();
    let corner = |img: &RgbImage| img.get_pixel(40, 40).0;
    assert_ne!(
        corner(&a),
        corner(&b),
        "neighbouring segments get other colours"
    );
}

#[tokio::test]
async fn a_long_phrase_wraps_instead_of_overflowing() {
    let illustrator = TitleCardIllustrator::new();
    let phrase = "A first-order lens could stand taller than an adult and weigh tonnes";
    let card = illustrator.render_card(3, phrase, phrase).await.unwrap();
    let blank = illustrator.render_card(3, phrase, "").await.unwrap();
    // Nothing is drawn in the outer margins a Ken Burns pan may cut off.
    for x in (0..380).chain(CARD_WIDTH - 380..CARD_WIDTH) {
        for y in (0..CARD_HEIGHT).step_by(7) {
            assert_eq!(
                card.get_pixel(x, y),
                blank.get_pixel(x, y),
                "text reaches x={x}"
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_font_family_is_font_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let illustrator = TitleCardIllustrator::with_font_family("No Such Font Family 42");
    let seg = segment(0, "颱風");
    let err = illustrator
        .illustrate(&ImageRequest {
            segment: &seg,
            language: Language::ZhTw,
            out_dir: dir.path(),
            file_stem: "x",
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FONT_NOT_FOUND);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_segment_without_a_key_phrase_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let seg = segment(0, "  ");
    let err = TitleCardIllustrator::new()
        .illustrate(&ImageRequest {
            segment: &seg,
            language: Language::ZhTw,
            out_dir: dir.path(),
            file_stem: "x",
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::IMAGE_RENDER_FAILED);
}
