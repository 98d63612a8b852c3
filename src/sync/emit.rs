//! Turning one record into a RECORD message: issue fields under the catalog's column names, the
//! catalog's field selection applied, keys checked, date-times in UTC, hashed fields hashed,
//! renderings added, nested objects flattened into columns when asked.

use std::io::Write;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value};

use crate::catalog::SelectedStream;
use crate::error::Result;
use crate::flatten::FlatRecords;
use crate::metrics::{self, StreamCounts};
use crate::raw::{Node, RawObject, WriteText, as_it_came};
use crate::singer::{Message, SingerWriter};
use crate::timestamp::normalize;

/// Writes one stream's records and counts them.
pub struct Emitter<'a> {
    pub stream: &'a SelectedStream,
    pub count: u64,
    /// The same count, for the progress lines and metrics.
    counts: Arc<StreamCounts>,
    /// A flattened record being written, as text; kept to reuse its allocation.
    text: String,
    /// The stream's records flattened, with `flattening_enabled`.
    flat: Option<FlatRecords<'a>>,
}

impl<'a> Emitter<'a> {
    pub fn new(stream: &'a SelectedStream) -> Self {
        Emitter {
            stream,
            count: 0,
            counts: metrics::stream(stream.def.name),
            text: String::new(),
            flat: stream.flattener.as_ref().map(FlatRecords::new),
        }
    }

    pub fn name(&self) -> &'static str {
        self.stream.def.name
    }

    /// The stream's SCHEMA message, which comes before its first RECORD.
    pub fn write_schema(&self, writer: &mut SingerWriter<impl Write>) -> Result<()> {
        let schema = match &self.flat {
            Some(flat) => flat.schema(),
            None => &self.stream.schema,
        };
        schema_message(writer, self.stream, schema)
    }

    pub fn emit(
        &mut self,
        writer: &mut SingerWriter<impl Write>,
        mut record: Value,
        version: Option<i64>,
        extracted: &str,
    ) -> Result<()> {
        let Value::Object(map) = &mut record else {
            tracing::warn!(
                stream = self.name(),
                "skipped a record that is not a JSON object"
            );
            return Ok(());
        };
        if let Some(columns) = &self.stream.columns {
            columns.apply(map);
        }
        // Before the projection, which may drop the dates they are read from.
        if !self.stream.date_times.is_empty() {
            as_date_times(map, &self.stream.date_times);
        }
        self.stream.projection.apply(map);
        if let Some(missing) = self
            .stream
            .key_properties
            .iter()
            .find(|k| map.get(k.as_str()).is_none_or(Value::is_null))
        {
            tracing::warn!(stream = self.name(), key = %missing, "skipped a record without its key property");
            return Ok(());
        }
        normalize(&mut record);
        if let Value::Object(map) = &mut record {
            // Hashed first: a hashed document is a string, with no rendering to leak it.
            if let Some(hashing) = &self.stream.hashing {
                hashing.apply(map);
            }
            if let Some(renderings) = &self.stream.renderings {
                renderings.apply(map);
            }
            if let Some(hashing) = &self.stream.hashed_renderings {
                hashing.apply(map);
            }
        }
        if self.flat.is_some() {
            // Flattened from text, as the records that pass through as text are; the date-times
            // are as emitted already.
            let text = record.to_string();
            if let Some(record) = RawObject::parse(&text) {
                return self.write(writer, &record, &as_it_came, version, extracted);
            }
        }
        writer.write(&Message::Record {
            stream: self.name(),
            record: &record,
            version,
            time_extracted: extracted,
        })?;
        self.count += 1;
        self.counts.add_record();
        Ok(())
    }

    /// `emit` for a record that is JSON text taken apart: only what the projection narrows is
    /// looked into, and the text is written as it came but for its date-times, which `normalize`
    /// rewrites (`normalize_json`, or `DateSpans::normalize_into` when they were found already).
    pub fn emit_raw(
        &mut self,
        writer: &mut SingerWriter<impl Write>,
        record: RawObject<'_>,
        normalize: &impl WriteText,
        extracted: &str,
    ) -> Result<()> {
        let stream = self.stream;
        // The column names and renderings' keys are the stream's: the record may borrow them
        // while it is written.
        let mut record: RawObject<'_> = record;
        // Renamed before the selection, which names the columns.
        if let Some(columns) = &stream.columns {
            columns.apply_raw(&mut record);
        }
        stream.projection.apply_raw(&mut record);
        if let Some(missing) = stream
            .key_properties
            .iter()
            .find(|k| record.get(k).is_none_or(Node::is_null))
        {
            tracing::warn!(stream = self.name(), key = %missing, "skipped a record without its key property");
            return Ok(());
        }
        // Hashed first: a hashed document is a string, with no rendering to leak it.
        if let Some(hashing) = &stream.hashing {
            hashing.apply_raw(&mut record);
        }
        if let Some(renderings) = &stream.renderings {
            renderings.apply_raw(&mut record);
        }
        if let Some(hashing) = &stream.hashed_renderings {
            hashing.apply_raw(&mut record);
        }
        self.write(writer, &record, normalize, None, extracted)
    }

    /// Writes a record, flattened when asked: `text` passes the text that came with it on the
    /// way. A flattened record with keys no column was declared for comes after the SCHEMA that
    /// declares them.
    fn write(
        &mut self,
        writer: &mut SingerWriter<impl Write>,
        record: &RawObject<'_>,
        text: &impl WriteText,
        version: Option<i64>,
        extracted: &str,
    ) -> Result<()> {
        let stream = self.stream;
        match &mut self.flat {
            Some(flat) => {
                self.text.clear();
                flat.write(stream.def.name, record, &mut self.text, text);
                if let Some(schema) = flat.grown() {
                    schema_message(writer, stream, schema)?;
                }
                writer.write_record(stream.def.name, &self.text, version, extracted)?;
            }
            None => writer.write_record_with(stream.def.name, version, extracted, |out| {
                record.write_with(out, text)
            })?,
        }
        self.count += 1;
        self.counts.add_record();
        Ok(())
    }
}

fn schema_message(
    writer: &mut SingerWriter<impl Write>,
    stream: &SelectedStream,
    schema: &Value,
) -> Result<()> {
    writer.write(&Message::Schema {
        stream: stream.def.name,
        schema,
        key_properties: &stream.key_properties,
        bookmark_properties: &stream.bookmark_properties,
    })
}

/// Jira dates a Stitch catalog types as date-times, written as Stitch's tap wrote them: the day at
/// midnight UTC, read from the ISO date each comes from (`userReleaseDate` from `releaseDate`, as
/// the user's format, `29/Aug/24`, names no language-free day). A date that is none is null.
fn as_date_times(map: &mut Map<String, Value>, date_times: &[(&str, &str)]) {
    let written: Vec<(&str, Value)> = date_times
        .iter()
        .filter(|(property, _)| map.contains_key(*property))
        .map(|(property, source)| {
            let day = map
                .get(*source)
                .and_then(Value::as_str)
                .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
                .filter(|day| (1..=9999).contains(&day.year()));
            let value = day.map_or(Value::Null, |day| {
                Value::String(format!("{}T00:00:00.000Z", day.format("%Y-%m-%d")))
            });
            (*property, value)
        })
        .collect();
    for (property, value) in written {
        map.insert(property.to_string(), value);
    }
}
