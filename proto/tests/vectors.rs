//! Checks `tests/protocol/vectors.txt`, the protocol's test vectors: each is a whole frame
//! in hex and the message it means. Decoding the hex must give the message, encoding the
//! message must give the hex. `DOCDB_WRITE_VECTORS=1` rewrites the file from `samples()`.

use std::ops::Bound;

use docdb_core::{DbInfo, DbStats, Error, IdRange, StoreStats};
use docdb_proto::{
    decode_frame, encode_frame, BatchEntry, Hello, HelloOk, Reply, Request, ScanEntry, ServerStats,
    MAGIC,
};

fn file() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/protocol/vectors.txt")
}

enum Msg {
    Req(Request),
    Rep(Reply),
}

fn samples() -> Vec<(&'static str, u64, Msg)> {
    use Msg::{Rep, Req};
    let db_stats = DbStats {
        id: 1,
        name: "users".into(),
        documents: 2,
        live_bytes: 3,
        dead_bytes: 4,
        log_bytes: 5,
        segments: 6,
        committed_txns: 7,
        compactions: 8,
        checkpoints: 9,
        last_version: 10,
        active_readers: 11,
        memory_used: 12,
        memory_limit: 13,
        poisoned: false,
        recovered_truncated_bytes: 14,
        recovered_replayed_bytes: 15,
    };
    vec![
        (
            "request hello",
            0,
            Req(Request::Hello(Hello {
                min_version: 1,
                max_version: 1,
                token: b"s3cret".to_vec(),
            })),
        ),
        (
            "reply hello_ok",
            0,
            Rep(Reply::HelloOk(HelloOk {
                version: 1,
                max_frame: 32 << 20,
                server: "0.1.0".into(),
            })),
        ),
        ("request ping", 1, Req(Request::Ping)),
        ("request server_stats", 18, Req(Request::ServerStats)),
        (
            "reply server_stats",
            18,
            Rep(Reply::ServerStats(ServerStats {
                connections: 1,
                connections_total: 2,
                connections_refused: 3,
                auth_failures: 4,
                requests: 5,
                fsyncs: 6,
            })),
        ),
        ("reply unit", 1, Rep(Reply::Unit)),
        (
            "request create_db",
            2,
            Req(Request::CreateDb {
                name: "users".into(),
            }),
        ),
        (
            "reply db",
            2,
            Rep(Reply::Db(DbInfo {
                id: 1,
                name: "users".into(),
            })),
        ),
        ("request list_dbs", 3, Req(Request::ListDbs)),
        (
            "reply dbs",
            3,
            Rep(Reply::Dbs(vec![DbInfo {
                id: 1,
                name: "users".into(),
            }])),
        ),
        (
            "request create",
            4,
            Req(Request::Create {
                db: 1,
                id: 7,
                data: b"hi".to_vec(),
            }),
        ),
        ("request read", 5, Req(Request::Read { db: 1, id: 7 })),
        ("reply bytes", 5, Rep(Reply::Bytes(b"hi".to_vec()))),
        (
            "reply error not_found",
            6,
            Rep(Reply::Error(Error::NotFound("document 8".into()))),
        ),
        (
            "reply error batch conflict",
            7,
            Rep(Reply::Error(Error::Batch {
                index: 1,
                source: Box::new(Error::Conflict { doc_id: 7 }),
            })),
        ),
        (
            "request batch",
            8,
            Req(Request::Batch {
                db: 1,
                ops: vec![BatchEntry::Put(1, b"a".to_vec()), BatchEntry::Delete(2)],
            }),
        ),
        ("reply u64", 8, Rep(Reply::U64(42))),
        ("request begin", 9, Req(Request::Begin { db: 1 })),
        (
            "reply handle",
            9,
            Rep(Reply::Handle {
                handle: 1,
                version: 41,
            }),
        ),
        (
            "request txn_put",
            10,
            Req(Request::TxnPut {
                txn: 1,
                id: 3,
                data: b"x".to_vec(),
            }),
        ),
        ("request txn_commit", 11, Req(Request::TxnCommit { txn: 1 })),
        (
            "request scan_open",
            12,
            Req(Request::ScanOpen {
                snap: 2,
                ids_only: false,
            }),
        ),
        (
            "request scan_next",
            13,
            Req(Request::ScanNext {
                scan: 3,
                max_docs: 100,
                max_bytes: 1 << 20,
            }),
        ),
        (
            "reply page",
            13,
            Rep(Reply::Page {
                entries: vec![ScanEntry {
                    id: 7,
                    data: b"hi".to_vec(),
                }],
                done: true,
            }),
        ),
        ("reply bool", 14, Rep(Reply::Bool(true))),
        ("reply db_stats", 15, Rep(Reply::DbStats(db_stats.clone()))),
        (
            "reply store_stats",
            16,
            Rep(Reply::StoreStats(StoreStats {
                databases_total: 1,
                databases_active: 1,
                databases_open: 1,
                documents: 2,
                databases: vec![db_stats],
                ..StoreStats::default()
            })),
        ),
        (
            "request snap_range",
            19,
            Req(Request::SnapRange {
                snap: 2,
                range: IdRange::new(10..=20).limit(50),
                max_docs: 100,
                max_bytes: 1 << 20,
            }),
        ),
        (
            "reply page of a range",
            19,
            Rep(Reply::Page {
                entries: vec![
                    ScanEntry {
                        id: 10,
                        data: b"a".to_vec(),
                    },
                    ScanEntry {
                        id: 12,
                        data: b"b".to_vec(),
                    },
                ],
                done: false,
            }),
        ),
        (
            "request snap_range next page",
            20,
            Req(Request::SnapRange {
                snap: 2,
                range: IdRange::new(10..=20).limit(48).after(12),
                max_docs: 100,
                max_bytes: 1 << 20,
            }),
        ),
        (
            "request db_range",
            23,
            Req(Request::DbRange {
                db: 1,
                range: IdRange::new(100..).limit(2),
                max_docs: 1024,
                max_bytes: 4 << 20,
            }),
        ),
        (
            "reply range_page",
            23,
            Rep(Reply::RangePage {
                snap: 4,
                entries: vec![ScanEntry {
                    id: 100,
                    data: b"c".to_vec(),
                }],
                done: false,
            }),
        ),
        (
            "request txn_range",
            21,
            Req(Request::TxnRange {
                txn: 1,
                range: IdRange {
                    start: Bound::Excluded(5),
                    end: Bound::Unbounded,
                    reverse: true,
                    limit: None,
                },
                max_docs: 10,
                max_bytes: 4096,
            }),
        ),
        (
            "request snap_count",
            22,
            Req(Request::SnapCount {
                snap: 2,
                range: IdRange::new(..100),
            }),
        ),
        (
            "request txn_count",
            23,
            Req(Request::TxnCount {
                txn: 1,
                range: IdRange::new(10..=20),
            }),
        ),
        (
            "reply error unavailable",
            17,
            Rep(Reply::Error(Error::Unavailable {
                message: "server is shutting down".into(),
                outcome_unknown: false,
            })),
        ),
    ]
}

