//! Where log lines go: stderr, with every known secret blanked out, and never a failure of the tap.
//! A closed or broken stderr (the orchestrator died, a reader stopped) loses the log, not the run:
//! write errors are swallowed, so the sync goes on to its STATE.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// A `MakeWriter` for tracing: each event arrives as one `write_all` of the whole formatted line,
/// so a secret is always whole within one write and redaction sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Stderr;

    fn make_writer(&'a self) -> Self::Writer {
        Stderr
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let redacted = crate::secret::redact_bytes(buf);
        // EPIPE, EBADF, ENOSPC: nothing useful can be done with a log line that cannot be
        // written, and the records and STATE on stdout matter more.
        let _ = io::stderr().lock().write_all(&redacted);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = io::stderr().flush();
        Ok(())
    }
}

/// Writes one line to stderr outside tracing (a panic message), redacted, ignoring failures.
pub fn write_line(line: &str) {
    let mut line = crate::secret::redact(line).into_owned();
    line.push('\n');
    let _ = Stderr.write(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_byte_written_even_when_stderr_fails() {
        assert_eq!(Stderr.write(b"line\n").unwrap(), 5);
        Stderr.flush().unwrap();
    }
}
