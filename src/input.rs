//! Reading the files named on the command line (config, catalog, state, OAuth token file): regular
//! files or pipes only, never more than a bound, UTF-8 with or without a byte-order mark, and one
//! JSON object; anything else is one clear line.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

const MIB: u64 = 1024 * 1024;

/// A kind of input file: what messages call it, and the most bytes it may hold.
#[derive(Debug, Clone, Copy)]
pub struct Input {
    pub what: &'static str,
    pub limit: u64,
}

/// Configs are a few hundred bytes; a MiB is room for a very long `jql`.
pub const CONFIG: Input = Input {
    what: "config file",
    limit: MIB,
};
/// A catalog of a site with tens of thousands of custom fields stays far below this.
pub const CATALOG: Input = Input {
    what: "catalog file",
    limit: 256 * MIB,
};
/// States stay small (bookmarks, up to 1000 remembered versions, id runs of deleted issues).
pub const STATE: Input = Input {
    what: "state file",
    limit: 256 * MIB,
};
pub const TOKEN_FILE: Input = Input {
    what: "OAuth token file",
    limit: MIB,
};

/// Reads a file that must hold one JSON object.
pub fn read_json_object(path: &Path, input: Input) -> Result<Map<String, Value>> {
    read_json_object_if_any(path, input)?.ok_or_else(|| Error::InputFile {
        what: input.what,
        path: path.display().to_string(),
        problem: "is empty; it must hold a JSON object".into(),
    })
}

/// Reads a file that holds one JSON object, or nothing but whitespace (`None`).
pub fn read_json_object_if_any(path: &Path, input: Input) -> Result<Option<Map<String, Value>>> {
    let fail = |problem: String| Error::InputFile {
        what: input.what,
        path: path.display().to_string(),
        problem,
    };
    let text = read_text(path, input).map_err(fail)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    match crate::compact::from_str(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(fail("must hold a JSON object ({...})".into())),
        Err(e) => Err(fail(format!("is not valid JSON: {e}"))),
    }
}

/// The file's text, its UTF-8 byte-order mark removed; the problem otherwise.
fn read_text(path: &Path, input: Input) -> std::result::Result<String, String> {
    let file = open(path)?;
    // As large as the file says it is (a pipe says 0): grown by doubling, the text of a catalog
    // of tens of megabytes would take up to twice its size.
    let size = file.metadata().map_or(0, |m| m.len()).min(input.limit + 1);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // Read one byte past the bound: a file whose size lies (or a pipe) is still cut off.
    file.take(input.limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > input.limit {
        return Err(too_large(input));
    }
    decode(bytes)
}

fn too_large(input: Input) -> String {
    format!(
        "is larger than {} MiB, the most a {} may hold; check that it is the right file",
        input.limit / MIB,
        input.what
    )
}

/// Opens a regular file or a pipe (`--config <(…)`, `--state /dev/stdin`); refuses directories
/// and devices, which would be read forever (`/dev/zero`) or wait for a keyboard.
fn open(path: &Path) -> std::result::Result<File, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot be read: {e}"))?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err("is a directory; give the path of a JSON file".into());
    }
    if kind.is_file() {
        return File::open(path).map_err(|e| format!("cannot be read: {e}"));
    }
    if is_fifo(&kind) {
        return open_pipe(path);
    }
    Err("is not a regular file (a device or socket); give the path of a JSON file".into())
}

#[cfg(unix)]
fn is_fifo(kind: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    kind.is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::FileType) -> bool {
    false
}

/// A named pipe with no writer would block `open` forever: it is opened without waiting, then
/// read normally (no writer at all reads as empty).
#[cfg(unix)]
fn open_pipe(path: &Path) -> std::result::Result<File, String> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot be read: {e}"))?;
    // SAFETY: fcntl on a descriptor this function owns; it only changes its blocking flag.
    let cleared = unsafe {
        let fd = file.as_raw_fd();
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) >= 0
    };
    if !cleared {
        return Err(format!(
            "cannot be read: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(file)
}

#[cfg(not(unix))]
fn open_pipe(_: &Path) -> std::result::Result<File, String> {
    Err("is not a regular file; give the path of a JSON file".into())
}

/// UTF-8, with an optional byte-order mark; other encodings are named so the user can convert.
fn decode(mut bytes: Vec<u8>) -> std::result::Result<String, String> {
    const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(UTF8_BOM) {
        bytes.drain(..UTF8_BOM.len());
    }
    let other = if bytes.starts_with(b"\xFF\xFE\0\0") || bytes.starts_with(b"\0\0\xFE\xFF") {
        Some("UTF-32")
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        Some("UTF-16")
    } else if bytes.len() >= 2 && (bytes[0] == 0 || bytes[1] == 0) {
        // `{` or whitespace next to a zero byte: UTF-16 or UTF-32 without a mark.
        Some("UTF-16 or UTF-32")
    } else {
        None
    };
    if let Some(encoding) = other {
        return Err(format!(
            "is encoded as {encoding}; save it as UTF-8 (PowerShell: `Out-File -Encoding utf8`)"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> std::result::Result<Map<String, Value>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::fs::write(&path, bytes).unwrap();
        read_json_object(&path, CONFIG).map_err(|e| e.to_string())
    }

    #[test]
    fn a_byte_order_mark_is_accepted_and_other_encodings_are_named() {
        assert_eq!(read(b"\xEF\xBB\xBF{\"a\": 1}").unwrap()["a"], 1);
        let utf16: Vec<u8> = "\u{feff}{\"a\": 1}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(read(&utf16).unwrap_err().contains("UTF-16"));
        let no_mark: Vec<u8> = "{\"a\": 1}"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert!(read(&no_mark).unwrap_err().contains("UTF-16 or UTF-32"));
        assert!(
            read(b"{\"a\": \"\xE9\"}")
                .unwrap_err()
                .contains("not UTF-8")
        );
    }

    #[test]
    fn files_past_the_bound_are_refused() {
        let mut big = b"{\"a\": \"".to_vec();
        big.resize(MIB as usize + 10, b'x');
        assert!(read(&big).unwrap_err().contains("larger than 1 MiB"));
    }

    #[test]
    fn directories_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_json_object(dir.path(), CONFIG)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a directory"), "{e}");
        if Path::new("/dev/zero").exists() {
            let e = read_json_object(Path::new("/dev/zero"), STATE)
                .unwrap_err()
                .to_string();
            assert!(e.contains("not a regular file"), "{e}");
        }
    }
}
