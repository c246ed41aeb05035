//! Namespacing on `/mcp`: every server's tools and prompts under one list,
//! as `server__name`.
//!
//! The spec's rules for a tool name: characters `A-Z a-z 0-9 _ - .`, and we
//! keep to 64 characters because several clients (Claude, OpenAI) reject
//! longer ones. Server names are `[A-Za-z0-9_-]`, never contain `__` and
//! never start with `-` (see `gatehouse-config`), so `server__name` splits
//! back at its first `__`. A pair that would not survive that round trip (a
//! name with other characters, a result over 64 characters, a server name
//! ending in `_`) gets a shortened form with a hash of the pair instead:
//! deterministic, so a client's "always allow" for a tool keeps working
//! across restarts, and checked for collisions across the whole catalog.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// The separator between server and tool names.
pub const SEPARATOR: &str = "__";
/// The longest exposed name.
pub const MAX_NAME_LEN: usize = 64;

/// The name `/mcp` shows for `name` on `server`, before collision checks
/// (see [`Catalog`]).
pub fn exposed_name(server: &str, name: &str) -> String {
    let plain = format!("{server}{SEPARATOR}{name}");
    if plain.len() <= MAX_NAME_LEN
        && plain.chars().all(allowed)
        && !server.ends_with('_')
        && split(&plain) == Some((server, name))
    {
        return plain;
    }
    hashed_name(server, name, 8)
}

/// `server__name-ish_1a2b3c4d`: as much of the plain form as fits, with
/// disallowed characters replaced, then `hex_len` hex digits of a hash of
/// the exact pair.
fn hashed_name(server: &str, name: &str, hex_len: usize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(server.as_bytes());
    hasher.update([0]);
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let hash: String = digest
        .iter()
        .flat_map(|byte| [byte >> 4, byte & 0xf])
        .take(hex_len)
        .map(|nibble| char::from_digit(u32::from(nibble), 16).unwrap_or('0'))
        .collect();
    let keep = MAX_NAME_LEN - hash.len() - 1;
    let mut out: String = format!("{server}{SEPARATOR}{name}")
        .chars()
        .map(|c| if allowed(c) { c } else { '_' })
        .take(keep)
        .collect();
    out.push('_');
    out.push_str(&hash);
    out
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn split(exposed: &str) -> Option<(&str, &str)> {
    exposed.split_once(SEPARATOR)
}

/// Exposed names for one list (tools, or prompts) across servers, both
/// ways. Built from scratch whenever the list changes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Catalog {
    by_exposed: HashMap<String, (String, String)>,
    by_original: HashMap<(String, String), String>,
}

impl Catalog {
    /// Names every `(server, name)` pair, in order. Should two pairs ever
    /// get the same name (only a hash collision could do it), the later one
    /// gets a longer hash, so every name maps back to exactly one pair.
    pub fn build<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Catalog {
        let mut catalog = Catalog::default();
        for (server, name) in pairs {
            let key = (server.to_owned(), name.to_owned());
            if catalog.by_original.contains_key(&key) {
                // A server that lists a name twice: the first one wins.
                continue;
            }
            let mut exposed = exposed_name(server, name);
            let mut hex_len = 8;
            while catalog.by_exposed.contains_key(&exposed) && hex_len < 40 {
                hex_len += 8;
                exposed = hashed_name(server, name, hex_len);
            }
            catalog.by_exposed.insert(exposed.clone(), key.clone());
            catalog.by_original.insert(key, exposed);
        }
        catalog
    }

    /// The exposed name of `name` on `server`.
    pub fn exposed(&self, server: &str, name: &str) -> Option<&str> {
        self.by_original
            .get(&(server.to_owned(), name.to_owned()))
            .map(String::as_str)
    }

    /// The server and original name behind an exposed name.
    pub fn resolve(&self, exposed: &str) -> Option<(&str, &str)> {
        self.by_exposed
            .get(exposed)
            .map(|(server, name)| (server.as_str(), name.as_str()))
    }

    /// How many names it holds.
    pub fn len(&self) -> usize {
        self.by_exposed.len()
    }

    /// True when it holds no names.
    pub fn is_empty(&self) -> bool {
        self.by_exposed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        !name.is_empty() && name.len() <= MAX_NAME_LEN && name.chars().all(allowed)
    }

    #[test]
    fn ordinary_names_are_server_then_tool() {
        assert_eq!(exposed_name("memory", "read_graph"), "memory__read_graph");
        assert_eq!(exposed_name("everything", "get-sum"), "everything__get-sum");
        assert_eq!(exposed_name("fs", "a.b"), "fs__a.b");
    }

    #[test]
    fn long_or_odd_names_are_shortened_deterministically_and_stay_valid() {
        let long_server = "s".repeat(64);
        let long_tool = "t".repeat(128);
        for (server, tool) in [
            (long_server.as_str(), "x"),
            ("srv", long_tool.as_str()),
            ("srv", "has space/and:colon"),
            ("srv", "ünïcödé"),
            ("srv", ""),
        ] {
            let name = exposed_name(server, tool);
            assert!(valid(&name), "{name:?} for {server:?}/{tool:?}");
            assert_eq!(name, exposed_name(server, tool), "deterministic");
        }
        assert_ne!(
            exposed_name("srv", &"t".repeat(100)),
            exposed_name("srv", &"t".repeat(101)),
            "a shared prefix does not make names collide"
        );
    }

    #[test]
    fn names_that_would_split_wrongly_are_hashed() {
        // `a_` + `__` + `b` would read back as server `a`, tool `_b`.
        let odd = exposed_name("a_", "b");
        let plain = exposed_name("a", "_b");
        assert_eq!(plain, "a___b");
        assert_ne!(odd, plain);
        let catalog = Catalog::build([("a_", "b"), ("a", "_b")]);
        assert_eq!(catalog.resolve(&odd), Some(("a_", "b")));
        assert_eq!(catalog.resolve(&plain), Some(("a", "_b")));
    }

    #[test]
    fn a_catalog_maps_both_ways_and_never_collides() {
        let pairs: Vec<(String, String)> = (0..50)
            .flat_map(|s| (0..40).map(move |t| (format!("server-{s}"), format!("tool_{t}"))))
            .chain([
                ("x".to_owned(), "y".repeat(200)),
                ("x".to_owned(), "y".repeat(201)),
            ])
            .collect();
        let catalog = Catalog::build(pairs.iter().map(|(s, t)| (s.as_str(), t.as_str())));
        assert_eq!(catalog.len(), pairs.len());
        for (server, tool) in &pairs {
            let exposed = catalog.exposed(server, tool).expect("named");
            assert!(valid(exposed));
            assert_eq!(
                catalog.resolve(exposed),
                Some((server.as_str(), tool.as_str()))
            );
        }
    }
}
