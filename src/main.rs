//! argv → run → exit code. A target that stops reading is not a failure of the tap.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use tap_jira::cli::{Cli, Command, LogFormat};
use tap_jira::error::Error;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `--help` and `--version`, to stdout.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => return usage_error(&e),
    };
    // A panic's message goes through the same redaction, and never fails on a closed stderr.
    std::panic::set_hook(Box::new(|info| {
        tap_jira::logging::write_line(&format!("tap-jira panicked: {info}"));
    }));
    let env = std::env::var("TAP_JIRA_LOG_FORMAT").ok();
    let (format, format_problem) = match tap_jira::cli::log_format(cli.log_format, env.as_deref()) {
        Ok(format) => (format, None),
        // Refused in text, the default, so the refusal itself is seen.
        Err(problem) => (LogFormat::Text, Some(problem)),
    };
    let logging = init_logging(cli.log_level.as_deref(), format)
        .and_then(|()| format_problem.map_or(Ok(()), Err));
    if let Err(problem) = logging {
        tracing::error!("{problem}");
        return ExitCode::FAILURE;
    }
    if cli.about {
        let mut stdout = std::io::stdout().lock();
        let written = writeln!(stdout, "{}", tap_jira::about::render(cli.format))
            .and_then(|()| stdout.flush());
        return match written {
            // A closed pipe (`--about | head`) is not an error worth reporting.
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            // A full disk is: Meltano would read the settings from an empty file.
            Err(e) => {
                tracing::error!("writing output: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // reqwest is built without a default TLS provider; install ring's before the first client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The tap's work is one task on this thread; one worker sends requests and reads responses
    // beside it, so a request's slot is free as soon as its body is in. glibc's allocator: one
    // arena for both threads (a second one's pages would double the peak for no speed), and
    // response bodies (hundreds of KiB to MiBs) always in their own mappings, given back when
    // freed rather than left to fragment the heap.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called before any other thread exists; mallopt only tunes the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = tap_jira::signals::install();
    // A target reads its pipe slower than the tap writes: written half a pipe at a time.
    let stdout = tap_jira::pipe::PacedPipe::new(std::io::stdout().lock());
    let outcome = runtime.block_on(async {
        let work = async {
            match cli.command {
                Some(Command::Authorize) => tap_jira::authorize::run(&cli.config).await,
                None => tap_jira::run(&cli, stdout).await,
            }
        };
        tokio::select! {
            outcome = work => Ok(outcome),
            // The run is dropped at an await point, between two messages: its writer hands
            // every complete line to stdout as it goes, and never a partial one.
            Ok(signum) = stop => Err(signum),
        }
    });
    // A refresh the run left under way saves the refresh token it rotates before anything ends
    // (within the signal's grace period).
    runtime.block_on(tap_jira::client::finish_refreshes());
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(signum) => {
            tracing::warn!(
                "{} received: stopped; the messages written so far are complete, rerun from the last STATE",
                tap_jira::signals::name(signum)
            );
            // Requests still in flight are abandoned, not waited for.
            runtime.shutdown_background();
            return ExitCode::from(tap_jira::signals::exit_code(signum));
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::BrokenPipe) => {
            tracing::info!("the target closed its input; stopping");
            ExitCode::SUCCESS
        }
        // Each of a config's problems on its own line, as the user fixes them one by one.
        Err(Error::Config(problems)) => {
            for problem in &problems {
                tracing::error!("{}", one_line(&problem.to_string()));
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            tracing::error!("{}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// A command-line mistake as one line (clap's own is several, with the usage between), in the
/// log format the environment asks for, and clap's exit code for it.
fn usage_error(e: &clap::Error) -> ExitCode {
    let env = std::env::var("TAP_JIRA_LOG_FORMAT").ok();
    let format = tap_jira::cli::log_format(None, env.as_deref()).unwrap_or(LogFormat::Text);
    // At the default level whatever RUST_LOG says, so the mistake is seen.
    let _ = init_logging(Some("info"), format);
    let rendered = e.to_string();
    // What is wrong, clap's tips and a value's possible values; the usage after them is in --help.
    let said: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(|l| l.trim().trim_start_matches("error: "))
        .filter(|l| !l.is_empty())
        .collect();
    tracing::error!("{}; see `tap-jira --help`", said.join("; "));
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// A failure as one line, whatever line breaks the text it quotes (a server's message, a value
/// from the config) holds; redacted before the lines are joined, which could change a secret
/// spanning them.
fn one_line(text: &str) -> String {
    let text = tap_jira::secret::redact(text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(" ")
}

/// The certificate verifier logs its own ERROR line for a certificate that does not verify; the
/// tap reports that failure itself, with what to set, so the verifier is heard only when a
/// filter names it.
fn quiet_verifier(directives: &str) -> String {
    const VERIFIER: &str = "rustls_platform_verifier";
    if directives.contains(VERIFIER) {
        directives.to_string()
    } else {
        format!("{directives},{VERIFIER}=off")
    }
}

/// Sets up logging to stderr; a level word it does not know is refused (at the default level,
/// so the refusal itself is seen) rather than read as a module name that silences everything.
fn init_logging(level: Option<&str>, format: LogFormat) -> Result<(), String> {
    let env = std::env::var("RUST_LOG").ok();
    let (filter, problem) = match tap_jira::cli::log_filter(level, env.as_deref()) {
        Ok(directives) => match EnvFilter::try_new(quiet_verifier(&directives)) {
            Ok(filter) => (filter, None),
            Err(e) => (
                EnvFilter::new("info"),
                Some(format!("RUST_LOG `{directives}` is not a log filter: {e}")),
            ),
        },
        Err(problem) => (EnvFilter::new("info"), Some(problem)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Redacts secrets and ignores a closed stderr; tracing's own report of a failed write
        // would be an `eprintln!`, which panics on that same closed stderr.
        .with_writer(tap_jira::logging::Stderr)
        .log_internal_errors(false)
        .with_target(false);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        // One object per line: timestamp, level and the event's fields beside `message`.
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    problem.map_or(Ok(()), Err)
}
