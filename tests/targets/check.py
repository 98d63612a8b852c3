"""What the tap emitted on one deployment, and whether a target holds it.

    check.py tap DIR            the tap's two runs against the simulator's changes between them
    check.py TARGET DIR         TARGET's destination after loading both runs (run by TARGET's own
                                Python, which has its database driver)
    check.py TARGET DIR flat    TARGET's destination after loading flat.jsonl, a full sync
                                flattened by the tap, against run1.jsonl: nothing lost
    check.py TARGET DIR own     TARGET's destination after loading run1.jsonl with its own
                                flattening: what it loses, and that README says why
    check.py TARGET DIR drift   TARGET's destination after loading drift.jsonl (pipelinewise over
                                flat.jsonl): every value of the field that changed type

DIR holds run1.jsonl and run2.jsonl (the full and the incremental sync), flat.jsonl, the
simulator's answers (field.json, retyped.json, deleted-issues.json, deleted-worklogs.json, touched.json) and, for
each target, its config (TARGET.json, TARGET_flat.json, TARGET_own.json, which say where its
destination is) and what it printed (TARGET-runN.out, TARGET_flat-flat.out, TARGET_own-run1.out).
"""
import json
import sys
from datetime import datetime, timezone


class Stream:
    """One stream's messages across both runs."""

    def __init__(self):
        self.key = []  # key properties, from its SCHEMA
        self.schema = {}  # its last SCHEMA
        self.last = {}  # key -> its last record
        self.version = {}  # key -> the version its last record carried
        self.records = 0
        self.activations = 0
        self.active = None  # the version of its last ACTIVATE_VERSION

    def seen(self):
        return set(self.last)

    def deleted(self):
        return {k for k, r in self.last.items() if r.get("_sdc_deleted_at")}

    def superseded(self):
        """Rows a full-table stream no longer has: ACTIVATE_VERSION removes them where honoured."""
        if self.active is None:
            return set()
        return {k for k, v in self.version.items() if v != self.active}

    def key_of(self, record, fallback):
        # Without key properties, records are appended: each one is a row of its own.
        return tuple(str(record[p]) for p in self.key) if self.key else fallback


def read(folder, runs=("run1", "run2")):
    streams, states = {}, []
    for run in runs:
        state = None
        for n, line in enumerate(open(f"{folder}/{run}.jsonl")):
            m = json.loads(line)
            s = streams.setdefault(m.get("stream"), Stream())
            if m["type"] == "SCHEMA":
                s.key, s.schema = m["key_properties"], m["schema"]
            elif m["type"] == "RECORD":
                k = s.key_of(m["record"], (run, n))
                s.last[k], s.version[k] = m["record"], m.get("version")
                s.records += 1
            elif m["type"] == "ACTIVATE_VERSION":
                s.active = m["version"]
                s.activations += 1
            elif m["type"] == "STATE":
                state = m["value"]
        states.append(state)
    return {name: s for name, s in streams.items() if s.records}, states


def records(folder, run, stream):
    for line in open(f"{folder}/{run}.jsonl"):
        m = json.loads(line)
        if m["type"] == "RECORD" and m["stream"] == stream:
            yield m["record"]


def answer(folder, name):
    return json.load(open(f"{folder}/{name}.json"))


def instant(value):
    """A date-time as a target gave it back (a string, or a datetime naive in UTC) -> aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def check_tap(folder, streams):
    """The changes made in the simulator between the runs came out of the second one."""
    gone = {d["id"] for d in answer(folder, "deleted-issues")["deleted"]}
    said = {r["id"] for r in records(folder, "run2", "issues") if r.get("_sdc_deleted_at")}
    assert said == gone, f"deletion records {sorted(said)} != deleted issues {sorted(gone)}"
    gone = {str(d["worklogId"]) for d in answer(folder, "deleted-worklogs")["deleted"]}
    said = {r["id"] for r in records(folder, "run2", "worklogs") if r.get("_sdc_deleted_at")}
    assert gone <= said, f"deleted worklogs {sorted(gone - said)} not reported"
    before = {r["id"]: r["updated"] for r in records(folder, "run1", "issues")}
    after = {r["id"]: r["updated"] for r in records(folder, "run2", "issues") if "updated" in r}
    for touched in answer(folder, "touched")["touched"]:
        assert touched in after and instant(after[touched]) > instant(before[touched]), (
            f"issue {touched}: touched, but no new version")
    field = (answer(folder, "field")["added"]["id"],)
    assert field in streams["fields"].superseded(), f"removed field {field} in the last version"


def check_states(folder, target, states, runs=("run1", "run2")):
    """A target passes on the tap's last STATE once it has loaded everything before it."""
    for run, state in zip(runs, states):
        lines = open(f"{folder}/{target}-{run}.out").read().splitlines()
        assert lines and json.loads(lines[-1]) == state, f"{target}: another state after {run}"


def deletes_records(s):
    """pipelinewise and duckdb with hard_delete: a deletion record deletes its row; they ignore
    ACTIVATE_VERSION, so the rows a full-table stream no longer has stay."""
    return s.seen() - s.deleted(), set()


