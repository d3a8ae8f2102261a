// SPDX-License-Identifier: GPL-2.0

//! The nested vCPUs of a context, by id: `GUESTMAP_SVM_*` and
//! `GUESTMAP_VMX_*` name a vCPU by its id, as a handle, where KVM gives
//! each vCPU an fd.  Both kinds share the ids.

use super::{
    cpu::{CpuModel, Feature, Features},
    svm::{abi::VcpuReq, vcpu::SvmVcpu},
    vmx::{
        abi::VcpuReq as VmxVcpuReq,
        capabilities::{cr4_fixed1, VmxCaps},
        vcpu::VmxVcpu,
    },
};
use crate::{
    pfncache::{NR_CACHES, VCPU_EXTRA_VIEWS},
    uapi,
};
use kernel::{prelude::*, uaccess::UserSlice};

/// How many vCPUs a context may have.
pub(crate) const MAX_VCPUS: usize = uapi::GUESTMAP_MAX_VCPUS as usize;

/// The first pfn cache view of vCPU `id`: after the caches
/// `GUESTMAP_ACCESS` names, one per vCPU.
pub(crate) fn cache_of(id: usize) -> usize {
    NR_CACHES + id
}

/// Extra pfn cache view `k` (below [`VCPU_EXTRA_VIEWS`]) of vCPU `id`:
/// after every vCPU's first.
pub(crate) fn extra_cache_of(id: usize, k: usize) -> usize {
    NR_CACHES + MAX_VCPUS + id * VCPU_EXTRA_VIEWS + k
}

/// Every pfn cache view of vCPU `id`, which its destruction invalidates.
pub(crate) fn views_of(id: usize) -> impl Iterator<Item = usize> {
    let extra = (0..VCPU_EXTRA_VIEWS).map(move |k| extra_cache_of(id, k));
    Iterator::chain(core::iter::once(cache_of(id)), extra)
}

/// A nested vCPU of either kind.
enum Vcpu {
    Svm(KBox<SvmVcpu>),
    Vmx(KBox<VmxVcpu>),
}

/// A context's vCPUs.
#[derive(Default)]
pub(crate) struct Vcpus([Option<Vcpu>; MAX_VCPUS]);

/// Reads `n` items of type `T` from user address `at`.
fn read_array<T: kernel::types::FromBytes>(at: u64, n: usize) -> Result<KVec<T>> {
    let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
    let size = n.checked_mul(core::mem::size_of::<T>()).ok_or(EINVAL)?;
    let mut reader = UserSlice::new(at as usize, size).reader();
    for _ in 0..n {
        v.push(reader.read::<T>()?, GFP_KERNEL)?;
    }
    Ok(v)
}

impl Vcpus {
    /// The empty slot for a new vCPU `id`: `EEXIST` for an id in use.
    fn free_slot(&mut self, id: usize) -> Result<&mut Option<Vcpu>> {
        let slot = self.0.get_mut(id).ok_or(EINVAL)?;
        if slot.is_some() {
            return Err(EEXIST);
        }
        Ok(slot)
    }

    /// Destroys vCPU `id`, `EINVAL` if it does not exist.  Returns `id`,
    /// whose pfn cache views ([`views_of`]) the caller invalidates.
    fn destroy(&mut self, id: usize) -> Result<Option<usize>> {
        let slot = self.0.get_mut(id).ok_or(EINVAL)?;
        slot.take().ok_or(EINVAL)?;
        Ok(Some(id))
    }

    /// Creates or destroys an SVM vCPU as `req` asks: `EEXIST` for an id
    /// in use, `EINVAL` to destroy one that does not exist.  Returns the
    /// id of a destroyed vCPU, whose pfn cache views the caller
    /// invalidates.
    pub(crate) fn create(&mut self, req: VcpuReq) -> Result<Option<usize>> {
        match req {
            VcpuReq::Destroy(id) => self.destroy(id),
            VcpuReq::Create {
                id,
                nent,
                entries,
                l0_npt,
            } => {
                let slot = self.free_slot(id)?;
                let cpuid = read_array::<uapi::guestmap_cpuid_entry>(entries, nent)?;
                let model = super::svm::vcpu::model(&cpuid, l0_npt)?;
                *slot = Some(Vcpu::Svm(KBox::new(
                    SvmVcpu::new(id as u32, model, cache_of(id))?,
                    GFP_KERNEL,
                )?));
                Ok(None)
            }
        }
    }

    /// Creates or destroys a VMX vCPU as `req` asks, as [`Self::create`].
    pub(crate) fn create_vmx(&mut self, req: VmxVcpuReq) -> Result<Option<usize>> {
        match req {
            VmxVcpuReq::Destroy(id) => self.destroy(id),
            VmxVcpuReq::Create {
                id,
                nent,
                entries,
                nmsrs,
                msrs,
                mode,
            } => {
                let slot = self.free_slot(id)?;
                let cpuid = read_array::<uapi::guestmap_cpuid_entry>(entries, nent)?;
                // VMX is emulated here: the model is that of a VMX host,
                // the only kind KVM runs nested VMX on, whatever this
                // one is (CR4.VMXE is then not reserved).
                let host = crate::sys::cpu::host_features() | Feature::Vmx as u32;
                let model = CpuModel::new(&cpuid, Features(host)).map_err(|e| {
                    pr_debug!("GUESTMAP_VMX_CREATE_VCPU refused: {:?}\n", e);
                    EINVAL
                })?;
                let mut caps = VmxCaps::kvm_default(cr4_fixed1(&cpuid));
                for m in read_array::<uapi::guestmap_vmx_msr>(msrs, nmsrs)?.iter() {
                    if m.pad != 0 {
                        return Err(EINVAL);
                    }
                    caps.set(m.index, m.value).map_err(|e| {
                        pr_debug!("GUESTMAP_VMX_CREATE_VCPU: MSR {:#x}: {:?}\n", m.index, e);
                        EINVAL
                    })?;
                }
                *slot = Some(Vcpu::Vmx(KBox::new(
                    VmxVcpu::new(id, mode, model, caps)?,
                    GFP_KERNEL,
                )?));
                Ok(None)
            }
        }
    }

    /// SVM vCPU `id`; `ENOENT` if no vCPU has that id, `EINVAL` if it is
    /// a VMX vCPU.
    pub(crate) fn get(&mut self, id: usize) -> Result<&mut SvmVcpu> {
        match self.0.get_mut(id).and_then(Option::as_mut) {
            Some(Vcpu::Svm(v)) => Ok(v),
            Some(Vcpu::Vmx(_)) => Err(EINVAL),
            None => Err(ENOENT),
        }
    }

    /// VMX vCPU `id`; `ENOENT` if no vCPU has that id, `EINVAL` if it is
    /// an SVM vCPU.
    pub(crate) fn get_vmx(&mut self, id: usize) -> Result<&mut VmxVcpu> {
        match self.0.get_mut(id).and_then(Option::as_mut) {
            Some(Vcpu::Vmx(v)) => Ok(v),
            Some(Vcpu::Svm(_)) => Err(EINVAL),
            None => Err(ENOENT),
        }
    }
}
