// SPDX-License-Identifier: GPL-2.0

//! The per-open context, bound to the opener's address space: the ioctl
//! boundary, where arguments are copied in and decoded (`src/abi.rs`),
//! each command is handed to the file that does it, and errors become
//! errnos.
//!
//! Locks of a context, outermost first (`src/mirror.rs` has the whole
//! order): the slot-table semaphore, held shared by every fault and access
//! for its whole run and exclusively by `GUESTMAP_SET_MEMSLOT`; the remap
//! mutex, held by an access of PFN-only memory while it maps the frame;
//! the mirror lock.  Faults and accesses of a context therefore run in
//! parallel, and a memslot change waits for them.  The context's locks
//! are taken killably but by the file's release, which must get the
//! table; the core mm's own waits (`mmu_interval_read_begin()` for an
//! invalidation in progress, a notifier's removal) are uninterruptible,
//! as for every MMU-notifier user.
//!
//! A memslot change queued behind a long fault or access holds up the
//! context's new faults and accesses until it runs (a rw_semaphore queues
//! readers behind a waiting writer), where KVM's SRCU readers never wait
//! for a writer; a fault waiting for user space (userfaultfd) while its
//! handler thread changes memslots and then faults can only be killed.

use crate::{
    abi::{self, Command, Invalid},
    access, classify,
    ext::{
        debugfs,
        file::File,
        lockdep::LockClass,
        miscdevice::MiscDevice,
        mm::{self, Mm},
        mutex::Mutex,
        rwsem::RwSem,
        task,
    },
    fault::Fault,
    mirror::{self, Mirror},
    nested::{svm::abi as svm_abi, vcpus::Vcpus, vmx::abi as vmx_abi, walk},
    query,
    remaps::Remaps,
    reserve::Reserve,
    slot_table::{SetError, SlotTable},
    slots::SlotError,
    sys::trace,
    uapi,
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    c_str, fmt,
    page::PAGE_SIZE,
    prelude::*,
    str::CString,
    sync::{Arc, ArcBorrow},
    types::{ARef, AsBytes, FromBytes},
    uaccess::UserSlice,
};

/// Numbers the debugfs files of contexts.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The lock classes of every context's slot table and remaps.
static SLOTS_CLASS: LockClass = LockClass::new();
static REMAPS_CLASS: LockClass = LockClass::new();
static RESERVE_CLASS: LockClass = LockClass::new();
static VCPUS_CLASS: LockClass = LockClass::new();

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
    /// The memslots: shared by faults and accesses, exclusive to
    /// `GUESTMAP_SET_MEMSLOT` (`src/slot_table.rs`).  Invalidations never
    /// take this.
    #[pin]
    slots: RwSem<SlotTable>,
    /// Kernel mappings of bare pfns that accesses through the mirror reuse.
    #[pin]
    remaps: Mutex<Remaps>,
    /// Allocations faults and accesses keep between calls; held only to
    /// move them, with nothing else taken inside.
    #[pin]
    reserve: Mutex<Reserve>,
    /// The nested vCPUs (`src/nested/`).  A command on a vCPU holds this
    /// for its whole run, inside the slot table: the vCPUs of a context
    /// run one at a time.
    #[pin]
    vcpus: Mutex<Vcpus>,
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

