//! Golden-file tests of client registration: every client, in every scope
//! it has, registering into a realistic file, an outdated entry, an empty
//! file and a missing one, each compared with the file Gatehouse should
//! leave (`tests/golden/<client>/<scope>-<case>.<ext>`), plus the rules
//! around it: refusing broken files, giving back the original on
//! unregister, backups and undo, refresh after a token change, imports,
//! and where each client's file is on each OS.
//!
//! `UPDATE_GOLDEN=1 cargo test -p gatehouse-clients --test golden`
//! rewrites the goldens instead of comparing; read every changed one
//! against `shared/reference/clients.md` before keeping it.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use gatehouse_clients::document::{Document, Format};
use gatehouse_clients::{
    Action, BridgeCommand, ClientKind, Environment, Error, FileStatus, Location, Os, Plan,
    Registrar, Scope, State, Target,
};
use gatehouse_secrets::Secret;
use pretty_assertions::assert_eq;
use serde_json::{Value as Json, json};
use tempfile::TempDir;

// ------------------------------------------------------------------ table

/// Every client file: each client in user scope, and in project scope
/// where it reads a project file. Fixtures are
/// `tests/fixtures/<client>/<scope>-<case>.<ext>`.
const SITES: &[(ClientKind, Scope)] = &[
    (ClientKind::ClaudeDesktop, Scope::User),
    (ClientKind::ClaudeCode, Scope::User),
    (ClientKind::ClaudeCode, Scope::Project),
    (ClientKind::Cursor, Scope::User),
    (ClientKind::Cursor, Scope::Project),
    (ClientKind::VsCode, Scope::User),
    (ClientKind::VsCode, Scope::Project),
    (ClientKind::Windsurf, Scope::User),
    (ClientKind::Zed, Scope::User),
    (ClientKind::Zed, Scope::Project),
    (ClientKind::Cline, Scope::User),
    (ClientKind::RooCode, Scope::User),
    (ClientKind::RooCode, Scope::Project),
    (ClientKind::Gemini, Scope::User),
    (ClientKind::Gemini, Scope::Project),
    (ClientKind::Codex, Scope::User),
    (ClientKind::Codex, Scope::Project),
    (ClientKind::LmStudio, Scope::User),
    (ClientKind::Goose, Scope::User),
    (ClientKind::Opencode, Scope::User),
    (ClientKind::Opencode, Scope::Project),
    (ClientKind::Kiro, Scope::User),
    (ClientKind::Kiro, Scope::Project),
    (ClientKind::Continue, Scope::User),
    (ClientKind::Continue, Scope::Project),
];

const URL: &str = "http://127.0.0.1:8737/mcp";
const TOKEN: &str = "gh-test-token-0123456789";
const PROGRAM: &str = "/opt/gatehouse/bin/gatehouse";
/// The command Claude Code runs for the token header.
const HELPER: &str = "/opt/gatehouse/bin/gatehouse token header";
/// A token from an older install, as the `outdated` fixtures hold it.
const OLD_TOKEN: &str = "gh-old-token-aaaaaaaaaaaaaaaa";

/// The extension of a client's fixtures and goldens.
fn ext(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::Codex => "toml",
        ClientKind::Goose => "yaml",
        _ => "json",
    }
}

/// What the client accepts, from clients.md: `Json` clients reject
/// comments and trailing commas.
fn format(kind: ClientKind) -> Format {
    match kind {
        ClientKind::VsCode | ClientKind::Zed | ClientKind::Gemini | ClientKind::Opencode => {
            Format::Jsonc
        }
        ClientKind::Codex => Format::Toml,
        ClientKind::Goose => Format::Yaml,
        _ => Format::Json,
    }
}

/// The key holding the client's servers (clients.md §2.3).
fn servers_key(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::VsCode => "servers",
        ClientKind::Zed => "context_servers",
        ClientKind::Opencode => "mcp",
        ClientKind::Codex => "mcp_servers",
        ClientKind::Goose => "extensions",
        _ => "mcpServers",
    }
}

/// Whether Gatehouse's entry in this file is the HTTP one, holding the
/// token: user scope of every client but Claude Desktop (the bridge) and
/// Claude Code (whose `headersHelper` asks Gatehouse for the token).
fn holds_token(kind: ClientKind, scope: Scope) -> bool {
    scope == Scope::User && !matches!(kind, ClientKind::ClaudeDesktop | ClientKind::ClaudeCode)
}

/// Claude Code's user entry: HTTP, with the token from a helper command.
fn uses_helper(kind: ClientKind, scope: Scope) -> bool {
    scope == Scope::User && kind == ClientKind::ClaudeCode
}

/// The entry each client expects, spelled out from clients.md (not from
/// `entry.rs`): the golden files are checked against this.
fn expected_entry(kind: ClientKind, scope: Scope, server: Option<&str>) -> Json {
    let name = server.map_or("gatehouse".to_owned(), |s| format!("gatehouse-{s}"));
    let url = server.map_or(URL.to_owned(), |s| format!("{URL}/{s}"));
    let auth = json!({ "Authorization": format!("Bearer {TOKEN}") });
    let mut args = vec!["bridge".to_owned()];
    if let Some(server) = server {
        args.extend(["--server".to_owned(), server.to_owned()]);
    }
    let program = match scope {
        Scope::User => PROGRAM,
        Scope::Project => "gatehouse",
    };
    if uses_helper(kind, scope) {
        return json!({ "type": "http", "url": url, "headersHelper": HELPER });
    }
    if !holds_token(kind, scope) {
        return match kind {
            // Claude Code, VS Code and Gemini spell the transport out.
            ClientKind::ClaudeCode | ClientKind::VsCode | ClientKind::Gemini => {
                json!({ "type": "stdio", "command": program, "args": args })
            }
            // opencode: the command is an array, and `type: local`.
            ClientKind::Opencode => {
                let mut command = vec![program.to_owned()];
                command.extend(args);
                json!({ "type": "local", "command": command, "enabled": true })
            }
            _ => json!({ "command": program, "args": args }),
        };
    }
    match kind {
        ClientKind::VsCode | ClientKind::Gemini | ClientKind::Continue => {
            json!({ "type": "http", "url": url, "headers": auth })
        }
        ClientKind::Cursor | ClientKind::Zed | ClientKind::LmStudio | ClientKind::Kiro => {
            json!({ "url": url, "headers": auth })
        }
        ClientKind::Windsurf => json!({ "serverUrl": url, "headers": auth }),
        // No `type` would mean SSE to Cline; `http` fails its validation.
        ClientKind::Cline => {
            json!({ "type": "streamableHttp", "url": url, "headers": auth, "disabled": false })
        }
        ClientKind::RooCode => json!({ "type": "streamable-http", "url": url, "headers": auth }),
        ClientKind::Codex => json!({ "url": url, "http_headers": auth }),
        ClientKind::Goose => json!({
            "type": "streamable_http",
            "name": name,
            "enabled": true,
            "description": server.map_or(
                "Your local MCP servers, through Gatehouse".to_owned(),
                |s| format!("{s}, through Gatehouse"),
            ),
            "uri": url,
            "headers": auth,
            "timeout": 300,
        }),
        ClientKind::Opencode => {
            json!({ "type": "remote", "url": url, "headers": auth, "enabled": true })
        }
        ClientKind::ClaudeDesktop => unreachable!("Claude Desktop gets the bridge"),
        ClientKind::ClaudeCode => unreachable!("Claude Code gets the helper"),
    }
}

// ---------------------------------------------------------------- sandbox

