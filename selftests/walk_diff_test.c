// SPDX-License-Identifier: GPL-2.0
/*
 * walk_diff_test: guestmap's guest page-table walker (GUESTMAP_WALK)
 * against real KVM's and against the CPU's.
 *
 * Every VM is a KVM selftests-library VM with one vCPU, its page tables
 * built by the library (__virt_pg_map() with 4 KiB, 2 MiB and 1 GiB
 * leaves) or, for PFN-only memory, by hand.  guestmap gets a memslot over
 * the very memory of each KVM memslot, at the same gpa, so it walks the
 * bytes KVM and the CPU walk.  Each walk is given the vCPU's state as KVM
 * has it: root = CR3, CR0, CR4 and EFER from KVM_GET_SREGS; MAXPHYADDR
 * from the vCPU's CPUID 0x80000008 EAX[7:0] (36 without the leaf, as
 * cpuid_query_maxphyaddr()); GUESTMAP_WALK_AMD when the CPUID vendor is
 * AMD or Hygon (guest_cpuid_is_amd_compatible(), which
 * reset_guest_rsvds_bits_mask() passes to __reset_rsvds_bits_mask());
 * GUESTMAP_WALK_GBPAGES as kvm_vcpu_after_set_cpuid() decides it: with
 * TDP (npt=1), if the host has 1 GiB pages, whatever the vCPU's CPUID
 * says (the hardware walker cannot be told otherwise); without TDP, if
 * CPUID 0x80000001 EDX[26] is set.
 *
 * Where each expected value comes from:
 *
 * - translate: KVM_TRANSLATE (kvm_arch_vcpu_ioctl_translate(), a
 *   supervisor read through walk_addr_generic() of paging_tmpl.h): valid
 *   must be "guestmap says OK" and physical_address guestmap's gpa, for
 *   thousands of canonical addresses in and around 4 KiB, 2 MiB and 1 GiB
 *   mappings, holes, the library's own mappings and random addresses,
 *   and entries with reserved bits (bit 51, bits 13-20 of a 2 MiB leaf,
 *   bits 13-29 of a 1 GiB leaf, PS in a PML4E, bit 8 of a non-leaf
 *   PML4E, reserved on AMD only, and of a PDPTE and a PDE, never), on
 *   four CPU models: KVM's, without GBPAGES in CPUID (which KVM ignores
 *   with TDP, see above), with the other vendor, and with MAXPHYADDR 36.  page_size is the size the test
 *   mapped.  Then the tables change under the walks (entries cleared,
 *   refilled, pointed elsewhere, a PML4E removed) and everything is
 *   compared again; then 3200 walks through entries with random flags,
 *   reserved, ignored and out-of-range address bits at every level.
 * - access: the CPU.  The guest (CPL0) reads, writes and fetches (a CALL
 *   to a RET) pages whose entries the host gave R/W=0, U/S=1, NX=1, P=0
 *   or a reserved bit at one level or at all, with CR0.WP 1 and 0,
 *   CR4.SMEP/SMAP and EFLAGS.AC where the vCPU has them and EFER.NXE 1
 *   and 0.  Its #PF handler records the vector, error code and CR2.
 *   guestmap's verdict must be the CPU's, and its error code the CPU's in
 *   bits 0-4 (P, W/R, U/S, RSVD, I/D: SDM vol. 3A 4.7).  One exception:
 *   QEMU's TCG reports a reserved-bit fault with RSVD but without P
 *   (mmu_translate()'s do_fault_rsvd), which the SDM rules out ("bit 3
 *   of the error code can be set only if bit 0 is also set") and KVM's
 *   walker does not do (PFERR_RSVD_MASK | PFERR_PRESENT_MASK); such a
 *   code is compared as RSVD|P, and counted in a note.
 * - ad_bits: the CPU and KVM.  On fresh hierarchies with A and D clear
 *   everywhere, the bits the CPU changes when the guest reads and writes
 *   a page (SDM 4.8), and those KVM_TRANSLATE's walk changes
 *   (update_accessed_dirty_bits()), must be exactly those guestmap's read
 *   and write walks change; its ptes[] must be the entries in memory.
 *   A walk with A/D updates off changes nothing, and so does a failed one
 *   (not present, reserved bit), as KVM_TRANSLATE's failed walk.
 * - race: a thread rewrites a leaf PTE (xchg) between two targets and
 *   not-present while another walks it for writes with A/D updates:
 *   every walk gives a fault or one of the two targets (or EAGAIN, the
 *   UAPI's answer to 1000 restarts), its ptes[0] agreeing, and no A/D
 *   update ever overwrites the writer's value (each xchg returns the
 *   writer's previous value, plus at most A and D).
 * - pfn_only: a 4-level hierarchy built by hand in RAM above mem=
 *   (GUESTMAP_HIDDEN, through /dev/mem: no struct page), a memslot of
 *   both, the vCPU's CR3 pointed at it with KVM_SET_SREGS: translation
 *   against KVM_TRANSLATE, A/D against KVM_TRANSLATE's and the
 *   architecture's.
 * - la57: 5-level paging (CR4.LA57 and CR3 set with KVM_SET_SREGS, a
 *   hierarchy built by hand), against KVM_TRANSLATE; 57-bit canonicality.
 * - readonly_tables: tables in a read-only memslot of both (KVM_MEM_READONLY,
 *   GUESTMAP_MEM_READONLY): translations as KVM_TRANSLATE's, and no A/D
 *   bit set by either (update_accessed_dirty_bits() skips them).
 * - bad_input: a root in no slot (KVM_TRANSLATE invalid with the same
 *   root; error code without P, as walk_addr_generic()'s error path),
 *   bad format, flags, pad, maxphyaddr, root, CR4.PKE, PKS and LAM_SUP
 *   (EINVAL, the UAPI), non-canonical addresses (#GP, SDM 3.3.7.1), slot
 *   deletion racing walks (OK with KVM's gpa, #PF, ENOENT or EFAULT), a
 *   slot re-made over other tables or changed in place (the walk follows)
 *   and a slot whose memory is unmapped (EFAULT).
 *
 * Every test runs twice: walking the tables directly and through
 * guestmap's walk cache (GUESTMAP_WALK_CACHED).
 *
 * Build: make -C selftests walk_diff_test KDIR=$(scripts/kernel.sh) \
 *		KVM_SELFTESTS=$(scripts/kvm-selftests.sh)
 * Run (from the repository, GM_TEST_* from scripts/lib.sh):
 *	scripts/vm-run --kvm --module --append "$GM_TEST_APPEND" -- \
 *		"$GM_TEST_ENV selftests/walk_diff_test"
 * WALK_DIFF_KVM_ONLY=1 runs the KVM and CPU half alone (no guestmap
 * walk), which checks the test's own setup against KVM.
 * Skips (KSFT_SKIP) without /dev/kvm, /dev/guestmap or GUESTMAP_CAP_WALK.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "kselftest_harness.h"

#include <linux/guestmap.h>
#include "guestmap_util.h"

/* ------------------------------------------------------------------ */
/* Layout.                                                            */

/* A second memslot of KVM and guestmap: the pages the guest accesses. */
#define DATA_GPA	0x40000000ULL	/* 1 GiB: a 1 GiB leaf's base */
#define DATA_PAGES	512		/* 2 MiB: a 2 MiB leaf's */
#define DATA_SLOT	1
/* PFN-only memory (RAM above mem=): a third memslot of both. */
#define PFN_GPA		0x10000000ULL
#define PFN_PAGES	16
#define PFN_SLOT	2
/* Page tables in a read-only memslot of both. */
#define RO_GPA		0x20000000ULL
#define RO_SLOT		3
/* A guest physical address in no memslot of either. */
#define UNBACKED_GPA	0x30000000ULL
/* Extra guest pages for the page tables the tests build. */
#define EXTRA_PAGES	4096

#define PTE_P		PTE_PRESENT_MASK
#define PTE_W		PTE_WRITABLE_MASK
#define PTE_U		PTE_USER_MASK
#define PTE_A		PTE_ACCESSED_MASK
#define PTE_D		PTE_DIRTY_MASK
#define PTE_PS		PTE_LARGE_MASK
#define PTE_NX		PTE_NX_MASK
#define PTE_ADDR	GENMASK_ULL(51, 12)

#ifndef X86_EFLAGS_AC
#define X86_EFLAGS_AC	(1UL << 18)
#endif

/* The #PF error code bits compared: P, W/R, U/S, RSVD, I/D. */
#define EC_MASK		0x1fUL

/* The guest virtual address of PML4 slot @i (lower or upper half). */
static inline uint64_t pml4_va(unsigned int i)
{
	uint64_t va = (uint64_t)i << 39;

	return i >= 256 ? va | 0xffff000000000000ULL : va;
}