/// The errno of a refused argument, with a line saying why.
fn invalid(e: Invalid) -> Error {
    pr_debug!("argument refused: {}\n", e.0);
    EINVAL
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
    /// Invalidates the pfn cache views of destroyed vCPU `id`: their
    /// cached mappings go now.
    fn forget_vcpu(&self, id: usize) {
        {
            let mut state = self.mirror.lock();
            for view in crate::nested::vcpus::views_of(id) {
                state.forget_view(&self.mirror, view);
            }
        }
        self.mirror.trim_caches();
    }

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
                let mut slots = self.slots.write_killable()?;
                match slots.set(&self.mm, &self.mirror, &req, mm::task_size()) {
                    // A kept mapping of a deleted slot's memory goes with
                    // it.  Only accesses take the remaps, holding the table
                    // shared: with the table ours, this never waits.
                    Ok(true) => self.remaps.lock().clear(),
                    Ok(false) => {}
                    Err(SetError::Rule(e)) => return Err(slot_errno(e)),
                    Err(SetError::Kernel(e)) => return Err(e),
                }
            }
            Command::MirrorFault => {
                let req = abi::fault(&read_arg(arg)?).map_err(invalid)?;
                let slots = self.slots.read_killable()?;
                Fault::new(slots.find(req.gfns)?, req.write, &self.reserve)?.run(req.gfns)?;
            }
            Command::GetStats => {
                write_arg(arg, &mirror::stats(&self.mirror))?;
            }
            Command::Query => {
                let req = abi::query(&read_arg(arg)?).map_err(invalid)?;
                query::query(&self.mirror, &req, self.show_pfn)?;
            }
            Command::Classify => {
                let mut req: uapi::guestmap_classify = read_arg(arg)?;
                classify::run(&mut req, self.show_pfn)?;
                write_arg(arg, &req)?;
            }
            Command::Access => {
                let mut raw: uapi::guestmap_access = read_arg(arg)?;
                // The range, the slot, then the rest: a request for memory
                // no slot holds is ENOENT whatever else it asks.
                let gfns = abi::access_range(&raw).map_err(invalid)?;
                let slots = self.slots.read_killable()?;
                let slot = slots.find(gfns)?;
                let req = abi::access(&raw).map_err(invalid)?;
                let done = access::access(slot, &self.reserve, &req)?;
                drop(slots);
                raw.via = done.via;
                if let Some(found) = done.found {
                    raw.old = found;
                }
                write_arg(arg, &raw)?;
            }
            #[cfg(gm_test_ops)]
            Command::Bench => {
                let mut raw: crate::uapi::guestmap_bench = read_arg(arg)?;
                if crate::bench::is_nested(&raw) {
                    // As GUESTMAP_SVM_VMRUN and _VMEXIT hold them, for
                    // the whole loop.
                    let req = crate::bench::decode_nested(&raw).map_err(invalid)?;
                    let slots = self.slots.read_killable()?;
                    let mut vcpus = self.vcpus.lock_killable()?;
                    raw.ns = crate::bench::run_nested(&slots, vcpus.get(req.run.id)?, &req)?;
                } else if crate::bench::is_nested_vmx(&raw) {
                    // As GUESTMAP_VMX_INSN and _OP hold them.
                    let req = crate::bench::decode_nested_vmx(&raw).map_err(invalid)?;
                    let slots = self.slots.read_killable()?;
                    let mut vcpus = self.vcpus.lock_killable()?;
                    let vcpu = vcpus.get_vmx(req.id)?;
                    raw.ns = crate::bench::run_nested_vmx(&slots, vcpu, &req)?;
                } else if crate::bench::is_walk(&raw) {
                    let at = crate::bench::decode_walk(&raw).map_err(invalid)?;
                    let req = walk::paging::walk_req(&read_arg(at as usize)?).map_err(invalid)?;
                    // As GUESTMAP_WALK: writable before any A/D update.
                    write_arg(arg, &raw)?;
                    let slots = self.slots.read_killable()?;
                    raw.ns = crate::bench::run_walk(&slots, &req, raw.iterations)?;
                } else {
                    let gfns = crate::bench::decode_range(&raw).map_err(invalid)?;
                    let slots = self.slots.read_killable()?;
                    let slot = slots.find(gfns)?;
                    let req = crate::bench::decode(&raw).map_err(invalid)?;
                    raw.ns = crate::bench::run(slot, &req)?;
                }
                write_arg(arg, &raw)?;
            }
            // Not part of a production build: as if unknown.
            #[cfg(not(gm_test_ops))]
            Command::Bench => return Err(ENOTTY),
            Command::SvmCreateVcpu => {
                let req = svm_abi::vcpu(&read_arg(arg)?).map_err(invalid)?;
                if let Some(id) = self.vcpus.lock_killable()?.create(req)? {
                    self.forget_vcpu(id);
                }
            }
            Command::SvmSetL1 => {
                let (id, l1) = svm_abi::l1(&read_arg(arg)?).map_err(invalid)?;
                self.vcpus.lock_killable()?.get(id)?.set_l1(l1)?;
            }
            Command::SvmSetL0Msr => {
                let req = svm_abi::l0_msr(&read_arg(arg)?).map_err(invalid)?;
                let mut vcpus = self.vcpus.lock_killable()?;
                vcpus
                    .get(req.id)?
                    .set_l0_msr(req.msr, req.read, req.write)?;
            }
            Command::SvmVmrun => {
                let mut raw: uapi::guestmap_svm_vmrun = read_arg(arg)?;
                let req = svm_abi::vmrun(&raw).map_err(invalid)?;
                // VMRUN changes the vCPU and VMCB12: fail before it, not
                // after, if its verdict cannot be reported.
                write_arg(arg, &raw)?;
                let slots = self.slots.read_killable()?;
                let verdict = self
                    .vcpus
                    .lock_killable()?
                    .get(req.id)?
                    .vmrun(&slots, &req)?;
                drop(slots);
                (raw.result, raw.vector, raw.check) = verdict.to_uapi();
                write_arg(arg, &raw)?;
            }
            Command::SvmIntercept => {
                let mut raw: uapi::guestmap_svm_intercept = read_arg(arg)?;
                let (id, access) = svm_abi::intercept(&raw).map_err(invalid)?;
                let slots = self.slots.read_killable()?;
                raw.exits = self
                    .vcpus
                    .lock_killable()?
                    .get(id)?
                    .intercept(&slots, access)?;
                drop(slots);
                write_arg(arg, &raw)?;
            }
            Command::SvmVmexit => {
                let req = svm_abi::vmexit(&read_arg(arg)?).map_err(invalid)?;
                let slots = self.slots.read_killable()?;
                self.vcpus
                    .lock_killable()?
                    .get(req.id)?
                    .vmexit(&slots, &req)?;
            }
            Command::VmxCreateVcpu => {
                let req = vmx_abi::vcpu(&read_arg(arg)?).map_err(invalid)?;
                if let Some(id) = self.vcpus.lock_killable()?.create_vmx(req)? {
                    self.forget_vcpu(id);
                }
            }
            Command::VmxSetL1 => {
                let (id, l1) = vmx_abi::l1(&read_arg(arg)?).map_err(invalid)?;
                self.vcpus.lock_killable()?.get_vmx(id)?.set_l1(l1)?;
            }
            Command::VmxInsn => {
                let mut raw: uapi::guestmap_vmx_insn = read_arg(arg)?;
                let (id, insn) = vmx_abi::insn(&raw).map_err(invalid)?;
                // The instruction changes the vCPU and guest memory: fail
                // before it, not after, if its outcome cannot be reported.
                write_arg(arg, &raw)?;
                let slots = self.slots.read_killable()?;
                let (outcome, value) = self
                    .vcpus
                    .lock_killable()?
                    .get_vmx(id)?
                    .execute(&slots, insn)?;
                drop(slots);
                let qual;
                (raw.result, raw.error, raw.vector, qual) = vmx_abi::to_uapi(outcome);
                if let Some(v) = value.or(qual) {
                    raw.value = v;
                }
                write_arg(arg, &raw)?;
            }
            Command::VmxOp => {
                let mut raw: uapi::guestmap_vmx_op = read_arg(arg)?;
                let (id, op) = vmx_abi::op(&raw).map_err(invalid)?;
                write_arg(arg, &raw)?;
                let slots = self.slots.read_killable()?;
                let (result, value) = self.vcpus.lock_killable()?.get_vmx(id)?.op(&slots, op)?;
                drop(slots);
                raw.result = result;
                if let Some(v) = value {
                    raw.value = v;
                }
                write_arg(arg, &raw)?;
            }
            Command::Walk => {
                let mut raw: uapi::guestmap_walk = read_arg(arg)?;
                let req = walk::paging::walk_req(&raw).map_err(invalid)?;
                // A/D updates change guest memory: the outcome must be
                // reportable before they are made, not found unwritable
                // after.
                write_arg(arg, &raw)?;
                let slots = self.slots.read_killable()?;
                walk::walk(&slots, &req, &mut raw)?;
                drop(slots);
                write_arg(arg, &raw)?;
            }
            Command::ReadGuest | Command::WriteGuest => {
                let write = Command::decode(cmd) == Some(Command::WriteGuest);
                let req = abi::rw(&read_arg(arg)?, write).map_err(invalid)?;
                let slots = self.slots.read_killable()?;
                access::rw(slots.find(req.gfns)?, &self.remaps, &self.reserve, &req)?;
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
        let ctx = Arc::pin_init(
            try_pin_init!(Context {
                mm,
                mirror,
                show_pfn: file.opener_has_sys_admin(),
                slots <- RwSem::new(SlotTable::new(), c_str!("guestmap_slots"), &SLOTS_CLASS),
                remaps <- Mutex::new(Remaps::default(), c_str!("guestmap_remaps"), &REMAPS_CLASS),
                reserve <- Mutex::new(Reserve::default(), c_str!("guestmap_reserve"), &RESERVE_CLASS),
                vcpus <- Mutex::new(Vcpus::default(), c_str!("guestmap_vcpus"), &VCPUS_CLASS),
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
        // their notifiers) now, while the file goes away.  Not killable:
        // the file's last reference is going, maybe in a task with a fatal
        // signal pending, and the slots must go.  No ioctl can hold the
        // table: each holds a reference to the file.
        ctx.slots.write().clear(&ctx.mirror);
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
