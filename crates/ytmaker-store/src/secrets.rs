//! API keys and OAuth tokens, encrypted at rest (SPEC §8).
//!
//! The store is an age-encrypted JSON map in `<data>/secrets/keys.age`, encrypted to an X25519
//! identity kept in `<data>/secrets/identity.txt` (or the file `$YTMAKER_SECRETS_IDENTITY` names,
//! so the identity can live apart from the data, e.g. on another volume). Both files and their
//! folder are readable by the owner only. Every write replaces the file atomically.
//!
//! Several processes (the server refreshing a YouTube token, `ytmaker keys set` in a shell) and
//! several threads may change the store at once. Every read-modify-write therefore runs under an
//! exclusive lock on `keys.age.lock` beside the file (an advisory `flock`, released when the
//! process ends, even by `kill -9`), writes a temporary file of its own (pid + a counter), syncs it
//! to disk before renaming it over `keys.age`, and syncs the folder after. Readers take no lock:
//! the rename makes them see either the old file or the new one, never a mix.
//!
//! Why not the OS keyring here: servers have no Secret Service, and the kernel keyring forgets
//! everything at reboot, so a Linux server would lose its keys silently. The choice is written
//! in ARCHITECTURE.md.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};

use crate::DataDir;

pub const IDENTITY_ENV: &str = "YTMAKER_SECRETS_IDENTITY";

/// The names secrets are stored under: one per cloud provider key, plus `youtube`, where the one
/// YouTube account of versions before several accounts kept its tokens (read once to import it),
/// and [`LLM_KEY_SERVER`]. Each linked YouTube account's OAuth client and tokens (JSON) are
/// under [`youtube_secret_name`] instead.
pub const SECRET_NAMES: [&str; 7] = [
    "gemini",
    "openai_compatible",
    "google_tts",
    "stability",
    "did",
    "youtube",
    LLM_KEY_SERVER,
];

/// The origin (`scheme://host:port`) of the OpenAI-compatible server the `openai_compatible`
/// key was stored for: the key is sent there and nowhere else, since `llm.base_url` can be set
/// by anyone who can create a project. Written with the key, in one write.
pub const LLM_KEY_SERVER: &str = "openai_compatible.server";

/// Where the single YouTube account of earlier versions kept its tokens.
pub const LEGACY_YOUTUBE_SECRET: &str = "youtube";

const YOUTUBE_ACCOUNT_PREFIX: &str = "youtube:";

/// The key-store name of a linked account's tokens: `youtube:<channel_id>`. Only a well-formed
/// channel id makes a name, so no other text can reach the store's names.
pub fn youtube_secret_name(channel_id: &str) -> YtResult<String> {
    if ytmaker_core::youtube::is_channel_id(channel_id) {
        Ok(format!("{YOUTUBE_ACCOUNT_PREFIX}{channel_id}"))
    } else {
        Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "channel_id",
            "a YouTube channel id (UC and 22 letters, digits, - or _)",
            channel_id,
        ))
    }
}

#[derive(Clone, Debug)]
pub struct SecretStore {
    dir: PathBuf,
    identity: PathBuf,
}

/// One stored secret as it may be shown.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SecretHint {
    pub name: String,
    pub hint: String,
}

fn failed(what: &str, path: &Path, cause: impl std::fmt::Display) -> YtError {
    YtError::new(
        ErrorCode::SECRET_STORE_FAILED,
        format!("cannot {what} {}: {cause}", path.display()),
    )
    .detail("path", path.display().to_string())
    .detail("cause", cause.to_string())
}

