use std::path::{Path, PathBuf};

use uuid::Uuid;
use ytmaker_core::config::is_upload_id;

/// The data directory: everything a user makes lives below it.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("ytmaker.db")
    }

    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// `<data>/uploads/logos/`: logos users uploaded, normalised to RGBA PNG.
    pub fn logos(&self) -> PathBuf {
        self.root.join("uploads").join("logos")
    }

    /// `<data>/uploads/logos/<id>.png` for an upload id ([`is_upload_id`]: 64 lowercase hex
    /// digits); `None` for anything else, so a configuration value can never name another path.
    pub fn logo(&self, id: &str) -> Option<PathBuf> {
        is_upload_id(id).then(|| self.logos().join(format!("{id}.png")))
    }

    pub fn project(&self, id: Uuid) -> ProjectDir {
        ProjectDir {
            root: self.root.join("projects").join(id.to_string()),
        }
    }
}

/// `<data>/projects/<id>/{input.txt, script.json, audio/, images/, avatar/, segments/, output/}`.
/// Paths here are built only from the project's UUID and fixed names, never from user input.
#[derive(Clone, Debug)]
pub struct ProjectDir {
    root: PathBuf,
}

impl ProjectDir {
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn input(&self) -> PathBuf {
        self.root.join("input.txt")
    }
    pub fn script(&self) -> PathBuf {
        self.root.join("script.json")
    }
    pub fn audio(&self) -> PathBuf {
        self.root.join("audio")
    }
    pub fn images(&self) -> PathBuf {
        self.root.join("images")
    }
    pub fn avatar(&self) -> PathBuf {
        self.root.join("avatar")
    }
    pub fn segments(&self) -> PathBuf {
        self.root.join("segments")
    }
    pub fn output(&self) -> PathBuf {
        self.root.join("output")
    }
    pub fn final_video(&self) -> PathBuf {
        self.output().join("final_video.mp4")
    }
    pub fn thumbnail(&self) -> PathBuf {
        self.output().join("thumbnail.jpg")
    }
    pub fn subtitles(&self) -> PathBuf {
        self.output().join("subtitles.srt")
    }
    pub fn all_dirs(&self) -> [PathBuf; 6] {
        [
            self.audio(),
            self.images(),
            self.avatar(),
            self.segments(),
            self.output(),
            self.root.join("work"),
        ]
    }
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }
}