/// A made-up Linux machine in a temporary directory: a home, a project in
/// it, Gatehouse's data directory, and a registrar for them.
struct Sandbox {
    _dir: TempDir,
    root: PathBuf,
    home: PathBuf,
    project: PathBuf,
    data: PathBuf,
    env: Environment,
    registrar: Registrar,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = TempDir::new().expect("temp dir");
        let root = dir.path().canonicalize().expect("canonical temp dir");
        let home = root.join("home");
        let project = home.join("code").join("storefront");
        std::fs::create_dir_all(&project).expect("project dir");
        let data = root.join("data");
        let env = Environment::new(Os::Linux, home.clone(), &[("PATH", "")]);
        let registrar = Registrar::new(env.clone(), &data, target(TOKEN));
        Sandbox {
            _dir: dir,
            root,
            home,
            project,
            data,
            env,
            registrar,
        }
    }

    /// A registrar for the same machine whose endpoint has another token.
    fn registrar_with_token(&self, token: &str) -> Registrar {
        Registrar::new(self.env.clone(), &self.data, target(token))
    }

    fn project_for(&self, scope: Scope) -> Option<&Path> {
        (scope == Scope::Project).then_some(self.project.as_path())
    }

    fn location(&self, kind: ClientKind, scope: Scope) -> Location {
        match scope {
            Scope::User => kind.user_location(&self.env),
            Scope::Project => kind.project_location(&self.project),
        }
        .unwrap_or_else(|| panic!("{} has no {} file", kind.id(), scope.as_str()))
    }

    fn path(&self, kind: ClientKind, scope: Scope) -> PathBuf {
        self.location(kind, scope).path
    }

    fn write(&self, kind: ClientKind, scope: Scope, text: &str) {
        let path = self.path(kind, scope);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("config dir");
        std::fs::write(&path, text).expect("write config");
    }

    fn read(&self, kind: ClientKind, scope: Scope) -> Option<String> {
        std::fs::read_to_string(self.path(kind, scope)).ok()
    }

    fn plan(
        &self,
        kind: ClientKind,
        scope: Scope,
        action: Action,
        server: Option<&str>,
    ) -> Result<Plan, Error> {
        self.registrar
            .plan(kind, scope, self.project_for(scope), action, server)
    }

    /// Plans and makes a change, as the GUI does after showing the diff.
    fn run(&self, kind: ClientKind, scope: Scope, action: Action, server: Option<&str>) -> Plan {
        let plan = self
            .plan(kind, scope, action, server)
            .unwrap_or_else(|e| panic!("plan {action:?}: {e}"));
        self.registrar
            .apply(&plan, &plan.base())
            .unwrap_or_else(|e| panic!("apply {action:?}: {e}"));
        plan
    }

    fn register(&self, kind: ClientKind, scope: Scope) -> Plan {
        self.run(kind, scope, Action::Register, None)
    }

    fn unregister(&self, kind: ClientKind, scope: Scope) -> Plan {
        self.run(kind, scope, Action::Unregister, None)
    }

    fn status(&self, kind: ClientKind, scope: Scope) -> FileStatus {
        self.registrar
            .status(kind, scope, self.project_for(scope))
            .unwrap_or_else(|e| panic!("status: {e}"))
    }

    /// Every saved version under the data directory.
    fn backups(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let Ok(dirs) = std::fs::read_dir(self.data.join("client-backups")) else {
            return found;
        };
        for dir in dirs.filter_map(Result::ok) {
            for file in std::fs::read_dir(dir.path())
                .expect("backup dir")
                .filter_map(Result::ok)
            {
                let path = file.path();
                if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("bak" | "absent")
                ) {
                    found.push(path);
                }
            }
        }
        found.sort();
        found
    }
}

fn target(token: &str) -> Target {
    Target {
        url: URL.to_owned(),
        token: Secret::new(token.to_owned()),
        bridge: BridgeCommand {
            program: PROGRAM.into(),
            leading_args: vec![],
            env: vec![],
        },
    }
}

// ---------------------------------------------------- fixtures and goldens

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_path(kind: ClientKind, scope: Scope, case: &str) -> PathBuf {
    crate_dir()
        .join("tests")
        .join("fixtures")
        .join(kind.id())
        .join(format!("{}-{case}.{}", scope.as_str(), ext(kind)))
}

fn fixture(kind: ClientKind, scope: Scope, case: &str) -> String {
    let path = fixture_path(kind, scope, case);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn updating_goldens() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Compares `actual` with `tests/golden/<client>/<scope>-<case>.<ext>`,
/// or writes it there under `UPDATE_GOLDEN=1`.
fn assert_golden(kind: ClientKind, scope: Scope, case: &str, ext: &str, actual: &str) {
    let path = crate_dir()
        .join("tests")
        .join("golden")
        .join(kind.id())
        .join(format!("{}-{case}.{ext}", scope.as_str()));
    if updating_goldens() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("golden dir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it, then review it",
            path.display()
        )
    });
    assert_eq!(
        expected,
        actual,
        "{} differs (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

/// Runs `test` for every site, and reports every site that failed, not
/// just the first.
fn each_site(test: impl Fn(ClientKind, Scope)) {
    each(SITES.iter().copied(), |(kind, scope)| test(kind, scope));
}

/// The strict-JSON sites: those clients break on comments.
fn strict_json_sites() -> impl Iterator<Item = (ClientKind, Scope)> {
    SITES
        .iter()
        .copied()
        .filter(|(kind, _)| format(*kind) == Format::Json)
}

fn each<T: std::fmt::Debug + Copy>(cases: impl IntoIterator<Item = T>, test: impl Fn(T)) {
    let mut failures = Vec::new();
    let mut count = 0;
    for case in cases {
        count += 1;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| test(case))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("--- {case:?}\n{message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ------------------------------------------------------- reading the files

/// The whole file as JSON (the root's keys), read by the crate's parser
/// for `format`; strict JSON is also read by serde_json, which is as strict
/// as the clients.
fn parse_root(kind: ClientKind, text: &str) -> serde_json::Map<String, Json> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let document = Document::parse(body, format(kind))
        .unwrap_or_else(|e| panic!("{} does not read back: {e}\n{text}", kind.id()));
    let root: serde_json::Map<String, Json> = document
        .entries(&[])
        .expect("root is a map")
        .into_iter()
        .collect();
    if format(kind) == Format::Json && !body.trim().is_empty() {
        let strict: Json = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("not strict JSON, which {} needs: {e}\n{text}", kind.id()));
        assert_eq!(
            Json::Object(root.clone()),
            strict,
            "the two readers disagree"
        );
    }
    root
}

/// The client's servers in `text`, in file order.
fn servers(kind: ClientKind, text: &str) -> Vec<(String, Json)> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    Document::parse(body, format(kind))
        .expect("parses")
        .entries(&[servers_key(kind)])
        .expect("servers are a map")
}

