//! Clips, the final video and the thumbnail, made with the real FFmpeg and checked with ffprobe.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use ytmaker_core::ErrorCode;
use ytmaker_core::config::{RenderSettings, SubtitleStyle, ThumbnailSettings};
use ytmaker_render::{
    AssembleJob, Cue, MediaInfo, Motion, PresenterClipJob, SegmentClipJob, ThumbnailJob, Timeline,
    Toolchain, assemble, cues_for_line, make_thumbnail, probe, render_presenter_clip,
    render_segment_clip, resolve_font, run_ffmpeg,
};

/// Tests favour speed over compression; the encoder settings are otherwise the product's.
fn fast() -> RenderSettings {
    RenderSettings {
        x264_preset: "ultrafast".into(),
        ..RenderSettings::default()
    }
}

fn title_card(path: &Path, width: u32, height: u32) {
    image::RgbImage::from_fn(width, height, |x, y| {
        let band = (x / 40 + y / 40) % 2 == 0;
        image::Rgb([
            (x * 255 / width) as u8,
            if band { 180 } else { 60 },
            (y * 255 / height) as u8,
        ])
    })
    .save(path)
    .unwrap();
}

async fn lavfi(tools: &Toolchain, sources: &[&str], extra: &[&str], out: &Path) {
    let mut args = Vec::new();
    for source in sources {
        args.extend(["-f", "lavfi", "-i", source].map(OsString::from));
    }
    args.extend(extra.iter().map(OsString::from));
    args.push(out.as_os_str().to_owned());
    run_ffmpeg(tools, "test input", &args, &|_| {})
        .await
        .unwrap();
}

/// The stream every clip must have so the final video concatenates them without re-encoding.
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

fn cues(text: &str, seconds: f64) -> Vec<Cue> {
    cues_for_line(text, 0.0, seconds, SubtitleStyle::default().max_line_chars)
}

#[tokio::test]
async fn a_segment_clip_conforms_and_has_exactly_the_frames_asked_for() {
    let tools = Toolchain::locate().unwrap();
    // Commas, quotes, colons and brackets in the path exercise the filter-graph escaping.
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("it's a [work], dir: ok");
    std::fs::create_dir(&work).unwrap();
    let image = work.join("segment.png");
    title_card(&image, 1280, 720);
    let out = work.join("segment.mp4");
    let cues = cues("這是第一段的字幕。它會被燒進影片裡！", 3.0);
    let (style, render) = (SubtitleStyle::default(), fast());
    let seen = std::sync::Mutex::new(Vec::new());
    let job = SegmentClipJob {
        image: &image,
        frames: 90,
        motion: Motion::ZoomIn { to: 1.15 },
        cues: &cues,
        style: &style,
        render: &render,
        logo: None,
        out: &out,
    };
    render_segment_clip(&tools, &job, &|f| seen.lock().unwrap().push(f))
        .await
        .unwrap();

    assert_conforms(&probe(&tools, &out).await.unwrap(), 90);
    assert!(work.join("segment.ass").exists());
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.last(), Some(&90));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn a_missing_subtitle_font_stops_the_clip_before_rendering() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("segment.png");
    title_card(&image, 64, 36);
    let out = dir.path().join("segment.mp4");
    let cues = cues("字幕", 1.0);
    let style = SubtitleStyle {
        font_family: "No Such Font Family".into(),
        ..SubtitleStyle::default()
    };
    let render = fast();
    let job = SegmentClipJob {
        image: &image,
        frames: 30,
        motion: Motion::Still,
        cues: &cues,
        style: &style,
        render: &render,
        logo: None,
        out: &out,
    };
    let err = render_segment_clip(&tools, &job, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FONT_NOT_FOUND);
    assert!(!out.exists());
}

