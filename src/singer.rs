//! Singer messages and the one writer of stdout: buffered, flushed at every STATE so a target sees
//! a state only after the records it covers, and only ever in whole lines.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::raw::push_json_string;

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Message<'a> {
    Schema {
        stream: &'a str,
        schema: &'a Value,
        key_properties: &'a [String],
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        bookmark_properties: &'a [String],
    },
    Record {
        stream: &'a str,
        record: &'a Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<i64>,
        time_extracted: &'a str,
    },
    State {
        value: &'a Map<String, Value>,
    },
    ActivateVersion {
        stream: &'a str,
        version: i64,
    },
}

/// How many bytes of whole lines wait before they go to the sink together.
const BUFFER: usize = 1 << 16;

/// Owns stdout (or any sink, for tests and the demo).
///
/// The sink only ever receives whole lines: messages are laid out at the end of a queue, which
/// goes out in one `write_all` once it holds more than `BUFFER` bytes, and only ever in full. So
/// a stop at any await point (SIGTERM) leaves complete messages only, and dropping the writer
/// hands the queued lines on. Records are laid out in the queue itself, not copied into it.
///
/// What SIGKILL can do: the process dies wherever it is. Lines still queued are lost (the target
/// sees a prefix of whole messages), but a kill during a `write(2)` to a pipe of more than
/// `PIPE_BUF` (4096) bytes — which the kernel need not do atomically — can leave the last line
/// cut short. Nothing in user space can prevent that; a target must ignore an unterminated last
/// line.
pub struct SingerWriter<W: Write> {
    sink: W,
    /// Whole lines not yet written to the sink.
    queued: String,
    /// A message serialised by serde, before it is queued.
    line: Vec<u8>,
    /// The last STATE, while nothing has been written after it: the same STATE again (a page
    /// that brought nothing new) says nothing and is not written.
    last_state: Option<Vec<u8>>,
}

impl<W: Write> SingerWriter<W> {
    pub fn new(sink: W) -> Self {
        SingerWriter {
            sink,
            queued: String::with_capacity(BUFFER),
            line: Vec::new(),
            last_state: None,
        }
    }

    pub fn write(&mut self, message: &Message<'_>) -> Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, message).map_err(std::io::Error::from)?;
        let is_state = matches!(message, Message::State { .. });
        if is_state && self.last_state.as_ref() == Some(&self.line) {
            return Ok(());
        }
        let line = std::str::from_utf8(&self.line).map_err(std::io::Error::other)?;
        self.queued.push_str(line);
        self.end_line()?;
        if is_state {
            self.last_state = Some(std::mem::take(&mut self.line));
            self.flush()?;
        } else if self.line.capacity() > BUFFER {
            // A huge message (a catalog's schema) is not kept around.
            self.line = Vec::new();
        }
        Ok(())
    }

    /// A RECORD whose record is JSON text already, laid out as `write` lays out
    /// `Message::Record`.
    pub fn write_record(
        &mut self,
        stream: &str,
        record: &str,
        version: Option<i64>,
        time_extracted: &str,
    ) -> Result<()> {
        self.write_record_with(stream, version, time_extracted, |out| out.push_str(record))
    }