static inline uint64_t level_size(int level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

/* ------------------------------------------------------------------ */
/* Guest code: accesses the host asks for, at CPL0.                   */

#define MAXACC		256
enum { ACC_READ, ACC_WRITE, ACC_FETCH, ACC_KINDS };

struct gcmd {
	uint64_t n;
	uint64_t wp, smep, smap, ac, nxe;
	uint64_t gva[MAXACC];
	uint64_t kind[MAXACC];
};

struct gres {
	uint64_t vector[MAXACC];
	uint64_t ec[MAXACC];
	uint64_t cr2[MAXACC];
};

struct gcmd gcmd;
struct gres gres;
uint64_t guest_cr2;

/*
 * One access with the library's fixup protocol (KVM_ASM_SAFE: r9 magic,
 * r10 the faulting instruction, r11 where to resume), below a red zone
 * the exception frame would otherwise overwrite.  A fetch is a CALL to a
 * RET: if the fetch at the target faults, the CALL has pushed its return
 * address, which the handler pops.
 */
#define ACC_ASM(insn)							\
	"sub $128, %%rsp\n\t"						\
	"mov $" __stringify(KVM_EXCEPTION_MAGIC) ", %%r9\n\t"		\
	"lea 1f(%%rip), %%r10\n\t"					\
	"lea 2f(%%rip), %%r11\n\t"					\
	"1: " insn "\n\t"						\
	"xor %%r9, %%r9\n\t"						\
	"2: add $128, %%rsp\n\t"					\
	"mov %%r9, %[vec]\n\t"						\
	"mov %%r10, %[err]\n\t"
#define ACC_OUT(v, e)	\
	[vec] "=r"(v), [err] "=r"(e)
#define ACC_CLOBBERS	"rax", "r9", "r10", "r11", "memory", "cc"

static uint64_t guest_access(uint64_t gva, uint64_t kind, uint64_t *ec)
{
	uint64_t vec, err;

	if (kind == ACC_READ)
		asm volatile(ACC_ASM("movb (%[p]), %%al")
			     : ACC_OUT(vec, err) : [p] "r"(gva) : ACC_CLOBBERS);
	else if (kind == ACC_WRITE)
		asm volatile(ACC_ASM("movb $0xc3, (%[p])")
			     : ACC_OUT(vec, err) : [p] "r"(gva) : ACC_CLOBBERS);
	else
		asm volatile(ACC_ASM("call *%[p]")
			     : ACC_OUT(vec, err) : [p] "r"(gva) : ACC_CLOBBERS);
	*ec = vec ? err : 0;
	return vec;
}

static void guest_pf(struct ex_regs *regs)
{
	/* The interrupted RSP, pushed by the CPU after RFLAGS. */
	uint64_t *rsp = (uint64_t *)(regs + 1);
	uint64_t cr2;

	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	guest_cr2 = cr2;
	__GUEST_ASSERT(regs->r9 == KVM_EXCEPTION_MAGIC,
		       "#PF at 0x%lx (cr2 0x%lx) outside an access", regs->rip, cr2);
	if (regs->rip != regs->r10) {
		uint64_t ret = *(uint64_t *)*rsp;

		__GUEST_ASSERT(ret - regs->r10 <= 3 && regs->rip == cr2,
			       "#PF at 0x%lx, not the access at 0x%lx", regs->rip, regs->r10);
		*rsp += 8;
	}
	regs->rip = regs->r11;
	regs->r9 = regs->vector;
	regs->r10 = regs->error_code;
}

static void guest_apply(void)
{
	uint64_t cr0, cr4, efer;

	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = gcmd.wp ? cr0 | X86_CR0_WP : cr0 & ~X86_CR0_WP;
	asm volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
	cr4 = get_cr4() & ~(X86_CR4_SMEP | X86_CR4_SMAP);
	cr4 |= (gcmd.smep ? X86_CR4_SMEP : 0) | (gcmd.smap ? X86_CR4_SMAP : 0);
	set_cr4(cr4);
	efer = rdmsr(MSR_EFER);
	wrmsr(MSR_EFER, gcmd.nxe ? efer | EFER_NX : efer & ~EFER_NX);
	/* EFLAGS.AC through POPF, which needs no SMAP in CPUID (STAC does). */
	if (gcmd.ac)
		asm volatile("pushfq; orq %0, (%%rsp); popfq"
			     : : "i"(X86_EFLAGS_AC) : "memory", "cc");
	else
		asm volatile("pushfq; andq %0, (%%rsp); popfq"
			     : : "i"(~X86_EFLAGS_AC) : "memory", "cc");
	/* The host edited the tables: flush the TLB. */
	asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
}

static void guest_code(void)
{
	uint64_t i;

	for (;;) {
		GUEST_SYNC(0);
		guest_apply();
		for (i = 0; i < gcmd.n; i++) {
			gres.vector[i] = guest_access(gcmd.gva[i], gcmd.kind[i], &gres.ec[i]);
			gres.cr2[i] = gres.vector[i] ? guest_cr2 : 0;
		}
		GUEST_SYNC(1);
	}
}

/* ------------------------------------------------------------------ */
/* Host: a VM, its CPU model, guestmap over its memory.               */

struct model {
	unsigned int maxphy;
	bool amd, gbpages, smep, smap;
};

struct env {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct model m;
	int gm;
	char *pfn_hva;
	uint64_t high_gpa;	/* a 1 GiB aligned gpa with bit 36 or above */
};

enum tweak { MODEL_KVM, MODEL_NO_GBPAGES, MODEL_OTHER_VENDOR, MODEL_MAXPHY36, MODELS };

static const char *const model_names[] = {
	[MODEL_KVM] = "KVM's CPUID",
	[MODEL_NO_GBPAGES] = "no GBPAGES",
	[MODEL_OTHER_VENDOR] = "the other vendor",
	[MODEL_MAXPHY36] = "MAXPHYADDR 36",
};

static bool kvm_only;
static unsigned int mismatches;

/* Prints the first few mismatches of a test, counts all. */
#define MISMATCH(fmt, ...) do {						\
	if (mismatches++ < 40)						\
		ksft_print_msg("MISMATCH: " fmt "\n", ##__VA_ARGS__);	\
} while (0)

static const struct kvm_cpuid_entry2 *leaf(struct kvm_vcpu *vcpu, uint32_t fn)
{
	uint32_t i;

	for (i = 0; i < vcpu->cpuid->nent; i++)
		if (vcpu->cpuid->entries[i].function == fn && !vcpu->cpuid->entries[i].index)
			return &vcpu->cpuid->entries[i];
	return NULL;
}

static bool vendor_amd(const struct kvm_cpuid_entry2 *l0)
{
	/* is_guest_vendor_amd() || is_guest_vendor_hygon() */
	return l0 && ((l0->ebx == 0x68747541 && l0->ecx == 0x444d4163 &&
		       l0->edx == 0x69746e65) ||	/* AuthenticAMD */
		      (l0->ebx == 0x69444d41 && l0->ecx == 0x21726574 &&
		       l0->edx == 0x74656273) ||	/* AMDisbetter! */
		      (l0->ebx == 0x6f677948 && l0->ecx == 0x656e6975 &&
		       l0->edx == 0x6e65476e));		/* HygonGenuine */
}

static void read_model(struct env *e)
{
	const struct kvm_cpuid_entry2 *l0, *l8;

	/* cpuid_query_maxphyaddr() */
	l0 = leaf(e->vcpu, 0x80000000);
	l8 = leaf(e->vcpu, 0x80000008);
	e->m.maxphy = l0 && l0->eax >= 0x80000008 && l8 ? (l8->eax & 0xff) : 36;
	e->m.amd = vendor_amd(leaf(e->vcpu, 0));
	/*
	 * kvm_vcpu_after_set_cpuid(): with TDP, 1 GiB pages are allowed if
	 * the host has them (the hardware walker cannot be told otherwise),
	 * whatever the vCPU's CPUID says; without TDP, as CPUID says.
	 */
	e->m.gbpages = kvm_is_tdp_enabled() ? kvm_cpu_has(X86_FEATURE_GBPAGES) :
					      vcpu_cpuid_has(e->vcpu, X86_FEATURE_GBPAGES);
	e->m.smep = vcpu_cpuid_has(e->vcpu, X86_FEATURE_SMEP);
	e->m.smap = vcpu_cpuid_has(e->vcpu, X86_FEATURE_SMAP);
}

static void apply_tweak(struct env *e, enum tweak t)
{
	struct kvm_cpuid_entry2 *l0;

	switch (t) {
	case MODEL_KVM:
	case MODELS:
		break;
	case MODEL_NO_GBPAGES:
		vcpu_clear_cpuid_feature(e->vcpu, X86_FEATURE_GBPAGES);
		break;
	case MODEL_OTHER_VENDOR:
		l0 = vcpu_get_cpuid_entry(e->vcpu, 0);
		if (vendor_amd(l0)) {		/* GenuineIntel */
			l0->ebx = 0x756e6547;
			l0->edx = 0x49656e69;
			l0->ecx = 0x6c65746e;
		} else {			/* AuthenticAMD */
			l0->ebx = 0x68747541;
			l0->edx = 0x69746e65;
			l0->ecx = 0x444d4163;
		}
		break;
	case MODEL_MAXPHY36:
		vcpu_set_cpuid_property(e->vcpu, X86_PROPERTY_MAX_PHY_ADDR, 36);
		break;
	}
	vcpu_set_cpuid(e->vcpu);
}

static void gm_slot(int gm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size,
		    void *hva)
{
	struct guestmap_memslot s = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)hva,
	};

	TEST_ASSERT(!ioctl(gm, GUESTMAP_SET_MEMSLOT, &s),
		    "GUESTMAP_SET_MEMSLOT %u: %s", slot, strerror(errno));
}

static void guest_step(struct env *e, uint64_t want)
{
	struct ucall uc;

	vcpu_run(e->vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(e->vcpu, KVM_EXIT_IO);
	switch (get_ucall(e->vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == want, "guest at sync %lu, expected %lu",
			    uc.args[1], want);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("unexpected ucall %lu", uc.cmd);
	}
}

/*
 * Creates the VM (with @t's CPU model), the data slot and, with @pfn and
 * GUESTMAP_HIDDEN, the PFN-only slot; guestmap gets the same slots; the
 * guest runs to its first GUEST_SYNC.  False if @pfn was asked for and
 * there is no PFN-only memory.
 */
static bool env_create(struct env *e, enum tweak t, bool pfn)
{
	struct userspace_mem_region *r;

	memset(e, 0, sizeof(*e));
	e->gm = -1;
	e->vm = __vm_create_with_one_vcpu(&e->vcpu, EXTRA_PAGES, guest_code);
	apply_tweak(e, t);
	read_model(e);
	vm_install_exception_handler(e->vm, PF_VECTOR, guest_pf);

	vm_userspace_mem_region_add(e->vm, VM_MEM_SRC_ANONYMOUS, DATA_GPA, DATA_SLOT,
				    DATA_PAGES, 0);
	/* Every byte a RET, so that a fetch anywhere returns. */
	memset(addr_gpa2hva(e->vm, DATA_GPA), 0xc3, DATA_PAGES * PAGE);
	/* Half of the top of the VM's physical space, 1 GiB aligned. */
	e->high_gpa = ((e->vm->max_gfn + 1) << 11) & ~(PG_SIZE_1G - 1);

	e->gm = open_dev();
	TEST_ASSERT(e->gm >= 0 || kvm_only, "open %s: %s", DEV_PATH, strerror(errno));
	if (e->gm >= 0) {
		r = memslot2region(e->vm, 0);
		gm_slot(e->gm, 0, 0, r->region.guest_phys_addr, r->region.memory_size,
			(void *)(uintptr_t)r->region.userspace_addr);
		r = memslot2region(e->vm, DATA_SLOT);
		gm_slot(e->gm, DATA_SLOT, 0, r->region.guest_phys_addr, r->region.memory_size,
			(void *)(uintptr_t)r->region.userspace_addr);
	}

	if (pfn) {
		unsigned long size, phys;

		if (!env_range("GUESTMAP_HIDDEN", &size, &phys) || size < PFN_PAGES * PAGE)
			return false;
		e->pfn_hva = map_devmem(phys, PFN_PAGES * PAGE, PROT_READ | PROT_WRITE);
		TEST_ASSERT(e->pfn_hva != MAP_FAILED, "mmap /dev/mem at 0x%lx: %s",
			    phys, strerror(errno));
		memset(e->pfn_hva, 0, PFN_PAGES * PAGE);
		vm_set_user_memory_region(e->vm, PFN_SLOT, 0, PFN_GPA, PFN_PAGES * PAGE,
					  e->pfn_hva);
		if (e->gm >= 0)
			gm_slot(e->gm, PFN_SLOT, 0, PFN_GPA, PFN_PAGES * PAGE, e->pfn_hva);
	}
	guest_step(e, 0);
	return true;
}

static void env_destroy(struct env *e)
{
	if (!e->vm)
		return;
	if (e->gm >= 0)
		close(e->gm);
	kvm_vm_free(e->vm);
	if (e->pfn_hva && e->pfn_hva != MAP_FAILED)
		munmap(e->pfn_hva, PFN_PAGES * PAGE);
	e->vm = NULL;
}

/* The host's view of guest physical memory, the PFN-only slot included. */
static void *gpa_hva(struct env *e, uint64_t gpa)
{
	if (e->pfn_hva && gpa >= PFN_GPA && gpa < PFN_GPA + PFN_PAGES * PAGE)
		return e->pfn_hva + (gpa - PFN_GPA);
	return addr_gpa2hva(e->vm, gpa);
}

/*
 * Pointers to the entries that map @gva under @root, p[level] for level
 * 4 down to the leaf (p[0] unused).  Returns the leaf level, or minus the
 * level of the first non-present entry.
 */
static int entries(struct env *e, uint64_t root, uint64_t gva, uint64_t *p[5])
{
	uint64_t table = root & PTE_ADDR;
	int level;

	memset(p, 0, 5 * sizeof(*p));
	for (level = 4; level >= 1; level--) {
		uint64_t *t = gpa_hva(e, table);

		p[level] = &t[(gva >> (12 + 9 * (level - 1))) & 511];
		if (!(*p[level] & PTE_P))
			return -level;
		if (level == 1 || (level < 4 && (*p[level] & PTE_PS)))
			return level;
		table = *p[level] & PTE_ADDR;
	}
	return 1;
}

static void sregs_of(struct env *e, struct kvm_sregs *s)
{
	vcpu_sregs_get(e->vcpu, s);
}

static bool kvm_translate(struct env *e, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tr = { .linear_address = gva };

	vcpu_ioctl(e->vcpu, KVM_TRANSLATE, &tr);
	*gpa = tr.physical_address;
	return tr.valid;
}

/* GUESTMAP_WALK with the vCPU's state @s and model: 0 or -errno. */
static int gm_walk_root(int gm, const struct model *m, const struct kvm_sregs *s,
			uint64_t root, uint64_t gva, uint32_t access, uint32_t flags,
			struct guestmap_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->root = root;
	w->addr = gva;
	w->cr0 = s->cr0;
	w->cr4 = s->cr4;
	w->efer = s->efer;
	w->format = GUESTMAP_WALK_LONG;
	w->access = access;
	w->flags = flags | (m->amd ? GUESTMAP_WALK_AMD : 0) |
		   (m->gbpages ? GUESTMAP_WALK_GBPAGES : 0);
	w->maxphyaddr = m->maxphy;
	return ioctl(gm, GUESTMAP_WALK, w) ? -errno : 0;
}

static int gm_walk(struct env *e, const struct kvm_sregs *s, uint64_t gva,
		   uint32_t access, uint32_t flags, struct guestmap_walk *w)
{
	return gm_walk_root(e->gm, &e->m, s, s->cr3, gva, access, flags, w);
}

static const char *const acc_names[] = { "read", "write", "fetch" };
static const uint32_t acc_bits[] = { 0, GUESTMAP_WALK_WRITE, GUESTMAP_WALK_FETCH };

static uint64_t rnd64(void)
{
	return ((uint64_t)random() << 33) ^ ((uint64_t)random() << 11) ^ random();
}

static uint64_t canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16);
}