fn entry(kind: ClientKind, text: &str, name: &str) -> Option<Json> {
    servers(kind, text)
        .into_iter()
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// `root` without Gatehouse's entries (and without the servers' map if
/// that leaves it empty), to compare what else a file holds.
fn without_gatehouse(
    kind: ClientKind,
    mut root: serde_json::Map<String, Json>,
) -> serde_json::Map<String, Json> {
    let key = servers_key(kind);
    if let Some(Json::Object(servers)) = root.get_mut(key) {
        servers.retain(|name, _| name != "gatehouse" && !name.starts_with("gatehouse-"));
        if servers.is_empty() {
            root.remove(key);
        }
    }
    root
}

/// Every line of `original` that is a comment is still in `after`.
fn assert_comments_kept(original: &str, after: &str) {
    for line in original.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") || trimmed.starts_with("/*") || trimmed.starts_with('#') {
            assert!(
                after.contains(line),
                "the comment {line:?} was lost:\n{after}"
            );
        }
    }
}

/// `after` is `original` with Gatehouse's entry set and nothing else
/// changed: the same other servers and other keys, the same comments.
fn assert_only_gatehouse_changed(kind: ClientKind, original: &str, after: &str) {
    assert_eq!(
        without_gatehouse(kind, parse_root(kind, after)),
        without_gatehouse(kind, parse_root(kind, original)),
        "something besides Gatehouse's entry changed:\n{after}"
    );
    assert_comments_kept(original, after);
    if !after.is_empty() {
        assert_eq!(
            original.ends_with('\n'),
            after.ends_with('\n'),
            "the final newline changed:\n{after}"
        );
    }
}

/// The entry in `text` is the one `kind` expects, and obeys the rules:
/// project files hold neither the token nor an absolute path; user-scope
/// HTTP entries send the bearer token.
/// Keys the outdated fixtures' users added to Gatehouse's entry, which a
/// re-register keeps.
const USER_KEYS: &[&str] = &[
    "autoApprove",
    "alwaysAllow",
    "disabled",
    "trust",
    "startup_timeout_sec",
];

fn assert_entry_is_right(kind: ClientKind, scope: Scope, text: &str, server: Option<&str>) {
    let name = server.map_or("gatehouse".to_owned(), |s| format!("gatehouse-{s}"));
    let found = entry(kind, text, &name).unwrap_or_else(|| panic!("no `{name}` entry:\n{text}"));
    // Gatehouse's keys are exactly as expected; any other key is one the
    // user added to the entry (Cline's `autoApprove`…) and is kept.
    let expected = expected_entry(kind, scope, server);
    let (Some(found_map), Some(expected_map)) = (found.as_object(), expected.as_object()) else {
        panic!("`{name}` is not an object in:\n{text}");
    };
    for (key, value) in expected_map {
        assert_eq!(
            found_map.get(key),
            Some(value),
            "`{name}.{key}` in:\n{text}"
        );
    }
    for key in found_map
        .keys()
        .filter(|key| !expected_map.contains_key(*key))
    {
        assert!(
            USER_KEYS.contains(&key.as_str()),
            "`{name}` has `{key}`, which Gatehouse does not write and no fixture's user added, in:\n{text}"
        );
    }
    let rendered = found.to_string();
    if holds_token(kind, scope) {
        assert!(
            rendered.contains(&format!("\"Authorization\":\"Bearer {TOKEN}\"")),
            "no bearer token in {rendered}"
        );
    } else if uses_helper(kind, scope) {
        assert!(
            !text.contains(TOKEN),
            "the token in a file with the helper:\n{text}"
        );
    } else {
        assert!(
            !rendered.contains(TOKEN),
            "a token in a bridge entry: {rendered}"
        );
        assert!(
            rendered.contains("\"bridge\""),
            "not the bridge: {rendered}"
        );
    }
    if scope == Scope::Project {
        assert!(
            !text.contains(TOKEN),
            "the token in a project file:\n{text}"
        );
        assert!(
            !rendered.contains('/'),
            "an absolute path in a project file: {rendered}"
        );
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

// ------------------------------------------------------------------ cases

#[test]
fn the_table_has_every_client_and_every_scope_it_supports() {
    let mut wanted = Vec::new();
    for kind in ClientKind::ALL {
        wanted.push((kind, Scope::User));
        if kind.project_location(Path::new("/p")).is_some() {
            wanted.push((kind, Scope::Project));
        }
    }
    assert_eq!(SITES.to_vec(), wanted);
    let sandbox = Sandbox::new();
    for &(kind, scope) in SITES {
        let location = sandbox.location(kind, scope);
        assert_eq!(location.format, format(kind), "{}", kind.id());
        assert_eq!(location.table, vec![servers_key(kind)], "{}", kind.id());
        let file_ext = location.path.extension().and_then(|e| e.to_str());
        assert_eq!(file_ext, Some(ext(kind)), "{}", kind.id());
    }
}

#[test]
fn every_golden_file_belongs_to_a_case() {
    let mut wanted = BTreeSet::from(["claude-desktop/user-replaced.json".to_owned()]);
    for &(kind, scope) in SITES {
        let name = |case: &str, ext: &str| format!("{}/{}-{case}.{ext}", kind.id(), scope.as_str());
        for case in ["realistic", "outdated", "empty", "missing"] {
            wanted.insert(name(case, ext(kind)));
        }
        if kind != ClientKind::Continue {
            wanted.insert(name("unregistered", ext(kind)));
        }
        wanted.insert(name("invalid", "txt"));
        if format(kind) == Format::Json {
            wanted.insert(name("comment", "txt"));
        }
    }
    let root = crate_dir().join("tests").join("golden");
    let mut found = BTreeSet::new();
    for dir in std::fs::read_dir(&root)
        .expect("golden dir")
        .filter_map(Result::ok)
    {
        for file in std::fs::read_dir(dir.path())
            .expect("client dir")
            .filter_map(Result::ok)
        {
            found.insert(format!(
                "{}/{}",
                dir.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            ));
        }
    }
    assert_eq!(found, wanted, "stale or missing goldens");
}

#[test]
fn list_shows_every_client_with_its_files() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ClientKind::Cursor,
        Scope::User,
        &fixture(ClientKind::Cursor, Scope::User, "realistic"),
    );
    sandbox.write(
        ClientKind::Zed,
        Scope::User,
        &fixture(ClientKind::Zed, Scope::User, "invalid"),
    );
    let list = sandbox.registrar.list(Some(&sandbox.project));
    let ids: Vec<&str> = list.iter().map(|c| c.kind.id()).collect();
    assert_eq!(ids, ClientKind::ALL.map(ClientKind::id));
    for client in &list {
        let user = client.user.as_ref().expect("a user file");
        assert_eq!(user.path, sandbox.path(client.kind, Scope::User));
        assert_eq!(
            client.project.is_some(),
            client.supports_project,
            "{}",
            client.kind.id()
        );
        let installed = matches!(client.kind, ClientKind::Cursor | ClientKind::Zed);
        assert_eq!(client.installed, installed, "{}", client.kind.id());
    }
    let user = |kind| {
        list.iter()
            .find(|client| client.kind == kind)
            .and_then(|client| client.user.as_ref())
            .expect("listed")
    };
    let cursor = user(ClientKind::Cursor);
    assert_eq!(cursor.state, State::Absent);
    assert_eq!(
        cursor.other_servers,
        ["context7", "playwright", "browsermcp"]
    );
    assert_eq!(user(ClientKind::Zed).state, State::Unreadable);
}

#[test]
fn registering_in_a_realistic_file_adds_the_entry_and_changes_nothing_else() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        let original = fixture(kind, scope, "realistic");
        sandbox.write(kind, scope, &original);
        assert_eq!(sandbox.status(kind, scope).state, State::Absent);

        let plan = sandbox.register(kind, scope);
        assert!(plan.changed() && !plan.creates());
        assert!(
            !plan.diff().contains(TOKEN),
            "the diff shows the token:\n{}",
            plan.diff()
        );

        let after = sandbox.read(kind, scope).expect("file");
        assert_golden(kind, scope, "realistic", ext(kind), &after);
        assert_entry_is_right(kind, scope, &after, None);
        assert_only_gatehouse_changed(kind, &original, &after);
        assert_eq!(sandbox.status(kind, scope).state, State::Registered);
    });
}

#[test]
fn an_outdated_entry_is_replaced_where_it_stands() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        let original = fixture(kind, scope, "outdated");
        sandbox.write(kind, scope, &original);
        let names_before: Vec<String> = servers(kind, &original)
            .into_iter()
            .map(|(k, _)| k)
            .collect();

        let status = sandbox.status(kind, scope);
        assert_eq!(status.state, State::Outdated, "{:?}", status.detail);
        let detail = status.detail.expect("says why it is outdated");
        assert!(
            !detail.contains(OLD_TOKEN) && !detail.contains(TOKEN),
            "the detail shows a token: {detail}"
        );

        sandbox.register(kind, scope);
        let after = sandbox.read(kind, scope).expect("file");
        assert_golden(kind, scope, "outdated", ext(kind), &after);
        assert_entry_is_right(kind, scope, &after, None);
        assert_only_gatehouse_changed(kind, &original, &after);
        let names_after: Vec<String> = servers(kind, &after).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names_after, names_before, "the entry moved");
        assert!(
            !after.contains(OLD_TOKEN),
            "the old token is still there:\n{after}"
        );
        assert_eq!(sandbox.status(kind, scope).state, State::Registered);
    });
}

#[test]
fn registering_in_an_empty_file_writes_a_fresh_one() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        sandbox.write(kind, scope, "");
        let plan = sandbox.register(kind, scope);
        assert!(!plan.creates(), "the file was there");
        let after = sandbox.read(kind, scope).expect("file");
        assert_golden(kind, scope, "empty", ext(kind), &after);
        assert_entry_is_right(kind, scope, &after, None);
        assert_eq!(
            parse_root(kind, &after).len(),
            1,
            "only the servers' key:\n{after}"
        );
        assert!(after.ends_with('\n'), "no final newline:\n{after:?}");
    });
}

#[test]
fn registering_creates_a_missing_file_and_its_directories() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        let path = sandbox.path(kind, scope);
        assert!(!path.exists());
        let plan = sandbox.register(kind, scope);
        assert!(plan.creates());
        let after = sandbox.read(kind, scope).expect("file created");
        assert_golden(kind, scope, "missing", ext(kind), &after);
        assert_entry_is_right(kind, scope, &after, None);
        assert!(after.ends_with('\n'), "no final newline:\n{after:?}");
        #[cfg(unix)]
        {
            let wanted = if holds_token(kind, scope) {
                0o600
            } else {
                0o644
            };
            assert_eq!(mode(&path), wanted, "mode of {}", path.display());
        }
    });
}

#[cfg(unix)]
#[test]
fn registering_keeps_the_mode_of_an_existing_file_less_others_access_to_the_token() {
    use std::os::unix::fs::PermissionsExt;
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        sandbox.write(kind, scope, &fixture(kind, scope, "realistic"));
        let path = sandbox.path(kind, scope);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        sandbox.register(kind, scope);
        let wanted = if holds_token(kind, scope) {
            0o600
        } else {
            0o640
        };
        assert_eq!(mode(&path), wanted);
    });
}

/// Checks a broken file is refused by plan (both actions), status and
/// refresh, with a message naming the file, line and column, and that the
/// file is untouched and nothing was backed up.
fn assert_refused(
    sandbox: &Sandbox,
    kind: ClientKind,
    scope: Scope,
    text: &str,
) -> (String, usize, usize) {
    sandbox.write(kind, scope, text);
    let path = sandbox.path(kind, scope);
    let dir = path.parent().expect("dir");
    let listing = || -> BTreeSet<_> {
        std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect()
    };
    let beside = listing();
    let mut found = None;
    for action in [Action::Register, Action::Unregister] {
        match sandbox.plan(kind, scope, action, None) {
            Err(error @ Error::Syntax { .. }) => {
                let message = error.to_string();
                let Error::Syntax {
                    path: named,
                    source,
                } = error
                else {
                    unreachable!()
                };
                assert_eq!(named, path);
                assert!(message.contains(&path.display().to_string()), "{message}");
                let place = format!("line {}, column {}", source.line, source.column);
                assert!(message.contains(&place), "{message}");
                found = Some((message, source.line, source.column));
            }
            Err(other) => panic!("{action:?}: expected a syntax error, got {other}"),
            Ok(plan) => panic!("{action:?}: a broken file was planned: {:?}", plan.after),
        }
    }
    let status = sandbox.status(kind, scope);
    assert_eq!(status.state, State::Unreadable);
    let detail = status.detail.expect("the detail says where");
    assert!(detail.starts_with("line "), "{detail}");
    if scope == Scope::User && holds_token(kind, scope) {
        let refreshed = sandbox.registrar.refresh();
        assert_eq!(refreshed.len(), 1, "refresh: {refreshed:?}");
        assert!(
            matches!(refreshed[0].2, Err(Error::Syntax { .. })),
            "refresh: {refreshed:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&path).expect("file"),
        text,
        "the file changed"
    );
    assert_eq!(
        sandbox.backups(),
        Vec::<PathBuf>::new(),
        "a backup was written"
    );
    assert_eq!(listing(), beside, "files appeared beside the config");
    found.expect("an error")
}

fn error_golden(sandbox: &Sandbox, message: &str) -> String {
    let root = sandbox.root.display().to_string();
    format!("{}\n", message.replace(&root, "$TMP").replace('\\', "/"))
}

#[test]
fn a_broken_file_is_refused_with_its_line_and_column_and_left_alone() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        let (message, _, _) =
            assert_refused(&sandbox, kind, scope, &fixture(kind, scope, "invalid"));
        assert_golden(
            kind,
            scope,
            "invalid",
            "txt",
            &error_golden(&sandbox, &message),
        );
    });
}

#[test]
fn strict_json_clients_refuse_a_file_with_comments() {
    each(strict_json_sites(), |(kind, scope)| {
        let sandbox = Sandbox::new();
        let text = fixture(kind, scope, "comment");
        let (message, line, column) = assert_refused(&sandbox, kind, scope, &text);
        let at: String = text
            .lines()
            .nth(line - 1)
            .expect("line")
            .chars()
            .skip(column - 1)
            .take(2)
            .collect();
        assert!(
            at == "//" || at == "/*",
            "line {line} column {column} is {at:?}: {message}"
        );
        assert_golden(
            kind,
            scope,
            "comment",
            "txt",
            &error_golden(&sandbox, &message),
        );
    });
}

#[test]
fn unregistering_after_registering_gives_back_the_original_bytes() {
    each_site(|kind, scope| {
        for case in ["realistic", "empty"] {
            let sandbox = Sandbox::new();
            let original = if case == "empty" {
                String::new()
            } else {
                fixture(kind, scope, case)
            };
            sandbox.write(kind, scope, &original);
            sandbox.register(kind, scope);
            let plan = sandbox.unregister(kind, scope);
            assert!(plan.changed());
            assert_eq!(
                sandbox.read(kind, scope).as_deref(),
                Some(original.as_str()),
                "{case}"
            );
            assert_eq!(sandbox.status(kind, scope).state, State::Absent);
        }
    });
}

#[test]
fn unregistering_from_a_file_gatehouse_created_removes_it() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        sandbox.register(kind, scope);
        sandbox.unregister(kind, scope);
        let after = sandbox.read(kind, scope);
        assert_eq!(after, None, "the file Gatehouse created is still there");
    });
}

#[test]
fn without_its_backups_unregistering_leaves_a_created_file_semantically_empty() {
    each_site(|kind, scope| {
        let first = Sandbox::new();
        first.register(kind, scope);
        let written = first.read(kind, scope).expect("file");
        // Another machine's data dir (or backups pruned): no history.
        let sandbox = Sandbox::new();
        sandbox.write(kind, scope, &written);
        sandbox.unregister(kind, scope);
        let Some(after) = sandbox.read(kind, scope) else {
            assert!(
                kind == ClientKind::Continue,
                "only Continue's own file goes"
            );
            return;
        };
        let root = parse_root(kind, &after);
        let expected: serde_json::Map<String, Json> = if kind.requires_servers_key() {
            [(servers_key(kind).to_owned(), json!({}))]
                .into_iter()
                .collect()
        } else {
            serde_json::Map::new()
        };
        assert_eq!(root, expected, "{after}");
    });
}

/// Files as the clients write them before any server is added.
const DEFAULT_FILES: &[(ClientKind, &str)] = &[
    (ClientKind::ClaudeDesktop, "{}"),
    (ClientKind::Cursor, "{\n  \"mcpServers\": {}\n}\n"),
    (
        ClientKind::VsCode,
        "{\n\t\"servers\": {},\n\t\"inputs\": []\n}",
    ),
    (
        ClientKind::Zed,
        "// Zed settings\n{\n  \"context_servers\": {}\n}\n",
    ),
    (ClientKind::Cline, "{\n  \"mcpServers\": {}\n}"),
    (ClientKind::RooCode, "{\n  \"mcpServers\": {}\n}"),
    (
        ClientKind::Codex,
        "model = \"gpt-5-codex\"\n\n[mcp_servers]\n",
    ),
    (ClientKind::LmStudio, "{\n  \"mcpServers\": {}\n}\n"),
    (
        ClientKind::Goose,
        "GOOSE_PROVIDER: openai\nGOOSE_MODEL: gpt-4o\nextensions: {}\n",
    ),
    (ClientKind::Kiro, "{\n  \"mcpServers\": {}\n}"),
];

#[test]
fn unregistering_gives_back_a_clients_default_file_byte_for_byte() {
    each(DEFAULT_FILES.iter().copied(), |(kind, original)| {
        let sandbox = Sandbox::new();
        sandbox.write(kind, Scope::User, original);
        sandbox.register(kind, Scope::User);
        let registered = sandbox.read(kind, Scope::User).expect("file");
        assert_entry_is_right(kind, Scope::User, &registered, None);
        assert_only_gatehouse_changed(kind, original, &registered);
        sandbox.unregister(kind, Scope::User);
        assert_eq!(sandbox.read(kind, Scope::User).as_deref(), Some(original));
    });
}

#[test]
fn cline_and_roo_keep_their_required_servers_key_when_the_last_server_goes() {
    let cases = [
        (ClientKind::Cline, Scope::User),
        (ClientKind::RooCode, Scope::User),
        (ClientKind::RooCode, Scope::Project),
    ];
    each(cases, |(kind, scope)| {
        let sandbox = Sandbox::new();
        // Written by the client itself since Gatehouse registered, so there
        // is no version of Gatehouse's to go back to.
        let text = "{\n  \"mcpServers\": {\n    \"gatehouse\": {\n      \"command\": \"gatehouse\",\n      \"args\": [\"bridge\"]\n    }\n  }\n}";
        sandbox.write(kind, scope, text);
        sandbox.unregister(kind, scope);
        let after = sandbox.read(kind, scope).expect("file");
        let strict: Json = serde_json::from_str(&after).expect("strict JSON");
        assert_eq!(strict, json!({ "mcpServers": {} }), "{after}");
    });
}

#[test]
fn registering_twice_changes_nothing_the_second_time() {
    each_site(|kind, scope| {
        for case in ["realistic", "outdated", "empty", "missing"] {
            let sandbox = Sandbox::new();
            match case {
                "missing" => {}
                "empty" => sandbox.write(kind, scope, ""),
                _ => sandbox.write(kind, scope, &fixture(kind, scope, case)),
            }
            sandbox.register(kind, scope);
            let written = sandbox.read(kind, scope);
            let again = sandbox
                .plan(kind, scope, Action::Register, None)
                .expect("plan");
            assert!(!again.changed(), "{case}: {}", again.diff());
            assert_eq!(again.diff(), "");
            assert_eq!(
                sandbox
                    .registrar
                    .apply(&again, &again.base())
                    .expect("apply"),
                None
            );
            assert_eq!(sandbox.read(kind, scope), written);
        }
    });
}

#[test]
fn unregistering_removes_exactly_gatehouses_entry() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        let original = fixture(kind, scope, "outdated");
        sandbox.write(kind, scope, &original);
        sandbox.unregister(kind, scope);
        let after = sandbox.read(kind, scope);
        if kind == ClientKind::Continue {
            assert_eq!(after, None, "Continue's own file, emptied, is deleted");
            return;
        }
        let after = after.expect("the file stays");
        assert_golden(kind, scope, "unregistered", ext(kind), &after);
        assert!(entry(kind, &after, "gatehouse").is_none());
        assert!(!after.contains("gatehouse\""), "{after}");
        assert_only_gatehouse_changed(kind, &original, &after);
        assert_eq!(sandbox.status(kind, scope).state, State::Absent);
    });
}

#[test]
fn unregistering_when_there_is_no_entry_changes_nothing() {
    each_site(|kind, scope| {
        for case in ["realistic", "empty", "missing"] {
            let sandbox = Sandbox::new();
            match case {
                "missing" => {}
                "empty" => sandbox.write(kind, scope, ""),
                _ => sandbox.write(kind, scope, &fixture(kind, scope, case)),
            }
            let plan = sandbox
                .plan(kind, scope, Action::Unregister, None)
                .expect("plan");
            assert!(!plan.changed(), "{case}: {}", plan.diff());
        }
    });
}

#[test]
fn a_per_server_entry_is_named_after_its_server() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        let original = fixture(kind, scope, "realistic");
        sandbox.write(kind, scope, &original);
        sandbox.register(kind, scope);
        sandbox.run(kind, scope, Action::Register, Some("github"));
        let after = sandbox.read(kind, scope).expect("file");
        assert_entry_is_right(kind, scope, &after, None);
        assert_entry_is_right(kind, scope, &after, Some("github"));
        assert_only_gatehouse_changed(kind, &original, &after);
        let status = sandbox.status(kind, scope);
        assert_eq!(status.state, State::Registered);
        assert!(
            status.server_entries.contains(&"github".to_owned()),
            "{status:?}"
        );
        assert!(
            !status
                .other_servers
                .iter()
                .any(|s| s.starts_with("gatehouse"))
        );

        // Unregistering one server leaves the aggregate entry alone.
        sandbox.run(kind, scope, Action::Unregister, Some("github"));
        let after = sandbox.read(kind, scope).expect("file");
        assert!(entry(kind, &after, "gatehouse-github").is_none());
        assert_entry_is_right(kind, scope, &after, None);
    });
}

/// The user-scope files whose entry holds the token.
fn http_user_sites() -> impl Iterator<Item = ClientKind> {
    ClientKind::ALL
        .into_iter()
        .filter(|kind| holds_token(*kind, Scope::User))
}

#[test]
fn refresh_rewrites_user_http_entries_after_the_token_changes() {
    let sandbox = Sandbox::new();
    for kind in ClientKind::ALL {
        let original = fixture(kind, Scope::User, "realistic");
        sandbox.write(kind, Scope::User, &original);
        sandbox.register(kind, Scope::User);
        sandbox.run(kind, Scope::User, Action::Register, Some("github"));
    }
    let desktop = sandbox.read(ClientKind::ClaudeDesktop, Scope::User);
    let backups = sandbox.backups().len();

    let rotated = sandbox.registrar_with_token("gh-rotated-token-9876543210");
    for kind in http_user_sites() {
        assert_eq!(
            rotated
                .status(kind, Scope::User, None)
                .expect("status")
                .state,
            State::Outdated,
            "{}",
            kind.id()
        );
    }
    let done = rotated.refresh();
    let rewritten: Vec<ClientKind> = done
        .iter()
        .map(|(kind, _, result)| {
            assert!(matches!(result, Ok(true)), "{}: {result:?}", kind.id());
            *kind
        })
        .collect();
    assert_eq!(rewritten, http_user_sites().collect::<Vec<_>>());
    for kind in http_user_sites() {
        let text = sandbox.read(kind, Scope::User).expect("file");
        for name in ["gatehouse", "gatehouse-github"] {
            let rendered = entry(kind, &text, name).expect("entry").to_string();
            assert!(
                rendered.contains("Bearer gh-rotated-token-9876543210"),
                "{}: {rendered}",
                kind.id()
            );
        }
        assert!(
            !text.contains(TOKEN),
            "{}: the old token is left:\n{text}",
            kind.id()
        );
        assert_eq!(
            rotated
                .status(kind, Scope::User, None)
                .expect("status")
                .state,
            State::Registered
        );
    }
    assert_eq!(
        sandbox.read(ClientKind::ClaudeDesktop, Scope::User),
        desktop
    );
    assert_eq!(sandbox.backups().len(), backups + rewritten.len());
    assert!(
        rotated.refresh().is_empty(),
        "a second refresh has nothing to do"
    );
}

#[test]
fn refresh_leaves_files_without_gatehouse_entries_untouched() {
    let sandbox = Sandbox::new();
    for kind in ClientKind::ALL {
        sandbox.write(kind, Scope::User, &fixture(kind, Scope::User, "realistic"));
    }
    // Continue's own file holds only a per-server entry, which is current.
    let before: Vec<_> = ClientKind::ALL
        .into_iter()
        .map(|kind| sandbox.read(kind, Scope::User))
        .collect();
    let done = sandbox.registrar.refresh();
    assert!(done.is_empty(), "{done:?}");
    for (kind, text) in ClientKind::ALL.into_iter().zip(&before) {
        assert_eq!(&sandbox.read(kind, Scope::User), text, "{}", kind.id());
    }
    // Blank files too.
    for kind in ClientKind::ALL {
        sandbox.write(kind, Scope::User, "");
    }
    let done = sandbox.registrar.refresh();
    assert!(done.is_empty(), "{done:?}");
    for kind in ClientKind::ALL {
        assert_eq!(
            sandbox.read(kind, Scope::User).as_deref(),
            Some(""),
            "{}",
            kind.id()
        );
    }
    assert_eq!(sandbox.backups(), Vec::<PathBuf>::new());
}

#[test]
fn undo_restores_the_previous_version_and_a_second_undo_steps_further_back() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        let original = fixture(kind, scope, "realistic");
        sandbox.write(kind, scope, &original);
        let project = sandbox.project_for(scope);
        assert!(!sandbox.status(kind, scope).can_undo);

        sandbox.register(kind, scope);
        let first = sandbox.read(kind, scope);
        sandbox.run(kind, scope, Action::Register, Some("linear"));
        assert!(sandbox.status(kind, scope).can_undo);

        sandbox.registrar.undo(kind, scope, project).expect("undo");
        assert_eq!(sandbox.read(kind, scope), first);
        sandbox
            .registrar
            .undo(kind, scope, project)
            .expect("second undo");
        assert_eq!(
            sandbox.read(kind, scope).as_deref(),
            Some(original.as_str())
        );
        assert!(!sandbox.status(kind, scope).can_undo);
        assert!(matches!(
            sandbox.registrar.undo(kind, scope, project),
            Err(Error::NoBackup { .. })
        ));
        assert_eq!(
            sandbox.read(kind, scope).as_deref(),
            Some(original.as_str())
        );
    });
}

#[test]
fn undo_of_a_created_file_deletes_it() {
    each_site(|kind, scope| {
        let sandbox = Sandbox::new();
        sandbox.register(kind, scope);
        assert!(sandbox.path(kind, scope).exists());
        let backup = sandbox
            .registrar
            .undo(kind, scope, sandbox.project_for(scope))
            .expect("undo");
        assert_eq!(backup.content, None);
        assert!(!sandbox.path(kind, scope).exists());
    });
}

#[test]
fn backups_keep_five_versions_in_the_data_dir_not_beside_the_file() {
    let sandbox = Sandbox::new();
    let (kind, scope) = (ClientKind::Cursor, Scope::Project);
    sandbox.write(kind, scope, &fixture(kind, scope, "realistic"));
    let mut versions = Vec::new();
    for _ in 0..4 {
        versions.push(sandbox.read(kind, scope).expect("file"));
        sandbox.register(kind, scope);
        versions.push(sandbox.read(kind, scope).expect("file"));
        sandbox.unregister(kind, scope);
    }
    let backups = sandbox.backups();
    assert_eq!(backups.len(), 5, "{backups:?}");
    for backup in &backups {
        assert!(backup.starts_with(sandbox.data.join("client-backups")));
        #[cfg(unix)]
        assert_eq!(mode(backup), 0o600, "{}", backup.display());
    }
    // The five kept are the newest, and undo walks them back in order.
    for expected in versions.iter().rev().take(5) {
        sandbox
            .registrar
            .undo(kind, scope, Some(&sandbox.project))
            .expect("undo");
        assert_eq!(sandbox.read(kind, scope).as_ref(), Some(expected));
    }
    assert!(
        sandbox
            .registrar
            .undo(kind, scope, Some(&sandbox.project))
            .is_err()
    );
    let beside: Vec<_> = std::fs::read_dir(sandbox.path(kind, scope).parent().expect("dir"))
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("mcp.json")]);
    let in_project: BTreeSet<_> = std::fs::read_dir(&sandbox.project)
        .expect("project")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        in_project,
        BTreeSet::from([std::ffi::OsString::from(".cursor")])
    );
}

#[test]
fn apply_with_a_stale_base_writes_nothing() {
    let sandbox = Sandbox::new();
    let (kind, scope) = (ClientKind::ClaudeCode, Scope::User);
    let original = fixture(kind, scope, "realistic");
    sandbox.write(kind, scope, &original);
    let plan = sandbox
        .plan(kind, scope, Action::Register, None)
        .expect("plan");
    let stale = "0".repeat(64);
    assert!(matches!(
        sandbox.registrar.apply(&plan, &stale),
        Err(Error::ChangedSince { .. })
    ));
    assert_eq!(
        sandbox.read(kind, scope).as_deref(),
        Some(original.as_str())
    );
    assert_eq!(sandbox.backups(), Vec::<PathBuf>::new());
}

#[test]
fn apply_after_the_client_rewrote_the_file_writes_nothing() {
    let sandbox = Sandbox::new();
    let (kind, scope) = (ClientKind::Cursor, Scope::User);
    sandbox.write(kind, scope, &fixture(kind, scope, "realistic"));
    let plan = sandbox
        .plan(kind, scope, Action::Register, None)
        .expect("plan");
    let rewritten = format!("{}\n", fixture(kind, scope, "realistic"));
    sandbox.write(kind, scope, &rewritten);
    assert!(matches!(
        sandbox.registrar.apply(&plan, &plan.base()),
        Err(Error::ChangedSince { .. })
    ));
    assert_eq!(sandbox.read(kind, scope), Some(rewritten));
    assert_eq!(sandbox.backups(), Vec::<PathBuf>::new());
}

/// Claude Code writes its state file all the time: a change planned
/// against its servers still applies after it wrote something else, and
/// keeps what it wrote.
#[test]
fn claude_codes_state_written_since_the_plan_is_kept() {
    let sandbox = Sandbox::new();
    let (kind, scope) = (ClientKind::ClaudeCode, Scope::User);
    let original = fixture(kind, scope, "realistic");
    sandbox.write(kind, scope, &original);
    let plan = sandbox
        .plan(kind, scope, Action::Register, None)
        .expect("plan");
    assert!(!plan.by_client_command(), "no `claude` in the sandbox");
    let rewritten = original.replace("\"numStartups\": 214", "\"numStartups\": 215");
    assert_ne!(rewritten, original);
    sandbox.write(kind, scope, &rewritten);
    sandbox
        .registrar
        .apply(&plan, &plan.base())
        .expect("the servers did not change");
    let after = sandbox.read(kind, scope).expect("file");
    assert!(after.contains("\"numStartups\": 215"), "{after}");
    assert_entry_is_right(kind, scope, &after, None);
    assert_only_gatehouse_changed(kind, &rewritten, &after);
    // The backup is the file as it was just before the write.
    let backups = sandbox.backups();
    assert_eq!(backups.len(), 1);
    assert_eq!(
        std::fs::read_to_string(&backups[0]).expect("backup"),
        rewritten
    );

    // Its servers changing, though, is a change the plan did not see.
    let plan = sandbox
        .plan(kind, scope, Action::Register, Some("linear"))
        .expect("plan");
    let mut root: Json = serde_json::from_str(&after).expect("json");
    root["mcpServers"]["added-meanwhile"] = json!({ "command": "uvx", "args": ["x"] });
    let meanwhile = serde_json::to_string_pretty(&root).expect("json");
    sandbox.write(kind, scope, &meanwhile);
    assert!(matches!(
        sandbox.registrar.apply(&plan, &plan.base()),
        Err(Error::ChangedSince { .. })
    ));
    assert_eq!(sandbox.read(kind, scope), Some(meanwhile));
}

/// Undo in Claude Code's state file puts back Gatehouse's entries only:
/// the whole backup would throw away what Claude Code wrote since.
#[test]
fn undo_in_claude_codes_state_file_keeps_what_claude_code_wrote_since() {
    let sandbox = Sandbox::new();
    let (kind, scope) = (ClientKind::ClaudeCode, Scope::User);
    let original = fixture(kind, scope, "realistic");
    sandbox.write(kind, scope, &original);
    sandbox.register(kind, scope);
    let registered = sandbox.read(kind, scope).expect("file");
    let rewritten = registered.replace("\"numStartups\": 214", "\"numStartups\": 216");
    assert_ne!(rewritten, registered);
    sandbox.write(kind, scope, &rewritten);

    sandbox.registrar.undo(kind, scope, None).expect("undo");
    let after = sandbox.read(kind, scope).expect("file");
    assert!(after.contains("\"numStartups\": 216"), "{after}");
    assert_eq!(entry(kind, &after, "gatehouse"), None);
    let expected = original.replace("\"numStartups\": 214", "\"numStartups\": 216");
    assert_eq!(
        without_gatehouse(kind, parse_root(kind, &after)),
        without_gatehouse(kind, parse_root(kind, &expected))
    );
    assert!(!sandbox.status(kind, scope).can_undo);
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_stays_a_symlink_and_its_target_changes() {
    let sandbox = Sandbox::new();
    let (kind, scope) = (ClientKind::Zed, Scope::User);
    let dotfiles = sandbox.home.join("dotfiles").join("zed");
    std::fs::create_dir_all(&dotfiles).expect("dotfiles");
    let real = dotfiles.join("settings.json");
    let original = fixture(kind, scope, "realistic");
    std::fs::write(&real, &original).expect("write");
    let link = sandbox.path(kind, scope);
    std::fs::create_dir_all(link.parent().expect("parent")).expect("dir");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");

    sandbox.register(kind, scope);
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_link(&link).expect("link"), real);
    let after = std::fs::read_to_string(&real).expect("target");
    assert_entry_is_right(kind, scope, &after, None);
    assert_eq!(sandbox.status(kind, scope).path, real);

    sandbox.registrar.undo(kind, scope, None).expect("undo");
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&real).expect("target"), original);
}

#[test]
fn a_byte_order_mark_is_kept() {
    let cases = [
        (ClientKind::ClaudeDesktop, Scope::User),
        (ClientKind::VsCode, Scope::Project),
        (ClientKind::Codex, Scope::User),
        (ClientKind::Goose, Scope::User),
    ];
    each(cases, |(kind, scope)| {
        let sandbox = Sandbox::new();
        let original = format!("\u{feff}{}", fixture(kind, scope, "realistic"));
        sandbox.write(kind, scope, &original);
        sandbox.register(kind, scope);
        let after = sandbox.read(kind, scope).expect("file");
        assert!(after.starts_with('\u{feff}'), "the BOM is gone");
        assert!(!after[3..].contains('\u{feff}'), "two BOMs");
        assert_entry_is_right(kind, scope, &after, None);
        sandbox.unregister(kind, scope);
        assert_eq!(sandbox.read(kind, scope), Some(original));
    });
}

#[test]
fn windows_line_endings_are_kept() {
    let cases = [
        (ClientKind::ClaudeDesktop, Scope::User),
        (ClientKind::Zed, Scope::User),
        (ClientKind::Codex, Scope::User),
        (ClientKind::Goose, Scope::User),
    ];
    each(cases, |(kind, scope)| {
        let sandbox = Sandbox::new();
        let original = fixture(kind, scope, "realistic").replace('\n', "\r\n");
        sandbox.write(kind, scope, &original);
        sandbox.register(kind, scope);
        let after = sandbox.read(kind, scope).expect("file");
        let bare = after
            .match_indices('\n')
            .filter(|(at, _)| !after[..*at].ends_with('\r'));
        assert_eq!(bare.count(), 0, "a bare LF in:\n{after:?}");
        assert_entry_is_right(kind, scope, &after, None);
        sandbox.unregister(kind, scope);
        assert_eq!(sandbox.read(kind, scope), Some(original));
    });
}

#[test]
fn a_servers_key_that_is_not_a_map_is_refused() {
    let cases = [
        (
            ClientKind::ClaudeDesktop,
            "{\n  \"mcpServers\": []\n}\n",
            "mcpServers",
            "an array",
        ),
        (
            ClientKind::Zed,
            "{\n  \"context_servers\": null,\n}\n",
            "context_servers",
            "null",
        ),
        (
            ClientKind::Codex,
            "mcp_servers = \"none\"\n",
            "mcp_servers",
            "a string",
        ),
        (
            ClientKind::Goose,
            "extensions:\n- developer\n",
            "extensions",
            "an array",
        ),
        (ClientKind::Cursor, "[]\n", "", "an array"),
    ];
    each(cases, |(kind, text, key, found)| {
        let sandbox = Sandbox::new();
        sandbox.write(kind, Scope::User, text);
        for action in [Action::Register, Action::Unregister] {
            match sandbox.plan(kind, Scope::User, action, None) {
                Err(Error::Shape { path, source }) => {
                    assert_eq!(path, sandbox.path(kind, Scope::User));
                    assert_eq!(source.path, key);
                    assert_eq!(source.found, found);
                }
                other => panic!("{action:?}: expected a shape error, got {other:?}"),
            }
        }
        let status = sandbox.status(kind, Scope::User);
        assert_eq!(status.state, State::Unreadable);
        assert!(status.detail.is_some_and(|d| d.contains("not a map")));
        assert_eq!(sandbox.read(kind, Scope::User).as_deref(), Some(text));
        assert_eq!(sandbox.backups(), Vec::<PathBuf>::new());
    });
}

const DESKTOP_WITH_SECRETS: &str = r#"{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "LOG_LEVEL": "debug"
      }
    },
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/maya/Documents"]
    },
    "linear": {
      "url": "https://mcp.linear.app/mcp"
    },
    "gatehouse": {
      "command": "/opt/gatehouse/bin/gatehouse",
      "args": ["bridge"]
    }
  },
  "preferences": {
    "menuBarEnabled": false
  }
}
"#;

#[test]
fn import_sets_credentials_apart_and_skips_urls_and_gatehouse() {
    let sandbox = Sandbox::new();
    let kind = ClientKind::ClaudeDesktop;
    sandbox.write(kind, Scope::User, DESKTOP_WITH_SECRETS);
    let found = sandbox
        .registrar
        .import_candidates(kind, Scope::User, None)
        .expect("candidates");
    let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["github", "filesystem", "linear"]);

    let github = &found[0];
    assert_eq!(github.command.as_deref(), Some("npx"));
    assert_eq!(github.args, ["-y", "@modelcontextprotocol/server-github"]);
    assert_eq!(github.env, [("LOG_LEVEL".to_owned(), "debug".to_owned())]);
    assert_eq!(github.secrets.len(), 1);
    assert_eq!(github.secrets[0].0, "GITHUB_PERSONAL_ACCESS_TOKEN");
    assert_eq!(
        github.secrets[0].1.expose(),
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
    );
    assert!(
        !format!("{github:?}").contains("ghp_"),
        "Debug shows the secret"
    );
    assert!(github.enabled && github.skip.is_none());

    assert!(found[1].skip.is_none() && found[1].secrets.is_empty());
    assert!(
        found[2]
            .skip
            .as_deref()
            .is_some_and(|why| why.contains("remote"))
    );
    assert_eq!(
        sandbox.read(kind, Scope::User).as_deref(),
        Some(DESKTOP_WITH_SECRETS)
    );
}

#[test]
fn plan_replace_swaps_the_imported_servers_for_gatehouses_entry() {
    let sandbox = Sandbox::new();
    let kind = ClientKind::ClaudeDesktop;
    sandbox.write(kind, Scope::User, DESKTOP_WITH_SECRETS);
    let names = ["github".to_owned(), "filesystem".to_owned()];
    let plan = sandbox
        .registrar
        .plan_replace(kind, Scope::User, None, &names)
        .expect("plan");
    let secret = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
    let diff = plan.diff();
    assert!(diff.contains("-    \"github\": {"), "{diff}");
    assert!(!diff.contains(secret) && !diff.contains(TOKEN), "{diff}");
    let backup = sandbox
        .registrar
        .apply_replace(
            &plan,
            &[(
                secret.to_owned(),
                "${GITHUB_PERSONAL_ACCESS_TOKEN}".to_owned(),
            )],
        )
        .expect("apply")
        .expect("a backup");
    let after = sandbox.read(kind, Scope::User).expect("file");
    assert_golden(kind, Scope::User, "replaced", "json", &after);
    let names: Vec<String> = servers(kind, &after).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["linear", "gatehouse"]);
    assert_entry_is_right(kind, Scope::User, &after, None);
    let mut expected = parse_root(kind, DESKTOP_WITH_SECRETS);
    if let Some(Json::Object(servers)) = expected.get_mut("mcpServers") {
        servers.remove("github");
        servers.remove("filesystem");
    }
    assert_eq!(
        without_gatehouse(kind, parse_root(kind, &after)),
        without_gatehouse(kind, expected)
    );
    // The secret moved to the keyring is not left in the backup either.
    let saved = std::fs::read_to_string(&backup).expect("backup");
    assert!(!saved.contains(secret), "{saved}");
    assert!(saved.contains("${GITHUB_PERSONAL_ACCESS_TOKEN}"));
}

#[test]
fn continues_own_file_is_deleted_with_its_last_entry() {
    for scope in [Scope::User, Scope::Project] {
        let sandbox = Sandbox::new();
        let kind = ClientKind::Continue;
        sandbox.register(kind, scope);
        sandbox.run(kind, scope, Action::Register, Some("github"));
        sandbox.unregister(kind, scope);
        let left = sandbox.read(kind, scope).expect("one entry left");
        assert_entry_is_right(kind, scope, &left, Some("github"));
        let plan = sandbox.run(kind, scope, Action::Unregister, Some("github"));
        assert_eq!(plan.after, None, "the plan deletes the file");
        assert!(plan.diff().contains("+++ /dev/null"), "{}", plan.diff());
        assert!(!sandbox.path(kind, scope).exists());
        // Undo brings it back.
        sandbox
            .registrar
            .undo(kind, scope, sandbox.project_for(scope))
            .expect("undo");
        assert_eq!(sandbox.read(kind, scope), Some(left));
    }
}

#[test]
fn claude_code_project_scope_writes_the_bridge_to_mcp_json() {
    let sandbox = Sandbox::new();
    let plan = sandbox.register(ClientKind::ClaudeCode, Scope::Project);
    assert_eq!(plan.path, sandbox.project.join(".mcp.json"));
    let text = sandbox
        .read(ClientKind::ClaudeCode, Scope::Project)
        .expect("file");
    let written: Json = serde_json::from_str(&text).expect("strict JSON");
    assert_eq!(
        written,
        json!({ "mcpServers": { "gatehouse": { "type": "stdio", "command": "gatehouse", "args": ["bridge"] } } })
    );
    let status = sandbox.status(ClientKind::ClaudeCode, Scope::Project);
    assert_eq!(status.state, State::Registered);
    assert_eq!(status.form, gatehouse_clients::Form::Stdio);
}

#[test]
fn project_scope_needs_a_project_directory() {
    let sandbox = Sandbox::new();
    assert!(matches!(
        sandbox.registrar.plan(
            ClientKind::Cursor,
            Scope::Project,
            None,
            Action::Register,
            None
        ),
        Err(Error::ProjectRequired { .. })
    ));
    let file = sandbox.project.join("README.md");
    std::fs::write(&file, "# storefront\n").expect("write");
    assert!(matches!(
        sandbox.registrar.plan(
            ClientKind::Cursor,
            Scope::Project,
            Some(&file),
            Action::Register,
            None
        ),
        Err(Error::NotADirectory { .. })
    ));
    assert!(matches!(
        sandbox.registrar.plan(
            ClientKind::ClaudeDesktop,
            Scope::Project,
            Some(&sandbox.project),
            Action::Register,
            None
        ),
        Err(Error::NoScope { .. })
    ));
}

// ------------------------------------------------------------ path rules

/// `path` is `base` followed by `parts`, compared by component.
fn assert_path(path: &Path, base: &Path, parts: &[&str]) {
    let wanted = parts
        .iter()
        .fold(base.to_owned(), |path, part| path.join(part));
    assert_eq!(
        path.components().collect::<Vec<_>>(),
        wanted.components().collect::<Vec<_>>()
    );
}

fn user_path(env: &Environment, kind: ClientKind) -> PathBuf {
    kind.user_location(env).expect("user file").path
}

#[test]
fn linux_paths_follow_xdg() {
    let home = PathBuf::from("/home/maya");
    let env = Environment::new(Os::Linux, home.clone(), &[]);
    let expected: &[(ClientKind, &[&str])] = &[
        (
            ClientKind::ClaudeDesktop,
            &[".config", "Claude", "claude_desktop_config.json"],
        ),
        (ClientKind::ClaudeCode, &[".claude.json"]),
        (ClientKind::Cursor, &[".cursor", "mcp.json"]),
        (ClientKind::VsCode, &[".config", "Code", "User", "mcp.json"]),
        (
            ClientKind::Windsurf,
            &[".codeium", "windsurf", "mcp_config.json"],
        ),
        (ClientKind::Zed, &[".config", "zed", "settings.json"]),
        (
            ClientKind::Cline,
            &[".cline", "data", "settings", "cline_mcp_settings.json"],
        ),
        (
            ClientKind::RooCode,
            &[
                ".config",
                "Code",
                "User",
                "globalStorage",
                "rooveterinaryinc.roo-cline",
                "settings",
                "mcp_settings.json",
            ],
        ),
        (ClientKind::Gemini, &[".gemini", "settings.json"]),
        (ClientKind::Codex, &[".codex", "config.toml"]),
        (ClientKind::LmStudio, &[".lmstudio", "mcp.json"]),
        (ClientKind::Goose, &[".config", "goose", "config.yaml"]),
        (
            ClientKind::Opencode,
            &[".config", "opencode", "opencode.json"],
        ),
        (ClientKind::Kiro, &[".kiro", "settings", "mcp.json"]),
        (
            ClientKind::Continue,
            &[".continue", "mcpServers", "gatehouse.json"],
        ),
    ];
    assert_eq!(expected.len(), ClientKind::ALL.len());
    for (kind, parts) in expected {
        assert_path(&user_path(&env, *kind), &home, parts);
    }

    let xdg = Environment::new(
        Os::Linux,
        home.clone(),
        &[
            ("XDG_CONFIG_HOME", "/home/maya/.xdg"),
            ("CODEX_HOME", "/srv/codex"),
            ("CLAUDE_CONFIG_DIR", "/home/maya/.claude-work"),
        ],
    );
    assert_path(
        &user_path(&xdg, ClientKind::Zed),
        Path::new("/home/maya/.xdg"),
        &["zed", "settings.json"],
    );
    assert_path(
        &user_path(&xdg, ClientKind::VsCode),
        Path::new("/home/maya/.xdg"),
        &["Code", "User", "mcp.json"],
    );
    assert_path(
        &user_path(&xdg, ClientKind::Opencode),
        Path::new("/home/maya/.xdg"),
        &["opencode", "opencode.json"],
    );
    assert_path(
        &user_path(&xdg, ClientKind::Codex),
        Path::new("/srv/codex"),
        &["config.toml"],
    );
    assert_path(
        &user_path(&xdg, ClientKind::ClaudeCode),
        Path::new("/home/maya/.claude-work"),
        &[".claude.json"],
    );
}

#[test]
fn macos_paths() {
    let home = PathBuf::from("/Users/maya");
    let env = Environment::new(Os::MacOs, home.clone(), &[]);
    let support = ["Library", "Application Support"];
    let under_support = |rest: &[&str]| -> Vec<String> {
        support
            .iter()
            .chain(rest)
            .map(|s| (*s).to_owned())
            .collect()
    };
    let expected: Vec<(ClientKind, Vec<String>)> = vec![
        (
            ClientKind::ClaudeDesktop,
            under_support(&["Claude", "claude_desktop_config.json"]),
        ),
        (
            ClientKind::VsCode,
            under_support(&["Code", "User", "mcp.json"]),
        ),
        (
            ClientKind::RooCode,
            under_support(&[
                "Code",
                "User",
                "globalStorage",
                "rooveterinaryinc.roo-cline",
                "settings",
                "mcp_settings.json",
            ]),
        ),
        (
            ClientKind::Zed,
            vec![".config".into(), "zed".into(), "settings.json".into()],
        ),
        (
            ClientKind::Goose,
            vec![".config".into(), "goose".into(), "config.yaml".into()],
        ),
        (
            ClientKind::Opencode,
            vec![".config".into(), "opencode".into(), "opencode.json".into()],
        ),
        (ClientKind::ClaudeCode, vec![".claude.json".into()]),
        (
            ClientKind::Codex,
            vec![".codex".into(), "config.toml".into()],
        ),
    ];
    for (kind, parts) in expected {
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        assert_path(&user_path(&env, kind), &home, &parts);
    }
}

#[test]
fn windows_paths_use_appdata_and_the_user_profile() {
    let dir = TempDir::new().expect("temp");
    let home = dir.path().join("Users").join("maya");
    let roaming = home.join("AppData").join("Roaming");
    let local = home.join("AppData").join("Local");
    let vars = [
        ("APPDATA", roaming.to_str().expect("utf-8")),
        ("LOCALAPPDATA", local.to_str().expect("utf-8")),
    ];
    let env = Environment::new(Os::Windows, home.clone(), &vars);
    assert_path(
        &user_path(&env, ClientKind::ClaudeDesktop),
        &roaming,
        &["Claude", "claude_desktop_config.json"],
    );
    assert_path(
        &user_path(&env, ClientKind::VsCode),
        &roaming,
        &["Code", "User", "mcp.json"],
    );
    assert_path(
        &user_path(&env, ClientKind::Zed),
        &roaming,
        &["Zed", "settings.json"],
    );
    assert_path(
        &user_path(&env, ClientKind::Goose),
        &roaming,
        &["Block", "goose", "config", "config.yaml"],
    );
    assert_path(
        &user_path(&env, ClientKind::ClaudeCode),
        &home,
        &[".claude.json"],
    );
    assert_path(
        &user_path(&env, ClientKind::Cursor),
        &home,
        &[".cursor", "mcp.json"],
    );
    assert_path(
        &user_path(&env, ClientKind::Codex),
        &home,
        &[".codex", "config.toml"],
    );
    assert_path(
        &user_path(&env, ClientKind::Opencode),
        &home,
        &[".config", "opencode", "opencode.json"],
    );
    assert_path(
        &user_path(&env, ClientKind::Cline),
        &home,
        &[".cline", "data", "settings", "cline_mcp_settings.json"],
    );

    // Without %APPDATA%, the default under the profile.
    let bare = Environment::new(Os::Windows, home.clone(), &[]);
    assert_path(
        &user_path(&bare, ClientKind::VsCode),
        &home,
        &["AppData", "Roaming", "Code", "User", "mcp.json"],
    );
}

#[test]
fn windows_claude_desktop_from_the_store_uses_its_virtualised_folder() {
    let dir = TempDir::new().expect("temp");
    let home = dir.path().join("Users").join("maya");
    let roaming = home.join("AppData").join("Roaming");
    let local = home.join("AppData").join("Local");
    let vars = [
        ("APPDATA", roaming.to_str().expect("utf-8")),
        ("LOCALAPPDATA", local.to_str().expect("utf-8")),
    ];
    let env = Environment::new(Os::Windows, home.clone(), &vars);
    // Another app's package does not count.
    std::fs::create_dir_all(
        local
            .join("Packages")
            .join("Microsoft.WindowsTerminal_8wekyb3d8bbwe"),
    )
    .expect("dir");
    assert_path(
        &user_path(&env, ClientKind::ClaudeDesktop),
        &roaming,
        &["Claude", "claude_desktop_config.json"],
    );

    let package = local.join("Packages").join("Claude_pzs8sxrjxfjjc");
    std::fs::create_dir_all(&package).expect("dir");
    assert_path(
        &user_path(&env, ClientKind::ClaudeDesktop),
        &package,
        &[
            "LocalCache",
            "Roaming",
            "Claude",
            "claude_desktop_config.json",
        ],
    );
}
