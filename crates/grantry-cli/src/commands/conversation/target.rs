//! Which conversation, in which environment: a 24-hex id with `-e`, or a conversation URL from
//! which the environment is inferred — the URL `conversation create` prints
//! (`{server}/{org}/admin/conversation/{id}`) or seed 001's `https://{org}.{host}/admin/conversation/{id}`.

use crate::config::Config;
use crate::exit::UsageError;
use anyhow::Result;
use grantry_core::validate;
use reqwest::Url;

/// A resolved conversation argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub env: String,
    pub id: String,
}

/// Resolves CONVERSATION (a URL or an id) and `-e` against the saved profiles.
pub fn resolve(conversation: &str, env: Option<&str>, config: &Config) -> Result<Target> {
    let arg = conversation.trim();
    if !arg.contains("://") {
        let id = validate::conversation_id(arg).map_err(|e| UsageError(e.to_string()))?;
        let env = env.ok_or_else(|| {
            UsageError(
                "a bare conversation id needs -e/--env ENV; or pass the conversation's URL, from which the environment is inferred"
                    .to_owned(),
            )
        })?;
        config.profile(env)?;
        return Ok(Target { env: env.to_owned(), id });
    }
    let url = Url::parse(arg).map_err(|e| UsageError(format!("`{arg}` is not a URL ({e})")))?;
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|x| !x.is_empty()).collect()).unwrap_or_default();
    let (org_in_path, id) = match segments.as_slice() {
        [org, "admin", "conversation", id] => (Some(*org), *id),
        ["admin", "conversation", id] => (None, *id),
        _ => {
            return Err(UsageError(format!("`{arg}` is not a conversation URL; expected …/admin/conversation/ID")).into());
        }
    };
    let id = validate::conversation_id(id).map_err(|e| UsageError(e.to_string()))?;
    if let Some(env) = env {
        config.profile(env)?;
        return Ok(Target { env: env.to_owned(), id });
    }
    let host = url.host_str().unwrap_or_default();
    let matching: Vec<&String> = config
        .profiles
        .iter()
        .filter(|(_, p)| {
            let Ok(base) = Url::parse(&p.url) else {
                return false;
            };
            let base_host = base.host_str().unwrap_or_default();
            let same_origin = base.scheme() == url.scheme() && base.port_or_known_default() == url.port_or_known_default();
            same_origin
                && match org_in_path {
                    Some(org) => p.org == org && base_host == host,
                    None => host == format!("{}.{base_host}", p.org) || (host == base_host && host.starts_with(&format!("{}.", p.org))),
                }
        })
        .map(|(name, _)| name)
        .collect();
    match matching.as_slice() {
        [one] => Ok(Target { env: (*one).clone(), id }),
        [] => Err(UsageError(format!(
            "no saved environment matches `{arg}`; pass -e/--env, or save one with `grantry login --env NAME --url {}://{host}{} --org ORG --token TOKEN`",
            url.scheme(),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        ))
        .into()),
        many => {
            let names: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
            Err(UsageError(format!("several environments match `{arg}` ({}); pick one with -e/--env", names.join(", "))).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Profile, Secret};

    fn config() -> Config {
        let mut c = Config::default();
        for (name, url, org) in [
            ("local", "http://127.0.0.1:8080", "acme"),
            ("production", "https://amigo.ai", "org"),
            ("other", "http://127.0.0.1:9090", "acme"),
        ] {
            c.profiles.insert(name.into(), Profile { url: url.into(), org: org.into(), token: Secret("t".into()), ca_cert: None });
        }
        c
    }

    const ID: &str = "abc123def456abc123def456";

    #[test]
    fn infers_the_environment_from_urls() {
        let c = config();
        let t = resolve(&format!("http://127.0.0.1:8080/acme/admin/conversation/{ID}"), None, &c).unwrap();
        assert_eq!(t, Target { env: "local".into(), id: ID.into() });
        let t = resolve(&format!("https://org.amigo.ai/admin/conversation/{ID}"), None, &c).unwrap();
        assert_eq!(t.env, "production");
    }

    #[test]
    fn bare_ids_need_an_environment() {
        let c = config();
        assert!(resolve(ID, None, &c).unwrap_err().is::<UsageError>());
        assert_eq!(resolve(ID, Some("local"), &c).unwrap().env, "local");
        assert!(resolve("abc123", Some("local"), &c).is_err());
        assert!(resolve(&format!("http://127.0.0.1:7000/acme/admin/conversation/{ID}"), None, &c).is_err());
    }
}
