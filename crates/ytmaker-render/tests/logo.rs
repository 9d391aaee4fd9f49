//! The logo overlay on clips and the thumbnail, rendered with the real FFmpeg and checked by
//! ffprobe and by decoding the pixels.

use image::{Rgb, RgbImage, Rgba, RgbaImage};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use ytmaker_core::ErrorCode;
use ytmaker_core::config::{
    LogoCorner, LogoSettings, RenderSettings, SubtitleStyle, ThumbnailSettings,
};
use ytmaker_render::{
    AssembleJob, Cue, LogoOverlay, MediaInfo, Motion, PresenterClipJob, SegmentClipJob,
    ThumbnailJob, Toolchain, assemble, cues_for_line, make_thumbnail, probe, render_presenter_clip,
    render_segment_clip, resolve_font, run_ffmpeg,
};

const BLUE: Rgb<u8> = Rgb([20, 40, 200]);

fn fast() -> RenderSettings {
    RenderSettings {
        x264_preset: "ultrafast".into(),
        ..RenderSettings::default()
    }
}

fn solid(path: &Path, width: u32, height: u32, colour: Rgb<u8>) {
    RgbImage::from_pixel(width, height, colour)
        .save(path)
        .unwrap();
}

fn red_logo(dir: &Path, width: u32, height: u32) -> PathBuf {
    let path = dir.join("logo.png");
    RgbaImage::from_pixel(width, height, Rgba([255, 0, 0, 255]))
        .save(&path)
        .unwrap();
    path
}

fn logo(position: LogoCorner, size_percent: f64, opacity: f64, margin: u32) -> LogoSettings {
    LogoSettings {
        upload: "0".repeat(64),
        position,
        size_percent,
        opacity,
        margin,
        on_thumbnail: true,
    }
}

fn assert_conforms(info: &MediaInfo, frames: u64) {
    let video = info.video.as_ref().expect("a video stream");
    assert_eq!(video.codec, "h264");
    assert_eq!(video.profile, "High");
    assert_eq!((video.width, video.height), (1920, 1080));
    assert_eq!(video.fps, 30.0);
    assert_eq!(video.pix_fmt, "yuv420p");
    assert_eq!(video.frames, Some(frames));
    assert!(info.audio.is_none(), "clips carry no audio");
}

/// The clip's first frame as RGB, converted by FFmpeg.
async fn first_frame(tools: &Toolchain, clip: &Path) -> RgbImage {
    let png = clip.with_extension("frame.png");
    let args: Vec<OsString> = vec![
        "-i".into(),
        clip.as_os_str().to_owned(),
        "-frames:v".into(),
        "1".into(),
        "-pix_fmt".into(),
        "rgb24".into(),
        png.as_os_str().to_owned(),
    ];
    run_ffmpeg(tools, "test frame", &args, &|_| {})
        .await
        .unwrap();
    image::open(&png).unwrap().to_rgb8()
}

fn is_red(p: &Rgb<u8>) -> bool {
    p.0[0] > 200 && p.0[1] < 50 && p.0[2] < 60
}

fn is_blue(p: &Rgb<u8>) -> bool {
    p.0[0] < 60 && p.0[2] > 160
}

#[tokio::test]
async fn a_segment_clip_gets_the_logo_in_its_corner_under_the_subtitles_and_still_concatenates() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("blue.png");
    solid(&image, 1920, 1080, BLUE);
    let file = red_logo(dir.path(), 200, 200);
    let settings = logo(LogoCorner::BottomRight, 30.0, 1.0, 0);
    let cues: Vec<Cue> = cues_for_line("標誌上方的字幕", 0.0, 1.0, 20);
    // Subtitles centred over the logo, to see which is drawn last.
    let mut style = SubtitleStyle::default();
    style.position.x = 1600;
    let render = fast();
    let with_logo = dir.path().join("with-logo.mp4");
    let job = SegmentClipJob {
        image: &image,
        frames: 30,
        motion: Motion::Still,
        cues: &cues,
        style: &style,
        render: &render,
        logo: Some(LogoOverlay {
            file: &file,
            settings: &settings,
        }),
        out: &with_logo,
    };
    render_segment_clip(&tools, &job, &|_| {}).await.unwrap();
    assert_conforms(&probe(&tools, &with_logo).await.unwrap(), 30);

    let frame = first_frame(&tools, &with_logo).await;
    // 30 % of 1920 = 576 pixels square, flush with the bottom-right corner.
    let (left, top) = (1920 - 576, 1080 - 576);
    assert!(
        is_red(frame.get_pixel(left + 100, top + 100)),
        "{:?}",
        frame.get_pixel(left + 100, top + 100)
    );
    assert!(is_red(frame.get_pixel(1915, 1075)));
    assert!(
        is_blue(frame.get_pixel(left - 20, top + 100)),
        "left of the logo"
    );
    assert!(is_blue(frame.get_pixel(100, 100)), "the opposite corner");
    // Subtitles are drawn after the logo: white text shows inside the logo's square.
    let white_over_logo = (top..1080)
        .flat_map(|y| (left..1920).map(move |x| (x, y)))
        .filter(|&(x, y)| frame.get_pixel(x, y).0.iter().all(|&c| c > 220))
        .count();
    assert!(
        white_over_logo > 200,
        "{white_over_logo} subtitle pixels over the logo"
    );

    // The same clip without a logo has the same stream, so the two join with `-c:v copy`.
    let without = dir.path().join("without.mp4");
    let job = SegmentClipJob {
        logo: None,
        out: &without,
        ..job
    };
    render_segment_clip(&tools, &job, &|_| {}).await.unwrap();
    let frame = first_frame(&tools, &without).await;
    assert!(is_blue(frame.get_pixel(left + 100, top + 100)));
    let narration: Vec<PathBuf> = (0..2)
        .map(|i| dir.path().join(format!("n{i}.wav")))
        .collect();
    for wav in &narration {
        let args: Vec<OsString> = ["-f", "lavfi", "-i", "sine=frequency=300:duration=1"]
            .iter()
            .map(OsString::from)
            .chain([wav.as_os_str().to_owned()])
            .collect();
        run_ffmpeg(&tools, "test narration", &args, &|_| {})
            .await
            .unwrap();
    }
    let out = dir.path().join("final.mp4");
    let clips = [with_logo, without];
    assemble(
        &tools,
        &AssembleJob {
            clips: &clips,
            narration: &narration,
            work_dir: dir.path(),
            out: &out,
        },
        &|_| {},
    )
    .await
    .unwrap();
    let video = probe(&tools, &out).await.unwrap().video.unwrap();
    assert_eq!((video.frames, video.profile.as_str()), (Some(60), "High"));
}

