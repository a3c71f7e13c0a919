//! Profiles: named (server URL, organization, token) triples in `~/.config/grantry/config.toml`,
//! or in the file `GRANTRY_CONFIG` names. Unknown keys are errors.

use crate::exit::UsageError;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// A secret that does not print itself.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One named profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub url: String,
    pub org: String,
    pub token: Secret,
    /// A PEM file of certificate authorities to trust besides the system's, for a server whose
    /// certificate they sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
}

/// The config file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// Where the config file is.
pub fn path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("GRANTRY_CONFIG") {
        return Ok(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME").context("HOME is not set; set GRANTRY_CONFIG to the config file's path")?;
    Ok(PathBuf::from(home).join(".config/grantry/config.toml"))
}

impl Config {
    /// Reads the config file (empty if there is none).
    pub fn load() -> Result<Self> {
        let path = path()?;
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).with_context(|| format!("{} is not a valid Grantry config", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the config file, readable only by its owner (it holds tokens).
    pub fn save(&self) -> Result<PathBuf> {
        let path = path()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = toml::to_string(self).context("cannot encode the config")?;
        // Written whole to a new file that only the owner can read, then renamed over the old one:
        // no moment exists when the tokens are readable by others, or half written.
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or_else(|| std::path::Path::new("."));
        let mut file = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).context("cannot restrict the new config file")?;
        }
        std::io::Write::write_all(&mut file, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
        file.as_file().sync_all().context("cannot flush the config file")?;
        file.persist(&path).with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(path)
    }

    /// The profile named `env`, or a usage error saying how to make it.
    pub fn profile(&self, env: &str) -> Result<&Profile> {
        self.profiles.get(env).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            UsageError(format!(
                "no environment `{env}`; {} — save one with `grantry login --env {env} --url URL --org ORG --token TOKEN`",
                if known.is_empty() { "none are saved".to_owned() } else { format!("saved: {}", known.join(", ")) }
            ))
            .into()
        })
    }
}