/* ------------------------------------------------------------------ */
/* 1. Translation against KVM_TRANSLATE.                              */

struct range {
	uint64_t gva, size, gpa;
	int level;
	bool odd;	/* reserved bits or holes: KVM alone is the judge */
};

#define MAX_RANGES	160
#define MAX_SAMPLES	4096

struct sample {
	uint64_t gva;
	int range;	/* index into ranges, -1 outside them */
};

static struct range ranges[MAX_RANGES];
static int nranges;
static struct sample samples[MAX_SAMPLES];
static int nsamples;

static int map_range(struct env *e, uint64_t gva, uint64_t gpa, uint64_t n, int level)
{
	TEST_ASSERT(nranges < MAX_RANGES, "too many ranges");
	virt_map_level(e->vm, gva, gpa, n * level_size(level), level);
	ranges[nranges] = (struct range){ gva, n * level_size(level), gpa, level, false };
	return nranges++;
}

static void sample(uint64_t gva, int range)
{
	if (nsamples < MAX_SAMPLES)
		samples[nsamples++] = (struct sample){ canonical(gva), range };
}

/* Sets @set and clears @clr in the entry at @level mapping @gva. */
static void edit_entry(struct env *e, uint64_t gva, int level, uint64_t set, uint64_t clr)
{
	uint64_t *p[5];

	entries(e, e->vm->pgd, gva, p);
	TEST_ASSERT(p[level], "no entry at level %d for 0x%lx", level, gva);
	*p[level] = (*p[level] | set) & ~clr;
}

static void build_translate_layout(struct env *e)
{
	uint64_t gva, gpa, n, b51 = e->m.maxphy < 52 ? 1ULL << 51 : 0;
	struct { unsigned int slot; int leaf, level; uint64_t bits; } rs[] = {
		{ 10, 1, 1, b51 }, { 11, 1, 2, b51 }, { 12, 2, 2, 1ULL << 13 },
		{ 13, 3, 3, 1ULL << 13 }, { 14, 1, 4, PTE_PS }, { 15, 1, 4, 1ULL << 8 },
		{ 16, 1, 3, 1ULL << 8 }, { 17, 1, 2, 1ULL << 8 }, { 18, 1, 1, PTE_NX },
		{ 19, 2, 2, 1ULL << 20 }, { 20, 3, 3, 1ULL << 29 }, { 21, 1, 4, b51 },
		{ 22, 2, 2, PTE_NX }, { 23, 1, 1, 1ULL << 52 },
	};
	int r, i, k;

	nranges = 0;
	nsamples = 0;
	/* 4 KiB ranges in PML4 slot 1, several to a page table, to random gpas. */
	for (r = 0; r < 48; r++) {
		gva = pml4_va(1) + ((uint64_t)(r % 4) << 30) + ((uint64_t)(r / 4) << 21) +
		      (random() % 256) * PAGE;
		gpa = (rnd64() % (1ULL << 20)) * PAGE;
		map_range(e, gva, gpa, 1 + random() % 24, 1);
	}
	/* 2 MiB ranges in slot 2. */
	for (r = 0; r < 24; r++) {
		gva = pml4_va(2) + ((uint64_t)(r % 4) << 30) + ((uint64_t)(r / 4) << 25) +
		      (random() % 8) * PG_SIZE_2M;
		gpa = (rnd64() % (1ULL << 13)) * PG_SIZE_2M;
		map_range(e, gva, gpa, 1 + random() % 4, 2);
	}
	/* 1 GiB ranges in slot 3; two at a gpa above bit 36. */
	for (r = 0; r < 8; r++) {
		gva = pml4_va(3) + ((uint64_t)r << 36) + (random() % 8) * PG_SIZE_1G;
		gpa = r < 2 ? e->high_gpa - r * PG_SIZE_1G : (rnd64() % 32) * PG_SIZE_1G;
		map_range(e, gva, gpa, 1 + random() % 3, 3);
	}
	/* The upper half. */
	for (r = 0; r < 8; r++)
		map_range(e, pml4_va(300) + ((uint64_t)r << 22) + (random() % 256) * PAGE,
			  (rnd64() % (1ULL << 20)) * PAGE, 1 + random() % 16, 1);
	for (r = 0; r < 4; r++)
		map_range(e, pml4_va(301) + ((uint64_t)r << 30),
			  (rnd64() % (1ULL << 13)) * PG_SIZE_2M, 1 + random() % 3, 2);

	/* Holes: entries cleared in some ranges (P=0, address kept). */
	for (r = 0; r < 48; r += 5) {
		edit_entry(e, ranges[r].gva, 1, 0, PTE_P);
		ranges[r].odd = true;
	}
	edit_entry(e, ranges[49].gva, 2, 0, PTE_P);	/* a 2 MiB leaf */
	ranges[49].odd = true;

	/*
	 * Reserved bits (__reset_rsvds_bits_mask()), each in a PML4 slot of
	 * its own: bit 51 in a leaf and in a PDE; bits 13-20 of a 2 MiB leaf;
	 * 13-29 of a 1 GiB leaf; PS in a PML4E; bit 8 in non-leaf PML4Es,
	 * PDPTEs (reserved on AMD only) and PDEs (never); NX (reserved only
	 * without EFER.NXE); a 1 GiB leaf above MAXPHYADDR 36.
	 */
	for (i = 0; i < ARRAY_SIZE(rs); i++) {
		if (!rs[i].bits)
			continue;
		gpa = rs[i].leaf == 1 ? 0x12345000ULL : rs[i].leaf == 2 ? 0x2400000ULL : 0;
		k = map_range(e, pml4_va(rs[i].slot), gpa, 2, rs[i].leaf);
		edit_entry(e, pml4_va(rs[i].slot), rs[i].level, rs[i].bits, 0);
		ranges[k].odd = true;
	}

	/* Samples: ends, neighbours and random offsets of every range. */
	for (r = 0; r < nranges; r++) {
		struct range *g = &ranges[r];

		sample(g->gva, r);
		sample(g->gva + g->size - 1, r);
		sample(g->gva + g->size, -1);
		sample(g->gva - 1, -1);
		n = g->level == 1 ? 8 : 14;
		for (i = 0; i < n; i++)
			sample(g->gva + rnd64() % g->size, r);
	}
	/* The library's own mappings (code, data, stack, tables)... */
	for (i = 0; i < 600; i++)
		sample(rnd64() % (32ULL << 20), -1);
	/* ... random addresses in the populated slots and anywhere. */
	for (i = 0; i < 600; i++)
		sample(pml4_va(1 + random() % 3) + rnd64() % (1ULL << 39), -1);
	while (nsamples < MAX_SAMPLES - 200)
		sample(rnd64(), -1);
}

/* The range holding @gva, if the sample was not tied to one. */
static int find_range(uint64_t gva)
{
	int r;

	for (r = 0; r < nranges; r++)
		if (gva >= ranges[r].gva && gva - ranges[r].gva < ranges[r].size)
			return r;
	return -1;
}

static void translate_pass(struct env *e, const struct kvm_sregs *s, uint32_t flags,
			   const char *name, unsigned int *nvalid)
{
	int i;

	for (i = 0; i < nsamples; i++) {
		uint64_t gva = samples[i].gva, kgpa;
		int r = samples[i].range >= 0 ? samples[i].range : find_range(gva);
		struct guestmap_walk w;
		bool valid = kvm_translate(e, gva, &kgpa);
		int ret;

		*nvalid += valid;
		/* The test's own mapping must be what KVM sees. */
		if (r >= 0 && !ranges[r].odd && e->m.maxphy >= 40 &&
		    (ranges[r].level < 3 || e->m.gbpages) &&
		    (!valid || kgpa != ranges[r].gpa + (gva - ranges[r].gva)))
			MISMATCH("%s: setup: gva 0x%lx mapped to 0x%lx, KVM_TRANSLATE valid %d gpa 0x%lx",
				 name, gva, ranges[r].gpa + (gva - ranges[r].gva), valid, kgpa);
		if (kvm_only)
			continue;
		ret = gm_walk(e, s, gva, 0, flags | GUESTMAP_WALK_NO_AD, &w);
		if (ret) {
			MISMATCH("%s: gva 0x%lx: GUESTMAP_WALK %s (KVM valid %d gpa 0x%lx)",
				 name, gva, strerror(-ret), valid, kgpa);
			continue;
		}
		if (valid != (w.fault == GUESTMAP_WALK_OK) ||
		    (valid && w.gpa != kgpa) ||
		    (!valid && w.fault != GUESTMAP_WALK_PF)) {
			MISMATCH("%s: gva 0x%lx read: KVM valid %d gpa 0x%lx; guestmap fault %u error 0x%llx gpa 0x%llx level %u",
				 name, gva, valid, valid ? kgpa : 0, w.fault,
				 (unsigned long long)w.error, (unsigned long long)w.gpa, w.level);
			continue;
		}
		if (valid && r >= 0 && w.page_size != level_size(ranges[r].level))
			MISMATCH("%s: gva 0x%lx: page_size 0x%llx, mapped with 0x%lx",
				 name, gva, (unsigned long long)w.page_size,
				 level_size(ranges[r].level));
	}
}

/*
 * What a guest does to its tables between two walks: entries made not
 * present, present again, and pointed elsewhere, at every level.  A walk
 * (cached or not) must see the tables as they are now, as KVM does.
 */
static void translate_mutate(struct env *e)
{
	uint64_t *p[5];
	int r;

	for (r = 0; r < 48; r++) {
		entries(e, e->vm->pgd, ranges[r].gva, p);
		if (r % 5 == 0)
			*p[1] |= PTE_P;		/* a hole filled */
		else if (r % 3 == 1)
			*p[1] &= ~PTE_P;
		else if (r % 3 == 2)
			*p[1] += 7 * PAGE;
		ranges[r].odd = true;
	}
	for (r = 48; r < 72; r += 2) {		/* 2 MiB leaves elsewhere */
		entries(e, e->vm->pgd, ranges[r].gva, p);
		*p[2] += 3 * PG_SIZE_2M;
		ranges[r].odd = true;
	}
	entries(e, e->vm->pgd, ranges[74].gva, p);	/* a 1 GiB leaf gone */
	*p[3] &= ~PTE_P;
	ranges[74].odd = true;
	edit_entry(e, pml4_va(301), 4, 0, PTE_P);	/* a whole PML4E gone */
	for (r = 0; r < nranges; r++)
		if (ranges[r].gva >= pml4_va(301) && ranges[r].gva < pml4_va(302))
			ranges[r].odd = true;
}