#[tokio::test]
async fn a_presenter_clip_blends_a_half_transparent_logo() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let presenter = dir.path().join("presenter.mp4");
    let args: Vec<OsString> = [
        "-f",
        "lavfi",
        "-i",
        "color=c=0x1428C8:size=512x512:rate=25:duration=1",
        "-pix_fmt",
        "yuv420p",
    ]
    .iter()
    .map(OsString::from)
    .chain([presenter.as_os_str().to_owned()])
    .collect();
    run_ffmpeg(&tools, "test presenter", &args, &|_| {})
        .await
        .unwrap();
    let file = red_logo(dir.path(), 300, 150);
    let settings = logo(LogoCorner::TopLeft, 10.0, 0.5, 40);
    let (style, render) = (SubtitleStyle::default(), fast());
    let out = dir.path().join("intro.mp4");
    let job = PresenterClipJob {
        source: &presenter,
        frames: 20,
        cues: &[],
        style: &style,
        render: &render,
        logo: Some(LogoOverlay {
            file: &file,
            settings: &settings,
        }),
        out: &out,
    };
    render_presenter_clip(&tools, &job, &|_| {}).await.unwrap();
    assert_conforms(&probe(&tools, &out).await.unwrap(), 20);

    let frame = first_frame(&tools, &out).await;
    // 192×96 at (40, 40), half of pure red over the dark presenter background (0x14181F).
    let blended = frame.get_pixel(40 + 96, 40 + 48).0;
    assert!(
        (120..=160).contains(&blended[0]) && blended[1] < 40 && blended[2] < 50,
        "half red over dark: {blended:?}"
    );
    let background = frame.get_pixel(1900, 1060).0;
    assert!(
        background[0] < 40,
        "opposite corner untouched: {background:?}"
    );
    let outside = frame.get_pixel(40 + 192 + 10, 40 + 48).0;
    assert!(outside[0] < 40, "right of the logo untouched: {outside:?}");
}

#[tokio::test]
async fn a_logo_that_cannot_be_read_fails_the_clip() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("blue.png");
    solid(&image, 640, 360, BLUE);
    let missing = dir.path().join("gone.png");
    let settings = logo(LogoCorner::TopRight, 12.0, 1.0, 40);
    let (style, render) = (SubtitleStyle::default(), fast());
    let out = dir.path().join("clip.mp4");
    let job = SegmentClipJob {
        image: &image,
        frames: 5,
        motion: Motion::Still,
        cues: &[],
        style: &style,
        render: &render,
        logo: Some(LogoOverlay {
            file: &missing,
            settings: &settings,
        }),
        out: &out,
    };
    let err = render_segment_clip(&tools, &job, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FILE_NOT_FOUND);
    assert_eq!(err.details["path"], missing.display().to_string());
    assert!(!out.exists());

    std::fs::write(&missing, b"this is text, not a PNG").unwrap();
    let err = render_segment_clip(&tools, &job, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::MEDIA_INVALID);
    assert!(!out.exists());
}

#[test]
fn the_thumbnail_carries_the_logo_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let background = dir.path().join("bg.png");
    solid(&background, 1280, 720, BLUE);
    let file = red_logo(dir.path(), 100, 100);
    let font = resolve_font("Noto Sans CJK TC", true).unwrap();
    let settings = ThumbnailSettings::default();
    let logo_settings = logo(LogoCorner::TopRight, 12.0, 1.0, 40);
    let out = dir.path().join("thumb.jpg");
    make_thumbnail(&ThumbnailJob {
        background: &background,
        title: "標誌測試",
        font: &font,
        settings: &settings,
        logo: Some(LogoOverlay {
            file: &file,
            settings: &logo_settings,
        }),
        out: &out,
    })
    .unwrap();
    let thumb = image::open(&out).unwrap().to_rgb8();
    // 12 % of 1280 ≈ 154 pixels square, the 40-pixel margin scaled to 27.
    let (left, top) = (1280 - 27 - 154, 27);
    assert!(
        is_red(thumb.get_pixel(left + 77, top + 77)),
        "{:?}",
        thumb.get_pixel(left + 77, top + 77)
    );
    assert!(is_blue(thumb.get_pixel(left - 10, top + 77)));
    assert!(is_blue(thumb.get_pixel(100, 50)), "the opposite corner");
}
