//! `Database.prototype.readInto` as a plain Node-API callback (installed by docdb.js). The
//! read itself is cheaper than napi-rs's per-call machinery for a class method (a borrow
//! scope with a global lock and hash map, bench/analysis.md): this callback unwraps `this`
//! itself, checks its class with the napi8 type tag napi-rs gives every `Database`, and
//! then does exactly what `Database::read_into` does.

use std::ptr;

use napi::bindgen_prelude::{validate_type_tag, FromNapiValue, TypeTag, Unknown};
use napi::{sys, Env, JsError, Result};
use napi_derive::napi;

use crate::database::Database;
use crate::error::type_error;

/// The `readInto` function for `Database.prototype` (internal: docdb.js installs it).
#[napi(js_name = "_readIntoFunction", ts_return_type = "Function")]
pub fn read_into_function(env: Env) -> Result<Unknown<'static>> {
    let name = "readInto";
    let mut f = ptr::null_mut();
    // SAFETY: `env` is this call's environment; the name pointer and length describe a
    // live UTF-8 string; `f` is a valid out pointer.
    unsafe {
        napi::check_status!(sys::napi_create_function(
            env.raw(),
            name.as_ptr().cast(),
            name.len() as isize,
            Some(read_into_callback),
            ptr::null_mut(),
            &mut f,
        ))?;
        Unknown::from_napi_value(env.raw(), f)
    }
}

unsafe extern "C" fn read_into_callback(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let mut argc = 2;
    let mut argv = [ptr::null_mut(); 2];
    let mut this = ptr::null_mut();
    // SAFETY: `info` is this callback's; the out pointers are valid, `argv` holds `argc`.
    // Missing arguments come back as `undefined`.
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            &mut this,
            ptr::null_mut(),
        )
    };
    let js = Env::from_raw(env);
    let out = if status == sys::Status::napi_ok {
        // SAFETY: `this` and `argv` are live values of this callback's scope.
        unsafe { read_into(&js, this, argv) }
    } else {
        Err(napi::Error::from_status(napi::Status::from(status)))
    };
    match out {
        Ok(v) => v,
        Err(e) => {
            // SAFETY: `env` is live; throwing leaves the exception pending for the caller.
            unsafe { JsError::from(e).throw_into(env) };
            ptr::null_mut()
        }
    }
}

/// # Safety
/// `this` and `argv` must be live values of the current callback's scope.
unsafe fn read_into(
    env: &Env,
    this: sys::napi_value,
    argv: [sys::napi_value; 2],
) -> Result<sys::napi_value> {
    let not_a_database = || type_error(env, "readInto must be called on a Database");
    let mut wrapped = ptr::null_mut();
    // SAFETY: `this` is a live value; `wrapped` is a valid out pointer.
    if unsafe { sys::napi_unwrap(env.raw(), this, &mut wrapped) } != sys::Status::napi_ok {
        return Err(not_a_database());
    }
    // The wrapped pointer belongs to whichever class wrapped `this`: only the type tag
    // napi-rs stamps on each `Database` makes the cast below sound.
    // SAFETY: `this` is a live value.
    unsafe { validate_type_tag(env.raw(), this, &Database::type_tag(), "Database") }
        .map_err(|_| not_a_database())?;
    // SAFETY: tagged as a `Database`, so napi-rs wrapped a `Database` it keeps alive as long
    // as `this`, which outlives this call; `Database` has no `&mut self` method, so a
    // shared reference cannot alias a mutable one.
    let db = unsafe { &*wrapped.cast::<Database>() };
    // SAFETY: the arguments are live values of this call's scope.
    let (id, target) = unsafe {
        (
            Unknown::from_napi_value(env.raw(), argv[0])?,
            Unknown::from_napi_value(env.raw(), argv[1])?,
        )
    };
    let len = db.read_into_args(env, &id, &target)?;
    let mut out = ptr::null_mut();
    // SAFETY: `env` is live; `out` is a valid out pointer.
    napi::check_status!(unsafe { sys::napi_create_double(env.raw(), len, &mut out) })?;
    Ok(out)
}
