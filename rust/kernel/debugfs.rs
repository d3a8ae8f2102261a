// SPDX-License-Identifier: GPL-2.0

//! Read-only debugfs files under `/sys/kernel/debug/guestmap/`.
//!
//! C header: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h)
//!
//! 6.12 has no Rust debugfs; `rust/helpers/debugfs.c` makes seq_files
//! whose contents come from [`Show::show`].

use super::bindings::{
    dentry as RawDentry, gm_debugfs_create, gm_debugfs_exit, gm_debugfs_init, gm_debugfs_remove,
    gm_seq_write, seq_file as RawSeqFile,
};
use core::{ffi::c_void, fmt, marker::PhantomData, ptr::NonNull};
use kernel::{
    ffi::c_int,
    str::CStr,
    sync::{Arc, ArcBorrow},
    types::ForeignOwnable,
};

/// The `guestmap` directory; files are made in it while this lives.
pub(crate) struct Root(());

impl Root {
    /// Creates the directory.  Never fails: without debugfs there are
    /// simply no files.
    pub(crate) fn new() -> Root {
        // SAFETY: called once, from module init.
        unsafe { gm_debugfs_init() };
        Root(())
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // SAFETY: every `File` is gone: files belong to open contexts, and
        // the module (so `Root`) outlives those.
        unsafe { gm_debugfs_exit() };
    }
}

/// Where [`Show::show`] writes.
pub(crate) struct SeqFile<'a>(NonNull<RawSeqFile>, PhantomData<&'a ()>);

impl fmt::Write for SeqFile<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: the seq_file is live for the show() call this borrows
        // from, and `s` is valid for `s.len()` bytes.  On overflow
        // seq_file retries show() with a bigger buffer.
        unsafe { gm_seq_write(self.0.as_ptr(), s.as_ptr().cast(), s.len() as _) };
        Ok(())
    }
}

/// Data with a textual view.
pub(crate) trait Show: Send + Sync + 'static {
    /// Writes the file's contents.
    fn show(&self, m: &mut SeqFile<'_>) -> fmt::Result;
}

/// A debugfs file showing an `Arc<T>`; removing it (drop) waits for
/// readers, then drops the reference.
///
/// # Invariants
///
/// `dentry` is null or a file made by `gm_debugfs_create` for the pointer
/// from `Arc::into_foreign` in `data`.
pub(crate) struct File<T: Show> {
    dentry: *mut RawDentry,
    data: *const c_void,
    _t: PhantomData<Arc<T>>,
}

// SAFETY: removal may run on any thread; `T` is `Send + Sync`.
unsafe impl<T: Show> Send for File<T> {}
// SAFETY: `&File` offers nothing.
unsafe impl<T: Show> Sync for File<T> {}

impl<T: Show> File<T> {
    /// Makes file `name` showing `data`.  If debugfs cannot make it, the
    /// file is simply absent.
    pub(crate) fn new(name: &CStr, data: Arc<T>) -> File<T> {
        let ptr = data.into_foreign();
        // SAFETY: `ptr` stays valid until `drop` takes it back, after the
        // file (and every show() call) is gone.
        let dentry = unsafe {
            gm_debugfs_create(
                name.as_char_ptr(),
                ptr.cast_mut(),
                Some(Self::show_callback),
            )
        };
        // INVARIANT: `dentry` is what `gm_debugfs_create` made for `ptr`
        // (or null if it could not), and `ptr` came from `into_foreign`.
        File {
            dentry,
            data: ptr,
            _t: PhantomData,
        }
    }

    /// # Safety
    ///
    /// Called by the seq_file with the `data` pointer given at creation.
    unsafe extern "C" fn show_callback(m: *mut RawSeqFile, data: *mut c_void) -> c_int {
        // SAFETY: `data` is the pointer `new` gave, still owned by the
        // `File`, which removes the file before releasing it.
        let data: ArcBorrow<'_, T> = unsafe { Arc::<T>::borrow(data) };
        let Some(m) = NonNull::new(m) else { return 0 };
        let mut seq = SeqFile(m, PhantomData);
        // seq_file retries show() with a bigger buffer on overflow, and
        // formatting into it cannot fail.
        let _ = data.show(&mut seq);
        0
    }
}

impl<T: Show> Drop for File<T> {
    fn drop(&mut self) {
        // SAFETY: `dentry` is ours (or null) and removal waits for readers.
        unsafe { gm_debugfs_remove(self.dentry) };
        // SAFETY: `data` came from `into_foreign` and nothing uses it now.
        drop(unsafe { Arc::<T>::from_foreign(self.data) });
    }
}
