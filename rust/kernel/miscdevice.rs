// SPDX-License-Identifier: GPL-2.0

//! Misc character devices.
//!
//! C header: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h)
//!
//! Shaped like upstream's later `kernel::miscdevice`, minus what guestmap
//! does not use.  `struct miscdevice` is not in 6.12's bindings, so the C
//! part (`rust/helpers/miscdevice.c`) allocates and registers it; the file
//! operations are built here, from one template per [`MiscDevice`] type.

use super::{
    bindings::{gm_misc_deregister, gm_misc_register, miscdevice as RawMiscDevice},
    file::File,
};
use core::{marker::PhantomData, mem::MaybeUninit, ptr::NonNull};
use kernel::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{to_result, Result},
    ffi::{c_int, c_long, c_uint, c_ulong},
    str::CStr,
    types::ForeignOwnable,
    ThisModule,
};

/// The per-open state of a misc device, and the operations on it.
pub(crate) trait MiscDevice: Sized {
    /// How the state is owned while the file is open.
    type Ptr: ForeignOwnable + Send + Sync;

    /// Called for each `open()` of the device, with the file being opened;
    /// the result lives as long as the open file.
    fn open(file: &File) -> Result<Self::Ptr>;

    /// Called when the last reference to the open file goes away.  This may
    /// run in another task than `open()`, or in a kernel thread.
    fn release(device: Self::Ptr) {
        drop(device);
    }

    /// Called for each `ioctl()`; the `Ok` value is what the syscall returns.
    ///
    /// 32-bit callers on a 64-bit kernel reach this too, through
    /// `compat_ptr_ioctl()`, which only converts the pointer argument: every
    /// argument struct must have one layout for 32- and 64-bit.
    fn ioctl(
        device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        cmd: u32,
        arg: usize,
    ) -> Result<isize>;
}

/// The minor number of a misc device (whose major is 10, `MISC_MAJOR`).
#[derive(Clone, Copy)]
pub(crate) enum Minor {
    /// One the misc core allocates at registration.  No node can name it
    /// before the device exists, so opening one cannot load the module.
    // A library type: not every user of it has a dynamic minor.
    #[allow(dead_code)]
    Dynamic,
    /// This one, which must be below 255 (`MISC_DYNAMIC_MINOR`, which
    /// would mean a dynamic one: `EINVAL`) and not registered by another
    /// device (`EBUSY`).  Opening a node with a fixed minor that no device
    /// has makes `misc_open()` request module `char-major-10-<minor>`
    /// first, so a driver with that alias (`MODULE_ALIAS_MISCDEV()`)
    /// loads on demand.
    Fixed(u8),
}

impl Minor {
    /// What `gm_misc_register` takes: a negative number is a dynamic minor.
    fn to_raw(self) -> c_int {
        match self {
            Minor::Dynamic => -1,
            Minor::Fixed(minor) => c_int::from(minor),
        }
    }
}

/// How a misc device is registered, as upstream's later
/// `MiscDeviceOptions`, with the minor number added.
#[derive(Clone, Copy)]
pub(crate) struct MiscDeviceOptions {
    /// The name of the device: `/dev/<name>`, and in sysfs and
    /// `/proc/misc`.
    pub(crate) name: &'static CStr,
    /// Its minor number.
    pub(crate) minor: Minor,
}

/// A registered misc device; dropping it deregisters the device.
///
/// # Invariants
///
/// `misc` is a device registered by `gm_misc_register` with `fops`, and not
/// yet deregistered.
pub(crate) struct Registration<T: MiscDevice> {
    misc: NonNull<RawMiscDevice>,
    // Dropped after `drop()` has deregistered the device.
    _fops: KBox<bindings::file_operations>,
    _t: PhantomData<T>,
}

// SAFETY: `misc_deregister` may be called from any thread.
unsafe impl<T: MiscDevice> Send for Registration<T> {}
// SAFETY: `&Registration` offers no operation at all.
unsafe impl<T: MiscDevice> Sync for Registration<T> {}

