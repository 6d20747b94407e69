//! Determinism at the OS boundary (feature `intercept`): inside a
//! simulation, OS entropy and OS clocks are the world's.
//!
//! Third-party code draws entropy and reads clocks behind the test's back:
//! `rand::thread_rng()` seeds itself from `getrandom`, `HashMap::new()` keys
//! its hasher from it, `uuid::Uuid::new_v4()` draws from it, and
//! `Instant::now()`/`SystemTime::now()` call `clock_gettime`. No trait can
//! reach such code, so this module replaces the C library's entry points in
//! the test binary with definitions of the same name (`#[unsafe(no_mangle)]`,
//! as madsim does). The linker binds the program's calls to them, and std and
//! the `getrandom` crate, which look `getrandom` up with `dlsym`, find them
//! first too. Each override asks whether the calling thread is running a
//! world (with interception on, the default): if so it answers from the
//! world, otherwise it calls through to the real function.
//!
//! | call | inside a world | outside |
//! | --- | --- | --- |
//! | `getrandom`, `getentropy` | the calling node's named stream `os-entropy/<node>` (`os-entropy/sim` for the harness); each call is a trace event `os.entropy` | the C library's |
//! | `clock_gettime(CLOCK_MONOTONIC…)` (`MONOTONIC`, `_RAW`, `_COARSE`, `BOOTTIME`): `Instant::now` | the node's monotonic clock plus [`MONOTONIC_START`] | the C library's |
//! | `clock_gettime(CLOCK_REALTIME…)` (`REALTIME`, `_COARSE`, `TAI`), `gettimeofday`, `time`: `SystemTime::now` | the node's wall clock from [`WALL_CLOCK_START`](crate::time::WALL_CLOCK_START) | the C library's |
//! | CPU-time clocks | not intercepted (they measure the simulator itself) | the C library's |
//!
//! What it cannot do, so that sweeps verify every failure by replay anyway:
//! code linked statically against its own C library or making raw system
//! calls (`syscall(SYS_getrandom)`, the vDSO called directly), reads of
//! `/dev/urandom` (the `getrandom` crate uses it only on kernels older than
//! 3.17), other platforms than ELF ones with dynamic linking, and state a
//! library keeps in statics across worlds. Thread-local state seeded from the
//! OS (a `thread_rng`, `HashMap` keys) is drawn again for every world because
//! sweeps run each world on a fresh thread.
//!
//! This is the only module of the workspace with `unsafe` code: the C
//! signatures themselves (raw pointers from the caller) and the look-up of the
//! real functions.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use crate::world::{OsClock, os_clock_nanos, os_entropy};

/// What the monotonic OS clock (`Instant::now`) reads at true time zero in a
/// world: a day, as if the machine had been up that long, so that code which
/// subtracts a duration from "now" at start-up does not underflow.
pub const MONOTONIC_START: Duration = Duration::from_secs(86_400);

/// Looks up the C library's definition of `name` (the next one after this
/// program's), once.
fn real(cache: &AtomicPtr<c_void>, name: &CStr) -> *mut c_void {
    let cached = cache.load(Ordering::Acquire);
    if !cached.is_null() {
        return cached;
    }
    // SAFETY: `dlsym` with a NUL-terminated name; RTLD_NEXT skips this program.
    let found = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    cache.store(found, Ordering::Release);
    found
}

fn clock_kind(clock: libc::clockid_t) -> Option<OsClock> {
    match clock {
        libc::CLOCK_MONOTONIC
        | libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_BOOTTIME
        | libc::CLOCK_BOOTTIME_ALARM => Some(OsClock::Monotonic),
        libc::CLOCK_REALTIME
        | libc::CLOCK_REALTIME_COARSE
        | libc::CLOCK_REALTIME_ALARM
        | libc::CLOCK_TAI => Some(OsClock::Wall),
        _ => None,
    }
}

/// Seconds and nanoseconds of a reading, floor-divided so negative wall
/// readings (a clock stepped back before 1970) stay well formed.
fn split(nanos: i128) -> (i64, i64) {
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000);
    (
        i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX }),
        sub as i64,
    )
}

/// The reading of `kind` inside a world, in nanoseconds since the Unix epoch
/// (wall) or since boot (monotonic).
fn world_reading(kind: OsClock) -> Option<i128> {
    let nanos = os_clock_nanos(kind)?;
    Some(match kind {
        OsClock::Monotonic => nanos + MONOTONIC_START.as_nanos() as i128,
        OsClock::Wall => nanos + crate::time::WALL_CLOCK_START.as_nanos() as i128,
    })
}

type ClockGettime = unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> c_int;
static REAL_CLOCK_GETTIME: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// `clock_gettime(2)`: the world's clocks inside a simulation.
///
/// # Safety
///
/// As the C function: `tp` is valid for writes.
#[unsafe(no_mangle)]
unsafe extern "C" fn clock_gettime(clock: libc::clockid_t, tp: *mut libc::timespec) -> c_int {
    if let Some(nanos) = clock_kind(clock).and_then(world_reading) {
        if tp.is_null() {
            return fail(libc::EFAULT);
        }
        let (secs, sub) = split(nanos);
        // SAFETY: the caller passes a valid timespec.
        unsafe {
            (*tp).tv_sec = secs as libc::time_t;
            (*tp).tv_nsec = sub as libc::c_long;
        }
        return 0;
    }
    let real = real(&REAL_CLOCK_GETTIME, c"clock_gettime");
    if real.is_null() {
        // SAFETY: the raw system call with the caller's arguments.
        return unsafe { libc::syscall(libc::SYS_clock_gettime, clock, tp) as c_int };
    }
    // SAFETY: the C library's clock_gettime, with the caller's arguments.
    unsafe { std::mem::transmute::<*mut c_void, ClockGettime>(real)(clock, tp) }
}

