//! Singer messages and the one writer of stdout: buffered, flushed at every STATE so a target sees
//! a state only after the records it covers.

use std::io::{BufWriter, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::Result;

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
        value: &'a Value,
    },
    ActivateVersion {
        stream: &'a str,
        version: i64,
    },
}

/// Owns stdout (or any sink, for tests and the demo).
pub struct SingerWriter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> SingerWriter<W> {
    pub fn new(sink: W) -> Self {
        SingerWriter {
            out: BufWriter::with_capacity(1 << 16, sink),
        }
    }

    pub fn write(&mut self, message: &Message<'_>) -> Result<()> {
        serde_json::to_writer(&mut self.out, message).map_err(std::io::Error::from)?;
        self.out.write_all(b"\n")?;
        if let Message::State { .. } = message {
            self.out.flush()?;
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
        let out = &mut self.out;
        out.write_all(br#"{"type":"RECORD","stream":"#)?;
        serde_json::to_writer(&mut *out, stream).map_err(std::io::Error::from)?;
        out.write_all(br#","record":"#)?;
        out.write_all(record.as_bytes())?;
        if let Some(version) = version {
            write!(out, r#","version":{version}"#)?;
        }
        out.write_all(br#","time_extracted":"#)?;
        serde_json::to_writer(&mut *out, time_extracted).map_err(std::io::Error::from)?;
        out.write_all(b"}\n")?;
        Ok(())
    }

    /// A line that is not a Singer message: the discovered catalog.
    pub fn write_raw_line(&mut self, line: &str) -> Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out.flush()?;
        Ok(())
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
            w.write(&Message::State { value: &json!({}) }).unwrap();
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
}