def activates_versions(s):
    """meltanolabs with hard_delete: ACTIVATE_VERSION deletes the rows of older versions; a
    deletion record's row stays, flagged by its _sdc_deleted_at."""
    return s.seen() - s.superseded(), s.deleted() - s.superseded()


def check_rows(streams, execute, schema, fold, expect):
    """A database's tables in `schema`: a row per key, live or flagged as `expect` says; issues in
    their last version. `fold` is what the target did to the case of column names."""

    def column(name):
        return f'"{fold(name)}"'

    def query(table, columns):
        return execute(f'SELECT {columns} FROM "{schema}"."{table}"')

    flag = f"{column('_sdc_deleted_at')} IS NOT NULL"
    total = 0
    for name, s in sorted(streams.items()):
        live, flagged = expect(s)
        total += len(live)
        if s.key:
            keys = ", ".join(column(p) for p in s.key)
            result = query(name, f"{keys}, {flag}")
            rows = {tuple(str(v) for v in row[:-1]): row[-1] for row in result}
            assert len(result) == len(rows), f"{name}: {len(result) - len(rows)} duplicate keys"
            assert set(rows) == live, (
                f"{name}: {len(rows)} rows, {len(live)} expected; "
                f"extra {sorted(set(rows) - live)[:3]}, missing {sorted(live - set(rows))[:3]}")
            assert {k for k, f in rows.items() if f} == flagged, f"{name}: flagged rows differ"
        else:
            got = query(name, f"count(*), count(*) FILTER (WHERE {flag})")[0]
            want = len(live), len(flagged)
            assert got == want, f"{name}: (rows, flagged) {got}, {want} expected"
    # The incremental run's rows replaced the full sync's: every live issue has its last `updated`.
    issues = streams["issues"]
    stored = dict(query("issues", f"id, {column('updated')}"))
    for (id,) in issues.seen() - issues.deleted():
        last = issues.last[(id,)]["updated"]
        assert instant(stored[id]) == instant(last), f"issue {id}: {stored[id]}, not {last}"
    return total


def postgres(config):
    import psycopg2

    con = psycopg2.connect(host=config["host"], port=config["port"], user=config["user"],
                           dbname=config.get("database") or config["dbname"])

    def execute(sql):
        cur = con.cursor()
        cur.execute(sql)
        return cur.fetchall()

    return execute


def duckdb_file(config):
    import duckdb

    con = duckdb.connect(config["path"], read_only=True)
    return lambda sql: con.execute(sql).fetchall()


def jsonl(streams, config):
    """Every record appended to STREAM.jsonl."""
    for name, s in streams.items():
        lines = [json.loads(line) for line in open(f"{config['destination_path']}/{name}.jsonl")]
        assert len(lines) == s.records, f"{name}: {len(lines)} lines, {s.records} records"
        if s.key:
            assert {s.key_of(r, None) for r in lines} == s.seen(), f"{name}: other keys"
    return sum(s.records for s in streams.values())


def stitch(streams, folder):
    """The Import API bodies it would have sent: every record and every ACTIVATE_VERSION."""
    counts = {}
    for run in ("run1", "run2"):
        for line in open(f"{folder}/stitch-{run}.body"):
            body = json.loads(line)
            for m in body["messages"]:
                key = (body["table_name"], m["action"])
                counts[key] = counts.get(key, 0) + 1
    for name, s in streams.items():
        got = counts.get((name, "upsert")), counts.get((name, "activate_version"), 0)
        assert got == (s.records, s.activations), f"{name}: (upserts, activations) {got}"
    return sum(s.records for s in streams.values())


def has_value(value):
    """Whether the SQL targets write a value: they write NULL for null, and for every value that
    Python finds false but 0 and False ("", [] and {})."""
    return value is not None and (value == 0 or bool(value))


def walk(node, column, step):
    """Follows a flattened column's name, split on `__` and matched without case (the targets
    lower it), through a nested record or schema; `step(node, key)` takes one level down."""
    for part in column.split("__"):
        node = step(node, part) if node is not None else None
    return node


def record_at(record, part):
    if not isinstance(record, dict):
        return None
    return next((v for k, v in record.items() if k.lower() == part), None)


def schema_at(schema, part):
    return next((v for k, v in schema.get("properties", {}).items() if k.lower() == part), None)


def is_open(schema):
    """An object whose schema lists no properties: no flattening can know its columns."""
    types = schema.get("type", []) if schema else []
    return "object" in types and not schema.get("properties")


