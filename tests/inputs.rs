//! What the tap is given, at its worst: devices, pipes and directories for files, other encodings,
//! unknown log levels, dates beyond RFC 3339's years, catalogs it would misread. Each ends within
//! seconds with one clear line and a failing exit, or works.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Run, Site, assert_valid_singer_output, tap};
use serde_json::{Value, json};

fn error_lines(run: &Run) -> Vec<&str> {
    run.stderr.lines().filter(|l| l.contains("ERROR")).collect()
}

/// A refusal: exit 1, one ERROR line holding `expected`, nothing on stdout, no panic.
fn assert_refused(run: &Run, expected: &str) {
    assert_eq!(run.code, 1, "expected a refusal:\n{}", run.stderr);
    let errors = error_lines(run);
    assert_eq!(errors.len(), 1, "one clear line:\n{}", run.stderr);
    assert!(
        errors[0].contains(expected),
        "expected `{expected}` in:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// Runs the tap and says how long it took.
fn timed(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (Run, Duration) {
    let started = Instant::now();
    let run = tap(args);
    (run, started.elapsed())
}

#[test]
fn devices_as_config_catalog_or_state_are_refused_at_once() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let zero = Path::new("/dev/zero");
    for (flag, args) in [
        ("--config", vec!["--config", "/dev/zero", "--discover"]),
        (
            "--catalog",
            vec![config.to_str().unwrap(), "--catalog", "/dev/zero"],
        ),
        (
            "--state",
            vec![config.to_str().unwrap(), "--state", "/dev/zero"],
        ),
    ] {
        let mut args: Vec<&str> = args;
        if flag != "--config" {
            args.insert(0, "--config");
        }
        let args: Vec<&dyn AsRef<std::ffi::OsStr>> = args
            .iter()
            .map(|a| a as &dyn AsRef<std::ffi::OsStr>)
            .collect();
        let (run, took) = timed(&args);
        assert!(took < Duration::from_secs(10), "{flag}: took {took:?}");
        assert_refused(&run, &format!("{}: is not a regular file", zero.display()));
    }
    assert!(
        site.sim.sim.requests().is_empty(),
        "refused before any request"
    );
}

#[test]
fn directories_and_fifos_without_a_writer_are_refused() {
    let site = Site::cloud();
    let run = tap(&[&"--config", &site.dir.path(), &"--discover"]);
    assert_refused(&run, "is a directory");

    let fifo = site.dir.path().join("fifo.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo here
    }
    let (run, took) = timed(&[&"--config", &fifo, &"--discover"]);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_refused(&run, "is empty");
}

#[test]
fn a_config_piped_to_dev_stdin_works() {
    let site = Site::cloud();
    let mut child = Command::new(common::tap_binary())
        .args(["--config", "/dev/stdin", "--discover"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let text = serde_json::to_vec(&site.cloud_config()).unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let catalog: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(catalog["streams"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn a_config_with_a_byte_order_mark_works_and_utf16_is_named() {
    let site = Site::cloud();
    let text = serde_json::to_string(&site.cloud_config()).unwrap();
    let bom = site.dir.path().join("bom.json");
    std::fs::write(&bom, [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()).unwrap();
    let catalog = site.discover(&bom);
    assert!(catalog["streams"].as_array().is_some_and(|s| !s.is_empty()));

    let utf16 = site.dir.path().join("utf16.json");
    let bytes: Vec<u8> = format!("\u{feff}{text}")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    std::fs::write(&utf16, bytes).unwrap();
    let run = tap(&[&"--config", &utf16, &"--discover"]);
    assert_refused(&run, "is encoded as UTF-16; save it as UTF-8");
}

#[test]
fn an_oversized_config_is_refused() {
    let site = Site::cloud();
    let mut config = site.cloud_config();
    config["jql"] = json!("x".repeat(2 * 1024 * 1024));
    let config = site.file("config.json", &config);
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_refused(&run, "is larger than 1 MiB");
}

#[test]
fn log_levels_are_checked_before_anything_else() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let run = tap(&[&"--config", &config, &"--discover", &"--log-level", &"loud"]);
    assert_refused(&run, "--log-level `loud` is not a log level");
    assert!(site.sim.sim.requests().is_empty());

    // Python's word for warn: warnings and errors still show.
    let broken = site.file("broken.json", &json!([]));
    let run = tap(&[
        &"--config",
        &broken,
        &"--discover",
        &"--log-level",
        &"warning",
    ]);
    assert_refused(&run, "must hold a JSON object");
    let run = tap(&[
        &"--config",
        &config,
        &"--discover",
        &"--log-level",
        &"warning",
    ]);
    run.assert_success();
    assert!(!run.stderr.contains(" INFO "), "{}", run.stderr);
}

/// RUST_LOG naming only other crates' logs (to watch reqwest's requests) adds them; it does not
/// silence the tap's own lines, its refusals among them.
#[test]
fn rust_log_for_other_crates_keeps_the_taps_errors() {
    let site = Site::cloud();
    let broken = site.file("broken.json", &json!([]));
    for filter in [
        "reqwest=debug",
        "hyper_util::client",
        "h2=warn,rustls=error",
    ] {
        let run = common::tap_with_env(
            &[&"--config", &broken, &"--discover"],
            &[("RUST_LOG", filter)],
        );
        assert_eq!(run.code, 1, "{filter}: {}", run.stderr);
        let errors = error_lines(&run);
        assert_eq!(errors.len(), 1, "{filter}: one clear line:\n{}", run.stderr);
        assert!(
            errors[0].contains("must hold a JSON object"),
            "{}",
            run.stderr
        );
    }
}

/// A mistyped flag or value is one line saying what is wrong and what to type, as every other
/// refusal is (and a JSON object with `TAP_JIRA_LOG_FORMAT=json`); `--help` is still the help.
#[test]
fn command_line_mistakes_are_one_line() {
    let cases: [(&[&str], &[&str]); 4] = [
        (&["--confg", "config.json"], &["--confg", "--config"]),
        (&["--log-format", "xml", "--about"], &["xml", "text, json"]),
        (&["--config"], &["--config"]),
        (&["--config", "c.json", "--discover", "extra"], &["extra"]),
    ];
    for (args, expected) in cases {
        let args: Vec<&dyn AsRef<std::ffi::OsStr>> = args
            .iter()
            .map(|a| a as &dyn AsRef<std::ffi::OsStr>)
            .collect();
        for json in [false, true] {
            let env: &[(&str, &str)] = if json {
                &[("TAP_JIRA_LOG_FORMAT", "json")]
            } else {
                &[]
            };
            let run = common::tap_with_env(&args, env);
            assert_eq!(run.code, 2, "{}", run.stderr);
            assert!(run.stdout.is_empty(), "{}", run.stdout);
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "one clear line:\n{}", run.stderr);
            assert!(lines[0].contains("ERROR"), "{}", run.stderr);
            for word in expected {
                assert!(lines[0].contains(word), "`{word}` in:\n{}", run.stderr);
            }
            assert!(lines[0].contains("--help"), "{}", run.stderr);
            if json {
                let line: Value = serde_json::from_str(lines[0]).expect("a JSON log line");
                assert_eq!(line["level"], "ERROR", "{}", lines[0]);
            }
        }
    }
    let help = tap(&[&"--help"]);
    assert_eq!(help.code, 0, "{}", help.stderr);
    assert!(help.stdout.contains("--discover"), "{}", help.stdout);
}

#[test]
fn dates_beyond_four_digit_years_are_refused_in_the_config() {
    let site = Site::cloud();
    for (key, date) in [
        ("start_date", "+10000-01-01T00:00:00Z"),
        ("start_date", "-10000-01-01T00:00:00Z"),
        ("start_date", "+10000-01-01"),
        ("start_date", "0000-01-01T00:00:00Z"),
        ("updated_before", "+262143-12-31T00:00:00Z"),
        ("created_after", "-262144-01-01"),
    ] {
        let config = site.file("config.json", &site.config_with(json!({ key: date })));
        let run = tap(&[&"--config", &config, &"--discover"]);
        assert_eq!(run.code, 1, "{key} {date}:\n{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("config `{key}`: `{date}`")),
            "{key} {date}:\n{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let config = site.file(
        "config.json",
        &site.config_with(json!({"start_date": "+10000-01-01T00:00:00Z"})),
    );
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_refused(&run, "is outside the years 0001 to 9999");
}

#[test]
fn dates_beyond_four_digit_years_are_refused_in_the_state() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let catalog = site.file("catalog.json", &site.discover(&config));
    site.sim.sim.reset_requests();
    for (stream, key, date) in [
        ("issues", "updated", "+10000-01-01T00:00:00.000Z"),
        ("issues", "window_start", "-10000-01-01T00:00:00Z"),
        ("worklogs", "updated", "+10000-01-01T00:00:00Z"),
    ] {
        let mut bookmark = json!({"updated": "2024-01-01T00:00:00Z"});
        bookmark[key] = json!(date);
        let state = site.file("state.json", &json!({"bookmarks": { stream: bookmark }}));
        let run = tap(&[
            &"--config",
            &config,
            &"--catalog",
            &catalog,
            &"--state",
            &state,
        ]);
        assert_refused(
            &run,
            &format!("state: bookmarks.{stream}.{key} `{date}` is outside the years 0001 to 9999"),
        );
    }
    assert!(
        site.sim.sim.requests().is_empty(),
        "refused before any request"
    );
}

/// An issue Jira says was updated in year 10000 is written, and the state stays one the next run
/// reads.
#[test]
fn an_issue_from_beyond_year_9999_is_written_and_the_state_stays_readable() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let catalog = site.file("catalog.json", &site.discover(&config));
    let first = tap(&[&"--config", &config, &"--catalog", &catalog]);
    first.assert_success();
    let far = first.records("issues")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // 10000-01-01T00:00:00Z
    assert!(site.sim.sim.set_issue_updated(&far, 253_402_300_800_000));

    let state = site.file("state.json", &first.last_state());
    let second = site.sync_from(&state);
    second.assert_success();
    assert!(!second.stderr.contains("panicked"));
    assert!(
        common::ids(&second.records("issues")).contains(&far),
        "the issue is written:\n{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("outside the years 0001 to 9999"),
        "{}",
        second.stderr
    );
    let state = second.last_state();
    assert_eq!(
        state["bookmarks"]["issues"]["updated"],
        first.last_state()["bookmarks"]["issues"]["updated"],
        "the bookmark does not move to year 10000"
    );
    let state = site.file("state2.json", &state);
    let third = site.sync_from(&state);
    third.assert_success();
}

#[test]
fn catalogs_the_tap_would_misread_are_refused() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let discovered = site.discover(&config);
    site.sim.sim.reset_requests();

    let mut quoted = discovered.clone();
    for stream in quoted["streams"].as_array_mut().unwrap() {
        if stream["tap_stream_id"] == "projects" {
            stream["metadata"][0]["metadata"]["selected"] = json!("true");
        }
    }
    let catalog = site.file("quoted.json", &quoted);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    assert_refused(&run, "stream `projects`");
    assert!(
        run.stderr
            .contains("\"selected\" is \"true\" at breadcrumb []"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("without quotes"), "{}", run.stderr);

    let mut twice = discovered.clone();
    let streams = twice["streams"].as_array_mut().unwrap();
    let copy = streams[0].clone();
    let name = copy["tap_stream_id"].as_str().unwrap().to_string();
    streams.push(copy);
    let count = streams.len();
    let catalog = site.file("twice.json", &twice);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    assert_refused(&run, &format!("stream `{name}` is listed twice"));
    assert!(
        run.stderr.contains(&format!("(#1 and #{count})")),
        "{}",
        run.stderr
    );
    assert!(
        site.sim.sim.requests().is_empty(),
        "refused before any request"
    );
}

/// What Meltano writes (`selected` on every breadcrumb, ones tap-jira never emitted too) and
/// Stitch's legacy flags inside schemas are still read.
#[test]
fn catalogs_from_meltano_and_stitch_are_still_read() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let selected = stream["tap_stream_id"] == "issues";
        let metadata = stream["metadata"].as_array_mut().unwrap();
        for m in metadata.iter_mut() {
            m["metadata"]["selected"] = json!(selected);
        }
        metadata.push(
            json!({"breadcrumb": ["properties", "not_a_field"], "metadata": {"selected": true}}),
        );
        stream["schema"]["selected"] = json!(selected);
    }
    let catalog = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_eq!(run.records("issues").len(), site.sim.sim.issue_count());
}

/// Stitch's tap reads `request_timeout` with `float()`: fractions and `"0.0"` (the default, 300 s)
/// are what its own tests and users' configs hold. A config Stitch ran with runs here too.
#[test]
fn stitch_request_timeouts_with_fractions_are_accepted() {
    let site = Site::server();
    for timeout in [
        json!(100.5),
        json!("100.5"),
        json!("0.0"),
        json!(0.0),
        json!("300"),
    ] {
        let config = site.file(
            "config.json",
            &site.config_with(json!({ "request_timeout": timeout })),
        );
        let run = tap(&[&"--config", &config, &"--discover"]);
        assert_eq!(run.code, 0, "request_timeout {timeout}:\n{}", run.stderr);
    }
}

/// Stitch's tap reads `start_date` with dateutil and takes a date-time without an offset as UTC,
/// and one without seconds too (`2000-01-01T00:00`): such a config syncs the same issues as the
/// same instant written with `Z`.
#[test]
fn stitch_start_dates_without_an_offset_are_utc() {
    let site = Site::cloud();
    let sync = |start_date: &str| {
        let config = site.file(
            "config.json",
            &site.config_with(json!({ "start_date": start_date })),
        );
        let mut catalog = site.discover(&config);
        common::select_only(&mut catalog, &["issues"]);
        let catalog = site.file("catalog.json", &catalog);
        let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
        assert_eq!(run.code, 0, "start_date {start_date}:\n{}", run.stderr);
        common::ids(&run.records("issues"))
    };
    let expected = sync("2000-01-01T00:00:00Z");
    assert!(!expected.is_empty());
    for start_date in [
        "2000-01-01T00:00:00",
        "2000-01-01 00:00:00",
        "2000-01-01T00:00:00.000000",
        "2000-01-01T00:00",
        "2000-01-01 00:00",
        "2000-01-01T00:00Z",
    ] {
        assert_eq!(sync(start_date), expected, "start_date {start_date}");
    }
}

/// The config file given as the state (`--state config.json`, a slip of the shell), or the
/// catalog, was read as a state with no bookmarks: a full sync from `start_date`, exit 0, and
/// every STATE on stdout carried the config's keys (the token among them) or the whole catalog
/// into the state the runner stores.
#[test]
fn a_config_or_catalog_given_as_the_state_is_refused_without_printing_it() {
    let site = Site::server();
    let config = site.file("config.json", &site.server_config());
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["projects"]);
    let catalog = site.file("catalog.json", &catalog);
    for (state, named) in [(&config, "personal_access_token"), (&catalog, "state: ")] {
        site.sim.sim.reset_requests();
        let run = tap(&[
            &"--config",
            &config,
            &"--catalog",
            &catalog,
            &"--state",
            state,
        ]);
        assert!(
            !run.stdout.contains(jira_sim::creds::PAT),
            "the token went to stdout:\n{}",
            run.stdout
        );
        assert_refused(&run, named);
        assert!(
            site.sim.sim.requests().is_empty(),
            "refused before any request"
        );
    }
}

/// A `flattening_max_depth` that is no whole number was reported twice: as what it is, and as
/// missing ("is required when flattening_enabled is true"), though it was given.
#[test]
fn a_flattening_depth_that_is_no_number_is_one_line() {
    let site = Site::server();
    for depth in [json!(-1), json!("two"), json!(2.5)] {
        let config = site.file(
            "config.json",
            &site.config_with(json!({"flattening_enabled": true, "flattening_max_depth": depth})),
        );
        let run = tap(&[&"--config", &config, &"--discover"]);
        assert_refused(
            &run,
            "config `flattening_max_depth`: must be a whole number",
        );
    }
}

/// `--properties` is `--catalog`'s legacy name: two different files named by both would have one
/// of them silently ignored; the same file twice (a runner passing both) is one catalog.
#[test]
fn a_catalog_and_properties_naming_different_files_are_refused() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut discovered = site.discover(&config);
    common::select_only(&mut discovered, &["projects"]);
    let catalog = site.file("catalog.json", &discovered);
    common::select_only(&mut discovered, &["users"]);
    let properties = site.file("properties.json", &discovered);
    site.sim.sim.reset_requests();

    let run = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &catalog,
        &"--properties",
        &properties,
    ]);
    assert_refused(&run, "--catalog");
    assert!(run.stderr.contains("--properties"), "{}", run.stderr);
    assert!(
        site.sim.sim.requests().is_empty(),
        "refused before any request"
    );

    let run = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &catalog,
        &"--properties",
        &catalog,
    ]);
    run.assert_success();
    assert!(!run.records("projects").is_empty(), "{}", run.stderr);
}