impl SecretStore {
    pub fn open(data: &DataDir) -> Self {
        let dir = data.root().join("secrets");
        let identity = match std::env::var_os(IDENTITY_ENV) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => dir.join("identity.txt"),
        };
        SecretStore { dir, identity }
    }

    fn keys_file(&self) -> PathBuf {
        self.dir.join("keys.age")
    }

    /// Takes the store's write lock, waiting for another writer (thread or process) to finish.
    /// The lock is held until the returned file is dropped.
    fn lock(&self) -> YtResult<File> {
        use std::os::unix::fs::OpenOptionsExt;
        create_private_dir(&self.dir)?;
        let path = self.dir.join("keys.age.lock");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| failed("open the lock", &path, e))?;
        file.lock().map_err(|e| failed("lock", &path, e))?;
        Ok(file)
    }

    pub fn get(&self, name: &str) -> YtResult<Option<Secret>> {
        Ok(self.read_all()?.remove(name).map(Secret::new))
    }

    pub fn set(&self, name: &str, value: &Secret) -> YtResult<()> {
        self.set_all(&[(name, value)])
    }

    /// Stores several secrets in one write, so none is stored without the others.
    pub fn set_all(&self, entries: &[(&str, &Secret)]) -> YtResult<()> {
        for (name, value) in entries {
            check_name(name)?;
            if value.expose().trim().is_empty() {
                return Err(YtError::invalid_field(
                    ErrorCode::VALIDATION_ERROR,
                    "value",
                    "not empty",
                    "",
                ));
            }
        }
        let _lock = self.lock()?;
        let mut all = self.read_all()?;
        for (name, value) in entries {
            all.insert((*name).to_owned(), value.expose().to_owned());
        }
        self.write_all(&all)
    }

    /// Returns whether there was a secret to delete.
    pub fn delete(&self, name: &str) -> YtResult<bool> {
        check_name(name)?;
        let _lock = self.lock()?;
        let mut all = self.read_all()?;
        let had = all.remove(name).is_some();
        if had {
            self.write_all(&all)?;
        }
        Ok(had)
    }

    pub fn list(&self) -> YtResult<Vec<SecretHint>> {
        Ok(self
            .read_all()?
            .into_iter()
            .map(|(name, value)| SecretHint {
                name,
                hint: Secret::new(value).hint(),
            })
            .collect())
    }

    fn read_all(&self) -> YtResult<BTreeMap<String, String>> {
        let file = self.keys_file();
        let cipher = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(failed("read", &file, e)),
        };
        let identity = self.load_identity()?;
        let plain = age::decrypt(&identity, &cipher).map_err(|e| failed("decrypt", &file, e))?;
        serde_json::from_slice(&plain).map_err(|e| failed("parse the decrypted", &file, e))
    }

    /// Only called with the lock held ([`SecretStore::lock`]), so that no other writer can
    /// create an identity or replace the file between our read and our write.
    fn write_all(&self, all: &BTreeMap<String, String>) -> YtResult<()> {
        create_private_dir(&self.dir)?;
        let identity = match self.identity.exists() {
            true => self.load_identity()?,
            false => self.create_identity()?,
        };
        let plain = serde_json::to_vec(all).map_err(|e| failed("encode", &self.keys_file(), e))?;
        let cipher = age::encrypt(&identity.to_public(), &plain)
            .map_err(|e| failed("encrypt", &self.keys_file(), e))?;
        write_private(&self.keys_file(), &cipher)
    }

    fn load_identity(&self) -> YtResult<age::x25519::Identity> {
        let text = std::fs::read_to_string(&self.identity)
            .map_err(|e| failed("read the identity", &self.identity, e))?;
        let line = text
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .ok_or_else(|| failed("use the identity", &self.identity, "no AGE-SECRET-KEY line"))?;
        age::x25519::Identity::from_str(line)
            .map_err(|e| failed("parse the identity", &self.identity, e))
    }

    fn create_identity(&self) -> YtResult<age::x25519::Identity> {
        use age::secrecy::ExposeSecret;
        if let Some(parent) = self.identity.parent() {
            create_private_dir(parent)?;
        }
        let identity = age::x25519::Identity::generate();
        let text = format!(
            "# ytmaker key-store identity; without it the stored keys cannot be read\n{}\n",
            identity.to_string().expose_secret()
        );
        write_private(&self.identity, text.as_bytes())?;
        Ok(identity)
    }
}

