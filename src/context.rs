// SPDX-License-Identifier: GPL-2.0

//! The per-open context, bound to the opener's address space.

use crate::{
    abi::{self, Command},
    ext::{miscdevice::MiscDevice, mm::Mm, trace},
};
use kernel::{
    page::PAGE_SIZE,
    prelude::*,
    sync::{Arc, ArcBorrow},
    types::ARef,
    uaccess::UserSlice,
};

/// The state behind one open file of `/dev/guestmap`.
pub(crate) struct Context {
    /// The address space of the task that opened the device.  Guest memory
    /// will be described by user addresses, which mean something only in
    /// this address space, so only tasks running in it may use the context.
    mm: ARef<Mm>,
}

impl Context {
    fn dispatch(&self, cmd: u32, arg: usize) -> Result<isize> {
        // As KVM does for VM fds: an fd inherited over fork() or exec(), or
        // passed to another process, is good only for close().
        if !self.mm.is_current() {
            return Err(EIO);
        }
        match Command::decode(cmd).ok_or(ENOTTY)? {
            Command::GetApiVersion => {
                let version = abi::api_version(PAGE_SIZE as u32);
                UserSlice::new(arg, core::mem::size_of_val(&version))
                    .writer()
                    .write(&version)?;
                Ok(0)
            }
        }
    }
}

impl MiscDevice for Context {
    type Ptr = Arc<Context>;

    fn open() -> Result<Arc<Context>> {
        // A kernel thread has no address space to bind to.
        let mm = Mm::current().ok_or(EINVAL)?;
        let ctx = Arc::new(Context { mm }, GFP_KERNEL)?;
        trace::ctx_create(&*ctx, &ctx.mm);
        Ok(ctx)
    }

    fn release(ctx: Arc<Context>) {
        trace::ctx_destroy(&*ctx);
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