/* Compares one address with KVM_TRANSLATE; true if KVM said valid. */
static bool translate_one(struct env *e, const struct kvm_sregs *s, uint32_t flags,
			  const char *name, uint64_t gva)
{
	struct guestmap_walk w;
	bool valid;
	uint64_t kgpa;
	int ret;

	valid = kvm_translate(e, gva, &kgpa);
	if (kvm_only)
		return valid;
	ret = gm_walk(e, s, gva, 0, flags | GUESTMAP_WALK_NO_AD, &w);
	if (ret || valid != (w.fault == GUESTMAP_WALK_OK) || (valid && w.gpa != kgpa) ||
	    (!valid && w.fault != GUESTMAP_WALK_PF))
		MISMATCH("%s: gva 0x%lx read: KVM valid %d gpa 0x%lx; guestmap %s fault %u error 0x%llx gpa 0x%llx level %u ptes 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx",
			 name, gva, valid, valid ? kgpa : 0, ret ? strerror(-ret) : "ok",
			 w.fault, (unsigned long long)w.error, (unsigned long long)w.gpa,
			 w.level, (unsigned long long)w.ptes[4], (unsigned long long)w.ptes[3],
			 (unsigned long long)w.ptes[2], (unsigned long long)w.ptes[1],
			 (unsigned long long)w.ptes[0]);
	return valid;
}

/*
 * @v with each of @benign's bits flipped with probability 1/3, each of
 * @risky's with 1/16, and P cleared with 1/10.
 */
static uint64_t fuzz_entry(uint64_t v, uint64_t benign, uint64_t risky)
{
	int b;

	for (b = 0; b < 64; b++) {
		if ((benign >> b) & 1 && random() % 3 == 0)
			v ^= 1ULL << b;
		if ((risky >> b) & 1 && random() % 16 == 0)
			v ^= 1ULL << b;
	}
	return random() % 10 ? v | PTE_P : v & ~PTE_P;
}

/*
 * Random entries: a hierarchy in PML4 slot 40 whose every level gets, at
 * each round, random flags, reserved bits (PS where it is one, 13, 51,
 * MAXPHYADDR and above), ignored bits (9, 11, 52, 62) and address bits
 * beyond the memslots; KVM_TRANSLATE is the judge of each.
 */
static void translate_fuzz(struct env *e, const struct kvm_sregs *s, uint32_t flags,
			   const char *name, unsigned int *ncmp, unsigned int *nvalid)
{
	struct kvm_vm *vm = e->vm;
	uint64_t pdpt = vm_alloc_page_table(vm), pd = vm_alloc_page_table(vm);
	uint64_t pt = vm_alloc_page_table(vm), base = pml4_va(40);
	uint64_t *l4 = (uint64_t *)addr_gpa2hva(vm, vm->pgd) + 40;
	uint64_t *l3 = addr_gpa2hva(vm, pdpt), *l2 = addr_gpa2hva(vm, pd);
	uint64_t *l1 = addr_gpa2hva(vm, pt);
	uint64_t ok = PTE_W | PTE_U | (1ULL << 3) | (1ULL << 4) | PTE_A | PTE_D |
		      (1ULL << 9) | (1ULL << 11) | (1ULL << 52) | (1ULL << 62) | PTE_NX;
	uint64_t risky = PTE_PS | (1ULL << 8) | (1ULL << 12) | (1ULL << 13) | (1ULL << 51) |
			 (1ULL << e->m.maxphy) | (1ULL << (e->m.maxphy - 1));
	int round, j;

	for (round = 0; round < 400; round++) {
		*l4 = fuzz_entry(pdpt | PTE_P | PTE_W, ok, risky);
		l3[0] = fuzz_entry(pd | PTE_P | PTE_W, ok, risky);
		l3[1] = fuzz_entry(PG_SIZE_1G * (random() % 8) | PTE_P | PTE_W | PTE_PS, ok,
				   risky);
		l2[0] = fuzz_entry(pt | PTE_P | PTE_W, ok, risky);
		l2[1] = fuzz_entry(PG_SIZE_2M * (random() % 64) | PTE_P | PTE_W | PTE_PS, ok,
				   risky);
		for (j = 0; j < 8; j++)
			l1[j] = fuzz_entry((rnd64() % (1ULL << 20)) * PAGE | PTE_P | PTE_W, ok,
					   risky);
		for (j = 0; j < 8; j++) {
			uint64_t gva = base + (j < 4 ? rnd64() % (8 * PAGE) :
					       j < 6 ? PG_SIZE_2M + rnd64() % PG_SIZE_2M :
					       rnd64() % (2 * PG_SIZE_1G));

			*nvalid += translate_one(e, s, flags, name, gva);
			(*ncmp)++;
		}
	}
	*l4 = 0;
}

static void translate_model(struct env *e, uint32_t flags, const char *name,
			    unsigned int *nvalid, unsigned int *nfuzz)
{
	unsigned int fvalid = 0;
	struct kvm_sregs s;
	char what[64];

	build_translate_layout(e);
	sregs_of(e, &s);
	translate_pass(e, &s, flags, name, nvalid);
	translate_mutate(e);
	snprintf(what, sizeof(what), "%s, tables changed", name);
	translate_pass(e, &s, flags, what, nvalid);
	snprintf(what, sizeof(what), "%s, random entries", name);
	translate_fuzz(e, &s, flags, what, nfuzz, &fvalid);
	ksft_print_msg("%s: %u of the random entries' walks valid in KVM\n", name, fvalid);
}

/* ------------------------------------------------------------------ */
/* 2. Access rights against the CPU.                                  */

struct pcase {
	char name[48];
	int leaf;		/* 1: 4 KiB, 2: 2 MiB, 3: 1 GiB */
	uint64_t set[5], clr[5];	/* per level */
	uint64_t gva;
};

#define MAX_PCASES	80
static struct pcase pcases[MAX_PCASES];
static int npcases;

static __printf(2, 3) struct pcase *pcase(int leaf, const char *fmt, ...)
{
	struct pcase *c;
	va_list ap;
	int o;

	TEST_ASSERT(npcases < MAX_PCASES, "too many cases");
	c = &pcases[npcases++];
	memset(c, 0, sizeof(*c));
	c->leaf = leaf;
	o = snprintf(c->name, sizeof(c->name), "%s ",
		     leaf == 1 ? "4K" : leaf == 2 ? "2M" : "1G");
	va_start(ap, fmt);
	vsnprintf(c->name + o, sizeof(c->name) - o, fmt, ap);
	va_end(ap);
	return c;
}

static void build_access_cases(struct env *e, unsigned int first_slot)
{
	int leaf, l, m, i;

	npcases = 0;
	for (leaf = 1; leaf <= 3; leaf++) {
		if (leaf == 3 && !e->m.gbpages)
			continue;
		pcase(leaf, "plain");
		for (l = leaf; l <= 4; l++) {
			pcase(leaf, "R/W=0 at level %d", l)->clr[l] = PTE_W;
			pcase(leaf, "NX at level %d", l)->set[l] = PTE_NX;
			pcase(leaf, "U/S=1 at level %d only", l)->set[l] = PTE_U;
			pcase(leaf, "P=0 at level %d", l)->clr[l] = PTE_P;
		}
		for (l = leaf; l <= 4; l++) {
			struct pcase *c = pcase(leaf, "U/S=1 but at level %d", l);

			for (m = leaf; m <= 4; m++)
				c->set[m] = m == l ? 0 : PTE_U;
		}
		for (i = 0; i < 3; i++) {
			struct pcase *c = pcase(leaf, "%s", i == 0 ? "user page" :
						i == 1 ? "user page, R/W=0" : "user page, NX");

			for (m = leaf; m <= 4; m++)
				c->set[m] = PTE_U;
			if (i == 1)
				c->clr[leaf] = PTE_W;
			if (i == 2)
				c->set[4] |= PTE_NX;
		}
		if (e->m.maxphy < 52)
			pcase(leaf, "bit 51 in the leaf")->set[leaf] = 1ULL << 51;
		if (leaf == 1) {
			if (e->m.maxphy < 52)
				pcase(leaf, "bit 51 in the PDE")->set[2] = 1ULL << 51;
			pcase(leaf, "PS in the PML4E")->set[4] = PTE_PS;
		}
		if (leaf == 2)
			pcase(leaf, "bit 13 in the leaf")->set[2] = 1ULL << 13;
	}

	for (i = 0; i < npcases; i++) {
		struct pcase *c = &pcases[i];
		uint64_t *p[5];

		c->gva = pml4_va(first_slot + i);
		/* 4 KiB leaves: page 1 of the data slot; huge ones at its base. */
		__virt_pg_map(e->vm, c->gva, c->leaf == 1 ? DATA_GPA + PAGE : DATA_GPA, c->leaf);
		TEST_ASSERT(entries(e, e->vm->pgd, c->gva, p) == c->leaf, "leaf level");
		for (l = c->leaf; l <= 4; l++)
			*p[l] = (*p[l] | c->set[l]) & ~c->clr[l];
		/* The access is 0x100 into the page. */
		c->gva += 0x100 + (uint64_t)i * 8;
	}
}

struct cfg {
	const char *name;
	bool wp, smep, smap, ac, nxe;
};

static const struct cfg cfgs[] = {
	{ "WP=1", true, false, false, false, true },
	{ "WP=0", false, false, false, false, true },
	{ "WP=1 SMEP SMAP", true, true, true, false, true },
	{ "WP=0 SMEP SMAP", false, true, true, false, true },
	{ "WP=1 SMAP AC=1", true, false, true, true, true },
	{ "WP=0 SMEP SMAP AC=1", false, true, true, true, true },
	{ "WP=1 NXE=0", true, false, false, false, false },
	{ "WP=1 SMEP NXE=0", true, true, false, false, false },
};

/* Runs the guest's accesses (gcmd), returns the state KVM had then. */
static void guest_exec(struct env *e, struct kvm_sregs *s, struct kvm_regs *regs)
{
	sync_global_to_guest(e->vm, gcmd);
	guest_step(e, 1);
	sync_global_from_guest(e->vm, gres);
	if (s)
		sregs_of(e, s);
	if (regs)
		vcpu_regs_get(e->vcpu, regs);
	guest_step(e, 0);
}

