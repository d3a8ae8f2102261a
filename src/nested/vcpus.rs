// SPDX-License-Identifier: GPL-2.0

//! The nested vCPUs of a context, by id: `GUESTMAP_SVM_*` name a vCPU by
//! its id, as a handle, where KVM gives each vCPU an fd.

use super::svm::{abi::VcpuReq, vcpu::SvmVcpu};
use crate::{pfncache::NR_CACHES, uapi};
use kernel::{prelude::*, uaccess::UserSlice};

/// How many vCPUs a context may have.
pub(crate) const MAX_VCPUS: usize = uapi::GUESTMAP_MAX_VCPUS as usize;

/// The pfn cache view of vCPU `id`: after the caches `GUESTMAP_ACCESS`
/// names, one per vCPU.
pub(crate) fn cache_of(id: usize) -> usize {
    NR_CACHES + id
}

/// A context's vCPUs.
#[derive(Default)]
pub(crate) struct Vcpus([Option<KBox<SvmVcpu>>; MAX_VCPUS]);

impl Vcpus {
    /// Creates or destroys a vCPU as `req` asks: `EEXIST` for an id in
    /// use, `EINVAL` to destroy one that does not exist.  Returns the pfn
    /// cache view a destroyed vCPU used, which the caller invalidates.
    pub(crate) fn create(&mut self, req: VcpuReq) -> Result<Option<usize>> {
        match req {
            VcpuReq::Destroy(id) => {
                let slot = self.0.get_mut(id).ok_or(EINVAL)?;
                let vcpu = slot.take().ok_or(EINVAL)?;
                Ok(Some(vcpu.cache()))
            }
            VcpuReq::Create {
                id,
                nent,
                entries,
                l0_npt,
            } => {
                let slot = self.0.get_mut(id).ok_or(EINVAL)?;
                if slot.is_some() {
                    return Err(EEXIST);
                }
                let mut cpuid = KVec::with_capacity(nent, GFP_KERNEL)?;
                let size = nent * core::mem::size_of::<uapi::guestmap_cpuid_entry>();
                let mut reader = UserSlice::new(entries as usize, size).reader();
                for _ in 0..nent {
                    cpuid.push(reader.read::<uapi::guestmap_cpuid_entry>()?, GFP_KERNEL)?;
                }
                let model = super::svm::vcpu::model(&cpuid, l0_npt)?;
                *slot = Some(KBox::new(
                    SvmVcpu::new(id as u32, model, cache_of(id))?,
                    GFP_KERNEL,
                )?);
                Ok(None)
            }
        }
    }

    /// vCPU `id`; `ENOENT` if it does not exist.
    pub(crate) fn get(&mut self, id: usize) -> Result<&mut SvmVcpu> {
        self.0
            .get_mut(id)
            .and_then(Option::as_mut)
            .map(|v| &mut **v)
            .ok_or(ENOENT)
    }
}
