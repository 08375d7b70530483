//! `docdb_store`: an open data directory, and the catalog of its databases.

use std::ffi::{c_char, c_void, CString};
use std::os::unix::ffi::OsStrExt;

use docdb::{Database, Options, Result, Store};

use crate::options::docdb_connect_options;

use crate::db::docdb_db;
use crate::options::docdb_options;
use crate::panic::{boundary, call};
use crate::ptr::{self, arg, Out};
use crate::stats::docdb_store_stats;
use crate::status::docdb_status;

/// An open data directory (opaque): opened in this process by `docdb_store_open`, or
/// served by a `docdb serve` process and reached with `docdb_store_connect`. Every function
/// works the same on both. Closed by `docdb_store_close`, released by `docdb_store_free`.
/// Safe to use from several threads at once.
pub struct docdb_store {
    store: Store,
    /// The directory or the URL, as given.
    path: CString,
}

/// Opens (creating it if needed) the data directory `path`.
///
/// `opts` may be NULL for the defaults. On success `*out` receives a new handle that the
/// caller releases with `docdb_store_free`; on failure `*out` is unchanged, and nothing
/// was created on disk.
///
/// If this process already has the directory open (through this library), the new handle
/// shares that open store: both see the same databases, and the files close when the last
/// handle is closed. `DOCDB_INVALID_ARGUMENT` if `opts` differ from the options the store
/// was opened with; `DOCDB_LOCKED` if another process holds the directory.
#[no_mangle]
pub extern "C" fn docdb_store_open(
    path: *const c_char,
    opts: *const docdb_options,
    out: *mut *mut docdb_store,
) -> docdb_status {
    call(|| {
        let dir = ptr::path(path)?;
        let out = Out::new(out, "out")?;
        let options = if opts.is_null() {
            Options::default()
        } else {
            arg(opts, "opts")?.to_core()?
        };
        let store = Store::open(&dir, options)?;
        let path = CString::new(dir.as_os_str().as_bytes()).unwrap_or_default();
        out.set(Box::into_raw(Box::new(docdb_store { store, path })));
        Ok(())
    })
}

/// Connects to the DocDB server at `url`: `unix:///path/to.sock`, `tcp://host:port` or
/// `tls://host:port`. The handle is a `docdb_store` like one from `docdb_store_open`, and
/// every function works on it the same way (the server holds the files; transactions and
/// snapshots are held by the server until finished or freed). `opts` may be NULL for the
/// defaults.
///
/// `DOCDB_INVALID_ARGUMENT` for a malformed URL, bad options or a token the server refuses;
/// `DOCDB_UNAVAILABLE` if the server cannot be reached. Later, a call whose connection is
/// lost fails with `DOCDB_UNAVAILABLE` (its outcome unknown if it may have been applied),
/// and the next call connects again. `docdb_store_backup` is refused
/// (`DOCDB_INVALID_ARGUMENT`): back up on the server's host. `docdb_store_close` closes this
/// client's connections; the server goes on.
///
/// On success `*out` receives a new handle that the caller releases with
/// `docdb_store_free`; on failure `*out` is unchanged.
#[no_mangle]
pub extern "C" fn docdb_store_connect(
    url: *const c_char,
    opts: *const docdb_connect_options,
    out: *mut *mut docdb_store,
) -> docdb_status {
    call(|| {
        let url = ptr::utf8(url, "url")?;
        let out = Out::new(out, "out")?;
        let options = if opts.is_null() {
            docdb::ConnectOptions::default()
        } else {
            arg(opts, "opts")?.to_client()?
        };
        let store = Store::connect(url, options)?;
        let path = CString::new(url).unwrap_or_default();
        out.set(Box::into_raw(Box::new(docdb_store { store, path })));
        Ok(())
    })
}

/// Closes this handle; it fails with `DOCDB_CLOSED` afterwards. If other handles of this
/// process share the store (see `docdb_store_open`), that is all. Closing the last handle
/// closes the store: waits for background work, checkpoints and syncs every open database
/// and releases the directory lock; afterwards every handle obtained from it (databases,
/// transactions, snapshots, scans) fails with `DOCDB_CLOSED`.
///
/// Closing again returns `DOCDB_OK` and does nothing. The handle itself stays allocated
/// until `docdb_store_free`.
#[no_mangle]
pub extern "C" fn docdb_store_close(store: *const docdb_store) -> docdb_status {
    call(|| arg(store, "store")?.store.close())
}