static void access_cfg(struct env *e, const struct cfg *cf, uint32_t flags,
		       unsigned int *nfaults, unsigned int *nacc, unsigned int *ntcg)
{
	struct kvm_sregs s;
	struct kvm_regs regs;
	int i, k, n = 0;

	memset(&gcmd, 0, sizeof(gcmd));
	gcmd.wp = cf->wp;
	gcmd.smep = cf->smep;
	gcmd.smap = cf->smap;
	gcmd.ac = cf->ac;
	gcmd.nxe = cf->nxe;
	for (i = 0; i < npcases; i++)
		for (k = 0; k < ACC_KINDS; k++) {
			gcmd.gva[n] = pcases[i].gva;
			gcmd.kind[n++] = k;
		}
	gcmd.n = n;
	guest_exec(e, &s, &regs);

	for (n = 0, i = 0; i < npcases; i++) {
		for (k = 0; k < ACC_KINDS; k++, n++) {
			uint64_t gva = pcases[i].gva, vec = gres.vector[n], ec = gres.ec[n];
			uint32_t wf = flags | GUESTMAP_WALK_NO_AD;
			struct guestmap_walk w;
			uint64_t kgpa;
			int ret;

			(*nacc)++;
			*nfaults += vec == PF_VECTOR;
			if (vec && vec != PF_VECTOR) {
				MISMATCH("%s, %s, %s: the CPU raised vector %lu", cf->name,
					 pcases[i].name, acc_names[k], vec);
				continue;
			}
			if (vec && gres.cr2[n] != gva)
				MISMATCH("%s, %s, %s: CR2 0x%lx, accessed 0x%lx", cf->name,
					 pcases[i].name, acc_names[k], gres.cr2[n], gva);
			if (kvm_only)
				continue;
			if (regs.rflags & X86_EFLAGS_AC)
				wf |= GUESTMAP_WALK_AC;
			ret = gm_walk(e, &s, gva, acc_bits[k], wf, &w);
			if (ret) {
				MISMATCH("%s, %s, %s: GUESTMAP_WALK %s", cf->name, pcases[i].name,
					 acc_names[k], strerror(-ret));
				continue;
			}
			/*
			 * SDM vol. 3A 4.7: "bit 3 of the error code can be set
			 * only if bit 0 is also set", and KVM's walker sets
			 * both (walk_addr_generic()).  QEMU's TCG sets RSVD
			 * alone (do_fault_rsvd in mmu_translate(),
			 * target/i386/tcg/sysemu/excp_helper.c): take the
			 * architecture's code for it.
			 */
			if (vec && (ec & PFERR_RSVD_MASK) && !(ec & PFERR_PRESENT_MASK)) {
				ec |= PFERR_PRESENT_MASK;
				(*ntcg)++;
			}
			if ((vec == PF_VECTOR) != (w.fault == GUESTMAP_WALK_PF) ||
			    (vec && (ec & EC_MASK) != (w.error & EC_MASK)) ||
			    (!vec && w.fault != GUESTMAP_WALK_OK)) {
				MISMATCH("%s (cr0 0x%llx cr4 0x%llx efer 0x%llx rflags 0x%llx), %s, gva 0x%lx %s: CPU %s ec 0x%lx; guestmap fault %u error 0x%llx level %u",
					 cf->name, s.cr0, s.cr4, s.efer, regs.rflags,
					 pcases[i].name, gva, acc_names[k],
					 vec ? "#PF" : "no fault", ec & EC_MASK, w.fault,
					 (unsigned long long)w.error, w.level);
				continue;
			}
			/* Where the access went: KVM's translation of it. */
			if (!vec && kvm_translate(e, gva, &kgpa) && kgpa != w.gpa)
				MISMATCH("%s, %s, %s: gpa 0x%llx, KVM_TRANSLATE 0x%lx", cf->name,
					 pcases[i].name, acc_names[k],
					 (unsigned long long)w.gpa, kgpa);
		}
	}
}

/* ------------------------------------------------------------------ */
/* 3. Accessed and dirty bits.                                        */

struct adpage {
	uint64_t gva;
	int leaf;
	uint64_t *p[5];
	uint64_t before[5];
};

/* A fresh hierarchy in PML4 slot @slot with A and D clear everywhere. */
static void ad_fresh(struct env *e, struct adpage *a, unsigned int slot, int leaf)
{
	int l;

	a->gva = pml4_va(slot);
	a->leaf = leaf;
	__virt_pg_map(e->vm, a->gva, leaf == 1 ? DATA_GPA + 2 * PAGE : DATA_GPA, leaf);
	TEST_ASSERT(entries(e, e->vm->pgd, a->gva, a->p) == leaf, "leaf level");
	for (l = leaf; l <= 4; l++) {
		*a->p[l] &= ~(PTE_A | PTE_D);
		a->before[l] = *a->p[l];
	}
	a->gva += 0x200;
}

/* What changed in each entry since ad_fresh() (or the last snapshot). */
static void ad_delta(const struct adpage *a, uint64_t d[5])
{
	int l;

	memset(d, 0, 5 * sizeof(*d));
	for (l = a->leaf; l <= 4; l++)
		d[l] = *a->p[l] ^ a->before[l];
}

static void ad_snapshot(struct adpage *a)
{
	int l;

	for (l = a->leaf; l <= 4; l++)
		a->before[l] = *a->p[l];
}

static const char *delta_str(char *buf, size_t len, const struct adpage *a,
			     const uint64_t d[5])
{
	int l, o = 0;

	buf[0] = 0;
	for (l = 4; l >= a->leaf; l--)
		o += snprintf(buf + o, len - o, "%sL%d ^0x%lx", l == 4 ? "" : ", ", l, d[l]);
	return buf;
}

static void ad_compare(const char *what, const struct adpage *a, const char *who,
		       const uint64_t got[5], const uint64_t want[5], const char *oracle)
{
	char g[160], x[160];
	int l;

	for (l = a->leaf; l <= 4; l++)
		if (got[l] != want[l])
			break;
	if (l <= 4)
		MISMATCH("%s, gva 0x%lx: %s changed %s; %s changed %s", what, a->gva,
			 who, delta_str(g, sizeof(g), a, got), oracle,
			 delta_str(x, sizeof(x), a, want));
}

/* guestmap's ptes[] must be the entries as they are in memory now. */
static void ad_check_ptes(const char *what, const struct adpage *a,
			  const struct guestmap_walk *w)
{
	int l;

	if (w->level != a->leaf)
		MISMATCH("%s: walk level %u, the leaf is at %d", what, w->level, a->leaf);
	for (l = a->leaf; l <= 4; l++)
		if (w->ptes[l - 1] != *a->p[l])
			MISMATCH("%s, gva 0x%lx: ptes[%d] 0x%llx, in memory 0x%lx", what, a->gva,
				 l - 1, (unsigned long long)w->ptes[l - 1], *a->p[l]);
}

static void ad_walk(struct env *e, const struct kvm_sregs *s, struct adpage *a, uint32_t access,
		    uint32_t flags, const char *what)
{
	struct guestmap_walk w;
	int ret = gm_walk(e, s, a->gva, access, flags, &w);

	if (ret || w.fault != GUESTMAP_WALK_OK) {
		MISMATCH("%s, gva 0x%lx: GUESTMAP_WALK %s fault %u error 0x%llx", what, a->gva,
			 strerror(-ret), w.fault, (unsigned long long)w.error);
		return;
	}
	ad_check_ptes(what, a, &w);
}

/* ------------------------------------------------------------------ */
/* 4. The A/D cmpxchg against a concurrent writer.                    */

struct race {
	struct env *e;
	struct kvm_sregs s;
	uint32_t flags;
	uint64_t *pte, gva, gpa1, gpa2, v1, v2;
	bool stop;		/* __atomic */
	uint64_t writes, lost, last;
	uint64_t walks, ok, ok2, faults, bad, retries, eagain;
	char why[200];
};

/* Runs the calling thread on @cpu alone, so that two threads truly race. */
static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *race_writer(void *arg)
{
	struct race *r = arg;
	/* The value the test stored before either thread started. */
	uint64_t last = r->v1, next, prev;

	pin_to_cpu(0);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		r->writes++;
		next = r->writes % 8 == 0 ? (r->writes & 8 ? r->v1 : r->v2) & ~PTE_P :
		       r->writes & 1 ? r->v1 : r->v2;
		prev = __atomic_exchange_n(r->pte, next, __ATOMIC_SEQ_CST);
		/*
		 * Only A and D may have been added since the last write, and
		 * only to a present entry (walk_addr_generic() sets them on a
		 * successful walk only).
		 */
		if ((prev & ~(PTE_A | PTE_D)) != last ||
		    (!(last & PTE_P) && prev != last)) {
			if (!r->lost++)
				snprintf(r->why, sizeof(r->why),
					 "wrote 0x%lx, then found 0x%lx", last, prev);
		}
		last = next;
		/*
		 * Now and then hold a value for a while: a walk needs its
		 * leaf unchanged from its read to its cmpxchg to succeed, which
		 * a writer swapping non-stop on its own CPU would never allow.
		 * Writes 5 and 10 of every 16 put the first and the second
		 * target in place (never a not-present entry).
		 */
		if (r->writes % 16 == 5 || r->writes % 16 == 10)
			usleep(20 + random() % 80);
	}
	r->last = last;
	return NULL;
}

