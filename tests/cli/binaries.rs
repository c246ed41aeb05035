//! The three executables: `gatehouse`, the command line every client's
//! bridge and `gatehouse serve` run as, which must stay free of the GUI
//! libraries; `gatehouse-tray`, the core and the tray icon it hands over to,
//! which stays running and so must stay free of the web engine; and
//! `gatehouse-app`, the windows, which the tray starts when they open.

use std::path::Path;
use std::process::Command;

use crate::util::{Sandbox, binary, stderr, stdout};

fn app_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gatehouse-app"))
}

#[cfg(target_os = "linux")]
fn tray_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gatehouse-tray"))
}

/// The shared libraries `binary` asks the dynamic linker for.
#[cfg(target_os = "linux")]
fn needed_libraries(binary: &Path) -> Vec<String> {
    let output = Command::new("readelf")
        .arg("--dynamic")
        .arg(binary)
        .output()
        .expect("run readelf (binutils)");
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| Some(line.split_once('[')?.1.trim_end_matches(']').to_owned()))
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn the_command_line_links_no_gui_library() {
    let gui = |library: &String| {
        [
            "gtk",
            "gdk",
            "webkit",
            "javascriptcore",
            "soup",
            "appindicator",
        ]
        .iter()
        .any(|name| library.contains(name))
    };
    let app = needed_libraries(app_binary());
    assert!(app.iter().any(gui), "the windows link no GUI? {app:?}");
    let cli = needed_libraries(binary());
    assert!(!cli.is_empty(), "no NEEDED entries read from {cli:?}");
    assert!(!cli.iter().any(gui), "gatehouse links {cli:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn the_tray_links_gtk_but_no_web_engine() {
    let web = |library: &String| {
        ["webkit", "javascriptcore", "soup"]
            .iter()
            .any(|name| library.contains(name))
    };
    let app = needed_libraries(app_binary());
    assert!(app.iter().any(web), "the windows link no WebKit? {app:?}");
    let tray = needed_libraries(tray_binary());
    assert!(
        tray.iter().any(|library| library.contains("gtk")),
        "the tray links no GTK? {tray:?}"
    );
    assert!(!tray.iter().any(web), "gatehouse-tray links {tray:?}");
}

#[test]
fn without_the_tray_app_beside_it_gatehouse_says_where_it_looked() {
    let alone = tempfile::tempdir().unwrap();
    let copy = alone
        .path()
        .join(format!("gatehouse{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(binary(), &copy).unwrap();
    // Another test forking just while the copy was open for writing leaves
    // its child holding that descriptor until it execs: Linux refuses to run
    // a file open for writing (ETXTBSY) until then.
    let mut attempts = 0;
    let output = loop {
        match Command::new(&copy).output() {
            Err(err) if err.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 100 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => break result.unwrap(),
        }
    };
    assert!(!output.status.success());
    let message = stderr(&output);
    let expected = alone
        .path()
        .join(format!("gatehouse-tray{}", std::env::consts::EXE_SUFFIX));
    assert!(
        message.contains(&expected.display().to_string()) && message.contains("gatehouse serve"),
        "{message}"
    );
}

#[test]
fn the_windows_executable_writes_bridge_entries_that_run_the_command_line() {
    let sandbox = Sandbox::new();
    // `client register`, run by the windows' executable.
    let mut app = sandbox.command_of(
        app_binary(),
        &["client", "register", "claude-desktop", "--dry-run"],
    );
    app.env("GATEHOUSE_TOKEN", "0123456789abcdef0123456789abcdef");
    let output = app.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let cli = std::fs::canonicalize(binary()).unwrap();
    let diff = stdout(&output);
    assert!(
        diff.contains(&format!("\"command\": {}", serde_json::json!(cli))),
        "{diff}"
    );
    assert!(!diff.contains("gatehouse-app"), "{diff}");
}
