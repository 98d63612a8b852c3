//! stdout when it is a pipe: written half a pipe at a time when the target reads slower than the
//! tap writes, as targets do.
//!
//! Targets read a pipe a little at a time (mawk 4 KiB, Python's buffered reads 8 KiB). A writer
//! blocked on a full pipe is woken each time the reader frees a page, writes that page and blocks
//! again: two context switches per 4 KiB, a fifth of the tap's CPU into a Python reader, and some
//! of the reader's. Here, when the pipe is full, the tap sleeps until the reader should have
//! drained half of it (at the pace it was last seen to read), then writes that half at once. The
//! sleep is on the writing thread, as a blocking write was: the requests in flight go on.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// What the pipe is asked to hold: Linux's default `/proc/sys/fs/pipe-max-size`. A bigger pipe
/// means fewer, longer sleeps; the kernel refuses it quietly past a user's limit.
#[cfg(target_os = "linux")]
const PIPE_BYTES: libc::c_int = 1 << 20;

const PAGE: usize = 4096;

/// Room left unused by a write: a page the reader has begun and a page the last write began
/// each hold a slot of the pipe without filling it, so the bytes free can overstate the room.
const SLACK: usize = 2 * PAGE;

/// Bounds of one sleep: long enough to be worth a context switch, short enough that a fast
/// reader is not kept waiting; a reader that stalls (a target committing) is looked at 50 times
/// a second.
const MIN_SLEEP: Duration = Duration::from_micros(50);
const MAX_SLEEP: Duration = Duration::from_millis(20);

/// A writer into `inner` that, when `inner` is a pipe, waits for room for a large write instead
/// of blocking on a full pipe page by page. Other sinks are written straight through.
pub struct PacedPipe<W> {
    inner: W,
    pipe: Option<Pipe>,
}

impl<W: Write + AsRawFd> PacedPipe<W> {
    pub fn new(inner: W) -> PacedPipe<W> {
        let pipe = Pipe::of(inner.as_raw_fd());
        PacedPipe { inner, pipe }
    }
}

impl<W: Write> Write for PacedPipe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.pipe {
            Some(pipe) => {
                let room = pipe.wait_for_room(buf.len());
                self.inner.write(&buf[..buf.len().min(room)])
            }
            None => self.inner.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct Pipe {
    fd: RawFd,
    capacity: usize,
    /// Bytes a second the reader drained over the last sleep; `None` before the first, or when
    /// it read nothing.
    drain_rate: Option<f64>,
}

impl Pipe {
    /// The pipe `fd` is, enlarged; `None` when it is not a pipe, or one too small to pace.
    #[cfg(target_os = "linux")]
    fn of(fd: RawFd) -> Option<Pipe> {
        // SAFETY: fstat writes only into the struct it is given, zeroed before; fcntl on a
        // descriptor the process holds changes nothing but the pipe's size.
        let capacity = unsafe {
            let mut stat: libc::stat = std::mem::zeroed();
            if libc::fstat(fd, &mut stat) != 0 || stat.st_mode & libc::S_IFMT != libc::S_IFIFO {
                return None;
            }
            libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_BYTES);
            libc::fcntl(fd, libc::F_GETPIPE_SZ)
        };
        let pipe = Pipe {
            fd,
            capacity: usize::try_from(capacity).ok()?,
            drain_rate: None,
        };
        // Half the pipe, less the slack, must still be a write worth waiting for.
        (pipe.capacity >= 4 * SLACK && pipe.queued().is_some()).then_some(pipe)
    }

    #[cfg(not(target_os = "linux"))]
    fn of(_fd: RawFd) -> Option<Pipe> {
        None
    }

    /// Bytes in the pipe not yet read.
    fn queued(&self) -> Option<usize> {
        let mut queued: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int, into `queued`.
        let done = unsafe { libc::ioctl(self.fd, libc::FIONREAD, &mut queued) };
        if done != 0 {
            return None;
        }
        usize::try_from(queued).ok()
    }