static void *race_walker(void *arg)
{
	struct race *r = arg;
	struct guestmap_walk w;
	uint64_t off = r->gva & (PAGE - 1);

	pin_to_cpu(1);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		int ret = gm_walk(r->e, &r->s, r->gva, GUESTMAP_WALK_WRITE, r->flags, &w);
		bool good;

		r->walks++;
		r->retries += w.retries;
		if (ret == -EAGAIN) {
			/* The UAPI's answer to 1000 changed entries in one walk. */
			r->eagain++;
			good = true;
		} else if (ret) {
			good = false;
		} else if (w.fault == GUESTMAP_WALK_OK) {
			r->ok++;
			r->ok2 += w.gpa == r->gpa2 + off;
			good = (w.gpa == r->gpa1 + off || w.gpa == r->gpa2 + off) &&
			       (w.ptes[0] & PTE_ADDR) == (w.gpa & PTE_ADDR) &&
			       (w.ptes[0] & (PTE_A | PTE_D)) == (PTE_A | PTE_D);
		} else {
			r->faults++;
			/* Not present: the error code is the access (walk_addr_generic()). */
			good = w.fault == GUESTMAP_WALK_PF && w.error == GUESTMAP_WALK_WRITE;
		}
		if (!good && !r->bad++)
			snprintf(r->why, sizeof(r->why),
				 "walk: %s, fault %u error 0x%llx gpa 0x%llx ptes[0] 0x%llx",
				 ret ? strerror(-ret) : "ok", w.fault,
				 (unsigned long long)w.error, (unsigned long long)w.gpa,
				 (unsigned long long)w.ptes[0]);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* 6. Slot deletion racing walks.                                     */

struct delrace {
	struct env *e;
	struct kvm_sregs s;
	uint32_t flags;
	uint64_t gva, gpa;
	bool stop;		/* __atomic */
	uint64_t walks, ok, faults, bad;
	char why[160];
};

static void *delrace_walker(void *arg)
{
	struct delrace *d = arg;
	struct guestmap_walk w;

	pin_to_cpu(1);
	while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) {
		int ret = gm_walk(d->e, &d->s, d->gva, 0, d->flags, &w);

		d->walks++;
		/*
		 * The slot table is held for a whole walk and the memory stays
		 * mapped: a walk finds the slot or finds none (not present);
		 * no errno is right.
		 */
		if (!ret && w.fault == GUESTMAP_WALK_OK && w.gpa == d->gpa)
			d->ok++;
		else if (!ret && w.fault == GUESTMAP_WALK_PF)
			d->faults++;
		else if (!d->bad++)
			snprintf(d->why, sizeof(d->why), "%s, fault %u gpa 0x%llx (KVM: 0x%lx)",
				 ret ? strerror(-ret) : "ok", w.fault,
				 (unsigned long long)w.gpa, d->gpa);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The tests.                                                         */

FIXTURE(walk) {
	struct env e;
};

FIXTURE_VARIANT(walk) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(walk, direct) {
	.flags = 0,
};

FIXTURE_VARIANT_ADD(walk, cached) {
	.flags = GUESTMAP_WALK_CACHED,
};

FIXTURE_SETUP(walk)
{
	mismatches = 0;
	srandom(0x5eed);
}

FIXTURE_TEARDOWN(walk)
{
	env_destroy(&self->e);
}

TEST_F_TIMEOUT(walk, translate, 900)
{
	unsigned int nvalid, total = 0, nfuzz = 0;
	enum tweak t;

	for (t = MODEL_KVM; t < MODELS; t++) {
		nvalid = 0;
		env_create(&self->e, t, false);
		if (t == MODEL_NO_GBPAGES && vcpu_cpuid_has(self->e.vcpu, X86_FEATURE_GBPAGES)) {
			ksft_print_msg("%s: could not be set\n", model_names[t]);
			env_destroy(&self->e);
			continue;
		}
		translate_model(&self->e, variant->flags, model_names[t], &nvalid, &nfuzz);
		ksft_print_msg("%s (MAXPHYADDR %u, %s, %sGBPAGES): 2 x %d addresses, %u valid in KVM\n",
			       model_names[t], self->e.m.maxphy, self->e.m.amd ? "AMD" : "Intel",
			       self->e.m.gbpages ? "" : "no ", nsamples, nvalid);
		total += 2 * nsamples;
		env_destroy(&self->e);
	}
	ksft_print_msg("%u addresses and %u random entries' walks compared, %u mismatches\n",
		       total, nfuzz, mismatches);
	EXPECT_EQ(0, mismatches);
}

TEST_F_TIMEOUT(walk, access, 900)
{
	unsigned int i, nfaults = 0, nacc = 0, ncfg = 0, ntcg = 0;

	env_create(&self->e, MODEL_KVM, false);
	build_access_cases(&self->e, 16);
	for (i = 0; i < ARRAY_SIZE(cfgs); i++) {
		const struct cfg *cf = &cfgs[i];

		if ((cf->smep && !self->e.m.smep) || (cf->smap && !self->e.m.smap)) {
			ksft_print_msg("%s: not in the vCPU's CPUID, left out\n", cf->name);
			continue;
		}
		access_cfg(&self->e, cf, variant->flags, &nfaults, &nacc, &ntcg);
		ncfg++;
	}
	ksft_print_msg("%d pages, %u configurations, %u accesses, %u #PF by the CPU, %u mismatches\n",
		       npcases, ncfg, nacc, nfaults, mismatches);
	if (ntcg)
		ksft_print_msg("note: %u reserved-bit #PFs had RSVD without P (QEMU's TCG); compared as RSVD|P, the SDM's and KVM's code\n",
			       ntcg);
	EXPECT_EQ(0, mismatches);
	EXPECT_NE(0, nfaults);
}

TEST_F_TIMEOUT(walk, ad_bits, 600)
{
	struct env *e = &self->e;
	uint32_t f = variant->flags;
	static const struct {
		const char *name;
		int level;
		uint64_t set, clr;
	} fk[] = {
		{ "leaf not present", 1, 0, PTE_P }, { "bit 51 in the leaf", 1, 1ULL << 51, 0 },
		{ "PDE not present", 2, 0, PTE_P }, { "PS in the PML4E", 4, PTE_PS, 0 },
	};
	struct adpage cr[3], cw[3], gr[3], gw[3], grw[3], kr[3], gn[3];
	uint64_t dcr[5], dcw[5], d[5], kgpa;
	struct kvm_sregs s;
	char what[96];
	int leaf, nleaf, i, n = 0;

	env_create(e, MODEL_KVM, false);
	nleaf = e->m.gbpages ? 3 : 2;
	/* Fresh hierarchies, PML4 slots 100 on: nothing walked them yet. */
	for (i = 0; i < nleaf; i++) {
		ad_fresh(e, &cr[i], 100 + 10 * i, i + 1);
		ad_fresh(e, &cw[i], 101 + 10 * i, i + 1);
		ad_fresh(e, &gr[i], 102 + 10 * i, i + 1);
		ad_fresh(e, &gw[i], 103 + 10 * i, i + 1);
		ad_fresh(e, &grw[i], 104 + 10 * i, i + 1);
		ad_fresh(e, &kr[i], 105 + 10 * i, i + 1);
		ad_fresh(e, &gn[i], 106 + 10 * i, i + 1);
	}

	/* The CPU: the guest reads cr[] and writes cw[]. */
	memset(&gcmd, 0, sizeof(gcmd));
	gcmd.wp = 1;
	gcmd.nxe = 1;
	for (i = 0; i < nleaf; i++) {
		gcmd.gva[n] = cr[i].gva;
		gcmd.kind[n++] = ACC_READ;
		gcmd.gva[n] = cw[i].gva;
		gcmd.kind[n++] = ACC_WRITE;
	}
	gcmd.n = n;
	guest_exec(e, &s, NULL);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, gres.vector[i]);

	for (leaf = 1; leaf <= nleaf; leaf++) {
		i = leaf - 1;
		ad_delta(&cr[i], dcr);
		ad_delta(&cw[i], dcw);
		ksft_print_msg("%s leaf: CPU read changed L4 ^0x%lx .. leaf ^0x%lx, write L4 ^0x%lx .. leaf ^0x%lx\n",
			       leaf == 1 ? "4K" : leaf == 2 ? "2M" : "1G", dcr[4], dcr[leaf],
			       dcw[4], dcw[leaf]);
		/* KVM_TRANSLATE: a read walk with A/D updates. */
		ASSERT_TRUE(kvm_translate(e, kr[i].gva, &kgpa));
		ad_delta(&kr[i], d);
		snprintf(what, sizeof(what), "%s leaf, KVM_TRANSLATE vs the CPU's read",
			 leaf == 1 ? "4K" : leaf == 2 ? "2M" : "1G");
		/* KVM against the CPU: a note only, it is not under test. */
		for (n = leaf; n <= 4; n++)
			if (d[n] != dcr[n])
				ksft_print_msg("note: %s differ at level %d: 0x%lx vs 0x%lx\n",
					       what, n, d[n], dcr[n]);
		if (kvm_only)
			continue;

		snprintf(what, sizeof(what), "%s leaf, read walk",
			 leaf == 1 ? "4K" : leaf == 2 ? "2M" : "1G");
		ad_walk(e, &s, &gr[i], 0, f, what);
		ad_delta(&gr[i], d);
		ad_compare(what, &gr[i], "guestmap", d, dcr, "the CPU's read");
		{
			uint64_t dk[5];

			ad_delta(&kr[i], dk);
			ad_compare(what, &gr[i], "guestmap", d, dk, "KVM_TRANSLATE");
		}

		snprintf(what, sizeof(what), "%s leaf, write walk",
			 leaf == 1 ? "4K" : leaf == 2 ? "2M" : "1G");
		ad_walk(e, &s, &gw[i], GUESTMAP_WALK_WRITE, f, what);
		ad_delta(&gw[i], d);
		ad_compare(what, &gw[i], "guestmap", d, dcw, "the CPU's write");

		snprintf(what, sizeof(what), "%s leaf, read then write walk",
			 leaf == 1 ? "4K" : leaf == 2 ? "2M" : "1G");
		ad_walk(e, &s, &grw[i], 0, f, what);
		ad_delta(&grw[i], d);
		ad_compare(what, &grw[i], "guestmap", d, dcr, "the CPU's read");
		ad_walk(e, &s, &grw[i], GUESTMAP_WALK_WRITE, f, what);
		ad_delta(&grw[i], d);
		ad_compare(what, &grw[i], "guestmap", d, dcw, "the CPU's write");

		/* Entries the CPU already marked: nothing more to set. */
		snprintf(what, sizeof(what), "%s leaf, write walk after the CPU's write",
			 leaf == 1 ? "4K" : leaf == 2 ? "2M" : "1G");
		ad_snapshot(&cw[i]);
		ad_walk(e, &s, &cw[i], GUESTMAP_WALK_WRITE, f, what);
		ad_delta(&cw[i], d);
		memset(dcw, 0, sizeof(dcw));
		ad_compare(what, &cw[i], "guestmap", d, dcw, "nothing");

		snprintf(what, sizeof(what), "%s leaf, write walk with NO_AD",
			 leaf == 1 ? "4K" : leaf == 2 ? "2M" : "1G");
		ad_walk(e, &s, &gn[i], GUESTMAP_WALK_WRITE, f | GUESTMAP_WALK_NO_AD, what);
		ad_delta(&gn[i], d);
		ad_compare(what, &gn[i], "guestmap", d, dcw, "nothing");
	}
	/*
	 * Failed walks set nothing: walk_addr_generic() updates A/D only
	 * once the walk has succeeded.  KVM_TRANSLATE (a supervisor read)
	 * and guestmap's read walk on twin hierarchies with the same fault:
	 * a leaf not present, bit 51 in the leaf, a PDE not present, PS in
	 * the PML4E; guestmap must change what KVM changes (nothing).
	 */
	for (i = 0; i < ARRAY_SIZE(fk) && !kvm_only; i++) {
		struct adpage ka, ga;
		uint64_t dk[5], dg[5];
		struct guestmap_walk w;

		if (fk[i].set == (1ULL << 51) && e->m.maxphy == 52)
			continue;
		ad_fresh(e, &ka, 140 + 2 * i, 1);
		ad_fresh(e, &ga, 141 + 2 * i, 1);
		*ka.p[fk[i].level] = (*ka.p[fk[i].level] | fk[i].set) & ~fk[i].clr;
		*ga.p[fk[i].level] = (*ga.p[fk[i].level] | fk[i].set) & ~fk[i].clr;
		ad_snapshot(&ka);
		ad_snapshot(&ga);
		EXPECT_FALSE(kvm_translate(e, ka.gva, &kgpa));
		ASSERT_EQ(0, gm_walk(e, &s, ga.gva, 0, f, &w));
		EXPECT_EQ(GUESTMAP_WALK_PF, w.fault);
		ad_delta(&ka, dk);
		ad_delta(&ga, dg);
		snprintf(what, sizeof(what), "failed read walk (%s)", fk[i].name);
		ad_compare(what, &ga, "guestmap", dg, dk, "KVM_TRANSLATE");
	}
	ksft_print_msg("%u mismatches\n", mismatches);
	EXPECT_EQ(0, mismatches);
}

TEST_F_TIMEOUT(walk, race, 300)
{
	struct env *e = &self->e;
	struct adpage a;
	struct race r = { 0 };
	pthread_t wt, gt;
	uint64_t t0;

	if (kvm_only)
		SKIP(return, "WALK_DIFF_KVM_ONLY: nothing of KVM's to compare");
	env_create(e, MODEL_KVM, false);
	ad_fresh(e, &a, 200, 1);
	r.e = e;
	r.flags = variant->flags;
	sregs_of(e, &r.s);
	r.pte = a.p[1];
	r.gva = a.gva;
	r.gpa1 = DATA_GPA + 3 * PAGE;
	r.gpa2 = DATA_GPA + 4 * PAGE;
	r.v1 = (a.before[1] & ~PTE_ADDR) | r.gpa1;
	r.v2 = (a.before[1] & ~PTE_ADDR) | r.gpa2;
	*r.pte = r.v1;

	ASSERT_EQ(0, pthread_create(&wt, NULL, race_writer, &r));
	ASSERT_EQ(0, pthread_create(&gt, NULL, race_walker, &r));
	t0 = time(NULL);
	while (time(NULL) - t0 < 3)
		usleep(10000);
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	pthread_join(wt, NULL);
	pthread_join(gt, NULL);

	ksft_print_msg("%lu writes, %lu walks: %lu ok (%lu to the first target, %lu to the second), %lu faults, %lu EAGAIN, %lu retries in all\n",
		       r.writes, r.walks, r.ok, r.ok - r.ok2, r.ok2, r.faults, r.eagain,
		       r.retries);
	if (r.lost || r.bad)
		ksft_print_msg("%lu writes overwritten, %lu bad walks; first: %s\n", r.lost,
			       r.bad, r.why);
	EXPECT_EQ(0, r.lost);
	EXPECT_EQ(0, r.bad);
	/* The entry holds the writer's last target, whatever A/D say. */
	EXPECT_EQ(r.last & ~(PTE_A | PTE_D), *r.pte & ~(PTE_A | PTE_D));
	EXPECT_NE(0, r.ok);
}

/*
 * The hand-built hierarchy in PFN-only memory, page by page:
 * 0 PML4; 1 PDPT, 2 PD, 3 PT of PML4 slot 1 (4 KiB, 2 MiB and 1 GiB
 * leaves, holes); 4-6, 7-9, 10-12 fresh PDPT, PD, PT of slots 3, 4, 5.
 */
static void pfn_build(struct env *e)
{
	uint64_t *t[PFN_PAGES], flags = PTE_P | PTE_W;
	int i;

	for (i = 0; i < PFN_PAGES; i++)
		t[i] = (uint64_t *)(e->pfn_hva + i * PAGE);
	t[0][1] = (PFN_GPA + 1 * PAGE) | flags;
	t[1][0] = (PFN_GPA + 2 * PAGE) | flags;
	if (e->m.gbpages)
		t[1][1] = DATA_GPA | flags | PTE_PS;
	t[1][3] = (PFN_GPA + 2 * PAGE) | flags | (1ULL << 51);	/* reserved */
	t[2][0] = (PFN_GPA + 3 * PAGE) | flags;
	t[2][1] = DATA_GPA | flags | PTE_PS;
	t[2][4] = (0x200000ULL * 77) | flags | PTE_PS;
	for (i = 0; i < 512; i += 1 + i % 3)
		t[3][i] = (DATA_GPA + (uint64_t)(i % 64) * PAGE) | flags;
	for (i = 0; i < 3; i++) {
		t[0][3 + i] = (PFN_GPA + (4 + 3 * i) * PAGE) | flags;
		t[4 + 3 * i][0] = (PFN_GPA + (5 + 3 * i) * PAGE) | flags;
		t[5 + 3 * i][0] = (PFN_GPA + (6 + 3 * i) * PAGE) | flags;
		t[6 + 3 * i][7] = (DATA_GPA + 5 * PAGE) | flags;
	}
}

static void pfn_ad_page(struct env *e, struct adpage *a, unsigned int slot)
{
	a->gva = pml4_va(slot) + 7 * PAGE + 0x40;
	a->leaf = 1;
	TEST_ASSERT(entries(e, PFN_GPA, a->gva, a->p) == 1, "PFN-only leaf");
	ad_snapshot(a);
}

TEST_F_TIMEOUT(walk, pfn_only, 300)
{
	struct env *e = &self->e;
	uint32_t f = variant->flags;
	struct adpage kr, g1, g2;
	uint64_t dk[5], d[5], arch[5], kgpa;
	struct kvm_sregs s;
	unsigned int i, nvalid = 0, n = 0;

	if (!env_create(e, MODEL_KVM, true))
		SKIP(return, "no PFN-only memory: set GUESTMAP_HIDDEN=<size>@<phys> (RAM above mem=)");
	pfn_build(e);
	sregs_of(e, &s);
	s.cr3 = PFN_GPA;
	vcpu_sregs_set(e->vcpu, &s);
	sregs_of(e, &s);
	ASSERT_EQ(PFN_GPA, s.cr3);

	for (i = 0; i < 1500; i++) {
		uint64_t gva = pml4_va(1) + (i < 1000 ? rnd64() % (8ULL << 20) :
					     rnd64() % (4ULL << 30));
		struct guestmap_walk w;
		bool valid;
		int ret;

		if (i % 7 == 0)
			gva = pml4_va(random() % 8) + rnd64() % (1ULL << 39);
		valid = kvm_translate(e, gva, &kgpa);
		nvalid += valid;
		n++;
		if (kvm_only)
			continue;
		ret = gm_walk(e, &s, gva, 0, f | GUESTMAP_WALK_NO_AD, &w);
		if (ret || valid != (w.fault == GUESTMAP_WALK_OK) || (valid && w.gpa != kgpa) ||
		    (!valid && w.fault != GUESTMAP_WALK_PF))
			MISMATCH("PFN-only tables, gva 0x%lx: KVM valid %d gpa 0x%lx; guestmap %s fault %u error 0x%llx gpa 0x%llx",
				 gva, valid, kgpa, ret ? strerror(-ret) : "ok", w.fault,
				 (unsigned long long)w.error, (unsigned long long)w.gpa);
	}
	ksft_print_msg("PFN-only tables: %u addresses, %u valid in KVM\n", n, nvalid);

	/* A/D: KVM_TRANSLATE on slot 3, guestmap's walks on slots 4 and 5. */
	pfn_ad_page(e, &kr, 3);
	pfn_ad_page(e, &g1, 4);
	pfn_ad_page(e, &g2, 5);
	ASSERT_TRUE(kvm_translate(e, kr.gva, &kgpa));
	ad_delta(&kr, dk);
	/* SDM 4.8: A in every entry used; D in the leaf on a write. */
	memset(arch, 0, sizeof(arch));
	for (i = 1; i <= 4; i++)
		arch[i] = PTE_A;
	ad_compare("PFN-only tables, KVM_TRANSLATE", &kr, "KVM", dk, arch, "the architecture");
	if (!kvm_only) {
		struct guestmap_walk w;

		ad_walk(e, &s, &g1, 0, f, "PFN-only tables, read walk");
		ad_delta(&g1, d);
		ad_compare("PFN-only tables, read walk", &g1, "guestmap", d, dk, "KVM_TRANSLATE");
		ad_walk(e, &s, &g1, GUESTMAP_WALK_WRITE, f, "PFN-only tables, write walk");
		ad_delta(&g1, d);
		arch[1] |= PTE_D;
		ad_compare("PFN-only tables, read then write walk", &g1, "guestmap", d, arch,
			   "the architecture");
		ad_walk(e, &s, &g2, GUESTMAP_WALK_WRITE, f | GUESTMAP_WALK_NO_AD,
			"PFN-only tables, NO_AD walk");
		ad_delta(&g2, d);
		memset(arch, 0, sizeof(arch));
		ad_compare("PFN-only tables, NO_AD walk", &g2, "guestmap", d, arch, "nothing");
		ASSERT_EQ(0, gm_walk(e, &s, g2.gva, GUESTMAP_WALK_WRITE, f, &w));
		ASSERT_EQ(GUESTMAP_WALK_OK, w.fault);
		ASSERT_EQ(DATA_GPA + 5 * PAGE + 0x40, w.gpa);
	}
	ksft_print_msg("%u mismatches\n", mismatches);
	EXPECT_EQ(0, mismatches);
}

TEST_F_TIMEOUT(walk, bad_input, 300)
{
	struct env *e = &self->e;
	uint32_t f = variant->flags;
	struct guestmap_walk w, good;
	struct kvm_sregs s, unbacked;
	uint64_t gva = (uintptr_t)guest_code, kgpa;
	static const uint64_t nc[] = { 1ULL << 47, 0x0000ffffffff0000ULL,
				       0x8000000000000000ULL, 0xfff07fffffff0000ULL };
	struct delrace d = { 0 };
	struct kvm_sregs hs;
	uint64_t *mem, *mem2;
	pthread_t t;
	unsigned int i;
	int ret, gm;

	if (kvm_only)
		SKIP(return, "WALK_DIFF_KVM_ONLY: nothing of KVM's to compare");
	env_create(e, MODEL_KVM, false);
	sregs_of(e, &s);
	ASSERT_TRUE(kvm_translate(e, gva, &kgpa));
	ASSERT_EQ(0, gm_walk(e, &s, gva, 0, f, &good));
	ASSERT_EQ(GUESTMAP_WALK_OK, good.fault);
	ASSERT_EQ(kgpa, good.gpa);

	/* A root in no memslot: KVM's walk cannot read it either. */
	unbacked = s;
	unbacked.cr3 = UNBACKED_GPA;
	vcpu_sregs_set(e->vcpu, &unbacked);
	EXPECT_FALSE(kvm_translate(e, gva, &kgpa));
	for (i = 0; i < ACC_KINDS; i++) {
		ASSERT_EQ(0, gm_walk(e, &unbacked, gva, acc_bits[i], f, &w));
		EXPECT_EQ(GUESTMAP_WALK_PF, w.fault);
		/* walk_addr_generic()'s error path: not present, the access bits. */
		EXPECT_EQ(acc_bits[i], w.error & EC_MASK);
	}
	vcpu_sregs_set(e->vcpu, &s);

	/* Arguments the UAPI refuses. */
#define BAD(field, value) do {						\
	memset(&w, 0, sizeof(w));					\
	ret = gm_walk(e, &s, gva, 0, f, &w);				\
	ASSERT_EQ(0, ret);						\
	w.field = (value);						\
	ret = ioctl(e->gm, GUESTMAP_WALK, &w) ? errno : 0;		\
	EXPECT_EQ(EINVAL, ret) TH_LOG(#field " = 0x%llx: %s", (unsigned long long)(value), \
				      strerror(ret));			\
} while (0)
	BAD(format, 3);
	BAD(format, ~0U);
	BAD(flags, w.flags | (1U << 7));
	BAD(flags, 1U << 31);
	BAD(pad, 1);
	BAD(maxphyaddr, 31);
	BAD(maxphyaddr, 53);
	BAD(maxphyaddr, 0);
	BAD(cr4, s.cr4 | X86_CR4_PKE);
	BAD(cr4, s.cr4 | (1ULL << 24));	/* PKS */
	BAD(cr4, s.cr4 | (1ULL << 28));	/* LAM_SUP */
	if (e->m.maxphy < 52)
		BAD(root, s.cr3 | (1ULL << e->m.maxphy));
#undef BAD

	/* Non-canonical addresses: #GP(0), no walk. */
	for (i = 0; i < ARRAY_SIZE(nc); i++) {
		ASSERT_EQ(0, gm_walk(e, &s, nc[i], 0, f, &w));
		EXPECT_EQ(GUESTMAP_WALK_GP, w.fault) TH_LOG("addr 0x%lx", nc[i]);
	}
	ASSERT_EQ(0, gm_walk(e, &s, gva | (1ULL << 50), 0, f, &w));
	EXPECT_EQ(GUESTMAP_WALK_GP, w.fault);

	/* The tables' slot deleted and re-created under running walks. */
	d.e = e;
	d.s = s;
	d.flags = f;
	d.gva = gva;
	d.gpa = good.gpa;
	ASSERT_EQ(0, pthread_create(&t, NULL, delrace_walker, &d));
	for (i = 0; i < 300; i++) {
		struct userspace_mem_region *r = memslot2region(e->vm, 0);
		struct guestmap_memslot del = { .slot = 0 };

		ASSERT_EQ(0, ioctl(e->gm, GUESTMAP_SET_MEMSLOT, &del));
		usleep(random() % 500);
		gm_slot(e->gm, 0, 0, r->region.guest_phys_addr, r->region.memory_size,
			(void *)(uintptr_t)r->region.userspace_addr);
		usleep(random() % 500);
	}
	__atomic_store_n(&d.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ksft_print_msg("slot deletion: %lu walks: %lu ok, %lu faults, %lu other\n",
		       d.walks, d.ok, d.faults, d.bad);
	EXPECT_EQ(0, d.bad) TH_LOG("first: %s", d.why);
	/* Both were seen: the walks did race the deletions. */
	EXPECT_NE(0, d.ok);
	EXPECT_NE(0, d.faults);
	ASSERT_EQ(0, gm_walk(e, &s, gva, 0, f, &w));
	EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);
	EXPECT_EQ(good.gpa, w.gpa);

	/* A slot whose memory is unmapped: the tables are gone. */
	gm = open_dev();
	mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hs = s;
	ASSERT_LE(0, gm);
	ASSERT_NE(MAP_FAILED, mem);
	/* PML4[0] -> PDPT[0] -> PD[0] -> PT[5] -> gpa 0x5000, at gpa 0. */
	mem[0] = PAGE | PTE_P | PTE_W;
	mem[512] = 2 * PAGE | PTE_P | PTE_W;
	mem[1024] = 3 * PAGE | PTE_P | PTE_W;
	mem[1536 + 5] = 0x5000 | PTE_P | PTE_W;
	gm_slot(gm, 0, 0, 0, 4 * PAGE, mem);
	hs.cr3 = 0;
	ASSERT_EQ(0, gm_walk_root(gm, &e->m, &hs, 0, 0x5123, 0, f, &w));
	EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);
	EXPECT_EQ(0x5123, w.gpa);
	/* The slot re-made over other tables: walks (cached ones too) follow. */
	mem2 = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem2);
	memcpy(mem2, mem, 4 * PAGE);
	mem2[1536 + 5] = 0x7000 | PTE_P | PTE_W;
	ASSERT_EQ(0, ioctl(gm, GUESTMAP_SET_MEMSLOT, &(struct guestmap_memslot){ .slot = 0 }));
	gm_slot(gm, 0, 0, 0, 4 * PAGE, mem2);
	ASSERT_EQ(0, gm_walk_root(gm, &e->m, &hs, 0, 0x5123, 0, f, &w));
	EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);
	EXPECT_EQ(0x7123, w.gpa);
	/* The same slot's memory changed in place. */
	mem2[1536 + 5] = 0x9000 | PTE_P | PTE_W;
	ASSERT_EQ(0, gm_walk_root(gm, &e->m, &hs, 0, 0x5123, 0, f, &w));
	EXPECT_EQ(0x9123, w.gpa);
	ASSERT_EQ(0, ioctl(gm, GUESTMAP_SET_MEMSLOT, &(struct guestmap_memslot){ .slot = 0 }));
	gm_slot(gm, 0, 0, 0, 4 * PAGE, mem);
	munmap(mem2, 4 * PAGE);
	ASSERT_EQ(0, gm_walk_root(gm, &e->m, &hs, 0, 0x5123, 0, f, &w));
	EXPECT_EQ(0x5123, w.gpa);
	munmap(mem, 4 * PAGE);
	ret = gm_walk_root(gm, &e->m, &hs, 0, 0x5123, 0, f, &w);
	EXPECT_EQ(-EFAULT, ret) TH_LOG("after munmap: %s, fault %u", strerror(-ret), w.fault);
	close(gm);
}