fn frame_of(id: u64, msg: &Msg) -> Vec<u8> {
    let (kind, body) = match msg {
        Msg::Req(r) => r.encode(),
        Msg::Rep(r) => r.encode(),
    };
    let mut out = Vec::new();
    encode_frame(id, kind, &body, &mut out);
    out
}

fn debug(msg: &Msg) -> String {
    match msg {
        Msg::Req(r) => format!("{r:?}"),
        Msg::Rep(r) => format!("{r:?}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn render() -> String {
    let mut out = String::from(
        "# DocDB wire protocol test vectors (docs/protocol.md), checked by proto/tests/vectors.rs.\n\
         # Blocks of three lines: name, the whole frame in hex, the message in Rust Debug form.\n",
    );
    for (name, id, msg) in samples() {
        out += &format!("\n{name}\n{}\n{}\n", hex(&frame_of(id, &msg)), debug(&msg));
    }
    out
}

#[test]
fn vectors_decode_to_their_messages_and_back() {
    if std::env::var_os("DOCDB_WRITE_VECTORS").is_some() {
        std::fs::write(file(), render()).unwrap();
    }
    let text = std::fs::read_to_string(file()).unwrap();
    assert_eq!(
        text,
        render(),
        "vectors.txt is stale: DOCDB_WRITE_VECTORS=1 rewrites it"
    );
    let mut n = 0;
    for block in text.split("\n\n").skip(1) {
        let lines: Vec<&str> = block.lines().collect();
        let (name, bytes, want) = (lines[0], unhex(lines[1]), lines[2]);
        let (frame, used) = decode_frame(&bytes, u32::MAX).unwrap().unwrap();
        assert_eq!(used, bytes.len(), "{name}");
        let got = if name.starts_with("request") {
            let r = Request::decode(frame.kind, &frame.body).unwrap();
            assert_eq!(r.encode(), (frame.kind, frame.body.clone()));
            format!("{r:?}")
        } else {
            format!("{:?}", Reply::decode(frame.kind, &frame.body).unwrap())
        };
        assert_eq!(got, want, "{name}");
        n += 1;
    }
    assert_eq!(n, samples().len());
}

#[test]
fn hello_starts_with_the_magic() {
    let bytes = frame_of(
        0,
        &Msg::Req(Request::Hello(Hello {
            min_version: 1,
            max_version: 1,
            token: Vec::new(),
        })),
    );
    assert_eq!(&bytes[13..21], &MAGIC);
}

/// A range has one encoding: an unbounded end or a missing limit carry 0, bound kinds are
/// 0-2. Anything else is malformed rather than silently read as something else.
#[test]
fn range_encoding_is_canonical() {
    let req = Request::SnapCount {
        snap: 2,
        range: IdRange::new(3..),
    };
    let (kind, body) = req.encode();
    assert_eq!(Request::decode(kind, &body).unwrap(), req);
    // Body: snap u64, start kind at 8, start id 9..17, end kind at 17, end id 18..26,
    // reverse at 26, has_limit at 27, limit 28..36.
    let mut bad_end_id = body.clone();
    bad_end_id[18] = 1;
    let mut bad_kind = body.clone();
    bad_kind[8] = 3;
    let mut bad_limit = body.clone();
    bad_limit[28] = 1;
    let mut bad_reverse = body.clone();
    bad_reverse[26] = 2;
    for (what, b) in [
        ("unbounded end with an id", bad_end_id),
        ("bound kind 3", bad_kind),
        ("a limit without has_limit", bad_limit),
        ("reverse byte 2", bad_reverse),
    ] {
        assert!(Request::decode(kind, &b).is_err(), "{what} was accepted");
    }
    assert!(Request::decode(kind, &body[..body.len() - 1]).is_err());
}