#[tokio::test]
async fn an_encoder_failure_mid_stream_is_ffmpeg_execution_failed_not_a_hang() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("segment.png");
    title_card(&image, 64, 36);
    let out = dir.path().join("segment.mp4");
    let style = SubtitleStyle::default();
    let render = RenderSettings {
        x264_preset: "no-such-preset".into(),
        ..RenderSettings::default()
    };
    // Enough frames that the writer is still feeding the pipe when ffmpeg gives up.
    let job = SegmentClipJob {
        image: &image,
        frames: 300,
        motion: Motion::Still,
        cues: &[],
        style: &style,
        render: &render,
        logo: None,
        out: &out,
    };
    let err = render_segment_clip(&tools, &job, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FFMPEG_EXECUTION_FAILED);
    assert_eq!(err.details["purpose"], "segment clip");
    assert!(
        err.details["stderr_tail"]
            .as_str()
            .unwrap()
            .contains("no-such-preset"),
        "{:?}",
        err.details
    );
}

#[tokio::test]
async fn a_missing_image_is_file_not_found() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (style, render) = (SubtitleStyle::default(), fast());
    let out = dir.path().join("segment.mp4");
    let missing = dir.path().join("missing.png");
    let job = SegmentClipJob {
        image: &missing,
        frames: 30,
        motion: Motion::Still,
        cues: &[],
        style: &style,
        render: &render,
        logo: None,
        out: &out,
    };
    assert_eq!(
        render_segment_clip(&tools, &job, &|_| {})
            .await
            .unwrap_err()
            .code,
        ErrorCode::FILE_NOT_FOUND
    );
}

#[tokio::test]
async fn a_presenter_clip_is_padded_or_cut_to_the_frame_count() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("presenter.mp4");
    lavfi(
        &tools,
        &["testsrc=size=512x512:rate=25:duration=2", "sine=duration=2"],
        &["-shortest", "-pix_fmt", "yuv420p"],
        &source,
    )
    .await;
    let (style, render) = (SubtitleStyle::default(), fast());
    let cues = cues("大家好，歡迎收看。", 2.5);
    for frames in [75, 30] {
        let out = dir.path().join(format!("intro-{frames}.mp4"));
        let job = PresenterClipJob {
            source: &source,
            frames,
            cues: &cues,
            style: &style,
            render: &render,
            logo: None,
            out: &out,
        };
        render_presenter_clip(&tools, &job, &|_| {}).await.unwrap();
        assert_conforms(&probe(&tools, &out).await.unwrap(), u64::from(frames));
    }
}

#[tokio::test]
async fn the_final_video_joins_clips_and_narration_in_sync_with_faststart() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);

    // Narration like the local TTS makes it: 22.05 kHz mono, awkward lengths.
    let durations = [1.37, 2.11];
    let narration: Vec<PathBuf> = vec![path("line0.wav"), path("line1.wav")];
    for (file, (seconds, hz)) in narration.iter().zip(durations.iter().zip([440, 660])) {
        lavfi(
            &tools,
            &[&format!(
                "sine=frequency={hz}:sample_rate=22050:duration={seconds}"
            )],
            &[],
            file,
        )
        .await;
    }
    let timeline = Timeline::from_durations(&durations);
    let (style, render) = (SubtitleStyle::default(), fast());

    let presenter = path("presenter.mp4");
    lavfi(
        &tools,
        &["testsrc=size=512x512:rate=25:duration=1"],
        &["-pix_fmt", "yuv420p"],
        &presenter,
    )
    .await;
    let intro_cues = cues("大家好。", durations[0]);
    let intro = path("intro.mp4");
    let job = PresenterClipJob {
        source: &presenter,
        frames: timeline.entries[0].frames,
        cues: &intro_cues,
        style: &style,
        render: &render,
        logo: None,
        out: &intro,
    };
    render_presenter_clip(&tools, &job, &|_| {}).await.unwrap();

    let image = path("segment.png");
    title_card(&image, 1920, 1080);
    let segment_cues = cues("第一段。", durations[1]);
    let segment = path("segment.mp4");
    let job = SegmentClipJob {
        image: &image,
        frames: timeline.entries[1].frames,
        motion: Motion::Still,
        cues: &segment_cues,
        style: &style,
        render: &render,
        logo: None,
        out: &segment,
    };
    render_segment_clip(&tools, &job, &|_| {}).await.unwrap();

    let out = path("final.mp4");
    let clips = [intro, segment];
    let last_progress = std::sync::Mutex::new(0.0);
    let job = AssembleJob {
        clips: &clips,
        narration: &narration,
        work_dir: dir.path(),
        out: &out,
    };
    assemble(&tools, &job, &|s| *last_progress.lock().unwrap() = s)
        .await
        .unwrap();

    let info = probe(&tools, &out).await.unwrap();
    let video = info.video.as_ref().unwrap();
    let audio = info.audio.as_ref().unwrap();
    let total: f64 = durations.iter().sum();
    assert_eq!(
        (
            video.codec.as_str(),
            video.profile.as_str(),
            video.pix_fmt.as_str()
        ),
        ("h264", "High", "yuv420p")
    );
    assert_eq!(video.frames, Some(timeline.total_frames()));
    assert_eq!(
        (audio.codec.as_str(), audio.sample_rate, audio.channels),
        ("aac", 48000, 2)
    );
    assert!(
        (video.duration_s - total).abs() < 0.1,
        "video {} s, narration {total} s",
        video.duration_s
    );
    assert!(
        (audio.duration_s - total).abs() < 0.1,
        "audio {} s, narration {total} s",
        audio.duration_s
    );
    assert!(*last_progress.lock().unwrap() > 0.0);
    let bit_rate = audio.bit_rate.unwrap() as f64;
    assert!(
        (bit_rate / 192_000.0 - 1.0).abs() < 0.03,
        "AAC at {bit_rate} bit/s"
    );
    let boxes = top_level_boxes(&std::fs::read(&out).unwrap());
    let at = |name: &str| {
        boxes
            .iter()
            .position(|b| b == name)
            .unwrap_or_else(|| panic!("no {name} in {boxes:?}"))
    };
    assert!(
        at("moov") < at("mdat"),
        "faststart puts moov first: {boxes:?}"
    );
}