/* A 57-bit canonical address: PML5 index @i5, PML4 index @i4, offset @off. */
static uint64_t la57_va(unsigned int i5, unsigned int i4, uint64_t off)
{
	uint64_t va = ((uint64_t)i5 << 48) | ((uint64_t)i4 << 39) | (off & ((1ULL << 39) - 1));

	return (uint64_t)((int64_t)(va << 7) >> 7);
}

/*
 * 5-level paging, which the library's guests never use: a hierarchy
 * built by hand in guest memory, CR4.LA57 and CR3 set with
 * KVM_SET_SREGS (no guest runs), KVM_TRANSLATE the judge.  Reserved bits
 * of PML5Es as __reset_rsvds_bits_mask()'s PT64_ROOT_5LEVEL case: PS, and
 * bit 8 of a non-leaf one on AMD.  Canonical means 57 bits (SDM vol. 3A
 * 4.5.1): 1 << 47 is an address, 1 << 56 is #GP.
 */
TEST_F_TIMEOUT(walk, la57, 300)
{
	struct env *e = &self->e;
	uint32_t f = variant->flags;
	struct kvm_sregs s, orig;
	uint64_t t[8], *h[8];
	struct guestmap_walk w;
	unsigned int i, nvalid = 0, n = 0;
	/* PML5 and PML4 indexes with tables behind them, and a few without. */
	static const unsigned int i54[][2] = {
		{ 0, 1 }, { 1, 3 }, { 1, 511 }, { 5, 1 }, { 6, 7 }, { 6, 200 },
		{ 300, 7 }, { 300, 200 }, { 511, 3 }, { 511, 511 }, { 0, 2 }, { 17, 1 },
	};

	env_create(e, MODEL_KVM, false);
	if (!vcpu_cpuid_has(e->vcpu, X86_FEATURE_LA57))
		SKIP(return, "the vCPU's CPUID has no LA57");
	for (i = 0; i < 8; i++) {
		t[i] = vm_alloc_page_table(e->vm);
		h[i] = addr_gpa2hva(e->vm, t[i]);
	}
	/* t0 PML5; t1-t3 PML4s; t4 PDPT; t5 PD; t6 PT. */
	h[0][0] = t[1] | PTE_P | PTE_W;
	h[0][1] = t[2] | PTE_P | PTE_W;
	h[0][5] = t[1] | PTE_P | PTE_W | PTE_PS;		/* reserved */
	h[0][6] = t[3] | PTE_P | PTE_W | (1ULL << 8);	/* reserved on AMD */
	h[0][300] = t[3] | PTE_P | PTE_W;
	h[0][511] = t[2] | PTE_P | PTE_W | PTE_NX;
	h[1][1] = t[4] | PTE_P | PTE_W;
	h[2][3] = t[4] | PTE_P | PTE_W;
	h[2][511] = t[4] | PTE_P | PTE_W | PTE_U;
	h[3][7] = t[4] | PTE_P | PTE_W;
	h[3][200] = t[4] | PTE_P | PTE_W | (1ULL << 8);	/* reserved on AMD */
	h[4][0] = t[5] | PTE_P | PTE_W;
	h[4][1] = DATA_GPA | PTE_P | PTE_W | PTE_PS;
	h[4][2] = (PG_SIZE_1G * 5) | PTE_P | PTE_W | PTE_PS | (1ULL << 14);	/* reserved */
	h[5][0] = t[6] | PTE_P | PTE_W;
	h[5][1] = DATA_GPA | PTE_P | PTE_W | PTE_PS;
	for (i = 0; i < 512; i += 1 + i % 4)
		h[6][i] = (DATA_GPA + (i % 64) * PAGE) | PTE_P | PTE_W;

	sregs_of(e, &orig);
	s = orig;
	s.cr3 = t[0];
	s.cr4 |= X86_CR4_LA57;
	vcpu_sregs_set(e->vcpu, &s);
	sregs_of(e, &s);
	ASSERT_TRUE(s.cr4 & X86_CR4_LA57);

	for (i = 0; i < 2000; i++) {
		unsigned int k = random() % ARRAY_SIZE(i54);
		unsigned int i5 = i % 5 == 4 ? random() % 512 : i54[k][0];
		unsigned int i4 = i % 7 == 6 ? random() % 512 : i54[k][1];
		uint64_t off = i % 3 ? rnd64() % (4 * PG_SIZE_1G) : rnd64() % (4 * PG_SIZE_2M);

		nvalid += translate_one(e, &s, f, "5-level", la57_va(i5, i4, off));
		n++;
	}
	/* Canonical with 57 bits, not with 48: walked. */
	nvalid += translate_one(e, &s, f, "5-level", la57_va(0, 1, 0) | (1ULL << 47));
	if (!kvm_only) {
		ASSERT_EQ(0, gm_walk(e, &s, 1ULL << 47, 0, f, &w));
		EXPECT_NE(GUESTMAP_WALK_GP, w.fault);
		/* Not canonical with 57 bits: #GP. */
		ASSERT_EQ(0, gm_walk(e, &s, 1ULL << 56, 0, f, &w));
		EXPECT_EQ(GUESTMAP_WALK_GP, w.fault);
		ASSERT_EQ(0, gm_walk(e, &s, 0xfe00000000001000ULL, 0, f, &w));
		EXPECT_EQ(GUESTMAP_WALK_GP, w.fault);
		/* Bits 63:56 all ones: canonical, PML5 index 256. */
		nvalid += translate_one(e, &s, f, "5-level", 0xff00000000001000ULL);
	}
	vcpu_sregs_set(e->vcpu, &orig);
	ksft_print_msg("5-level: %u addresses, %u valid in KVM, %u mismatches\n", n, nvalid,
		       mismatches);
	EXPECT_EQ(0, mismatches);
	EXPECT_NE(0, nvalid);
}

