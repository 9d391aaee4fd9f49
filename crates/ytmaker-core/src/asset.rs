//! Assets: every generated file is a row with its own status, so a run can resume from the last
//! completed one and never pay for the same asset twice.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Script,
    Audio,
    Image,
    AvatarIntro,
    AvatarOutro,
    SegmentClip,
    FinalVideo,
    Thumbnail,
    Subtitles,
}

impl AssetKind {
    pub const ALL: [AssetKind; 9] = [
        AssetKind::Script,
        AssetKind::Audio,
        AssetKind::Image,
        AssetKind::AvatarIntro,
        AssetKind::AvatarOutro,
        AssetKind::SegmentClip,
        AssetKind::FinalVideo,
        AssetKind::Thumbnail,
        AssetKind::Subtitles,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Script => "script",
            AssetKind::Audio => "audio",
            AssetKind::Image => "image",
            AssetKind::AvatarIntro => "avatar_intro",
            AssetKind::AvatarOutro => "avatar_outro",
            AssetKind::SegmentClip => "segment_clip",
            AssetKind::FinalVideo => "final_video",
            AssetKind::Thumbnail => "thumbnail",
            AssetKind::Subtitles => "subtitles",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetStatus {
    Pending,
    Generating,
    Completed,
    Failed,
}

impl AssetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetStatus::Pending => "PENDING",
            AssetStatus::Generating => "GENERATING",
            AssetStatus::Completed => "COMPLETED",
            AssetStatus::Failed => "FAILED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            AssetStatus::Pending,
            AssetStatus::Generating,
            AssetStatus::Completed,
            AssetStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// Which asset of a project: the kind plus the segment it belongs to. Audio uses the narration
/// line index (0 = intro, 1..=N segments, N+1 = outro); images and clips use the segment index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AssetKey {
    pub kind: AssetKind,
    pub index: Option<u32>,
}

impl AssetKey {
    pub fn single(kind: AssetKind) -> Self {
        AssetKey { kind, index: None }
    }

    pub fn indexed(kind: AssetKind, index: u32) -> Self {
        AssetKey {
            kind,
            index: Some(index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip() {
        for k in AssetKind::ALL {
            assert_eq!(AssetKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(
            AssetStatus::parse("COMPLETED"),
            Some(AssetStatus::Completed)
        );
        assert_eq!(AssetStatus::parse("DONE"), None);
    }
}