fn top_level_boxes(bytes: &[u8]) -> Vec<String> {
    let mut boxes = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        boxes.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        let size = if size == 1 {
            u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize
        } else {
            size
        };
        if size < 8 {
            break;
        }
        at += size;
    }
    boxes
}

#[test]
fn the_thumbnail_is_a_720p_jpeg_under_2_mb_with_a_cjk_title() {
    let dir = tempfile::tempdir().unwrap();
    let background = dir.path().join("bg.png");
    title_card(&background, 1024, 1024);
    let out = dir.path().join("thumb.jpg");
    let font = resolve_font("Noto Sans CJK TC", true).unwrap();
    let settings = ThumbnailSettings::default();
    let title = "人工智慧如何改變我們的工作與生活：從自動化到創造力的完整解析 2025";
    make_thumbnail(&ThumbnailJob {
        background: &background,
        title,
        font: &font,
        settings: &settings,
        logo: None,
        out: &out,
    })
    .unwrap();

    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.len() < 2 * 1024 * 1024);
    assert_eq!(
        image::guess_format(&bytes).unwrap(),
        image::ImageFormat::Jpeg
    );
    let thumbnail = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(thumbnail.dimensions(), (1280, 720));
    // The title is drawn in the text colour (white) over the darkened lower part.
    let bright = thumbnail
        .enumerate_pixels()
        .filter(|(_, y, p)| *y > 400 && p.0.iter().all(|&c| c > 235))
        .count();
    assert!(
        bright > 5_000,
        "{bright} near-white pixels in the title area"
    );
}

#[test]
fn a_title_character_the_font_lacks_is_an_error_not_a_box() {
    let dir = tempfile::tempdir().unwrap();
    let background = dir.path().join("bg.png");
    title_card(&background, 320, 180);
    let font = resolve_font("Noto Sans CJK TC", true).unwrap();
    let settings = ThumbnailSettings::default();
    let out = dir.path().join("thumb.jpg");
    let err = make_thumbnail(&ThumbnailJob {
        background: &background,
        title: "Hot \u{1F525} take",
        font: &font,
        settings: &settings,
        logo: None,
        out: &out,
    })
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::IMAGE_RENDER_FAILED);
    assert_eq!(err.details["missing_characters"], "\u{1F525}");
}
