/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * guestmap's test operations: ioctls of the test build only (the module
 * built with GM_TEST_OPS=1, as "make check" and "make bench" build it).
 * A production build has none of them: there they fail with ENOTTY.
 * They are not part of the ABI, no capability bit announces them, and
 * they may change at any time, as test_hmm's ioctls may.
 */
#ifndef _UAPI_LINUX_GUESTMAP_TEST_H
#define _UAPI_LINUX_GUESTMAP_TEST_H

#include <linux/guestmap.h>

/*
 * &guestmap_bench.op beyond the GUESTMAP_ACCESS_* ops: a nested SVM
 * entry and exit, GUESTMAP_SVM_VMRUN then GUESTMAP_SVM_VMEXIT; a nested
 * VMX one, GUESTMAP_VMX_INSN VMRESUME then GUESTMAP_VMX_OP_VMEXIT.
 */
#define GUESTMAP_BENCH_NESTED_SVM	0x100
#define GUESTMAP_BENCH_NESTED_VMX	0x101
/* A guest page-table walk, as GUESTMAP_WALK. */
#define GUESTMAP_BENCH_WALK		0x102

/**
 * struct guestmap_bench - time an access in a loop in the kernel
 * @gpa:	where to read 8 bytes, within one page of a slot, as for
 *		guestmap_access; for NESTED_SVM, VMCB12's address, as
 *		&guestmap_svm_vmrun.vmcb12_gpa; for NESTED_VMX, 0; for
 *		WALK, the user address of a &struct guestmap_walk, read once
 *		and walked @iterations times, whose outputs are not written.
 * @op:		GUESTMAP_ACCESS_MAP_READ or GUESTMAP_ACCESS_CACHE_READ: map,
 *		read 8 bytes, unmap (or check the cache and read 8 bytes).
 *		GUESTMAP_BENCH_NESTED_SVM: VMRUN of vCPU @cache with VMCB12
 *		at @gpa, which must enter the guest (EINVAL otherwise), then
 *		#VMEXIT with exit code VMMCALL: map VMCB12, copy and check
 *		it, merge the MSR permission maps, unmap; map it again, write
 *		L2's state and the exit back, unmap.
 *		GUESTMAP_BENCH_NESTED_VMX: VMRESUME of VMX vCPU @cache, which
 *		must enter L2 (EINVAL otherwise: user space sets the vCPU up
 *		and launches it first), then VM exit with reason VMCALL:
 *		attach the APIC-access page, the virtual-APIC page and the
 *		posted-interrupt descriptor (held or cached, as the vCPU was
 *		created), read L1's MSR bitmap (mapped for the read when
 *		held, through the pfn cache when cached), merge it; write the
 *		exit into vmcs12, write vmcs12 back, detach the pages.
 *		GUESTMAP_BENCH_WALK: the walk GUESTMAP_WALK would do, with
 *		its A/D updates; it must succeed (EINVAL if it faults).
 * @cache:	for CACHE_READ: which pfn cache, below GUESTMAP_NR_CACHES;
 *		for NESTED_SVM and NESTED_VMX: the vCPU id; for WALK, 0.
 * @iterations:	loop count, 1 to 1 << 24.
 * @ns:		total time in nanoseconds (out).
 * @flags:	for NESTED_SVM: GUESTMAP_SVM_RUN_CACHED, as for
 *		&guestmap_svm_vmrun.flags; else 0 (for NESTED_VMX, the
 *		vCPU's mode is its own, chosen at its creation; for WALK,
 *		GUESTMAP_WALK_CACHED is the walk's own flag).
 * @pad:	must be zero.
 */
struct guestmap_bench {
	__u64 gpa;
	__u32 op;
	__u32 cache;
	__u64 iterations;
	__u64 ns;
	__u32 flags;
	__u32 pad;
};

#define GUESTMAP_BENCH \
	_IOWR(GUESTMAP_IO, 0x09, struct guestmap_bench)

#endif /* _UAPI_LINUX_GUESTMAP_TEST_H */
