//! Every engine call runs as a [`Job`]: on the libuv thread pool for the `...Async` methods
//! (napi `AsyncTask`, so the event loop keeps turning during fsync), or inline for their
//! synchronous twins. Both share the same closure and the same error conversion, as in
//! node-rs; a panic is caught here and reported as `INTERNAL` instead of aborting Node.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::{AsyncTask, ToNapiValue, TypeName};
use napi::{Env, Task};

use crate::error::{self, Failure};

type Work<T> = Box<dyn FnOnce() -> Result<T, Failure> + Send>;

/// One engine call producing a `T` (already a JavaScript-convertible, `Send` value).
pub struct Job<T> {
    work: Option<Work<T>>,
}

impl<T> Job<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    pub fn new<F, E>(work: F) -> Self
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        E: Into<Failure>,
    {
        Job {
            work: Some(Box::new(move || work().map_err(Into::into))),
        }
    }

    /// Runs the job on the calling (JavaScript) thread: the synchronous API.
    pub fn run(mut self, env: Env) -> napi::Result<T> {
        let out = self.compute()?;
        self.resolve(env, out)
    }

    /// Runs the job on the libuv pool; the returned task becomes a `Promise`.
    pub fn spawn(self) -> AsyncTask<Self> {
        AsyncTask::new(self)
    }
}

impl<T> Task for Job<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = Result<T, Failure>;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let Some(work) = self.work.take() else {
            return Ok(Err(Failure::Panic("a DocDB job ran twice".into())));
        };
        Ok(guard(work))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<T> {
        output.map_err(|f| error::to_js(&env, f))
    }
}

/// Runs `f`, turning a panic into [`Failure::Panic`].
fn guard<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Failure::Panic(msg))
    })
}

/// Runs a quick engine call that borrows binding state (a transaction's staged writes) on
/// the JavaScript thread, with the same panic guard and error conversion as [`Job`].
pub fn inline<T>(env: &Env, f: impl FnOnce() -> docdb::Result<T>) -> napi::Result<T> {
    guard(|| f().map_err(Failure::from)).map_err(|e| error::to_js(env, e))
}
