// SPDX-License-Identifier: GPL-2.0

//! The per-open context, bound to the opener's address space: the ioctl
//! boundary, where arguments are copied in and errors become errnos.

use crate::{
    abi::{self, Command},
    ext::{
        debugfs,
        file::File,
        miscdevice::MiscDevice,
        mm::{self, Mm},
        mutex::Mutex,
        pfn, task, trace,
    },
    mirror::Mirror,
    refcount,
    slots::{self, SlotError},
    uapi,
    vm::{self, Vm, VmError},
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    fmt,
    page::PAGE_SIZE,
    prelude::*,
    str::CString,
    sync::{Arc, ArcBorrow},
    types::{ARef, AsBytes, FromBytes},
    uaccess::UserSlice,
};

/// Numbers the debugfs files of contexts.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The state behind one open file of `/dev/guestmap`.
#[pin_data]
pub(crate) struct Context {
    /// The address space of the task that opened the device.  Guest memory
    /// is described by user addresses, which mean something only in this
    /// address space, so only tasks running in it may use the context.
    mm: ARef<Mm>,
    /// The mirror, shared with the memslots' notifiers.
    mirror: Arc<Mirror>,
    /// Whether QUERY and CLASSIFY report pfns: the opener had
    /// `CAP_SYS_ADMIN`.  PFNs locate kernel memory; as for
    /// `/proc/pid/pagemap`, the file's opener decides, once.
    show_pfn: bool,
    /// Memslots and fault state.  Faults sleep (they walk the CPU page
    /// tables), so they are serialised by a mutex, never by the mirror's
    /// spinlock; invalidations never take this.  A holder may wait for
    /// user space (a userfaultfd-registered page), so waiters wait
    /// killably.
    #[pin]
    vm: Mutex<Vm>,
    /// `/sys/kernel/debug/guestmap/ctx-<tgid>-<n>`.
    _stats_file: debugfs::File<Mirror>,
}

fn read_arg<T: FromBytes>(arg: usize) -> Result<T> {
    UserSlice::new(arg, core::mem::size_of::<T>())
        .reader()
        .read()
}

fn write_arg<T: AsBytes>(arg: usize, val: &T) -> Result {
    UserSlice::new(arg, core::mem::size_of::<T>())
        .writer()
        .write(val)
}

fn flag(set: bool, bit: u32) -> u32 {
    if set {
        bit
    } else {
        0
    }
}

/// The errno of a broken memslot rule, with a line saying which.
fn slot_errno(e: SlotError) -> Error {
    pr_debug!("GUESTMAP_SET_MEMSLOT refused: {:?}\n", e);
    if e.is_conflict() {
        EEXIST
    } else {
        EINVAL
    }
}