/// Schedulers create the state file before the first run (`touch state.json`): empty, or a line
/// break, is no state yet; anything else that is not JSON is still refused.
#[test]
fn an_empty_state_file_is_a_first_sync() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut discovered = site.discover(&config);
    common::select_only(&mut discovered, &["projects"]);
    let catalog = site.file("catalog.json", &discovered);
    for (name, text) in [("touched.json", ""), ("blank.json", " \n")] {
        let state = site.dir.path().join(name);
        std::fs::write(&state, text).unwrap();
        let run = tap(&[
            &"--config",
            &config,
            &"--catalog",
            &catalog,
            &"--state",
            &state,
        ]);
        run.assert_success();
        assert!(!run.records("projects").is_empty(), "{}", run.stderr);
        let said = run
            .stderr
            .lines()
            .find(|l| l.contains("INFO") && l.contains("is empty"));
        assert!(said.is_some(), "an info line:\n{}", run.stderr);
    }
    let state = site.dir.path().join("not-json.json");
    std::fs::write(&state, "not json").unwrap();
    let run = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &catalog,
        &"--state",
        &state,
    ]);
    assert_refused(&run, "is not valid JSON");
}

/// A catalog entry of the wrong shape names the stream, the member and what it must be, not
/// serde's type names.
#[test]
fn a_malformed_catalog_entry_says_which_member_and_what_it_must_be() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let cases = [
        (
            json!({"streams": [1]}),
            &[
                "stream #1 ",
                "an object with `tap_stream_id`, `schema` and `metadata`",
            ][..],
        ),
        (
            json!({"streams": [{"tap_stream_id": "issues", "schema": {}, "metadata": "all"}]}),
            &["stream #1 (issues)", "`metadata`", "a list"][..],
        ),
        (
            json!({"streams": [{"tap_stream_id": "issues", "schema": {},
                                "metadata": [{"breadcrumb": [], "metadata": {}}, {"metadata": {}}]}]}),
            &["stream #1 (issues)", "`metadata` #2", "`breadcrumb`"][..],
        ),
        (
            json!({"streams": [{"tap_stream_id": "issues", "schema": {}, "key_properties": "id"}]}),
            &["stream #1 (issues)", "`key_properties`", "a list"][..],
        ),
    ];
    for (i, (catalog, expected)) in cases.iter().enumerate() {
        let catalog = site.file(&format!("catalog{i}.json"), catalog);
        let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
        assert_refused(&run, expected[0]);
        for word in *expected {
            assert!(run.stderr.contains(word), "`{word}` in:\n{}", run.stderr);
        }
        for serde_word in [
            "invalid type",
            "expected struct",
            "CatalogEntry",
            "a sequence",
        ] {
            assert!(!run.stderr.contains(serde_word), "{}", run.stderr);
        }
    }
}

/// A port is checked once, with one message: `0` and `-1` are told the same range.
#[test]
fn a_port_out_of_range_is_one_message() {
    let site = Site::cloud();
    for port in [json!(0), json!(-1), json!("x"), json!(70000)] {
        let config = json!({"host": "jira.example.com", "port": port,
                            "personal_access_token": "SECRET-TOKEN-1"});
        let config = site.file("config.json", &config);
        let run = tap(&[&"--config", &config, &"--discover"]);
        assert_refused(&run, "config `port`");
        assert!(run.stderr.contains("1 to 65535"), "{port}:\n{}", run.stderr);
        assert!(!run.stderr.contains("0 or more"), "{port}:\n{}", run.stderr);
    }
}
