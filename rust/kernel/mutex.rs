// SPDX-License-Identifier: GPL-2.0

//! A mutex whose waiters can be killed.
//!
//! C header: [`include/linux/mutex.h`](srctree/include/linux/mutex.h)
//!
//! 6.12's `kernel::sync::Mutex` only has `mutex_lock()`, which waits in
//! `TASK_UNINTERRUPTIBLE`: a task waiting behind a holder that sleeps for
//! long (a fault on a userfaultfd-registered page waits for user space)
//! can neither be killed nor escape the hung-task detector.  This one
//! waits with `mutex_lock_killable()`, as file operations that may wait
//! behind user space should.

use super::{
    bindings::{gm_mutex_init, gm_mutex_lock, gm_mutex_lock_killable, gm_mutex_unlock},
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

/// A mutual-exclusion lock protecting a `T`, taken killably.
///
/// # Invariants
///
/// `lock` is an initialised `struct mutex`, and `data` is accessed only by
/// the holder of a [`MutexGuard`] of `lock`.
#[pin_data]
pub(crate) struct Mutex<T> {
    #[pin]
    lock: Opaque<bindings::mutex>,
    data: UnsafeCell<T>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the mutex hands `T` from thread to thread, so `T: Send` is all
// it needs to be sent or shared.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above: only one thread at a time reaches `T`.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex protecting `data`, named `name` in lockdep's
    /// reports, of lock class `class`.
    pub(crate) fn new(
        data: T,
        name: &'static CStr,
        class: &'static LockClass,
    ) -> impl PinInit<Self> {
        // SAFETY: the closure initialises the `struct mutex` in place, and
        // the pinned slot stays where it is until drop; `name` and the
        // class key are static, as lockdep keeps them.
        let lock = unsafe {
            init::pin_init_from_closure::<Opaque<bindings::mutex>, core::convert::Infallible>(
                move |slot| {
                    gm_mutex_init(Opaque::raw_get(slot), name.as_char_ptr(), class.as_ptr());
                    Ok(())
                },
            )
        };
        // INVARIANT: `lock` is initialised by the closure above, and
        // `data` is reachable only through `lock_killable`.
        pin_init!(Self {
            lock <- lock,
            data: UnsafeCell::new(data),
            _pin: PhantomPinned,
        })
    }

    /// Takes the lock, waiting uninterruptibly: for where the lock cannot
    /// be held for long (or not at all) and the caller must get it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        // SAFETY: `lock` is initialised (type invariants).
        unsafe { gm_mutex_lock(self.lock.get()) };
        // INVARIANT: the lock is held, and the guard releases it.
        MutexGuard {
            mutex: self,
            _not_send: PhantomData,
        }
    }

    /// Takes the lock, sleeping as long as needed unless the task gets a
    /// fatal signal: then `EINTR`, and the syscall never returns to user
    /// space anyway.
    pub(crate) fn lock_killable(&self) -> Result<MutexGuard<'_, T>> {
        // SAFETY: `lock` is initialised (type invariants).
        to_result(unsafe { gm_mutex_lock_killable(self.lock.get()) }).map_err(|_| EINTR)?;
        // INVARIANT: the lock is held, and the guard releases it.
        Ok(MutexGuard {
            mutex: self,
            _not_send: PhantomData,
        })
    }
}

/// A held [`Mutex`]; dropping it unlocks.
///
/// # Invariants
///
/// The current task holds `mutex.lock`.
pub(crate) struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    // A mutex is released by the task that took it.
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the lock is held (type invariants), so no other
        // reference to `data` exists.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes the borrow unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the current task holds the lock (type invariants).
        unsafe { gm_mutex_unlock(self.mutex.lock.get()) };
    }
}