    /// `write_record` for a record that `record` writes as JSON text, in place in the queue.
    pub fn write_record_with(
        &mut self,
        stream: &str,
        version: Option<i64>,
        time_extracted: &str,
        record: impl FnOnce(&mut String),
    ) -> Result<()> {
        let line = &mut self.queued;
        line.push_str(r#"{"type":"RECORD","stream":"#);
        push_json_string(line, stream);
        line.push_str(r#","record":"#);
        record(line);
        if let Some(version) = version {
            line.push_str(r#","version":"#);
            line.push_str(&version.to_string());
        }
        line.push_str(r#","time_extracted":"#);
        push_json_string(line, time_extracted);
        line.push('}');
        self.end_line()
    }

    /// A line that is not a Singer message: the discovered catalog, laid out for reading. It is
    /// written as it is serialised, not held as text: a site of thousands of custom fields gives
    /// one of tens of megabytes.
    pub fn write_document(&mut self, document: &impl Serialize) -> Result<()> {
        self.write_queued()?;
        self.last_state = None;
        let mut out = std::io::BufWriter::with_capacity(BUFFER, &mut self.sink);
        serde_json::to_writer_pretty(&mut out, document).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }

    pub fn flush(&mut self) -> Result<()> {
        self.write_queued()?;
        self.sink.flush()?;
        Ok(())
    }

    /// Ends the message laid out last in the queue with its newline; a full queue goes out.
    fn end_line(&mut self) -> Result<()> {
        self.queued.push('\n');
        self.last_state = None;
        if self.queued.len() > BUFFER {
            self.write_queued()?;
        }
        Ok(())
    }

    fn write_queued(&mut self) -> Result<()> {
        if !self.queued.is_empty() {
            let written = self.sink.write_all(self.queued.as_bytes());
            // Sent or not, these lines are done: a retry could only repeat part of them.
            self.queued.clear();
            // A huge line (an issue of thousands of fields) is not kept around.
            if self.queued.capacity() > 4 * BUFFER {
                self.queued = String::with_capacity(BUFFER);
            }
            written?;
        }
        Ok(())
    }
}

impl<W: Write> Drop for SingerWriter<W> {
    /// A run stopped early (an error, SIGTERM) still hands on the whole messages it queued.
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `time_extracted` as singer-python writes it: microseconds, `Z`.
pub fn time_extracted(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_have_the_singer_shape() {
        let mut buf = Vec::new();
        {
            let mut w = SingerWriter::new(&mut buf);
            let schema = json!({"type": "object"});
            let keys = vec!["id".to_string()];
            w.write(&Message::Schema {
                stream: "s",
                schema: &schema,
                key_properties: &keys,
                bookmark_properties: &[],
            })
            .unwrap();
            w.write(&Message::Record {
                stream: "s",
                record: &json!({"id": 1}),
                version: Some(7),
                time_extracted: "t",
            })
            .unwrap();
            w.write(&Message::ActivateVersion {
                stream: "s",
                version: 7,
            })
            .unwrap();
            w.write(&Message::State { value: &Map::new() }).unwrap();
        }
        let lines: Vec<Value> = String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            json!({"type": "SCHEMA", "stream": "s", "schema": {"type": "object"}, "key_properties": ["id"]})
        );
        assert_eq!(
            lines[1],
            json!({"type": "RECORD", "stream": "s", "record": {"id": 1}, "version": 7, "time_extracted": "t"})
        );
        assert_eq!(
            lines[2],
            json!({"type": "ACTIVATE_VERSION", "stream": "s", "version": 7})
        );
        assert_eq!(lines[3], json!({"type": "STATE", "value": {}}));
    }

    #[test]
    fn raw_records_are_laid_out_like_records() {
        let record = json!({"id": 1, "a": ["x"]});
        for version in [None, Some(7)] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            SingerWriter::new(&mut a)
                .write(&Message::Record {
                    stream: "s\"",
                    record: &record,
                    version,
                    time_extracted: "t",
                })
                .unwrap();
            SingerWriter::new(&mut b)
                .write_record("s\"", &record.to_string(), version, "t")
                .unwrap();
            assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
        }
    }

    /// Records every `write` call it gets, to check each one ends at a line boundary.
    struct Chunks(Vec<Vec<u8>>);

    impl Write for Chunks {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_state_like_the_last_with_nothing_between_is_not_written_again() {
        let mut out = Vec::new();
        {
            let mut w = SingerWriter::new(&mut out);
            let object = |value: Value| value.as_object().cloned().expect("object");
            let a = object(json!({"bookmarks": {"issues": {"updated": "2024-01-01T00:00:00Z"}}}));
            let b = object(json!({"bookmarks": {"issues": {"updated": "2024-01-02T00:00:00Z"}}}));
            let record = json!({"id": 1});
            let state = |value| Message::State { value };
            let rec = Message::Record {
                stream: "issues",
                record: &record,
                version: None,
                time_extracted: "2024-01-03T00:00:00.000000Z",
            };
            for message in [state(&a), state(&a), rec, state(&a), state(&b), state(&a)] {
                w.write(&message).expect("write");
            }
            w.write_record("issues", "{}", None, "t").expect("write");
            w.write(&state(&a)).expect("write");
        }
        let types: Vec<String> = String::from_utf8(out)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("json")["type"].to_string())
            .collect();
        assert_eq!(
            types,
            [
                "\"STATE\"",
                "\"RECORD\"",
                "\"STATE\"",
                "\"STATE\"",
                "\"STATE\"",
                "\"RECORD\"",
                "\"STATE\""
            ]
        );
    }

    #[test]
    fn the_sink_only_gets_whole_lines_even_past_the_buffer() {
        let mut chunks = Chunks(Vec::new());
        {
            let mut w = SingerWriter::new(&mut chunks);
            let big = json!({"id": 1, "text": "y".repeat(BUFFER * 2)}).to_string();
            for i in 0..5000 {
                let record = if i % 1000 == 999 {
                    big.clone()
                } else {
                    json!({"id": i, "text": "x".repeat(i % 97)}).to_string()
                };
                w.write_record("s", &record, None, "t").unwrap();
            }
            // Not flushed: dropping the writer hands the queued lines on.
        }
        assert!(chunks.0.len() > 5, "written in several chunks");
        let mut all = Vec::new();
        for chunk in &chunks.0 {
            assert_eq!(chunk.last(), Some(&b'\n'), "a chunk ends mid-line");
            all.extend_from_slice(chunk);
        }
        let text = String::from_utf8(all).unwrap();
        assert_eq!(text.lines().count(), 5000);
        for line in text.lines() {
            serde_json::from_str::<Value>(line).unwrap();
        }
    }
}
