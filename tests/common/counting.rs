//! A global allocator that forwards to `System` and counts what the current thread asks of it,
//! shared by `tests/allocations.rs` and `benches/ratios.rs` (each includes this file with
//! `#[path]` and installs [`Counting`] as its `#[global_allocator]`; the other tests do not).
//!
//! Counts are per thread, so that tests running side by side do not count each other's.
#![allow(unsafe_code)] // implementing `GlobalAlloc` takes `unsafe`; this module is all of it
#![allow(dead_code)] // each user takes what it needs

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The allocator. See the [module](self).
pub(crate) struct Counting;

thread_local! {
    /// This thread's allocations and the bytes they asked for, while [`measure`] runs.
    static COUNTED: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

// Bytes held now, and the most held since the last `measure_peak`; always tracked.
static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

fn note(size: usize) {
    // `try_with`: an allocation while the thread's locals are torn down is not counted.
    let _ = COUNTED.try_with(|counted| {
        if let Some((count, bytes)) = counted.get() {
            counted.set(Some((count + 1, bytes + size as u64)));
        }
    });
}

fn grow(size: usize) {
    let live = LIVE.fetch_add(size as u64, Relaxed) + size as u64;
    PEAK.fetch_max(live, Relaxed);
}

fn shrink(size: usize) {
    LIVE.fetch_sub(size as u64, Relaxed);
}

// SAFETY: every call goes to `System` unchanged, with the caller's arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        grow(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        grow(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        shrink(layout.size());
        grow(new_size);
        // SAFETY: as for `dealloc`; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its result (dropped by the caller, outside the count) with the number
/// of allocations this thread made meanwhile (a `realloc` counts as one) and the bytes they asked
/// for.
pub(crate) fn measure<R>(f: impl FnOnce() -> R) -> (R, u64, u64) {
    COUNTED.with(|counted| counted.set(Some((0, 0))));
    let result = f();
    let (count, bytes) = COUNTED
        .with(|counted| counted.replace(None))
        .expect("counting was on");
    (result, count, bytes)
}

/// Runs `f` and returns its result with the most bytes held at once while it ran, beyond what
/// was held before (by every thread: run it when no other thread allocates).
pub(crate) fn measure_peak<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let result = f();
    (result, PEAK.load(Relaxed) - before)
}
