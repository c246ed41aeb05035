//! Against the real OS keyring: `make test` runs this inside `dbus-run-session`
//! with an unlocked gnome-keyring. Without a reachable keyring the test fails
//! and prints the reason, rather than pretending to pass.

use gatehouse_secrets::{Secret, SecretStore};

#[test]
fn set_get_remove_round_trip_in_the_real_keyring() {
    let store = SecretStore::new(&format!("gatehouse-test-{}", std::process::id()));
    store.probe().unwrap_or_else(|err| panic!("{err}"));

    assert_eq!(store.get("demo/API_KEY").unwrap(), None);
    store
        .set("demo/API_KEY", &Secret::new("s3cr3t-value".to_owned()))
        .unwrap();
    assert_eq!(
        store.get("demo/API_KEY").unwrap().unwrap().expose(),
        "s3cr3t-value"
    );
    store
        .set("demo/API_KEY", &Secret::new("rotated".to_owned()))
        .unwrap();
    assert_eq!(
        store.get("demo/API_KEY").unwrap().unwrap().expose(),
        "rotated"
    );
    assert!(store.remove("demo/API_KEY").unwrap());
    assert!(!store.remove("demo/API_KEY").unwrap());
    assert_eq!(store.get("demo/API_KEY").unwrap(), None);
}