impl Context {
    fn dispatch(&self, cmd: u32, arg: usize) -> Result<isize> {
        // As KVM does for VM fds: an fd inherited over fork() or exec(), or
        // passed to another process, is good only for close().
        if !self.mm.is_current() {
            return Err(EIO);
        }
        // Mappings the pfn caches no longer use go now, not whenever the
        // cache is next used: invalidations cannot drop them (they hold a
        // spinlock, and unmapping sleeps).
        self.mirror.trim_caches();
        match Command::decode(cmd).ok_or(ENOTTY)? {
            Command::GetApiVersion => {
                write_arg(arg, &abi::api_version(PAGE_SIZE as u32))?;
            }
            Command::SetMemslot => {
                let req: uapi::guestmap_memslot = read_arg(arg)?;
                let mut vm = self.vm.lock_killable()?;
                match vm.set_memslot(&self.mm, &self.mirror, &req, mm::task_size()) {
                    Ok(()) => {}
                    Err(VmError::Slot(e)) => return Err(slot_errno(e)),
                    Err(VmError::Kernel(e)) => return Err(e),
                }
            }
            Command::MirrorFault => {
                let req: uapi::guestmap_fault = read_arg(arg)?;
                if req.flags & !uapi::GUESTMAP_FAULT_WRITE != 0 || req.pad != 0 {
                    return Err(EINVAL);
                }
                let gfns = slots::aligned_gfns(req.gpa, req.size).ok_or(EINVAL)?;
                let write = req.flags & uapi::GUESTMAP_FAULT_WRITE != 0;
                self.vm.lock_killable()?.fault(&self.mirror, gfns, write)?;
            }
            Command::GetStats => {
                let stats = self.mirror.lock().stats();
                write_arg(arg, &stats)?;
            }
            Command::Query => {
                let req: uapi::guestmap_query = read_arg(arg)?;
                if req.npages > u64::from(uapi::GUESTMAP_QUERY_MAX) {
                    return Err(EINVAL);
                }
                let len = req.npages << crate::pte::PAGE_SHIFT;
                let gfns = slots::aligned_gfns(req.gpa, len).ok_or(EINVAL)?;
                vm::query(&self.mirror, gfns, req.entries, self.show_pfn)?;
            }
            Command::Classify => {
                let mut req: uapi::guestmap_classify = read_arg(arg)?;
                let user = pfn::classify_user(req.addr)?;
                let facts = refcount::Facts::from_raw(user.facts);
                let verdict = refcount::classify(facts);
                req.class = verdict.kind.map_or(0, |k| k.uapi());
                req.flags = flag(verdict.refcounted, uapi::GUESTMAP_PFN_REFCOUNTED)
                    | flag(verdict.may_dirty, uapi::GUESTMAP_PFN_MAY_DIRTY)
                    | flag(user.pfnmap, uapi::GUESTMAP_PFN_MAPPED_PFNMAP)
                    | flag(facts.compound, uapi::GUESTMAP_PFN_COMPOUND);
                req.pfn = if self.show_pfn { user.pfn } else { 0 };
                write_arg(arg, &req)?;
            }
            Command::Access => {
                let mut req: uapi::guestmap_access = read_arg(arg)?;
                self.vm.lock_killable()?.access_op(&mut req)?;
                write_arg(arg, &req)?;
            }
            Command::Bench => {
                let mut req: uapi::guestmap_bench = read_arg(arg)?;
                self.vm.lock_killable()?.bench(&mut req)?;
                write_arg(arg, &req)?;
            }
            Command::ReadGuest | Command::WriteGuest => {
                let req: uapi::guestmap_rw = read_arg(arg)?;
                let write = Command::decode(cmd) == Some(Command::WriteGuest);
                self.vm.lock_killable()?.access(&self.mirror, &req, write)?;
            }
        }
        Ok(0)
    }
}

impl MiscDevice for Context {
    type Ptr = Arc<Context>;

    fn open(file: &File) -> Result<Arc<Context>> {
        // A kernel thread has no address space to bind to.
        let mm = Mm::current().ok_or(EINVAL)?;
        let mirror = Arc::pin_init(Mirror::new()?, GFP_KERNEL)?;
        let name = CString::try_from_fmt(fmt!(
            "ctx-{}-{}",
            task::current_tgid(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed)
        ))?;
        let stats_file = debugfs::File::new(&name, mirror.clone());
        let vm = Vm::new()?;
        let ctx = Arc::pin_init(
            try_pin_init!(Context {
                mm,
                mirror,
                show_pfn: file.opener_has_sys_admin(),
                vm <- Mutex::new(vm),
                _stats_file: stats_file,
            }? Error),
            GFP_KERNEL,
        )?;
        trace::ctx_create(&*ctx, &ctx.mm);
        Ok(ctx)
    }

    fn release(ctx: Arc<Context>) {
        trace::ctx_destroy(&*ctx);
        // The memslots hold references on the mirror; remove them (and
        // their notifiers) now, while the file goes away.
        // Not killable: the file's last reference is going, maybe in a task
        // with a fatal signal pending, and the slots must go.  No ioctl can
        // hold the lock: each holds a reference to the file.
        ctx.vm.lock().clear(&ctx.mirror);
    }

    fn ioctl(ctx: ArcBorrow<'_, Context>, cmd: u32, arg: usize) -> Result<isize> {
        trace::ioctl_enter(&*ctx, cmd);
        let ret = ctx.dispatch(cmd, arg);
        let sys_ret = match &ret {
            Ok(val) => *val,
            Err(err) => err.to_errno() as isize,
        };
        trace::ioctl_exit(&*ctx, cmd, sys_ret);
        ret
    }
}