type GetTimeOfDay = unsafe extern "C" fn(*mut libc::timeval, *mut c_void) -> c_int;
static REAL_GETTIMEOFDAY: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// `gettimeofday(2)`: the node's wall clock inside a simulation.
///
/// # Safety
///
/// As the C function: `tv` is null or valid for writes.
#[unsafe(no_mangle)]
unsafe extern "C" fn gettimeofday(tv: *mut libc::timeval, tz: *mut c_void) -> c_int {
    if let Some(nanos) = world_reading(OsClock::Wall) {
        if !tv.is_null() {
            let (secs, sub) = split(nanos);
            // SAFETY: the caller passes a valid timeval.
            unsafe {
                (*tv).tv_sec = secs as libc::time_t;
                (*tv).tv_usec = (sub / 1_000) as libc::suseconds_t;
            }
        }
        return 0;
    }
    let real = real(&REAL_GETTIMEOFDAY, c"gettimeofday");
    if real.is_null() {
        // SAFETY: the raw system call with the caller's arguments.
        return unsafe { libc::syscall(libc::SYS_gettimeofday, tv, tz) as c_int };
    }
    // SAFETY: the C library's gettimeofday, with the caller's arguments.
    unsafe { std::mem::transmute::<*mut c_void, GetTimeOfDay>(real)(tv, tz) }
}

type Time = unsafe extern "C" fn(*mut libc::time_t) -> libc::time_t;
static REAL_TIME: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// `time(2)`: the node's wall clock, in seconds, inside a simulation.
///
/// # Safety
///
/// As the C function: `out` is null or valid for writes.
#[unsafe(no_mangle)]
unsafe extern "C" fn time(out: *mut libc::time_t) -> libc::time_t {
    let secs = match world_reading(OsClock::Wall) {
        Some(nanos) => split(nanos).0 as libc::time_t,
        None => {
            let real = real(&REAL_TIME, c"time");
            if real.is_null() {
                let mut tv = libc::timeval {
                    tv_sec: 0,
                    tv_usec: 0,
                };
                // SAFETY: a valid timeval on the stack.
                unsafe {
                    libc::syscall(
                        libc::SYS_gettimeofday,
                        &mut tv,
                        std::ptr::null_mut::<c_void>(),
                    )
                };
                tv.tv_sec
            } else {
                // SAFETY: the C library's time, with a null argument.
                unsafe { std::mem::transmute::<*mut c_void, Time>(real)(std::ptr::null_mut()) }
            }
        }
    };
    if !out.is_null() {
        // SAFETY: the caller passes a valid time_t.
        unsafe { *out = secs };
    }
    secs
}

type GetRandom = unsafe extern "C" fn(*mut c_void, libc::size_t, c_uint) -> libc::ssize_t;
static REAL_GETRANDOM: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// `getrandom(2)`: bytes of the calling node's entropy stream inside a
/// simulation (never blocks, never fails).
///
/// # Safety
///
/// As the C function: `buf` is valid for `len` bytes of writes.
#[unsafe(no_mangle)]
unsafe extern "C" fn getrandom(
    buf: *mut c_void,
    len: libc::size_t,
    flags: c_uint,
) -> libc::ssize_t {
    if len == 0 || buf.is_null() {
        // Probes (`getrandom(ptr, 0, 0)`, as the getrandom crate makes) go to the OS.
        return real_getrandom(buf, len, flags);
    }
    // SAFETY: the caller passes `len` writable bytes.
    let bytes = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
    if os_entropy(bytes) {
        return len as libc::ssize_t;
    }
    real_getrandom(buf, len, flags)
}

fn real_getrandom(buf: *mut c_void, len: libc::size_t, flags: c_uint) -> libc::ssize_t {
    let real = real(&REAL_GETRANDOM, c"getrandom");
    if real.is_null() {
        // SAFETY: the raw system call with the caller's arguments.
        return unsafe { libc::syscall(libc::SYS_getrandom, buf, len, flags) as libc::ssize_t };
    }
    // SAFETY: the C library's getrandom, with the caller's arguments.
    unsafe { std::mem::transmute::<*mut c_void, GetRandom>(real)(buf, len, flags) }
}

type GetEntropy = unsafe extern "C" fn(*mut c_void, libc::size_t) -> c_int;
static REAL_GETENTROPY: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// `getentropy(3)`: as [`getrandom`], at most 256 bytes.
///
/// # Safety
///
/// As the C function: `buf` is valid for `len` bytes of writes.
#[unsafe(no_mangle)]
unsafe extern "C" fn getentropy(buf: *mut c_void, len: libc::size_t) -> c_int {
    if len <= 256 && !buf.is_null() && len > 0 {
        // SAFETY: the caller passes `len` writable bytes.
        let bytes = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
        if os_entropy(bytes) {
            return 0;
        }
    }
    let real = real(&REAL_GETENTROPY, c"getentropy");
    if real.is_null() {
        return fail(libc::ENOSYS);
    }
    // SAFETY: the C library's getentropy, with the caller's arguments.
    unsafe { std::mem::transmute::<*mut c_void, GetEntropy>(real)(buf, len) }
}

fn fail(errno: c_int) -> c_int {
    // SAFETY: errno is this thread's.
    unsafe { *libc::__errno_location() = errno };
    -1
}