def check_flattened(variant, loaded, plain, execute, schema, ident):
    """A flattened load against the tap's unflattened full sync (`plain`), row by row: every cell
    that is NULL where the unflattened record holds a value is lost. Flattened by the tap (`flat`),
    nothing may be, and every column its SCHEMA declares is in the table. Flattened by the target
    itself (`own`), some are, and only those of objects whose schema lists no properties: the
    target splits them by their keys into columns the table does not have, as README says."""
    lost, cells = {}, 0
    for name, s in sorted(loaded.items()):
        reference = plain[name]
        columns = [c for (c,) in execute(
            f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{schema}' "
            f"AND table_name = '{name}' ORDER BY ordinal_position")]
        if variant == "flat":
            missing = {ident(c) for c in s.schema["properties"]} - set(columns)
            assert not missing, f"{name}: declared columns not in the table: {sorted(missing)[:5]}"
        data = [c for c in columns if not c.startswith("_sdc_")]
        keys = [ident(p) for p in s.key]
        listed = ", ".join(f'"{c}"' for c in keys + data)
        rows = execute(f'SELECT {listed} FROM "{schema}"."{name}"')
        assert len(rows) == len(s.last), f"{name}: {len(rows)} rows, {len(s.last)} records"
        for row in rows:
            key = tuple(str(v) for v in row[:len(keys)])
            record = reference.last[key] if keys else next(iter(reference.last.values()))
            for column, value in zip(data, row[len(keys):]):
                cells += 1
                if value is None and has_value(walk(record, column, record_at)):
                    lost.setdefault((name, column), 0)
                    lost[(name, column)] += 1
    said = ", ".join(f"{n}.{c} ({k} of {len(loaded[n].last)} rows)" for (n, c), k in sorted(lost.items()))
    if variant == "flat":
        assert not lost, f"NULL where the unflattened record has a value: {said}"
        return f"{cells} cells in {len(loaded)} tables, no value lost"
    unexplained = [(n, c) for n, c in lost if not is_open(walk(plain[n].schema, c, schema_at))]
    assert not unexplained, f"lost, though their schema lists their properties: {unexplained}"
    assert lost, "the target's own flattening lost nothing: README says otherwise, update it"
    return f"{cells} cells in {len(loaded)} tables; lost, as README says: {said}"


def main(target, folder, variant=None):
    if variant == "drift":
        return main_drift(target, folder)
    if variant is not None:
        return main_flattened(target, folder, variant)
    streams, states = read(folder)
    if target == "tap":
        check_tap(folder, streams)
        return f"tap: {sum(s.records for s in streams.values())} records in {len(streams)} streams"
    check_states(folder, target, states)
    config = {} if target == "stitch" else json.load(open(f"{folder}/{target}.json"))
    schema = config.get("default_target_schema")
    if target == "meltanolabs":  # keeps the case of column names
        rows = check_rows(streams, postgres(config), schema, str, activates_versions)
    elif target == "pipelinewise":  # lowers it
        rows = check_rows(streams, postgres(config), schema, str.lower, deletes_records)
    elif target == "duckdb":
        rows = check_rows(streams, duckdb_file(config), schema, str.lower, deletes_records)
    elif target == "jsonl":
        rows = jsonl(streams, config)
    elif target == "stitch":  # --dry-run, with no config
        rows = stitch(streams, folder)
    else:
        raise SystemExit(f"check.py: no target {target}")
    return f"{target}: {rows} rows in {len(streams)} streams, as expected"


def main_flattened(target, folder, variant):
    """`flat`: flat.jsonl, flattened by the tap; `own`: run1.jsonl, flattened by the target."""
    run = {"flat": "flat", "own": "run1"}[variant]
    loaded, states = read(folder, (run,))
    plain, _ = read(folder, ("run1",))
    name = f"{target}_{variant}"
    check_states(folder, name, states, (run,))
    config = json.load(open(f"{folder}/{name}.json"))
    if target == "pipelinewise":  # lowers column names; PostgreSQL keeps 63 bytes of a name
        execute, ident = postgres(config), lambda c: c.lower().encode()[:63].decode(errors="ignore")
    elif target == "duckdb":
        execute, ident = duckdb_file(config), str.lower
    else:
        raise SystemExit(f"check.py: no flattening check for {target}")
    schema = config["default_target_schema"]
    return f"{name}: " + check_flattened(variant, loaded, plain, execute, schema, ident)


def main_drift(target, folder):
    """drift.jsonl, a full sync flattened by the tap after the field of retyped.json turned from a
    number into text: every issue's value of it is in the table, as the tap wrote it. pipelinewise
    loaded it over flat.jsonl, whose column was made for numbers."""
    runs = ("flat", "drift") if target == "pipelinewise" else ("drift",)
    loaded, states = read(folder, runs)
    name = f"{target}_drift"
    check_states(folder, name, states, runs)
    config = json.load(open(f"{folder}/{name}.json"))
    issues = loaded["issues"]
    column = "fields__" + answer(folder, "retyped")["added"]["id"]
    stored = dict(postgres(config)(
        f'SELECT "id", "{column}" FROM "{config["default_target_schema"]}"."issues"'))
    assert len(stored) == len(issues.last), f"{name}: {len(stored)} rows, {len(issues.last)} issues"
    texts = 0
    for (id,), record in issues.last.items():
        value = record.get(column)
        if has_value(value):
            texts += isinstance(value, str)
            assert stored[id] == value, f"{name}: issue {id}: {column} {stored[id]!r}, not {value!r}"
    assert texts, f"{name}: no text in {column}: the check proves nothing"
    return f"{name}: {len(stored)} rows, {texts} text values of a field that was a number"


if __name__ == "__main__":
    print(main(*sys.argv[1:]), file=sys.stderr)