/*
 * Tables in a read-only memslot of both: KVM's walker leaves their A/D
 * bits alone (update_accessed_dirty_bits() skips entries whose slot is
 * not writable), and so must guestmap's.
 */
TEST_F_TIMEOUT(walk, readonly_tables, 300)
{
	struct env *e = &self->e;
	uint32_t f = variant->flags;
	struct kvm_sregs s, orig;
	uint64_t *t, before[4 * 512], kgpa, gva;
	struct guestmap_walk w;
	unsigned int i, k;
	int ret;

	env_create(e, MODEL_KVM, false);
	t = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, t);
	/* PML4 at RO_GPA; PML4[1] -> PDPT -> PD: PD[0] -> PT, PD[1] a 2 MiB leaf. */
	t[1] = (RO_GPA + PAGE) | PTE_P | PTE_W;
	t[512] = (RO_GPA + 2 * PAGE) | PTE_P | PTE_W;
	t[1024] = (RO_GPA + 3 * PAGE) | PTE_P | PTE_W;
	t[1025] = DATA_GPA | PTE_P | PTE_W | PTE_PS;
	for (i = 0; i < 64; i++)
		t[1536 + i] = (DATA_GPA + i * PAGE) | PTE_P | PTE_W;
	memcpy(before, t, sizeof(before));
	vm_set_user_memory_region(e->vm, RO_SLOT, KVM_MEM_READONLY, RO_GPA, 4 * PAGE, t);
	if (!kvm_only)
		gm_slot(e->gm, RO_SLOT, GUESTMAP_MEM_READONLY, RO_GPA, 4 * PAGE, t);
	sregs_of(e, &orig);
	s = orig;
	s.cr3 = RO_GPA;
	vcpu_sregs_set(e->vcpu, &s);
	sregs_of(e, &s);

	for (i = 0; i < 200; i++) {
		gva = pml4_va(1) + (i % 2 ? rnd64() % (64 * PAGE) : PG_SIZE_2M + rnd64() % PG_SIZE_2M);
		ASSERT_TRUE(kvm_translate(e, gva, &kgpa));
		for (k = 0; k < ACC_KINDS - 1 && !kvm_only; k++) {
			ret = gm_walk(e, &s, gva, acc_bits[k], f, &w);
			if (ret || w.fault != GUESTMAP_WALK_OK || w.gpa != kgpa)
				MISMATCH("read-only tables, gva 0x%lx %s: KVM gpa 0x%lx; guestmap %s fault %u error 0x%llx gpa 0x%llx",
					 gva, acc_names[k], kgpa, ret ? strerror(-ret) : "ok",
					 w.fault, (unsigned long long)w.error,
					 (unsigned long long)w.gpa);
		}
	}
	/* KVM changed nothing; neither may guestmap. */
	for (i = 0; i < ARRAY_SIZE(before); i++)
		if (t[i] != before[i])
			MISMATCH("read-only tables: entry %u of page %u: 0x%lx, was 0x%lx",
				 i % 512, i / 512, t[i], before[i]);
	vcpu_sregs_set(e->vcpu, &orig);
	ksft_print_msg("%u mismatches\n", mismatches);
	EXPECT_EQ(0, mismatches);
}

int main(int argc, char **argv)
{
	struct guestmap_api_version api = { 0 };
	const char *k = getenv("WALK_DIFF_KVM_ONLY");
	int fd;

	kvm_only = k && *k && strcmp(k, "0");
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open(KVM_DEV_PATH, O_RDWR);
	if (fd < 0)
		ksft_exit_skip("no %s: %s\n", KVM_DEV_PATH, strerror(errno));
	close(fd);
	fd = open_dev();
	if (fd < 0 && !kvm_only)
		ksft_exit_skip("no %s: %s\n", DEV_PATH, strerror(errno));
	if (fd >= 0 && ioctl(fd, GUESTMAP_GET_API_VERSION, &api))
		api.caps = 0;
	if (fd >= 0)
		close(fd);
	if (!(api.caps & GUESTMAP_CAP_WALK) && !kvm_only)
		ksft_exit_skip("guestmap lacks GUESTMAP_CAP_WALK (caps 0x%llx)\n",
			       (unsigned long long)api.caps);
	return test_harness_run(argc, argv);
}
