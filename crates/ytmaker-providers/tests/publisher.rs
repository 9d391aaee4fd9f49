//! The local publisher exports to the output folder with a publish.json manifest.

mod common;

use common::{article, write_script};
use ytmaker_core::ErrorCode;
use ytmaker_providers::local::{LocalPublisher, PUBLISH_MANIFEST};
use ytmaker_providers::{PublishRequest, Publisher};

#[tokio::test]
async fn publish_json_describes_the_exported_files() {
    let work = tempfile::tempdir().unwrap();
    let output = work.path().join("output");
    std::fs::create_dir_all(&output).unwrap();
    // The video is already in the output folder; the thumbnail and subtitles come from elsewhere.
    let video = output.join("final_video.mp4");
    std::fs::write(&video, vec![7u8; 1234]).unwrap();
    let thumbnail = work.path().join("thumbnail.jpg");
    std::fs::write(&thumbnail, vec![1u8; 321]).unwrap();
    let subtitles = work.path().join("subtitles.srt");
    std::fs::write(&subtitles, "1\n00:00:00,000 --> 00:00:01,000\n颱風\n").unwrap();
    let script = write_script(&article("zh-TW-unseen.txt"));

    let result = LocalPublisher::new()
        .publish(&PublishRequest {
            video: &video,
            thumbnail: &thumbnail,
            subtitles: &subtitles,
            script: &script,
            output_dir: &output,
            youtube: None,
            state_dir: &output,
        })
        .await
        .unwrap();
    let manifest_path = output.join(PUBLISH_MANIFEST);
    assert_eq!(result.location, manifest_path.display().to_string());
    assert_eq!(result.video_id, None);

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["title"], script.title.as_str());
    assert_eq!(manifest["description"], script.description.as_str());
    assert_eq!(manifest["tags"], serde_json::json!(script.tags));
    assert_eq!(manifest["language"], "zh-TW");
    assert_eq!(manifest["contains_synthetic_media"], true);
    assert_eq!(
        manifest["files"]["video"],
        serde_json::json!({"name": "final_video.mp4", "bytes": 1234})
    );
    assert_eq!(
        manifest["files"]["thumbnail"],
        serde_json::json!({"name": "thumbnail.jpg", "bytes": 321})
    );
    assert_eq!(manifest["files"]["subtitles"]["name"], "subtitles.srt");
    assert_eq!(
        std::fs::read(output.join("thumbnail.jpg")).unwrap().len(),
        321,
        "copied into the output folder"
    );
    assert!(output.join("subtitles.srt").exists());
    let mut names: Vec<String> = std::fs::read_dir(&output)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "final_video.mp4",
            "publish.json",
            "subtitles.srt",
            "thumbnail.jpg"
        ],
        "no temporary files"
    );
}

#[tokio::test]
async fn a_missing_video_is_file_not_found() {
    let work = tempfile::tempdir().unwrap();
    let script = write_script(&article("en-unseen.txt"));
    let missing = work.path().join("nope.mp4");
    let err = LocalPublisher::new()
        .publish(&PublishRequest {
            video: &missing,
            thumbnail: &missing,
            subtitles: &missing,
            script: &script,
            output_dir: work.path(),
            youtube: None,
            state_dir: work.path(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FILE_NOT_FOUND);
    assert!(!work.path().join(PUBLISH_MANIFEST).exists());
}
