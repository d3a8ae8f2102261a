// SPDX-License-Identifier: GPL-2.0

//! A reader-writer semaphore whose waiters can be killed.
//!
//! C header: [`include/linux/rwsem.h`](srctree/include/linux/rwsem.h)
//!
//! 6.12's `kernel` crate has no rw_semaphore.  Readers share the data and
//! may sleep while they hold it (a page fault, a wait for user space);
//! a writer waits for them all.  Both sides can wait killably
//! (`down_read_killable()`, `down_write_killable()`); [`RwSem::write`]
//! waits uninterruptibly, for a caller that must get the lock.
//!
//! Unlike SRCU, which it stands in for where a writer must wait for
//! readers, a waiting writer holds up new readers (`rwsem_down_read_slowpath()`
//! queues them behind it while another reader holds the lock): a reader
//! that sleeps for long, with a writer queued, stalls every other reader.

use super::{
    bindings::{
        gm_down_read_killable, gm_down_write, gm_down_write_killable, gm_init_rwsem, gm_up_read,
        gm_up_write,
    },
    lockdep::LockClass,
};
use core::{
    cell::UnsafeCell,
    marker::{PhantomData, PhantomPinned},
    ops::{Deref, DerefMut},
};
use kernel::{
    bindings,
    error::{to_result, Result},
    init::{self, PinInit},
    prelude::*,
    str::CStr,
    types::Opaque,
};

/// A reader-writer semaphore protecting a `T`.
///
/// # Invariants
///
/// `sem` is an initialised `struct rw_semaphore`; `data` is reached only
/// shared by holders of a [`ReadGuard`] and uniquely by the holder of a
/// [`WriteGuard`] of `sem`.
#[pin_data]
pub(crate) struct RwSem<T> {
    #[pin]
    sem: Opaque<bindings::rw_semaphore>,
    data: UnsafeCell<T>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the semaphore hands `T` between threads: moving it needs
// `T: Send`.
unsafe impl<T: Send> Send for RwSem<T> {}
// SAFETY: readers on several threads share `&T` (`T: Sync`), a writer
// gets it alone from any thread (`T: Send`).
unsafe impl<T: Send + Sync> Sync for RwSem<T> {}

impl<T> RwSem<T> {
    /// A new semaphore protecting `data`, named `name` in lockdep's
    /// reports, of lock class `class`.
    pub(crate) fn new(
        data: T,
        name: &'static CStr,
        class: &'static LockClass,
    ) -> impl PinInit<Self> {
        // SAFETY: the closure initialises the `struct rw_semaphore` in
        // place, and the pinned slot stays where it is until drop; `name`
        // and the class key are static, as lockdep keeps them.
        let sem = unsafe {
            init::pin_init_from_closure::<Opaque<bindings::rw_semaphore>, core::convert::Infallible>(
                move |slot| {
                    gm_init_rwsem(Opaque::raw_get(slot), name.as_char_ptr(), class.as_ptr());
                    Ok(())
                },
            )
        };
        // INVARIANT: `sem` is initialised by the closure above, and `data`
        // is reachable only through the guards.
        pin_init!(Self {
            sem <- sem,
            data: UnsafeCell::new(data),
            _pin: PhantomPinned,
        })
    }

    /// Takes the semaphore shared, sleeping as long as needed unless the
    /// task gets a fatal signal: then `EINTR`.
    pub(crate) fn read_killable(&self) -> Result<ReadGuard<'_, T>> {
        // SAFETY: `sem` is initialised (type invariants).
        to_result(unsafe { gm_down_read_killable(self.sem.get()) }).map_err(|_| EINTR)?;
        // INVARIANT: the semaphore is held shared, and the guard releases
        // it.
        Ok(ReadGuard {
            sem: self,
            _not_send: PhantomData,
        })
    }

    /// Takes the semaphore exclusively, killably: `EINTR` on a fatal
    /// signal.
    pub(crate) fn write_killable(&self) -> Result<WriteGuard<'_, T>> {
        // SAFETY: `sem` is initialised (type invariants).
        to_result(unsafe { gm_down_write_killable(self.sem.get()) }).map_err(|_| EINTR)?;
        // INVARIANT: the semaphore is held exclusively, and the guard
        // releases it.
        Ok(WriteGuard {
            sem: self,
            _not_send: PhantomData,
        })
    }

    /// Takes the semaphore exclusively, waiting uninterruptibly: for a
    /// caller that must get it (the file's release).
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        // SAFETY: `sem` is initialised (type invariants).
        unsafe { gm_down_write(self.sem.get()) };
        // INVARIANT: the semaphore is held exclusively, and the guard
        // releases it.
        WriteGuard {
            sem: self,
            _not_send: PhantomData,
        }
    }
}

/// A [`RwSem`] held shared; dropping it releases it.
///
/// # Invariants
///
/// The current task holds `sem.sem` shared.
#[must_use = "the lock is released when the guard is dropped"]
pub(crate) struct ReadGuard<'a, T> {
    sem: &'a RwSem<T>,
    // A semaphore is released by the task that took it.
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: held shared (type invariants): no writer has the data.
        unsafe { &*self.sem.data.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the current task holds the semaphore shared.
        unsafe { gm_up_read(self.sem.sem.get()) };
    }
}

/// A [`RwSem`] held exclusively; dropping it releases it.
///
/// # Invariants
///
/// The current task holds `sem.sem` exclusively.
#[must_use = "the lock is released when the guard is dropped"]
pub(crate) struct WriteGuard<'a, T> {
    sem: &'a RwSem<T>,
    // A semaphore is released by the task that took it.
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: held exclusively (type invariants).
        unsafe { &*self.sem.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: held exclusively, and `&mut self` makes the borrow unique.
        unsafe { &mut *self.sem.data.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the current task holds the semaphore exclusively.
        unsafe { gm_up_write(self.sem.sem.get()) };
    }
}