/// Releases the handle, closing it first if it is still open (errors of that close
/// are dropped: call `docdb_store_close` to see them). NULL is a no-op; freeing twice is
/// undefined behaviour. Handles obtained from the store stay valid to free, and fail with
/// `DOCDB_CLOSED`.
#[no_mangle]
pub extern "C" fn docdb_store_free(store: *mut docdb_store) {
    boundary((), || {
        if let Some(store) = ptr::take_box(store) {
            let _ = store.store.close();
        }
    })
}

/// Whether `docdb_store_close` was called (true for NULL).
#[no_mangle]
pub extern "C" fn docdb_store_is_closed(store: *const docdb_store) -> bool {
    boundary(true, || {
        arg(store, "store").map_or(true, |s| s.store.is_closed())
    })
}

/// The data directory the store was opened with, as given to `docdb_store_open` (for a
/// store from `docdb_store_connect`, its URL).
///
/// The string is borrowed from the handle: valid until `docdb_store_free`, not to be
/// freed. NULL if `store` is NULL.
#[no_mangle]
pub extern "C" fn docdb_store_path(store: *const docdb_store) -> *const c_char {
    boundary(std::ptr::null(), || {
        arg(store, "store").map_or(std::ptr::null(), |s| s.path.as_ptr())
    })
}

/// Creates the database `name` and opens it. `DOCDB_ALREADY_EXISTS` if the name is taken,
/// `DOCDB_INVALID_NAME` if it is not 1 to 64 characters of `[A-Za-z0-9_.-]` (not starting
/// with '.'), `DOCDB_INVALID_ARGUMENT` if it is not UTF-8.
///
/// On success `*out` receives a new handle to free with `docdb_db_free`.
#[no_mangle]
pub extern "C" fn docdb_store_create_db(
    store: *const docdb_store,
    name: *const c_char,
    out: *mut *mut docdb_db,
) -> docdb_status {
    call(|| open_db_with(store, name, out, Store::create_db))
}

/// Opens the existing database `name`; `DOCDB_NOT_FOUND` if there is none.
/// On success `*out` receives a new handle to free with `docdb_db_free`.
#[no_mangle]
pub extern "C" fn docdb_store_open_db(
    store: *const docdb_store,
    name: *const c_char,
    out: *mut *mut docdb_db,
) -> docdb_status {
    call(|| open_db_with(store, name, out, Store::open_db))
}

/// Opens the database `name`, creating it first if it does not exist.
/// On success `*out` receives a new handle to free with `docdb_db_free`.
#[no_mangle]
pub extern "C" fn docdb_store_open_or_create_db(
    store: *const docdb_store,
    name: *const c_char,
    out: *mut *mut docdb_db,
) -> docdb_status {
    call(|| open_db_with(store, name, out, Store::open_or_create_db))
}

/// Drops the database `name`: removes it from the catalog (durably) and deletes its files.
/// Open handles to it fail with `DOCDB_CLOSED` from then on. `DOCDB_NOT_FOUND` if absent.
#[no_mangle]
pub extern "C" fn docdb_store_drop_db(
    store: *const docdb_store,
    name: *const c_char,
) -> docdb_status {
    call(|| {
        let (store, name) = (arg(store, "store")?, ptr::name(name)?);
        store.store.drop_db(name)
    })
}

/// One entry of a `docdb_db_list`.
#[repr(C)]
pub struct docdb_db_info {
    /// The database's catalog id (never reused).
    pub id: u64,
    /// Its name, NUL-terminated; owned by the list.
    pub name: *mut c_char,
}

/// The databases of a store, by id. The caller owns it and releases it with
/// `docdb_db_list_free`.
#[repr(C)]
pub struct docdb_db_list {
    /// `len` entries (NULL when `len` is 0).
    pub items: *mut docdb_db_info,
    /// Number of entries.
    pub len: usize,
}

/// Lists the store's databases into `*out` (on failure `*out` is unchanged).
#[no_mangle]
pub extern "C" fn docdb_store_list_dbs(
    store: *const docdb_store,
    out: *mut docdb_db_list,
) -> docdb_status {
    call(|| {
        let (store, out) = (arg(store, "store")?, Out::new(out, "out")?);
        let infos = store.store.list_dbs()?;
        let items: Box<[docdb_db_info]> = infos
            .into_iter()
            .map(|info| docdb_db_info {
                id: info.id,
                // Valid names have no NUL byte (they are checked at creation).
                name: CString::new(info.name).unwrap_or_default().into_raw(),
            })
            .collect();
        let len = items.len();
        let items = if len == 0 {
            std::ptr::null_mut()
        } else {
            Box::into_raw(items).cast::<docdb_db_info>()
        };
        out.set(docdb_db_list { items, len });
        Ok(())
    })
}