impl<T: MiscDevice> Registration<T> {
    /// Registers the device `opts` describes, for `module`.  Its node is
    /// created `root:root 0600` (devtmpfs's default for a device without a
    /// mode); udev rules may grant more.
    ///
    /// Each open file holds a reference to `module` (`fops->owner`), so
    /// rmmod fails with `EWOULDBLOCK` rather than unloading code that open
    /// files still use; and so this cannot be dropped while one is open.
    pub(crate) fn register(opts: MiscDeviceOptions, module: &'static ThisModule) -> Result<Self> {
        let fops = KBox::new(
            bindings::file_operations {
                owner: module.as_ptr(),
                ..VTable::<T>::FOPS
            },
            GFP_KERNEL,
        )?;
        let mut misc = core::ptr::null_mut();
        // SAFETY: the name is `'static` and `fops` lives until after
        // deregistration (field order), as the registration needs; `misc`
        // is a valid place for the result.
        to_result(unsafe {
            gm_misc_register(
                opts.name.as_char_ptr(),
                opts.minor.to_raw(),
                core::ptr::from_ref::<bindings::file_operations>(&fops).cast(),
                &mut misc,
            )
        })?;
        // INVARIANT: the call succeeded, so `misc` is registered.
        Ok(Self {
            // SAFETY: on success `gm_misc_register` stores a valid pointer.
            misc: unsafe { NonNull::new_unchecked(misc) },
            _fops: fops,
            _t: PhantomData,
        })
    }
}

impl<T: MiscDevice> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariants `misc` is registered, and this is
        // the only place that deregisters it.
        unsafe { gm_misc_deregister(self.misc.as_ptr()) };
    }
}

struct VTable<T>(PhantomData<T>);

impl<T: MiscDevice> VTable<T> {
    /// # Safety
    ///
    /// Called by the VFS, through `misc_open()`, for a file being opened.
    unsafe extern "C" fn open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: the VFS passes a live file, which outlives this call.
        let ptr = match T::open(unsafe { File::from_raw(file) }) {
            Ok(ptr) => ptr,
            Err(err) => return err.to_errno(),
        };
        // `misc_open()` left the `struct miscdevice` there; from now on the
        // private data is ours, read back by the operations below.
        //
        // SAFETY: `open` owns the private data of the file it opens.
        unsafe { (*file).private_data = ptr.into_foreign().cast_mut() };
        0
    }

    /// # Safety
    ///
    /// Called by the VFS for a file `open` set up, once, after every other
    /// operation on it has returned.
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `release` owns the private data, which `open` filled with
        // `into_foreign`, and no borrow of it is left.
        let ptr = unsafe { T::Ptr::from_foreign((*file).private_data) };
        T::release(ptr);
        0
    }

    /// # Safety
    ///
    /// Called by the VFS for a file `open` set up and not yet released.
    unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: between `open` and `release` the private data holds what
        // `into_foreign` returned, and `release` waits for this call to end.
        let device = unsafe { T::Ptr::borrow((*file).private_data) };
        match T::ioctl(device, cmd, arg) {
            Ok(ret) => ret as c_long,
            Err(err) => err.to_errno() as c_long,
        }
    }

    const FOPS: bindings::file_operations = bindings::file_operations {
        open: Some(Self::open),
        release: Some(Self::release),
        unlocked_ioctl: Some(Self::ioctl),
        // See `MiscDevice::ioctl` for what this asks of argument structs.
        #[cfg(CONFIG_COMPAT)]
        compat_ioctl: Some(bindings::compat_ptr_ioctl),
        llseek: Some(bindings::noop_llseek),
        // SAFETY: all-zero is a valid `file_operations`: every other
        // operation is absent (a null function pointer is `None`).
        ..unsafe { MaybeUninit::<bindings::file_operations>::zeroed().assume_init() }
    };
}