fn check_name(name: &str) -> YtResult<()> {
    let account = name
        .strip_prefix(YOUTUBE_ACCOUNT_PREFIX)
        .is_some_and(ytmaker_core::youtube::is_channel_id);
    if SECRET_NAMES.contains(&name) || account {
        Ok(())
    } else {
        Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "provider",
            &format!(
                "one of {}, or youtube:<channel id>",
                SECRET_NAMES.join(", ")
            ),
            name,
        ))
    }
}

fn create_private_dir(dir: &Path) -> YtResult<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| failed("create", dir, e))
}

/// Writes `bytes` to a new owner-only file of this write's own, syncs it, renames it over `path`
/// and syncs the folder, so that after a crash `path` holds the old bytes or the new ones.
fn write_private(path: &Path, bytes: &[u8]) -> YtResult<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}-{n}", std::process::id()));
    let written = write_new_private(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| failed("replace", path, e)));
    if let Err(err) = written {
        if let Err(e) = std::fs::remove_file(&tmp)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(
                path = %tmp.display(),
                "cannot remove a temporary key-store file after a failed write: {e}"
            );
        }
        return Err(err);
    }
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| failed("sync the folder", dir, e))?;
    }
    Ok(())
}

fn write_new_private(tmp: &Path, bytes: &[u8]) -> YtResult<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(|e| failed("create", tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| failed("write", tmp, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn keys_round_trip_encrypted_and_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let store = SecretStore::open(&DataDir::new(tmp.path()));
        assert_eq!(store.get("gemini").unwrap(), None);
        store
            .set("gemini", &Secret::new("AIza-plain-text-key-0001"))
            .unwrap();
        store.set("did", &Secret::new("did-key-2")).unwrap();
        assert_eq!(
            store.get("gemini").unwrap().unwrap().expose(),
            "AIza-plain-text-key-0001"
        );
        let raw = std::fs::read(tmp.path().join("secrets/keys.age")).unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("plain-text-key"));
        for f in ["secrets/keys.age", "secrets/identity.txt"] {
            let mode = std::fs::metadata(tmp.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|h| !h.hint.contains("plain-text")));
        assert!(store.delete("gemini").unwrap());
        assert!(!store.delete("gemini").unwrap());
        assert_eq!(store.get("gemini").unwrap(), None);
    }

    #[test]
    fn youtube_accounts_are_named_by_well_formed_channel_ids_only() {
        let tmp = tempfile::tempdir().unwrap();
        let store = SecretStore::open(&DataDir::new(tmp.path()));
        let name = youtube_secret_name("UCytmakerFakeChannel0001").unwrap();
        assert_eq!(name, "youtube:UCytmakerFakeChannel0001");
        store.set(&name, &Secret::new("{}")).unwrap();
        assert!(store.get(&name).unwrap().is_some());
        for bad in [
            "youtube:",
            "youtube:UCshort",
            "youtube:UCytmakerFakeChannel0001x",
            "youtube:UCytmakerFake/hannel0001",
            "youtube:../../etc/passwdxxxxxxx",
            "youtubeUCytmakerFakeChannel0001",
        ] {
            let err = store.set(bad, &Secret::new("x")).unwrap_err();
            assert_eq!(err.code, ErrorCode::VALIDATION_ERROR, "{bad}");
        }
        assert!(youtube_secret_name("UC../..").is_err());
    }

    #[test]
    fn a_lost_identity_is_an_error_not_an_empty_store() {
        let tmp = tempfile::tempdir().unwrap();
        let store = SecretStore::open(&DataDir::new(tmp.path()));
        store.set("stability", &Secret::new("sk-123456")).unwrap();
        std::fs::remove_file(tmp.path().join("secrets/identity.txt")).unwrap();
        let err = store.get("stability").unwrap_err();
        assert_eq!(err.code, ErrorCode::SECRET_STORE_FAILED);
        let err = store.set("nope", &Secret::new("x")).unwrap_err();
        assert_eq!(err.code, ErrorCode::VALIDATION_ERROR);
    }
}