/// Releases a list filled by `docdb_store_list_dbs` and resets it to `{NULL, 0}`.
/// NULL and a reset list are no-ops.
#[no_mangle]
pub extern "C" fn docdb_db_list_free(list: *mut docdb_db_list) {
    boundary((), || {
        let Some(l) = ptr::filled(list) else {
            return;
        };
        if !l.items.is_null() {
            // SAFETY: `items`/`len` are a `Box<[docdb_db_info]>` given away by
            // `docdb_store_list_dbs` and not freed since (we reset `items` below).
            let items =
                unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(l.items, l.len)) };
            for info in items.iter() {
                if !info.name.is_null() {
                    // SAFETY: each name came from `CString::into_raw` in the same call.
                    drop(unsafe { CString::from_raw(info.name) });
                }
            }
        }
        l.items = std::ptr::null_mut();
        l.len = 0;
    })
}

/// Fills `*out` with the store's statistics (sums over the open databases).
#[no_mangle]
pub extern "C" fn docdb_store_get_stats(
    store: *const docdb_store,
    out: *mut docdb_store_stats,
) -> docdb_status {
    call(|| {
        let (store, out) = (arg(store, "store")?, Out::new(out, "out")?);
        out.set(docdb_store_stats::from(&store.store.stats()?));
        Ok(())
    })
}

/// Writes a checkpoint of every open database (the next open replays only what follows).
#[no_mangle]
pub extern "C" fn docdb_store_checkpoint(store: *const docdb_store) -> docdb_status {
    call(|| arg(store, "store")?.store.checkpoint())
}

/// fsyncs every open database's log: every commit so far becomes durable (useful with
/// `DOCDB_SYNC_NORMAL`).
#[no_mangle]
pub extern "C" fn docdb_store_sync(store: *const docdb_store) -> docdb_status {
    call(|| arg(store, "store")?.store.sync())
}

/// Called by `docdb_store_backup` as the copy progresses: `done` of `total` bytes copied so
/// far, and the `user_data` given to `docdb_store_backup`. Runs on the thread that called
/// `docdb_store_backup`, before it returns; it must not free the store.
pub type docdb_progress_fn = Option<extern "C" fn(done: u64, total: u64, user_data: *mut c_void)>;

/// Writes a consistent copy of the store into the directory `dest` while other threads
/// keep reading and writing.
///
/// `dest` must not exist (it is created, parents included) or be an empty directory
/// outside the store's directory: otherwise `DOCDB_ALREADY_EXISTS` or
/// `DOCDB_INVALID_ARGUMENT`. The copy holds, for every database, exactly the commits made
/// before one instant; writers wait only while each database's position is noted. Every
/// file and directory of the copy is fsynced, and the copy is verified by opening it,
/// before this returns `DOCDB_OK`; it then opens with `docdb_store_open` like any store.
/// On failure nothing of the copy is left. `progress` may be NULL; `user_data` is passed
/// to it untouched. A store from `docdb_store_connect` answers `DOCDB_INVALID_ARGUMENT`:
/// the copy is made on the server's host (`docdb backup`).
#[no_mangle]
pub extern "C" fn docdb_store_backup(
    store: *const docdb_store,
    dest: *const c_char,
    progress: docdb_progress_fn,
    user_data: *mut c_void,
) -> docdb_status {
    call(|| {
        let (store, dest) = (arg(store, "store")?, ptr::path(dest)?);
        store.store.backup(&dest, |done, total| {
            if let Some(report) = progress {
                report(done, total, user_data);
            }
        })
    })
}

/// The shared body of the three calls that hand out a database handle by name.
fn open_db_with(
    store: *const docdb_store,
    name: *const c_char,
    out: *mut *mut docdb_db,
    open: fn(&Store, &str) -> Result<Database>,
) -> Result<()> {
    let (store, name, out) = (
        arg(store, "store")?,
        ptr::name(name)?,
        Out::new(out, "out")?,
    );
    let db = open(&store.store, name)?;
    out.set(docdb_db::into_raw(db, &store.store));
    Ok(())
}
