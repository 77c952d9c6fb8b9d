//! The command line of the binary: `--version`, `--help`, options and variables refused at start,
//! and the administration commands (`stats`, `dead-letters …`, `requeue`, `migrate`) on both
//! stores, while a receiver runs.

mod support;

use std::time::Duration;

use support::*;

fn text(output: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn version_and_help_answer_without_starting_a_receiver() {
    let output = run(&["--version"], &[]);
    assert!(output.status.success());
    assert_eq!(
        text(&output).0,
        format!("smooch-receiver {}\n", env!("CARGO_PKG_VERSION"))
    );
    let output = run(&["--help"], &[]);
    assert!(output.status.success());
    let (help, _) = text(&output);
    for word in [
        "serve",
        "stats",
        "dead-letters",
        "requeue",
        "migrate",
        "SMOOCH_WEBHOOK_SECRETS_FILE",
        "SMOOCH_STORE",
        "SMOOCH_ADMIN_LISTEN",
        "SMOOCH_FORWARD_URL",
        "SMOOCH_LEASE",
        "SMOOCH_RETENTION",
        "SMOOCH_MAX_DEAD_LETTER",
        "SMOOCH_MAX_CONNECTIONS_PER_ADDRESS",
        "SMOOCH_WAL_LIMIT",
    ] {
        assert!(help.contains(word), "{word} not in --help:\n{help}");
    }
}

#[test]
fn an_unknown_option_or_variable_is_refused_naming_the_nearest_known_one() {
    let output = run(&["--header-timout", "1s"], &[("SMOOCH_WEBHOOK_SECRETS", CURRENT)]);
    assert_eq!(output.status.code(), Some(2));
    let (_, error) = text(&output);
    assert!(
        error.contains("--header-timout") && error.contains("--header-timeout"),
        "{error}"
    );

    let output = run(
        &[],
        &[
            ("SMOOCH_WEBHOOK_SECRETS", CURRENT),
            ("SMOOCH_HEADER_TIMOUT", "1s"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output).1,
        "smooch-receiver: unknown variable SMOOCH_HEADER_TIMOUT: did you mean SMOOCH_HEADER_TIMEOUT? \
         (`--help` lists every variable)\n"
    );
    // Without secrets, serve refuses to start, and says where to put them.
    let output = run(&["serve"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).1.contains("SMOOCH_WEBHOOK_SECRETS_FILE"),
        "{:?}",
        text(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_can_come_from_a_file() {
    bounded(Duration::from_secs(30), async {
        let store = TestStore::sqlite();
        let file = store.dir().join("secrets");
        std::fs::write(&file, format!("{CURRENT}\n{NEXT}\n")).unwrap();
        let log = store.dir().join("receiver.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let mut child = std::process::Command::new(receiver_binary())
            .env_clear()
            .env("SMOOCH_WEBHOOK_SECRETS_FILE", &file)
            .env("SMOOCH_LISTEN", "127.0.0.1:0")
            .env("SMOOCH_STORE", store.location())
            .stderr(log_file)
            .spawn()
            .unwrap();
        let address: std::net::SocketAddr = eventually(Duration::from_secs(20), "listening", || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let address = text
                .lines()
                .find(|line| line.contains("listening"))
                .and_then(|line| line.split_whitespace().find_map(|f| f.strip_prefix("address=")))
                .and_then(|a| a.parse().ok());
            async move { address }
        })
        .await;
        let mut client = Client::connect(address).await;
        assert_eq!(
            client.post(Some(NEXT), &fixture("postback.json")).await.status,
            200
        );
        assert_eq!(
            client.post(Some("wrong"), &fixture("postback.json")).await.status,
            401
        );
        child.kill().unwrap();
        child.wait().unwrap();
    })
    .await;
}

on_both_stores!(the_administration_commands_work_while_a_receiver_runs);

async fn the_administration_commands_work_while_a_receiver_runs(store: TestStore) {
    bounded(Duration::from_secs(60), async {
        let location = store.location();
        let env = [("SMOOCH_STORE", location.as_str())];
        // Before any receiver: nothing to administer, but `migrate` makes the store.
        let output = run(&["stats"], &env);
        assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
        let output = run(&["migrate"], &env);
        assert!(output.status.success(), "{:?}", text(&output));
        assert_eq!(text(&output).0, if store.is_postgres() {
            "the store is at schema version 2\n"
        } else {
            "the store is at schema version 3\n"
        });

        let process = Process::start(&location, &store.dir().join(format!("admin-{}.log", std::process::id())), &[]);
        let mut client = Client::connect(process.address).await;
        assert_eq!(client.post(Some(CURRENT), &fixture("postback.json")).await.status, 200);
        assert_eq!(client.post(Some(CURRENT), b"{\"trigger\": 3}").await.status, 400);
        store.all_done(1, Duration::from_secs(10)).await;
        // One set aside, by hand.
        assert_eq!(client.post(Some(CURRENT), &fixture("conversation_read.json")).await.status, 200);
        store.all_done(2, Duration::from_secs(10)).await;
        store
            .execute(
                "UPDATE deliveries SET state = 'failed', attempts = 5 WHERE id = (SELECT max(id) FROM deliveries); \
                 DELETE FROM delivery_done WHERE delivery_id = (SELECT max(id) FROM deliveries)",
            )
            .await;

        let output = run(&["stats"], &env);
        assert!(output.status.success(), "{:?}", text(&output));
        let (stats, _) = text(&output);
        assert_eq!(
            stats,
            "pending        0 deliveries in 0 lanes\noldest pending -\ndone           1\nset aside      1\n\
             webhooks       2\ndead letters   1 (1 not replayed)\n"
        );

        let letter = store.dead_letters().await[0].clone();
        let output = run(&["dead-letters", "list"], &env);
        let (list, _) = text(&output);
        assert!(list.starts_with("id\treceived_at\tstatus\tsize\treplayed_as\terror\n"), "{list}");
        assert!(list.contains(&format!("{}\t{}\t400\t14\t-\t", letter.id, letter.received_at)), "{list}");

        let output = run(&["dead-letters", "show", &letter.id.to_string()], &env);
        assert!(output.status.success());
        assert_eq!(output.stdout, b"{\"trigger\": 3}", "the body exactly as received");
        assert!(text(&output).1.contains("answered 400"), "{:?}", text(&output));
        let output = run(&["dead-letters", "show", "999"], &env);
        assert_eq!((output.status.code(), text(&output).1), (Some(1), "smooch-receiver: no dead letter 999\n".to_owned()));
        let output = run(&["dead-letters", "replay", &letter.id.to_string()], &env);
        assert_eq!(output.status.code(), Some(1));
        assert!(text(&output).1.contains("still does not parse"), "{:?}", text(&output));

        // requeue: the one set aside is handled again by the running receiver, without a restart.
        let output = run(&["requeue"], &env);
        assert!(output.status.success());
        assert!(text(&output).0.starts_with("1 delivery(ies)"), "{:?}", text(&output));
        let deliveries = store.all_done(2, Duration::from_secs(10)).await;
        assert_eq!(deliveries.len(), 2, "the one set aside, at the back of its lane again");
        process.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_that_can_lose_a_commit_is_refused() {
    let Some(store) = TestStore::postgres("refused_without_synchronous_commit").await else {
        return;
    };
    let url = format!("{}%20-csynchronous_commit%3Doff", store.location());
    let output = run(
        &["serve"],
        &[
            ("SMOOCH_STORE", &url),
            ("SMOOCH_WEBHOOK_SECRETS", CURRENT),
            ("SMOOCH_LISTEN", "127.0.0.1:0"),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let (_, log) = text(&output);
    assert!(log.contains("synchronous_commit = off"), "{log}");
}

#[test]
fn a_second_receiver_on_the_same_sqlite_file_is_refused() {
    let store = TestStore::sqlite();
    let first = Process::start(&store.location(), &store.dir().join("first.log"), &[]);
    let output = run(
        &[],
        &[
            ("SMOOCH_STORE", &store.location()),
            ("SMOOCH_WEBHOOK_SECRETS", CURRENT),
            ("SMOOCH_LISTEN", "127.0.0.1:0"),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).1.contains("another receiver serves this file"),
        "{:?}",
        text(&output)
    );
    first.stop();
}

/// Starts a second receiver on `store` and waits at most 15 s for it to exit: its exit code and
/// log, or `None` when it still runs (it was killed: it served the file too).
fn another_receiver(store: &std::path::Path) -> Option<(Option<i32>, String)> {
    let store = store.to_str().unwrap();
    serve_until_exit(&[("SMOOCH_WEBHOOK_SECRETS", CURRENT), ("SMOOCH_STORE", store)])
}

/// Runs `serve` on `127.0.0.1:0` with `env` (nothing else of the environment) and waits at most
/// 15 s for it to exit: its exit code and log, or `None` when it still runs (then it is killed).
fn serve_until_exit(env: &[(&str, &str)]) -> Option<(Option<i32>, String)> {
    let mut child = std::process::Command::new(receiver_binary())
        .env_clear()
        .env("SMOOCH_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(15) {
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    Some((output.status.code(), text(&output).1))
}

#[test]
fn a_second_receiver_through_a_hard_link_or_a_symlink_to_the_sqlite_file_is_refused() {
    let store = TestStore::sqlite();
    let (dir, path) = (store.dir(), std::path::PathBuf::from(store.location()));
    let first = Process::start(&store.location(), &dir.join("first.log"), &[]);
    let linked = dir.join("linked.sqlite3");
    std::fs::hard_link(&path, &linked).unwrap();
    let symlinked = dir.join("symlinked.sqlite3");
    std::os::unix::fs::symlink(&path, &symlinked).unwrap();
    for other in [&linked, &symlinked] {
        let (code, log) = another_receiver(other)
            .unwrap_or_else(|| panic!("a second receiver served the file as {}", other.display()));
        assert_eq!(code, Some(1), "{log}");
        assert!(log.contains("another receiver serves this file"), "{log}");
    }
    // The second name never got a write-ahead log of its own.
    assert!(!dir.join("linked.sqlite3-wal").exists());
    first.stop();
}

#[test]
fn an_administration_command_through_a_hard_link_beside_a_running_receiver_is_refused() {
    let store = TestStore::sqlite();
    let (dir, path) = (store.dir(), std::path::PathBuf::from(store.location()));
    let first = Process::start(&store.location(), &dir.join("first.log"), &[]);
    let linked = dir.join("linked.sqlite3");
    std::fs::hard_link(&path, &linked).unwrap();
    let output = run(&["requeue"], &[("SMOOCH_STORE", linked.to_str().unwrap())]);
    assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
    assert!(text(&output).1.contains("hard link"), "{:?}", text(&output));
    assert!(!dir.join("linked.sqlite3-wal").exists());
    first.stop();
    // Once no receiver runs, the command works through any name.
    let output = run(&["requeue"], &[("SMOOCH_STORE", linked.to_str().unwrap())]);
    assert!(output.status.success(), "{:?}", text(&output));
}

#[test]
fn no_file_is_left_beside_a_sqlite_store_that_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let directory = dir.path().join("a-directory");
    std::fs::create_dir(&directory).unwrap();
    let not_a_database = dir.path().join("notes.txt");
    std::fs::write(
        &not_a_database,
        "not a database, but an operator's notes\n".repeat(20),
    )
    .unwrap();
    let in_a_missing_directory = dir.path().join("missing").join("webhooks.sqlite3");
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    for store in [&directory, &not_a_database, &in_a_missing_directory] {
        let (code, log) = another_receiver(store).expect("refused at start");
        assert_eq!(code, Some(1), "{}: {log}", store.display());
        assert!(log.contains("cannot open the store"), "{log}");
        assert_eq!(listing(), before, "{}", store.display());
    }
    assert_eq!(std::fs::read_dir(&directory).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receivers_migrating_at_once_migrate_once() {
    let Some(store) = TestStore::postgres("migrating_at_once").await else {
        return;
    };
    let location = store.location();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let location = location.clone();
            std::thread::spawn(move || run(&["migrate"], &[("SMOOCH_STORE", &location)]))
        })
        .collect();
    for output in runs {
        let output = output.join().unwrap();
        assert!(output.status.success(), "{:?}", text(&output));
    }
    let client = pg_connect(&location).await;
    let versions: Vec<i32> = client
        .query("SELECT version FROM smooch_receiver_schema ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1, 2], "each migration applied once");
}

#[test]
fn the_systemd_unit_verifies_and_outlasts_the_shutdown_deadline() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/smooch-receiver.service"
    ))
    .unwrap();
    let value = |key: &str| {
        unit.lines()
            .find_map(|line| line.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
            .unwrap_or_else(|| panic!("no {key} in the unit"))
            .to_owned()
    };
    // Longer than the receiver's own deadline (the default, and the example environment's).
    let stop: u64 = value("TimeoutStopSec").trim_end_matches('s').parse().unwrap();
    let env = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/smooch-receiver.env"
    ))
    .unwrap();
    assert!(
        !env.lines()
            .any(|line| line.starts_with("SMOOCH_SHUTDOWN_TIMEOUT=")),
        "set in the env: check it here"
    );
    assert!(
        stop > smooch_receiver::Limits::default().shutdown_timeout.as_secs() + 5,
        "{stop}"
    );
    let files: usize = value("LimitNOFILE").parse().unwrap();
    assert!(
        files >= smooch_receiver::Limits::default().max_connections + 1024,
        "{files}"
    );
    // Every variable of the example environment is one the receiver knows.
    let output = run(&["--help"], &[]);
    let help = text(&output).0;
    for line in env.lines().map(|line| line.trim_start_matches('#')) {
        if let Some((name, _)) = line
            .split_once('=')
            .filter(|(name, _)| name.starts_with("SMOOCH_"))
        {
            // `[env: NAME=value]`, or `[env: NAME]` for a secret-bearing one.
            assert!(
                help.contains(&format!("[env: {name}=")) || help.contains(&format!("[env: {name}]")),
                "{name} is not a variable of --help"
            );
        }
    }
    // systemd's own check, with the binary where the unit expects it.
    let dir = tempfile::tempdir().unwrap();
    let checked = dir.path().join("smooch-receiver.service");
    std::fs::write(
        &checked,
        unit.replace(
            "/usr/local/bin/smooch-receiver",
            receiver_binary().to_str().unwrap(),
        ),
    )
    .unwrap();
    let output = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&checked)
        .output()
        .expect("systemd-analyze (systemd) is installed");
    let (out, err) = text(&output);
    assert!(
        output.status.success() && out.is_empty() && err.is_empty(),
        "{out}{err}"
    );
}

/// A value for the secret-bearing variable `name` with a secret in each place a URL can hold one
/// (the password, a `password=` and a `token=` in the query): every secret starts with `hunter2`.
fn secret_bearing_value(name: &str) -> String {
    format!("http://operator:hunter2-{name}@127.0.0.1:9/in?password=hunter2-{name}&token=hunter2-{name}")
}

/// Every secret-bearing variable, set by `secret_bearing_value`, and `SMOOCH_LISTEN`.
fn with_secrets() -> Vec<(String, String)> {
    // Every one, and at least these three.
    let names = smooch_receiver::config::SECRET_VARIABLES;
    for name in ["SMOOCH_WEBHOOK_SECRETS", "SMOOCH_STORE", "SMOOCH_FORWARD_URL"] {
        assert!(
            names.contains(&name),
            "{name} is not among the secret-bearing variables"
        );
    }
    let mut env: Vec<(String, String)> = names
        .iter()
        .map(|name| (name.to_string(), secret_bearing_value(name)))
        .collect();
    env.push(("SMOOCH_LISTEN".to_owned(), "127.0.0.1:0".to_owned()));
    env
}

#[test]
fn help_and_usage_errors_never_show_a_value_of_a_secret_bearing_variable() {
    let env = with_secrets();
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let help: &[&[&str]] = &[
        &["--help"],
        &["-h"],
        &["serve", "--help"],
        &["stats", "--help"],
        &["dead-letters", "--help"],
        &["dead-letters", "show", "--help"],
        &["requeue", "--help"],
        &["migrate", "--help"],
        &["help", "stats"],
    ];
    for args in help {
        let output = run(args, &env);
        assert!(output.status.success(), "{args:?}: {:?}", text(&output));
        let (out, err) = text(&output);
        assert!(out.contains("SMOOCH_STORE"), "{args:?}: {out}");
        assert!(
            !out.contains("hunter2") && !err.contains("hunter2"),
            "{args:?}: {out}{err}"
        );
    }
    // Usage errors: clap's, and the receiver's own checks of the settings.
    let https = "https://operator:hunter2-forward@127.0.0.1:9/in?token=hunter2-forward";
    let mysql = "mysql://operator:hunter2-store@127.0.0.1:9/db?password=hunter2-store";
    type Variables<'a> = &'a [(&'a str, &'a str)];
    let errors: &[(&[&str], Variables)] = &[
        (&["--header-timout", "1s"], &[]),
        (&["stats", "--bogus"], &[]),
        (&["dead-letters", "show"], &[]),
        (&["--forward-timeout", "soon"], &[]),
        (&["serve"], &[("SMOOCH_FORWARD_URL", https)]),
        (&["serve"], &[("SMOOCH_STORE", mysql)]),
        (&["stats"], &[("SMOOCH_STORE", mysql)]),
    ];
    for (args, overrides) in errors {
        let mut env = env.clone();
        env.retain(|(name, _)| overrides.iter().all(|(other, _)| other != name));
        env.extend_from_slice(overrides);
        let output = run(args, &env);
        assert!(!output.status.success(), "{args:?}: {:?}", text(&output));
        let (out, err) = text(&output);
        assert!(!err.is_empty(), "{args:?}: no error");
        assert!(
            !out.contains("hunter2") && !err.contains("hunter2"),
            "{args:?}: {out}{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_never_shows_the_credentials_of_the_forward_url() {
    bounded(Duration::from_secs(60), async {
        let store = TestStore::sqlite();
        // Nothing listens on port 9: every forward fails, and its failure is logged.
        let url =
            "http://operator:hunter2-password@127.0.0.1:9/in?password=hunter2-query&token=hunter2-token";
        let process = Process::start(
            &store.location(),
            &store.dir().join("receiver.log"),
            &[("SMOOCH_FORWARD_URL", url), ("SMOOCH_FORWARD_TIMEOUT", "1s")],
        );
        let mut client = Client::connect(process.address).await;
        assert_eq!(
            client.post(Some(CURRENT), &fixture("postback.json")).await.status,
            200
        );
        eventually(Duration::from_secs(20), "a failed forward", || async {
            let deliveries = store.deliveries().await;
            deliveries
                .first()
                .is_some_and(|delivery| delivery.attempts >= 1)
                .then_some(())
        })
        .await;
        process.stop();
        let log = std::fs::read_to_string(store.dir().join("receiver.log")).unwrap();
        assert!(log.contains("forward"), "{log}");
        assert!(!log.contains("hunter2"), "{log}");
        assert!(
            log.contains("forward=http://operator:***@127.0.0.1:9/in?password=***&token=***"),
            "{log}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mis_cased_postgres_scheme_is_taken_as_postgresql_and_its_password_never_shown() {
    // Nothing listens on port 1: PostgreSQL cannot be reached, and the error says so.
    for scheme in ["Postgres", "POSTGRESQL", "postgreSQL"] {
        let url =
            format!("{scheme}://smooch:hunter2-password@127.0.0.1:1/smooch_test?password=hunter2-query");
        let output = run(&["stats"], &[("SMOOCH_STORE", &url)]);
        assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
        let (_, error) = text(&output);
        assert!(
            error.contains("cannot connect to PostgreSQL"),
            "{scheme}: {error}"
        );
        assert!(!error.contains("hunter2"), "{error}");
        let (code, log) = serve_until_exit(&[("SMOOCH_STORE", &url), ("SMOOCH_WEBHOOK_SECRETS", CURRENT)])
            .expect("refused at start");
        assert_eq!(code, Some(1), "{log}");
        assert!(log.contains("cannot connect to PostgreSQL"), "{scheme}: {log}");
        assert!(!log.contains("hunter2"), "{log}");
    }
    // And with a database that answers, it is used.
    if let Some(store) = TestStore::postgres("mis_cased_scheme").await {
        let url = store.location().replacen("postgres://", "PostgreSQL://", 1);
        assert!(url.starts_with("PostgreSQL://"), "{url}");
        let output = run(&["migrate"], &[("SMOOCH_STORE", &url)]);
        assert!(output.status.success(), "{:?}", text(&output));
        assert!(
            text(&output).0.starts_with("the store is at schema version "),
            "{:?}",
            text(&output)
        );
        // The tables are there, in the test's schema.
        assert!(store.rows().await.is_empty());
    }
}

#[test]
fn a_webhook_secret_shorter_than_16_characters_is_refused_at_start_naming_the_reason() {
    let store = TestStore::sqlite();
    let location = store.location();
    let fifteen = "hunter2-abcdefg";
    assert_eq!(fifteen.len(), 15);
    let file = store.dir().join("secrets");
    std::fs::write(&file, format!("{CURRENT}\n{fifteen}\n")).unwrap();
    let together = format!("{CURRENT},{fifteen}");
    let file = file.to_str().unwrap();
    for (name, value) in [
        ("SMOOCH_WEBHOOK_SECRETS", fifteen),
        ("SMOOCH_WEBHOOK_SECRETS", together.as_str()),
        ("SMOOCH_WEBHOOK_SECRETS_FILE", file),
    ] {
        let (code, log) = serve_until_exit(&[(name, value), ("SMOOCH_STORE", &location)])
            .unwrap_or_else(|| panic!("started with a secret of 15 characters in {name}={value}"));
        assert_eq!(code, Some(2), "{log}");
        assert!(
            log.contains(name) && log.contains("at least 16 characters"),
            "{log}"
        );
        assert!(!log.contains("hunter2"), "{log}");
    }
    // Sixteen are enough.
    let sixteen = "hunter2-abcdefgh";
    let mut process = Process::start(
        &location,
        &store.dir().join("sixteen.log"),
        &[("SMOOCH_WEBHOOK_SECRETS", sixteen)],
    );
    assert_eq!(process.wait_within(Duration::from_millis(200)), None);
    process.stop();
}