    /// Whether nobody reads the pipe any more: a write then fails at once (EPIPE), as it should.
    fn reader_gone(&self) -> bool {
        let mut poll = libc::pollfd {
            fd: self.fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one pollfd, and a zero timeout: it only reads the pipe's state.
        let ready = unsafe { libc::poll(&mut poll, 1, 0) };
        ready > 0 && poll.revents & libc::POLLERR != 0
    }

    /// Answers how many bytes may be written without blocking: room for `wanted` bytes (or half
    /// the pipe, when `wanted` is more) at once, or else, once half the pipe is free, so that the
    /// writes that follow need not wait either.
    fn wait_for_room(&mut self, wanted: usize) -> usize {
        let half = self.capacity / 2;
        let Some(mut queued) = self.queued() else {
            return wanted;
        };
        let mut wanted = wanted.min(half);
        // While nothing is read (a target still starting, or committing), each sleep is twice
        // the one before.
        let mut stalled = MIN_SLEEP;
        loop {
            let room = self.capacity.saturating_sub(queued + SLACK);
            if room >= wanted || self.reader_gone() {
                return room.max(wanted);
            }
            wanted = half;
            let sleep = match self.drain_rate {
                Some(rate) => Duration::from_secs_f64((wanted - room) as f64 / rate)
                    .clamp(MIN_SLEEP, MAX_SLEEP),
                None => stalled,
            };
            let began = Instant::now();
            std::thread::sleep(sleep);
            let Some(now) = self.queued() else {
                return wanted;
            };
            let drained = queued.saturating_sub(now);
            if drained > 0 {
                self.drain_rate = Some(drained as f64 / began.elapsed().as_secs_f64());
                stalled = MIN_SLEEP;
            } else {
                self.drain_rate = None;
                stalled = (sleep * 2).min(MAX_SLEEP);
            }
            queued = now;
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Read;
    use std::thread;

    use super::*;

    /// Voluntary context switches of the calling thread so far.
    fn context_switches() -> i64 {
        // SAFETY: getrusage writes only into the struct it is given, zeroed before.
        unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
            usage.ru_nvcsw
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// Writes `data` in 64 KiB pieces (as the Singer writer does) into a pipe read 4 KiB at a
    /// time by a reader slower than the writer, which starts late (as a target does, importing its
    /// modules) and stalls after each MiB; answers what the reader got and the writer's voluntary
    /// context switches.
    fn through_a_slow_reader(data: &[u8], paced: bool) -> (Vec<u8>, i64) {
        let (mut reader, writer) = io::pipe().unwrap();
        let reading = thread::spawn(move || {
            let mut got = Vec::new();
            let mut page = [0u8; PAGE];
            thread::sleep(Duration::from_millis(300));
            loop {
                let n = reader.read(&mut page).unwrap();
                if n == 0 {
                    return got;
                }
                got.extend_from_slice(&page[..n]);
                if got.len() % (1 << 20) < PAGE {
                    thread::sleep(Duration::from_millis(30));
                }
                thread::sleep(Duration::from_micros(10));
            }
        });
        let before = context_switches();
        if paced {
            let mut writer = PacedPipe::new(writer);
            assert!(writer.pipe.is_some(), "a pipe is paced");
            for piece in data.chunks(64 << 10) {
                writer.write_all(piece).unwrap();
            }
        } else {
            let mut writer = writer;
            for piece in data.chunks(64 << 10) {
                writer.write_all(piece).unwrap();
            }
        }
        let switches = context_switches() - before;
        (reading.join().unwrap(), switches)
    }

    #[test]
    fn a_slow_reader_gets_every_byte_in_order_with_the_writer_woken_far_less() {
        let sent = data(8 << 20);
        let (got, paced) = through_a_slow_reader(&sent, true);
        assert!(got == sent, "the bytes arrive whole and in order");
        let (_, blocking) = through_a_slow_reader(&sent, false);
        // Blocking writes wake once per page freed: about 2,000 times for 8 MiB.
        assert!(
            paced * 10 < blocking,
            "paced: {paced} context switches, blocking: {blocking}"
        );
    }

    #[test]
    fn a_reader_that_goes_away_ends_the_write_with_a_broken_pipe() {
        let (reader, writer) = io::pipe().unwrap();
        let mut writer = PacedPipe::new(writer);
        let pipe_size = writer.pipe.as_ref().unwrap().capacity;
        // Full, then nobody reads.
        writer.write_all(&data(pipe_size - SLACK)).unwrap();
        drop(reader);
        let error = writer.write_all(&data(64 << 10)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn what_is_not_a_pipe_is_written_straight_through() {
        let path = std::env::temp_dir().join(format!("tap-jira-pipe-{}", std::process::id()));
        let mut file = PacedPipe::new(std::fs::File::create(&path).unwrap());
        assert!(file.pipe.is_none(), "a file is not paced");
        file.write_all(b"{}\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}\n");
        std::fs::remove_file(&path).unwrap();
    }
}
