// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap guest page-table walk selftests: GUESTMAP_WALK on page tables
 * built here by hand in guest memory (a memslot over memory this test
 * maps), for 4- and 5-level x86-64 paging (CR4.LA57), NPT and 4-level
 * EPT.
 *
 * - translation of 4 KiB, 2 MiB and 1 GiB leaves, page_size, level and
 *   the offsets; 1 GiB pages without GBPAGES; not-present entries at
 *   each level; non-canonical addresses; EPT violations and
 *   misconfigurations;
 * - A/D bits: a read walk sets A in every entry walked and D nowhere, a
 *   write walk D in the leaf only, every other bit of every entry stays
 *   as it was; NO_AD and faulting walks change nothing; EPT's A (bit 8)
 *   and D (bit 9) only with bit 6 of the EPT pointer;
 * - tables in every kind of memory: anonymous, THP, hugetlb, memfd, a
 *   shared tmpfs file, reserved RAM and RAM with no struct page through
 *   /dev/mem (GUESTMAP_RESERVED, GUESTMAP_HIDDEN);
 * - A/D bits the kernel set survive MADV_FREE, reclaim and swap;
 * - PROT_NONE and PROT_READ table memory, READONLY slots;
 * - slot deletion and re-creation, munmap and MAP_FIXED under the walk
 *   cache;
 * - races of walks with a writer of a leaf entry and with slot changes;
 * - every EINVAL rule of the kernel-doc, EFAULT, EIO from another mm.
 *
 * Every expected value comes from the architecture and from the tables
 * built here, never from the module: the entry formats, A/D rules and
 * #PF error codes of Intel SDM Vol. 3A chapter 4 (4.5 4-level and
 * 5-level paging, 4.6 access rights, 4.7 page-fault exceptions, 4.8
 * accessed and dirty flags), EPT's of Vol. 3C chapter 29 (29.3.2
 * translation, 29.3.3.1 violations and misconfigurations, 29.3.5 A/D
 * flags) with the exit qualification of Table 28-7, NPT's of the AMD
 * APM Vol. 2 15.25.5, and for what the manuals leave to the
 * hypervisor, KVM's arch/x86/kvm/mmu/paging_tmpl.h, as the UAPI header's
 * kernel-doc of struct guestmap_walk says (A/D set only by a successful
 * walk, each with a cmpxchg; none in a READONLY slot; a table in no slot
 * is a not-present fault).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif

/* Control registers (SDM Vol. 3A 2.5, 2.2.1). */
#define CR0_PE		(1ULL << 0)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_LA57	(1ULL << 12)
#define CR4_PKE		(1ULL << 22)
#define CR4_PKS		(1ULL << 24)
#define CR4_LAM_SUP	(1ULL << 28)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define EFER_NXE	(1ULL << 11)

/* x86-64 paging entries (SDM Vol. 3A Tables 4-15 to 4-20). */
#define P		(1ULL << 0)
#define RW		(1ULL << 1)
#define US		(1ULL << 2)
#define ACC		(1ULL << 5)
#define DIRTY		(1ULL << 6)
#define PS		(1ULL << 7)
#define GLOBAL		(1ULL << 8)
#define XD		(1ULL << 63)
/* Bits the processor ignores in every entry: 11:9 and 58:52. */
#define IGN		((1ULL << 9) | (1ULL << 11) | (1ULL << 52) | (1ULL << 58))
/* Not present: every bit but P, all ignored (4.5.4). */
#define NOT_PRESENT	(~P)

/* #PF error code (SDM Vol. 3A 4.7). */
#define PF_P		(1ULL << 0)
#define PF_W		(1ULL << 1)
#define PF_U		(1ULL << 2)
#define PF_RSVD		(1ULL << 3)
#define PF_I		(1ULL << 4)

/* EPT entries (SDM Vol. 3C 29.3.2, 29.3.5). */
#define EPT_R		(1ULL << 0)
#define EPT_W		(1ULL << 1)
#define EPT_X		(1ULL << 2)
#define EPT_RWX		(EPT_R | EPT_W | EPT_X)
#define EPT_WB		(6ULL << 3)	/* memory type, leaves */
#define EPT_IPAT	(1ULL << 6)
#define EPT_PS		(1ULL << 7)
#define EPT_A		(1ULL << 8)
#define EPT_D		(1ULL << 9)
/* Ignored bits: 11 and 56:52. */
#define EPT_IGN		((1ULL << 11) | (1ULL << 52) | (1ULL << 55))
/* Not present: bits 2:0 clear; the rest is ignored (bit 10 left clear). */
#define EPT_NOT_PRESENT	(~(EPT_RWX | (1ULL << 10)))
/* EPT pointer: WB, a 4-level walk, A/D flags (Vol. 3C 25.6.11). */
#define EPTP_WB		6ULL
#define EPTP_4LEVEL	(3ULL << 3)
#define EPTP_AD		(1ULL << 6)
/* EPT violation exit qualification (Vol. 3C Table 28-7), bits 5:0. */
#define Q_READ		(1ULL << 0)
#define Q_WRITE		(1ULL << 1)
#define Q_FETCH		(1ULL << 2)
#define Q_R		(1ULL << 3)	/* AND of bit 0 of the entries */
#define Q_W		(1ULL << 4)
#define Q_X		(1ULL << 5)
#define Q_MASK		0x3fULL
/*
 * Bits 5:3 when the EPT PML4 table is in no slot: the AND over no entry
 * at all, all ones; KVM's walk_addr_generic() starts pte_access at ~0
 * and reports it so (the SDM knows no table in no memory).
 */
#define Q_NO_ENTRY	(Q_R | Q_W | Q_X)

#define MAXPHY		46

/*
 * The tables: one page per level, each table at this page of the region
 * (NPAGES pages), which a slot maps at TBL_GPA.
 */
enum { PG_PT, PG_PD, PG_PDPT, PG_PML4, PG_PML5,
	PG_EPT, PG_EPD, PG_EPDPT, PG_EPML4, NPAGES = 16 };
#define TBL_GPA		0x200000ULL
#define REGION		(NPAGES * PAGE)
#define WORDS		(REGION / 8)
#define TBL(pg)		(TBL_GPA + (pg) * PAGE)
#define ROOT4		TBL(PG_PML4)
#define ROOT5		TBL(PG_PML5)
#define EPTP		(TBL(PG_EPML4) | EPTP_WB | EPTP_4LEVEL | EPTP_AD)
#define EPTP_NOAD	(TBL(PG_EPML4) | EPTP_WB | EPTP_4LEVEL)
#define HUGE_2M		(2UL << 20)

/* An address from its table indices (5-level: i5 in bits 56:48). */
#define VA(i5, i4, i3, i2, i1)	((uint64_t)(i5) << 48 | (uint64_t)(i4) << 39 | \
				 (uint64_t)(i3) << 30 | (uint64_t)(i2) << 21 | \
				 (uint64_t)(i1) << 12)
#define LA57_BIT	VA(1, 0, 0, 0, 0)	/* PML5E 1 is the PML4 */

/* The paths, by index: PML4E 1, then PDPTE 2, PDE 3, PTE 4. */
#define VA_4K		(VA(0, 1, 2, 3, 4) + 0x123)
#define VA_2M		(VA(0, 1, 2, 5, 0) + 0x12345)	/* PDE 5: 2 MiB */
#define VA_1G		(VA(0, 1, 6, 0, 0) + 0x1234567)	/* PDPTE 6: 1 GiB */
#define VA_HIGH		(0xffff000000000000ULL | VA(0, 511, 2, 3, 4) | 0x123)
#define VA_NP4		VA(0, 7, 0, 0, 0)		/* not present ... */
#define VA_NP3		VA(0, 1, 8, 0, 0)
#define VA_NP2		VA(0, 1, 2, 9, 0)
#define VA_NP1		VA(0, 1, 2, 3, 10)
#define VA_NP5		VA(3, 0, 0, 0, 0)		/* ... at each level */
#define VA_RO		VA(0, 1, 2, 3, 11)		/* read-only leaf */
#define VA_RSVD		VA(0, 1, 2, 3, 12)		/* bit 50 set */

/* The frames the leaves map (gpas in no slot: a walk never reads them). */
#define F_4K		0x12345000ULL
#define F_2M		0x7fe00000ULL
#define F_1G		0x1c0000000ULL
#define F_RO		0x0badc000ULL
#define F_OTHER(gen)	(0x20000000ULL + (gen) * 0x1000000ULL)

/*
 * Builds the tables in @mem (the region, gpa TBL_GPA); the 4 KiB leaf
 * maps @f4k.
 */
static void build(uint64_t *mem, uint64_t f4k)
{
	uint64_t *pml5 = mem + PG_PML5 * 512, *pml4 = mem + PG_PML4 * 512;
	uint64_t *pdpt = mem + PG_PDPT * 512, *pd = mem + PG_PD * 512;
	uint64_t *pt = mem + PG_PT * 512;
	uint64_t *epml4 = mem + PG_EPML4 * 512, *epdpt = mem + PG_EPDPT * 512;
	uint64_t *epd = mem + PG_EPD * 512, *ept = mem + PG_EPT * 512;
	uint64_t table = P | RW | US | IGN;

	memset(mem, 0, REGION);
	pml5[1] = TBL(PG_PML4) | table;
	pml5[3] = NOT_PRESENT;
	pml4[1] = TBL(PG_PDPT) | table;
	pml4[511] = TBL(PG_PDPT) | P | RW | US;
	pml4[7] = NOT_PRESENT;
	pdpt[2] = TBL(PG_PD) | table;
	pdpt[6] = F_1G | P | RW | US | PS | GLOBAL | IGN;
	pdpt[8] = NOT_PRESENT;
	pd[3] = TBL(PG_PT) | table;
	pd[5] = F_2M | P | RW | US | PS | GLOBAL | IGN;
	pd[9] = NOT_PRESENT;
	pt[4] = f4k | P | RW | US | GLOBAL | IGN | XD;
	pt[10] = NOT_PRESENT;
	pt[11] = F_RO | P | US;
	pt[12] = F_4K | P | RW | US | (1ULL << 50);

	epml4[1] = TBL(PG_EPDPT) | EPT_RWX | EPT_IGN;
	epml4[7] = EPT_NOT_PRESENT;
	epdpt[2] = TBL(PG_EPD) | EPT_RWX | EPT_IGN;
	epdpt[6] = F_1G | EPT_RWX | EPT_WB | EPT_PS | EPT_IGN;
	epdpt[8] = EPT_NOT_PRESENT;
	epd[3] = TBL(PG_EPT) | EPT_RWX | EPT_IGN;
	epd[5] = F_2M | EPT_RWX | EPT_WB | EPT_PS | EPT_IGN;
	epd[9] = EPT_NOT_PRESENT;
	ept[4] = f4k | EPT_RWX | EPT_WB | EPT_IPAT | EPT_IGN;
	ept[10] = EPT_NOT_PRESENT;
	ept[11] = F_RO | EPT_R | EPT_WB;
}

/* The word of the region that holds the entry of @addr at @level. */
static size_t word_of(bool is_ept, int level, uint64_t addr)
{
	static const int long_pg[] = { PG_PT, PG_PD, PG_PDPT, PG_PML4, PG_PML5 };
	static const int ept_pg[] = { PG_EPT, PG_EPD, PG_EPDPT, PG_EPML4 };
	int pg = is_ept ? ept_pg[level - 1] : long_pg[level - 1];

	return pg * 512 + ((addr >> (12 + 9 * (level - 1))) & 511);
}

static int set_slot(int fd, uint32_t flags, uint64_t gpa, uint64_t size,
		    const void *hva)
{
	struct guestmap_memslot m = {
		.slot = 0, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)hva,
	};

	return ioctl(fd, GUESTMAP_SET_MEMSLOT, &m) ? errno : 0;
}

/* A request: outputs filled with a pattern, so that a stale one shows. */
static void req(struct guestmap_walk *w, uint32_t format, uint64_t root,
		uint64_t addr, uint32_t access, uint32_t flags)
{
	memset(w, 0xa5, sizeof(*w));
	w->root = root;
	w->addr = addr;
	w->format = format;
	w->access = access;
	w->flags = flags;
	w->maxphyaddr = MAXPHY;
	w->pad = 0;
	if (format == GUESTMAP_WALK_EPT) {
		w->cr0 = w->cr4 = w->efer = 0;
	} else if (format == GUESTMAP_WALK_NPT) {
		/* L1's long mode; LA57 picks a 5-level nested walk. */
		w->cr0 = CR0_PE | CR0_WP | CR0_PG;
		w->cr4 = CR4_PAE | (root == ROOT5 ? CR4_LA57 : 0);
		w->efer = EFER_LME | EFER_LMA | EFER_NXE;
		w->maxphyaddr = root == ROOT5 ? 52 : MAXPHY;
	} else {
		w->cr0 = CR0_PE | CR0_WP | CR0_PG;
		w->cr4 = CR4_PAE | (root == ROOT5 ? CR4_LA57 : 0);
		w->efer = EFER_LME | EFER_LMA | EFER_NXE;
	}
}

/* GUESTMAP_WALK: 0 or errno. */
static int do_walk(int fd, struct guestmap_walk *w)
{
	return ioctl(fd, GUESTMAP_WALK, w) ? errno : 0;
}

/* x86-64 paging of @addr from @root: 0 or errno. */
static int walk_long(int fd, struct guestmap_walk *w, uint64_t root,
		     uint64_t addr, uint32_t access, uint32_t flags)
{
	req(w, GUESTMAP_WALK_LONG, root, addr, access, flags);
	return do_walk(fd, w);
}

/* NPT: x86-64 paging of an L2 gpa, from nCR3 @root. */
static int walk_npt(int fd, struct guestmap_walk *w, uint64_t root,
		    uint64_t addr, uint32_t access, uint32_t flags)
{
	req(w, GUESTMAP_WALK_NPT, root, addr, access, flags);
	return do_walk(fd, w);
}

static int walk_ept(int fd, struct guestmap_walk *w, uint64_t eptp,
		    uint64_t addr, uint32_t access, uint32_t flags)
{
	req(w, GUESTMAP_WALK_EPT, eptp, addr, access, flags);
	return do_walk(fd, w);
}

/*
 * A walk that translated to @gpa with a leaf at @level: page size and
 * level out, and ptes[] of @top down to @level equal to the entries in
 * @mem now (the walk's A/D updates included).
 */
static void expect_ok(struct __test_metadata *_metadata,
		      const struct guestmap_walk *w, const uint64_t *mem,
		      bool is_ept, int top, int level, uint64_t gpa)
{
	int l;

	EXPECT_EQ(GUESTMAP_WALK_OK, w->fault) {
		TH_LOG("addr %#llx: fault %u error %#llx level %u", w->addr,
		       w->fault, w->error, w->level);
		return;
	}
	EXPECT_EQ(gpa, w->gpa) TH_LOG("addr %#llx", w->addr);
	EXPECT_EQ(1ULL << (12 + 9 * (level - 1)), w->page_size);
	EXPECT_EQ(level, w->level);
	for (l = level; l <= top; l++)
		EXPECT_EQ(mem[word_of(is_ept, l, w->addr)], w->ptes[l - 1]) {
			TH_LOG("addr %#llx: ptes[%d] is not the entry in memory",
			       w->addr, l - 1);
		}
	/* 0 for the levels not reached. */
	for (l = 1; l <= GUESTMAP_WALK_MAX_LEVELS; l++)
		if (l < level || l > top)
			EXPECT_EQ(0, w->ptes[l - 1]) TH_LOG("addr %#llx: ptes[%d]",
							    w->addr, l - 1);
}

/* A walk that took @fault with @error at @level (error: mask @mask). */
static void expect_fault(struct __test_metadata *_metadata,
			 const struct guestmap_walk *w, uint32_t fault,
			 uint64_t error, uint64_t mask, int level)
{
	int l;

	EXPECT_EQ(fault, w->fault) TH_LOG("addr %#llx: error %#llx level %u",
					  w->addr, w->error, w->level);
	EXPECT_EQ(error, w->error & mask) TH_LOG("addr %#llx", w->addr);
	EXPECT_EQ(level, w->level) TH_LOG("addr %#llx", w->addr);
	/* The levels below the faulting entry were not reached: 0. */
	for (l = 1; l < level; l++)
		EXPECT_EQ(0, w->ptes[l - 1]) TH_LOG("addr %#llx: ptes[%d]", w->addr, l - 1);
}

/*
 * The region @mem must be @snap with @a or'ed into the entries of @addr
 * from @top down to @leaf and @d into the leaf; nothing else may differ.
 */
static void expect_region(struct __test_metadata *_metadata, const uint64_t *mem,
			  const uint64_t *snap, bool is_ept, int top, int leaf,
			  uint64_t addr, uint64_t a, uint64_t d)
{
	uint64_t *want = malloc(REGION);
	size_t i;
	int l, bad = 0;

	ASSERT_NE(NULL, want);
	memcpy(want, snap, REGION);
	for (l = leaf; l <= top && a; l++)
		want[word_of(is_ept, l, addr)] |= a;
	if (d)
		want[word_of(is_ept, leaf, addr)] |= d;
	for (i = 0; i < WORDS && bad < 8; i++) {
		if (mem[i] == want[i])
			continue;
		bad++;
		EXPECT_EQ(want[i], mem[i]) {
			TH_LOG("table page %zu entry %zu: %#llx, want %#llx",
			       i / 512, i % 512, (unsigned long long)mem[i],
			       (unsigned long long)want[i]);
		}
	}
	free(want);
}

static bool have_walk(int fd)
{
	struct guestmap_api_version v;

	return !ioctl(fd, GUESTMAP_GET_API_VERSION, &v) && (v.caps & GUESTMAP_CAP_WALK);
}

static char *anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* ---- Tables in anonymous memory, plain and through the walk cache ---- */

FIXTURE(walk) {
	int fd;
	uint64_t *mem;
	uint64_t *snap;
};

FIXTURE_VARIANT(walk) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(walk, plain) { .flags = 0 };
FIXTURE_VARIANT_ADD(walk, cached) { .flags = GUESTMAP_WALK_CACHED };

FIXTURE_SETUP(walk)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	if (!have_walk(self->fd))
		SKIP(return, "no GUESTMAP_CAP_WALK");
	self->mem = (uint64_t *)anon(REGION);
	ASSERT_NE(MAP_FAILED, self->mem);
	self->snap = malloc(REGION);
	ASSERT_NE(NULL, self->snap);
	build(self->mem, F_4K);
	memcpy(self->snap, self->mem, REGION);
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, REGION, self->mem));
}

FIXTURE_TEARDOWN(walk)
{
	close(self->fd);
	munmap(self->mem, REGION);
	free(self->snap);
}

/* 4.5.4: 4 KiB, 2 MiB (PDE.PS) and 1 GiB (PDPTE.PS) pages, 4-level. */
TEST_F(walk, translates_4k_2m_1g_leaves)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_GBPAGES;
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_2M, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 2, F_2M | 0x12345);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_1G, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 3, F_1G | 0x1234567);
	/* The upper half: PML4E 511, bits 63:48 copies of bit 47. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_HIGH, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	/* Every offset bit comes from the address. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA(0, 1, 2, 3, 4) + 0xfff, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0xfff);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA(0, 1, 2, 5, 511) + 0xfff, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 2, F_2M | 0x1fffff);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA(0, 1, 6, 511, 511) + 0xfff, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 3, F_1G | 0x3fffffff);
	/* CR3's bits 11:0 (PCD, PWT, PCID) name no table bit. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4 | 0x18, VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
}

/* 4.5.1: with CR4.LA57, the PML5 table first, bits 56:48. */
TEST_F(walk, translates_5_level)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_GBPAGES;
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 5, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_2M, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 5, 2, F_2M | 0x12345);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_1G, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 5, 3, F_1G | 0x1234567);
}

/*
 * Without 1 GiB pages (CPUID.80000001H:EDX.Page1GB) PDPTE bit 7 is
 * reserved: #PF with P and RSVD (4.5.4, 4.7), at the PDPTE.
 */
TEST_F(walk, one_gib_page_needs_gbpages)
{
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_1G, 0, variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_RSVD, ~0ULL, 3);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_1G, GUESTMAP_WALK_WRITE,
			       variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_W | PF_RSVD, ~0ULL, 3);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_1G, 0, variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_RSVD, ~0ULL, 3);
	/* 2 MiB pages need no flag. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_2M, 0,
			       variant->flags | GUESTMAP_WALK_NO_AD));
	expect_ok(_metadata, &w, self->mem, false, 4, 2, F_2M | 0x12345);
	/* A physical-address bit at or above MAXPHYADDR is reserved too. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_RSVD, 0, variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_RSVD, ~0ULL, 1);
	/* A faulting walk sets no A/D bit. */
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
}

/*
 * 4.7: a not-present entry at any level is a #PF whose error code has P
 * clear, and W, U/S and I/D as the access (I/D with EFER.NXE).  The rest
 * of a not-present entry is ignored (NOT_PRESENT sets every other bit,
 * reserved ones included: no RSVD).
 */
TEST_F(walk, not_present_at_each_level)
{
	static const struct { uint64_t addr; int level; } np[] = {
		{ VA_NP4, 4 }, { VA_NP3, 3 }, { VA_NP2, 2 }, { VA_NP1, 1 },
	};
	static const struct { uint32_t access; uint64_t error; } acc[] = {
		{ 0, 0 },
		{ GUESTMAP_WALK_WRITE, PF_W },
		{ GUESTMAP_WALK_USER, PF_U },
		{ GUESTMAP_WALK_USER | GUESTMAP_WALK_WRITE, PF_U | PF_W },
		{ GUESTMAP_WALK_FETCH, PF_I },
	};
	struct guestmap_walk w;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(np); i++) {
		for (j = 0; j < ARRAY_SIZE(acc); j++) {
			ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, np[i].addr,
					       acc[j].access, variant->flags));
			expect_fault(_metadata, &w, GUESTMAP_WALK_PF, acc[j].error,
				     ~0ULL, np[i].level);
			EXPECT_EQ(NOT_PRESENT, w.ptes[np[i].level - 1]);
			ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5,
					       LA57_BIT | np[i].addr,
					       acc[j].access, variant->flags));
			expect_fault(_metadata, &w, GUESTMAP_WALK_PF, acc[j].error,
				     ~0ULL, np[i].level);
		}
		ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, np[i].addr, 0, variant->flags));
		/* 29.3.3.1; Table 28-7: a read; bits 5:3 the AND, with 0. */
		expect_fault(_metadata, &w, GUESTMAP_WALK_EPT_VIOLATION, Q_READ,
			     Q_MASK, np[i].level);
		ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, np[i].addr,
				      GUESTMAP_WALK_WRITE, variant->flags));
		expect_fault(_metadata, &w, GUESTMAP_WALK_EPT_VIOLATION, Q_WRITE,
			     Q_MASK, np[i].level);
	}
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, VA_NP5, GUESTMAP_WALK_WRITE,
			       variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_W, ~0ULL, 5);
	/* Without EFER.NXE and CR4.SMEP the error code has no I/D (4.7). */
	req(&w, GUESTMAP_WALK_LONG, ROOT4, VA_NP1, GUESTMAP_WALK_FETCH, variant->flags);
	w.efer &= ~EFER_NXE;
	ASSERT_EQ(0, do_walk(self->fd, &w));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, 0, ~0ULL, 1);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
}

/* 3.3.7.1: bits 63:48 (63:57 with LA57) must copy bit 47 (56): #GP. */
TEST_F(walk, non_canonical_is_gp)
{
	static const uint64_t bad4[] = {
		0x0000800000000000ULL, 0x8000000000000000ULL,
		0xffff7fffffffffffULL, 0x0001000000000000ULL | VA_4K,
	};
	static const uint64_t bad5[] = {
		0x0100000000000000ULL, 0x8000000000000000ULL,
		0xfeffffffffffffffULL,
	};
	struct guestmap_walk w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad4); i++) {
		ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, bad4[i], GUESTMAP_WALK_WRITE,
				       variant->flags));
		EXPECT_EQ(GUESTMAP_WALK_GP, w.fault) TH_LOG("addr %#llx", w.addr);
		EXPECT_EQ(0, w.level);
		EXPECT_EQ(0, w.ptes[3]);
	}
	for (i = 0; i < ARRAY_SIZE(bad5); i++) {
		ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, bad5[i], 0, variant->flags));
		EXPECT_EQ(GUESTMAP_WALK_GP, w.fault) TH_LOG("addr %#llx", w.addr);
		EXPECT_EQ(0, w.level);
		EXPECT_EQ(0, w.ptes[4]);
	}
	/* Canonical with LA57: PML5E 128 is empty, a #PF at level 5. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, 0x0000800000000000ULL, 0,
			       variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, 0, ~0ULL, 5);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
}

/*
 * 4.6: a write to a read-only page with CR0.WP is #PF P|W at the leaf;
 * without WP a supervisor write is allowed, a user write never.
 */
TEST_F(walk, write_to_read_only_page)
{
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_RO, GUESTMAP_WALK_WRITE,
			       variant->flags | GUESTMAP_WALK_NO_AD));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_W, ~0ULL, 1);
	req(&w, GUESTMAP_WALK_LONG, ROOT4, VA_RO + 8, GUESTMAP_WALK_WRITE,
	    variant->flags | GUESTMAP_WALK_NO_AD);
	w.cr0 &= ~CR0_WP;
	ASSERT_EQ(0, do_walk(self->fd, &w));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_RO | 8);
	req(&w, GUESTMAP_WALK_LONG, ROOT4, VA_RO, GUESTMAP_WALK_WRITE | GUESTMAP_WALK_USER,
	    variant->flags | GUESTMAP_WALK_NO_AD);
	w.cr0 &= ~CR0_WP;
	ASSERT_EQ(0, do_walk(self->fd, &w));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_W | PF_U, ~0ULL, 1);
	/* The leaf is XD with EFER.NXE: a fetch is P|I. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_FETCH,
			       variant->flags | GUESTMAP_WALK_NO_AD));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_I, ~0ULL, 1);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
}

/* 29.3.2: EPT's 4 KiB, 2 MiB and 1 GiB pages; 29.3.3.1: violations. */
TEST_F(walk, ept_translates_and_faults)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_NO_AD;
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, true, 4, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_2M, GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, true, 4, 2, F_2M | 0x12345);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_1G, GUESTMAP_WALK_FETCH,
			      fl | GUESTMAP_WALK_GBPAGES));
	expect_ok(_metadata, &w, self->mem, true, 4, 3, F_1G | 0x1234567);
	/* Bit 7 of a PDPTE without 1 GiB pages: a misconfiguration. */
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_1G, 0, fl));
	EXPECT_EQ(GUESTMAP_WALK_EPT_MISCONFIG, w.fault);
	EXPECT_EQ(3, w.level);
	/* A write to a read-only page: bits 5:3 say R only. */
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_RO, GUESTMAP_WALK_WRITE, fl));
	expect_fault(_metadata, &w, GUESTMAP_WALK_EPT_VIOLATION, Q_WRITE | Q_R,
		     Q_MASK, 1);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_RO, GUESTMAP_WALK_FETCH, fl));
	expect_fault(_metadata, &w, GUESTMAP_WALK_EPT_VIOLATION, Q_FETCH | Q_R,
		     Q_MASK, 1);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_RO + 0x10, 0, fl));
	expect_ok(_metadata, &w, self->mem, true, 4, 1, F_RO | 0x10);
	/* Bits 6:3 of a non-leaf PDE (a leaf's memory type) are reserved. */
	self->mem[word_of(true, 2, VA_4K)] |= EPT_WB;
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, fl));
	EXPECT_EQ(GUESTMAP_WALK_EPT_MISCONFIG, w.fault);
	EXPECT_EQ(2, w.level);
	self->mem[word_of(true, 2, VA_4K)] &= ~EPT_WB;
	/* Write without read is a misconfiguration. */
	self->mem[word_of(true, 1, VA_4K)] &= ~EPT_R;
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, fl));
	EXPECT_EQ(GUESTMAP_WALK_EPT_MISCONFIG, w.fault);
	EXPECT_EQ(1, w.level);
	self->mem[word_of(true, 1, VA_4K)] |= EPT_R;
	expect_region(_metadata, self->mem, self->snap, true, 4, 1, VA_4K, 0, 0);
}

/*
 * With _AMD, bit 8 of a PML4E or PML5E is reserved, as KVM reserves it
 * for AMD CPUs (nonleaf_bit8_rsvd in __reset_rsvds_bits_mask()); the
 * SDM's PML4E and PML5E ignore it (Tables 4-14, 4-15).
 */
TEST_F(walk, amd_reserves_bit_8_of_pml4e_and_pml5e)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_NO_AD;
	struct guestmap_walk w;

	self->mem[word_of(false, 4, VA_4K)] |= 1ULL << 8;
	self->mem[word_of(false, 5, LA57_BIT | VA_4K)] |= 1ULL << 8;
	memcpy(self->snap, self->mem, REGION);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 5, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, fl | GUESTMAP_WALK_AMD));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_RSVD, ~0ULL, 4);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_4K, GUESTMAP_WALK_WRITE,
			       fl | GUESTMAP_WALK_AMD));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_W | PF_RSVD, ~0ULL, 5);
	/* Nowhere else: the 2 MiB PDE's bit 8 is G. */
	self->mem[word_of(false, 4, VA_4K)] &= ~(1ULL << 8);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_2M, 0, fl | GUESTMAP_WALK_AMD));
	expect_ok(_metadata, &w, self->mem, false, 4, 2, F_2M | 0x12345);
	self->mem[word_of(false, 4, VA_4K)] |= 1ULL << 8;
	/* A faulting walk with A/D on sets nothing. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE,
			       variant->flags | GUESTMAP_WALK_AMD));
	EXPECT_EQ(GUESTMAP_WALK_PF, w.fault);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
}

/*
 * NPT (AMD APM Vol. 2 15.25.5): the long-mode format, walked for an L2
 * gpa from nCR3, below 2^maxphyaddr, with no canonical check; every
 * access of the nested walk is a user access (KVM's
 * translate_nested_gpa()), so the error code always has U and a
 * supervisor-only entry faults.  A/D as in 4.8.
 */
TEST_F(walk, npt_walks_as_user)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_GBPAGES;
	uint64_t *pde = self->mem + word_of(false, 2, VA_4K);
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_2M, 0, fl | GUESTMAP_WALK_NO_AD));
	expect_ok(_metadata, &w, self->mem, false, 4, 2, F_2M | 0x12345);
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_1G, GUESTMAP_WALK_FETCH,
			      fl | GUESTMAP_WALK_NO_AD));
	expect_ok(_metadata, &w, self->mem, false, 4, 3, F_1G | 0x1234567);
	/* 5-level with L1's LA57, maxphyaddr 52: bits 51:48 index the PML5. */
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT5, LA57_BIT | VA_4K, 0,
			      fl | GUESTMAP_WALK_NO_AD));
	expect_ok(_metadata, &w, self->mem, false, 5, 1, F_4K | 0x123);
	/* Not present: U whatever the access. */
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_NP1, 0, fl));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_U, ~0ULL, 1);
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_NP3, GUESTMAP_WALK_WRITE, fl));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_U | PF_W, ~0ULL, 3);
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_RO, GUESTMAP_WALK_WRITE, fl));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_U | PF_W, ~0ULL, 1);
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_RSVD, 0, fl));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_U | PF_RSVD, ~0ULL, 1);
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_FETCH, fl));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_U | PF_I, ~0ULL, 1);
	*pde &= ~US;
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_4K, 0, fl));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_U, ~0ULL, 1);
	*pde |= US;
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
	/* A read sets A in the four entries, a write D in the leaf. */
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, ACC, 0);
	ASSERT_EQ(0, walk_npt(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, ACC, DIRTY);
}

/*
 * 4.8: a read sets A in every entry it used (PML4E, PDPTE, PDE, PTE),
 * a write also D in the entry that maps the page, and nothing else
 * changes: every other bit, ignored ones and XD included.  @top and the
 * leaf level @leaf say which entries; @root the mode.
 */
static void long_ad(struct __test_metadata *_metadata, int fd, uint64_t *mem,
		    uint64_t *snap, uint32_t flags, uint64_t root, uint64_t addr,
		    int top, int leaf, uint64_t gpa)
{
	struct guestmap_walk w;

	build(mem, F_4K);
	memcpy(snap, mem, REGION);
	ASSERT_EQ(0, walk_long(fd, &w, root, addr, 0, flags));
	expect_ok(_metadata, &w, mem, false, top, leaf, gpa);
	expect_region(_metadata, mem, snap, false, top, leaf, addr, ACC, 0);
	ASSERT_EQ(0, walk_long(fd, &w, root, addr, GUESTMAP_WALK_WRITE, flags));
	expect_ok(_metadata, &w, mem, false, top, leaf, gpa);
	expect_region(_metadata, mem, snap, false, top, leaf, addr, ACC, DIRTY);
	/* Once set, a write walk sets nothing more. */
	ASSERT_EQ(0, walk_long(fd, &w, root, addr, GUESTMAP_WALK_WRITE, flags));
	expect_ok(_metadata, &w, mem, false, top, leaf, gpa);
	EXPECT_EQ(0, w.retries);
	expect_region(_metadata, mem, snap, false, top, leaf, addr, ACC, DIRTY);
	/* A write walk first sets A and D at once. */
	build(mem, F_4K);
	ASSERT_EQ(0, walk_long(fd, &w, root, addr, GUESTMAP_WALK_WRITE, flags));
	expect_ok(_metadata, &w, mem, false, top, leaf, gpa);
	expect_region(_metadata, mem, snap, false, top, leaf, addr, ACC, DIRTY);
}

TEST_F(walk, ad_bits_4_level)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_GBPAGES;

	long_ad(_metadata, self->fd, self->mem, self->snap, fl, ROOT4, VA_4K,
		4, 1, F_4K | 0x123);
	long_ad(_metadata, self->fd, self->mem, self->snap, fl, ROOT4, VA_2M,
		4, 2, F_2M | 0x12345);
	long_ad(_metadata, self->fd, self->mem, self->snap, fl, ROOT4, VA_1G,
		4, 3, F_1G | 0x1234567);
	/* A user access sets the same bits. */
	build(self->mem, F_4K);
	{
		struct guestmap_walk w;

		ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K,
				       GUESTMAP_WALK_USER | GUESTMAP_WALK_WRITE, fl));
		expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
		expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K,
			      ACC, DIRTY);
	}
}

TEST_F(walk, ad_bits_5_level)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_GBPAGES;

	long_ad(_metadata, self->fd, self->mem, self->snap, fl, ROOT5,
		LA57_BIT | VA_4K, 5, 1, F_4K | 0x123);
	long_ad(_metadata, self->fd, self->mem, self->snap, fl, ROOT5,
		LA57_BIT | VA_2M, 5, 2, F_2M | 0x12345);
	long_ad(_metadata, self->fd, self->mem, self->snap, fl, ROOT5,
		LA57_BIT | VA_1G, 5, 3, F_1G | 0x1234567);
}

/* NO_AD translates and sets nothing; ptes[] are the entries as they are. */
TEST_F(walk, no_ad_changes_nothing)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_NO_AD | GUESTMAP_WALK_GBPAGES;
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_2M, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 5, 2, F_2M | 0x12345);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_1G, GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 3, F_1G | 0x1234567);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, true, 4, 1, F_4K | 0x123);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
}

/*
 * A walk that faults sets no A/D bit anywhere (paging_tmpl.h updates
 * them only after the permission check passed): not present at the
 * leaf, reserved bit, write to a read-only page, user access to a
 * supervisor page.
 */
TEST_F(walk, faulting_walk_changes_nothing)
{
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_NP1, GUESTMAP_WALK_WRITE,
			       variant->flags));
	EXPECT_EQ(GUESTMAP_WALK_PF, w.fault);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_RSVD, 0, variant->flags));
	EXPECT_EQ(GUESTMAP_WALK_PF, w.fault);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_RO, GUESTMAP_WALK_WRITE,
			       variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_W, ~0ULL, 1);
	EXPECT_EQ(self->snap[word_of(false, 1, VA_RO)], w.ptes[0]);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_NP2, 0, variant->flags));
	EXPECT_EQ(GUESTMAP_WALK_PF, w.fault);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_RO, GUESTMAP_WALK_WRITE,
			      variant->flags));
	EXPECT_EQ(GUESTMAP_WALK_EPT_VIOLATION, w.fault);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_NP1, 0, variant->flags));
	EXPECT_EQ(GUESTMAP_WALK_EPT_VIOLATION, w.fault);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_1G, 0, variant->flags));
	EXPECT_EQ(GUESTMAP_WALK_EPT_MISCONFIG, w.fault);
	/* The user/supervisor bit cleared in the PDE: a user access faults. */
	self->mem[word_of(false, 2, VA_4K)] &= ~US;
	self->snap[word_of(false, 2, VA_4K)] &= ~US;
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_USER,
			       variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_U, ~0ULL, 1);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
}

/*
 * 29.3.5: with bit 6 of the EPT pointer, a read sets A (bit 8) in every
 * EPT entry used, a write D (bit 9) in the leaf too; without it nothing.
 */
TEST_F(walk, ept_ad_bits)
{
	static const struct { uint64_t addr; int leaf; uint64_t gpa; } path[] = {
		{ VA_4K, 1, F_4K | 0x123 },
		{ VA_2M, 2, F_2M | 0x12345 },
		{ VA_1G, 3, F_1G | 0x1234567 },
	};
	uint32_t fl = variant->flags | GUESTMAP_WALK_GBPAGES;
	struct guestmap_walk w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(path); i++) {
		build(self->mem, F_4K);
		ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP_NOAD, path[i].addr,
				      GUESTMAP_WALK_WRITE, fl));
		expect_ok(_metadata, &w, self->mem, true, 4, path[i].leaf, path[i].gpa);
		expect_region(_metadata, self->mem, self->snap, true, 4, path[i].leaf,
			      path[i].addr, 0, 0);
		ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, path[i].addr, 0, fl));
		expect_ok(_metadata, &w, self->mem, true, 4, path[i].leaf, path[i].gpa);
		expect_region(_metadata, self->mem, self->snap, true, 4, path[i].leaf,
			      path[i].addr, EPT_A, 0);
		ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, path[i].addr,
				      GUESTMAP_WALK_FETCH, fl));
		expect_ok(_metadata, &w, self->mem, true, 4, path[i].leaf, path[i].gpa);
		expect_region(_metadata, self->mem, self->snap, true, 4, path[i].leaf,
			      path[i].addr, EPT_A, 0);
		ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, path[i].addr,
				      GUESTMAP_WALK_WRITE, fl));
		expect_ok(_metadata, &w, self->mem, true, 4, path[i].leaf, path[i].gpa);
		expect_region(_metadata, self->mem, self->snap, true, 4, path[i].leaf,
			      path[i].addr, EPT_A, EPT_D);
	}
}

/*
 * PROT_NONE table memory cannot be read: EFAULT (the memory is gone for
 * the walk), and nothing changes.  Through the cache too, after a walk
 * that filled it (mprotect invalidates it).
 */
TEST_F(walk, prot_none_tables_are_efault)
{
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_4K, GUESTMAP_WALK_WRITE,
			       variant->flags));
	expect_ok(_metadata, &w, self->mem, false, 5, 1, F_4K | 0x123);
	memcpy(self->mem, self->snap, REGION);
	ASSERT_EQ(0, mprotect(self->mem, REGION, PROT_NONE));
	EXPECT_EQ(EFAULT, walk_long(self->fd, &w, ROOT4, VA_4K, 0,
				    variant->flags | GUESTMAP_WALK_NO_AD));
	EXPECT_EQ(EFAULT, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE,
				    variant->flags));
	EXPECT_EQ(EFAULT, walk_ept(self->fd, &w, EPTP, VA_4K, GUESTMAP_WALK_WRITE,
				   variant->flags));
	ASSERT_EQ(0, mprotect(self->mem, REGION, PROT_READ | PROT_WRITE));
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
	/* Back again: the walk works and sets its bits. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE,
			       variant->flags));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, ACC, DIRTY);
}

/*
 * PROT_READ table memory: a walk that only reads (NO_AD, or with every
 * bit already set) succeeds; one that must set an A/D bit cannot write
 * the entry: EFAULT, and the entries are unchanged.
 */
TEST_F(walk, prot_read_tables_refuse_ad_updates)
{
	struct guestmap_walk w;

	/*
	 * First every table written through the walk cache (if cached),
	 * then the entries put back as they were by user space.
	 */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_4K, GUESTMAP_WALK_WRITE,
			       variant->flags));
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, GUESTMAP_WALK_WRITE,
			      variant->flags));
	memcpy(self->mem, self->snap, REGION);
	ASSERT_EQ(0, mprotect(self->mem, REGION, PROT_READ));
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE,
			       variant->flags | GUESTMAP_WALK_NO_AD));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_2M, 0,
			      variant->flags | GUESTMAP_WALK_NO_AD));
	expect_ok(_metadata, &w, self->mem, true, 4, 2, F_2M | 0x12345);
	EXPECT_EQ(EFAULT, walk_long(self->fd, &w, ROOT4, VA_4K, 0, variant->flags));
	EXPECT_EQ(EFAULT, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE,
				    variant->flags));
	EXPECT_EQ(EFAULT, walk_ept(self->fd, &w, EPTP, VA_4K, GUESTMAP_WALK_WRITE,
				   variant->flags));
	/* A faulting walk sets nothing, so it needs no write. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_RO, GUESTMAP_WALK_WRITE,
			       variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_P | PF_W, ~0ULL, 1);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
	/* With A and D already set, a write walk has nothing to write. */
	ASSERT_EQ(0, mprotect(self->mem, REGION, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE,
			       variant->flags));
	ASSERT_EQ(0, mprotect(self->mem, REGION, PROT_READ));
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE,
			       variant->flags));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, ACC, DIRTY);
	ASSERT_EQ(0, mprotect(self->mem, REGION, PROT_READ | PROT_WRITE));
}

/*
 * Tables in a READONLY slot: the walk succeeds and leaves every entry as
 * it is (paging_tmpl.h skips A/D updates of entries it cannot write).
 */
TEST_F(walk, readonly_slot_sets_no_ad)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_GBPAGES;
	struct guestmap_walk w;

	/* What the walk cache holds of the writable slot must not stay. */
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_1G,
			       GUESTMAP_WALK_WRITE, fl | GUESTMAP_WALK_NO_AD));
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_2M, 0, fl | GUESTMAP_WALK_NO_AD));
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
	ASSERT_EQ(0, set_slot(self->fd, GUESTMAP_MEM_READONLY, TBL_GPA, REGION, self->mem));
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_1G,
			       GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, false, 5, 3, F_1G | 0x1234567);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_2M, GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, true, 4, 2, F_2M | 0x12345);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
}

/*
 * A deleted slot takes its tables with it: the root is in no slot, a
 * not-present fault at the top level.  A slot made again at the same
 * gpa on other memory with other tables: every walk, plain or cached,
 * sees those.
 */
TEST_F(walk, slot_deleted_and_recreated)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_NO_AD;
	struct guestmap_walk w;
	uint64_t *other, *osnap = malloc(REGION);

	ASSERT_NE(NULL, osnap);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, fl | GUESTMAP_WALK_CACHED));
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, fl | GUESTMAP_WALK_CACHED));
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE,
			       variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_W, ~0ULL, 4);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_4K, 0, variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, 0, ~0ULL, 5);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, variant->flags));
	expect_fault(_metadata, &w, GUESTMAP_WALK_EPT_VIOLATION, Q_READ | Q_NO_ENTRY,
		     Q_MASK, 4);

	other = (uint64_t *)anon(REGION);
	ASSERT_NE(MAP_FAILED, other);
	build(other, F_OTHER(1));
	memcpy(osnap, other, REGION);
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, REGION, other));
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, variant->flags));
	expect_ok(_metadata, &w, other, false, 4, 1, F_OTHER(1) | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE, 0));
	expect_ok(_metadata, &w, other, false, 4, 1, F_OTHER(1) | 0x123);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE,
			       GUESTMAP_WALK_CACHED));
	expect_ok(_metadata, &w, other, false, 4, 1, F_OTHER(1) | 0x123);
	expect_region(_metadata, other, osnap, false, 4, 1, VA_4K, ACC, DIRTY);
	memcpy(osnap, other, REGION);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, GUESTMAP_WALK_CACHED));
	expect_ok(_metadata, &w, other, true, 4, 1, F_OTHER(1) | 0x123);
	expect_region(_metadata, other, osnap, true, 4, 1, VA_4K, EPT_A, 0);
	/* The old tables were left alone by all of it. */
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
	munmap(other, REGION);
	free(osnap);
}

/*
 * The slot stays, the memory under it changes: munmap then mmap at the
 * same address, or MAP_FIXED over it, each time with other tables.  The
 * walk cache must follow (the notifier invalidates it): never the old
 * tables.  With nothing mapped, EFAULT.
 */
TEST_F(walk, memory_replaced_under_the_slot)
{
	uint64_t frame = F_4K;
	struct guestmap_walk w;
	void *p;
	int gen;

	for (gen = 1; gen <= 6; gen++) {
		/* Every level's table read, through the cache if cached. */
		ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_4K,
				       GUESTMAP_WALK_WRITE, variant->flags));
		expect_ok(_metadata, &w, self->mem, false, 5, 1, frame | 0x123);
		ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, variant->flags));
		expect_ok(_metadata, &w, self->mem, true, 4, 1, frame | 0x123);
		if (gen % 2) {
			ASSERT_EQ(0, munmap(self->mem, REGION));
			EXPECT_EQ(EFAULT, walk_long(self->fd, &w, ROOT4, VA_4K, 0,
						    variant->flags));
			EXPECT_EQ(EFAULT, walk_ept(self->fd, &w, EPTP, VA_4K, 0,
						   variant->flags));
		}
		p = mmap(self->mem, REGION, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		ASSERT_EQ((void *)self->mem, p);
		frame = F_OTHER(gen);
		build(self->mem, frame);
		memcpy(self->snap, self->mem, REGION);
		ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_4K, 0,
				       variant->flags | GUESTMAP_WALK_NO_AD));
		expect_ok(_metadata, &w, self->mem, false, 5, 1, frame | 0x123);
		ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, variant->flags));
		expect_ok(_metadata, &w, self->mem, true, 4, 1, frame | 0x123);
		expect_region(_metadata, self->mem, self->snap, true, 4, 1, VA_4K,
			      EPT_A, 0);
	}
}

/* ---- Tables in every kind of memory ---- */

enum kind { ANON, THP, HUGETLB, MEMFD, TMPFS, RESERVED, HIDDEN };

FIXTURE(kind) {
	int fd;
	int file;
	char *map;		/* what was mapped */
	size_t len;
	uint64_t *mem;		/* the region, in it */
	uint64_t *snap;
	char dir[64];
};

FIXTURE_VARIANT(kind) {
	enum kind kind;
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(kind, anon) { .kind = ANON };
FIXTURE_VARIANT_ADD(kind, anon_cached) { .kind = ANON, .flags = GUESTMAP_WALK_CACHED };
FIXTURE_VARIANT_ADD(kind, thp) { .kind = THP };
FIXTURE_VARIANT_ADD(kind, thp_cached) { .kind = THP, .flags = GUESTMAP_WALK_CACHED };
FIXTURE_VARIANT_ADD(kind, hugetlb) { .kind = HUGETLB };
FIXTURE_VARIANT_ADD(kind, hugetlb_cached) {
	.kind = HUGETLB, .flags = GUESTMAP_WALK_CACHED
};
FIXTURE_VARIANT_ADD(kind, memfd) { .kind = MEMFD };
FIXTURE_VARIANT_ADD(kind, memfd_cached) { .kind = MEMFD, .flags = GUESTMAP_WALK_CACHED };
FIXTURE_VARIANT_ADD(kind, tmpfs_file) { .kind = TMPFS };
FIXTURE_VARIANT_ADD(kind, tmpfs_file_cached) {
	.kind = TMPFS, .flags = GUESTMAP_WALK_CACHED
};
FIXTURE_VARIANT_ADD(kind, reserved_ram) { .kind = RESERVED };
FIXTURE_VARIANT_ADD(kind, reserved_ram_cached) {
	.kind = RESERVED, .flags = GUESTMAP_WALK_CACHED
};
FIXTURE_VARIANT_ADD(kind, pfn_only_ram) { .kind = HIDDEN };
FIXTURE_VARIANT_ADD(kind, pfn_only_ram_cached) {
	.kind = HIDDEN, .flags = GUESTMAP_WALK_CACHED
};

/* hugetlb pages reserved, trying to raise vm.nr_hugepages to 4. */
static bool hugetlb_pages(void)
{
	char *s = read_all("/proc/sys/vm/nr_hugepages");
	long n = s ? atol(s) : 0;

	free(s);
	if (n < 4)
		write_str("/proc/sys/vm/nr_hugepages", "4");
	s = read_all("/proc/sys/vm/nr_hugepages");
	n = s ? atol(s) : 0;
	free(s);
	return n > 0;
}

FIXTURE_SETUP(kind)
{
	unsigned long size, phys;
	char path[96];
	char *m;

	self->file = -1;
	self->map = MAP_FAILED;
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	if (!have_walk(self->fd))
		SKIP(return, "no GUESTMAP_CAP_WALK");
	self->snap = malloc(REGION);
	ASSERT_NE(NULL, self->snap);
	self->len = REGION;
	switch (variant->kind) {
	case ANON:
		self->map = anon(REGION);
		break;
	case THP:
		self->len = 2 * HUGE_2M;
		m = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, m);
		self->map = m;
		m = (char *)(((uintptr_t)m + HUGE_2M - 1) & ~(HUGE_2M - 1));
		ASSERT_EQ(0, madvise(m, HUGE_2M, MADV_HUGEPAGE));
		memset(m, 0, HUGE_2M);
		if (pagemap_pfn(m) % 512 ||
		    pagemap_pfn(m + (NPAGES - 1) * PAGE) != pagemap_pfn(m) + NPAGES - 1)
			SKIP(return, "no transparent huge page");
		self->mem = (uint64_t *)m;
		break;
	case HUGETLB:
		if (!hugetlb_pages())
			SKIP(return, "no hugetlb pages (vm.nr_hugepages)");
		self->len = HUGE_2M;
		self->map = mmap(NULL, HUGE_2M, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (self->map == MAP_FAILED)
			SKIP(return, "no hugetlb page free");
		break;
	case MEMFD:
		self->file = memfd_create("walk_test", MFD_CLOEXEC);
		ASSERT_LE(0, self->file);
		ASSERT_EQ(0, ftruncate(self->file, REGION));
		self->map = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED,
				 self->file, 0);
		break;
	case TMPFS:
		snprintf(self->dir, sizeof(self->dir), "/tmp/walk_test.XXXXXX");
		ASSERT_NE(NULL, mkdtemp(self->dir));
		if (mount("walk_test", self->dir, "tmpfs", 0, "size=4m")) {
			rmdir(self->dir);
			self->dir[0] = '\0';
			SKIP(return, "cannot mount tmpfs: %s", strerror(errno));
		}
		snprintf(path, sizeof(path), "%s/tables", self->dir);
		self->file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		ASSERT_LE(0, self->file);
		ASSERT_EQ(0, ftruncate(self->file, REGION));
		self->map = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED,
				 self->file, 0);
		break;
	case RESERVED:
		if (!env_range("GUESTMAP_RESERVED", &size, &phys))
			SKIP(return, "boot with memmap=<size>$<phys>, set GUESTMAP_RESERVED");
		self->map = map_devmem(phys, REGION, PROT_READ | PROT_WRITE);
		break;
	case HIDDEN:
		if (!env_range("GUESTMAP_HIDDEN", &size, &phys))
			SKIP(return, "boot with mem=, set GUESTMAP_HIDDEN");
		self->map = map_devmem(phys, REGION, PROT_READ | PROT_WRITE);
		break;
	}
	ASSERT_NE(MAP_FAILED, self->map);
	if (variant->kind != THP)
		self->mem = (uint64_t *)self->map;
	build(self->mem, F_4K);
	memcpy(self->snap, self->mem, REGION);
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, REGION, self->mem));
}

FIXTURE_TEARDOWN(kind)
{
	close(self->fd);
	if (self->map != MAP_FAILED)
		munmap(self->map, self->len);
	if (self->file >= 0)
		close(self->file);
	if (variant->kind == TMPFS && self->dir[0]) {
		umount2(self->dir, MNT_DETACH);
		rmdir(self->dir);
	}
	free(self->snap);
}

/*
 * On each kind: the three leaves translate; a read walk then a write
 * walk set A then D, seen by user space (and by read() for files);
 * the same for EPT.
 */
TEST_F(kind, translation_and_ad_bits)
{
	uint32_t fl = variant->flags | GUESTMAP_WALK_GBPAGES;
	struct guestmap_walk w;
	uint64_t v;

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_2M, 0, fl | GUESTMAP_WALK_NO_AD));
	expect_ok(_metadata, &w, self->mem, false, 4, 2, F_2M | 0x12345);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT5, LA57_BIT | VA_1G, 0,
			       fl | GUESTMAP_WALK_NO_AD));
	expect_ok(_metadata, &w, self->mem, false, 5, 3, F_1G | 0x1234567);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_NP2, 0, fl));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, 0, ~0ULL, 2);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, 0, 0);

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, ACC, 0);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
	expect_region(_metadata, self->mem, self->snap, false, 4, 1, VA_4K, ACC, DIRTY);
	if (self->file >= 0) {
		ASSERT_EQ(8, pread(self->file, &v, 8, word_of(false, 1, VA_4K) * 8));
		EXPECT_EQ(self->snap[word_of(false, 1, VA_4K)] | ACC | DIRTY, v);
	}

	memcpy(self->snap, self->mem, REGION);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, fl));
	expect_ok(_metadata, &w, self->mem, true, 4, 1, F_4K | 0x123);
	expect_region(_metadata, self->mem, self->snap, true, 4, 1, VA_4K, EPT_A, 0);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, GUESTMAP_WALK_WRITE, fl));
	expect_ok(_metadata, &w, self->mem, true, 4, 1, F_4K | 0x123);
	expect_region(_metadata, self->mem, self->snap, true, 4, 1, VA_4K, EPT_A, EPT_D);
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
}

/* ---- Data loss: the kernel's A/D writes must survive reclaim ---- */

/*
 * Every table page the walks below write, and the words they change:
 * a write walk of VA_4K in 5-level paging (PML5E, PML4E, PDPTE, PDE,
 * PTE) and one of EPT (its four entries).
 */
static void write_walks(struct __test_metadata *_metadata, int fd, uint64_t *mem,
			uint32_t flags)
{
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_long(fd, &w, ROOT5, LA57_BIT | VA_4K, GUESTMAP_WALK_WRITE,
			       flags));
	expect_ok(_metadata, &w, mem, false, 5, 1, F_4K | 0x123);
	ASSERT_EQ(0, walk_ept(fd, &w, EPTP, VA_4K, GUESTMAP_WALK_WRITE, flags));
	expect_ok(_metadata, &w, mem, true, 4, 1, F_4K | 0x123);
}

/* The region after write_walks(): @snap with their A/D bits. */
static void expect_walked(struct __test_metadata *_metadata, const uint64_t *mem,
			  uint64_t *snap)
{
	uint64_t *want = malloc(REGION);
	int l;

	ASSERT_NE(NULL, want);
	memcpy(want, snap, REGION);
	for (l = 1; l <= 5; l++)
		want[word_of(false, l, LA57_BIT | VA_4K)] |= ACC;
	want[word_of(false, 1, VA_4K)] |= DIRTY;
	for (l = 1; l <= 4; l++)
		want[word_of(true, l, VA_4K)] |= EPT_A;
	want[word_of(true, 1, VA_4K)] |= EPT_D;
	expect_region(_metadata, mem, want, false, 4, 1, VA_4K, 0, 0);
	free(want);
}

#define CONTROL		16	/* pages after the region nobody writes */

/*
 * MADV_FREE makes the pages lazyfree: clean, so reclaim discards them
 * unless they were written since.  The walks write A/D bits into every
 * table page through a kernel mapping, which does not dirty the CPU's
 * pte: unless the module marks the page dirty, MADV_PAGEOUT discards
 * its A/D bits with the rest of the tables.  CONTROL pages that nobody
 * writes must be discarded, which shows that reclaim ran.
 */
TEST_F(walk, ad_bits_survive_madv_free_and_reclaim)
{
	size_t len = REGION + CONTROL * PAGE;
	unsigned int i, discarded = 0;
	char *p = anon(len);
	uint64_t *mem = (uint64_t *)p;

	ASSERT_NE(MAP_FAILED, p);
	build(mem, F_4K);
	memcpy(self->snap, mem, REGION);
	for (i = 0; i < CONTROL; i++)
		memset(p + REGION + i * PAGE, 0x5a, PAGE);
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, REGION, mem));
	ASSERT_EQ(0, madvise(p, len, MADV_FREE));
	write_walks(_metadata, self->fd, mem, variant->flags);
	ASSERT_EQ(0, madvise(p, len, MADV_PAGEOUT));
	write_str("/proc/sys/vm/drop_caches", "3");
	for (i = 0; i < CONTROL; i++)
		discarded += p[REGION + i * PAGE] == 0;
	/* Pages 9 to 15 hold zeroes: discarded or not, they read the same. */
	expect_walked(_metadata, mem, self->snap);
	if (!discarded)
		SKIP(goto out, "MADV_PAGEOUT discarded no lazyfree page");
	ksft_print_msg("%u of %u control pages discarded\n", discarded, CONTROL);
out:
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
	munmap(p, len);
}

/*
 * Swapped out, read back into the swap cache (MADV_WILLNEED: zram's
 * reads skip it otherwise), so the pages are clean with a valid swap
 * copy: a kernel write that leaves them clean is dropped by the next
 * reclaim for the older copy in swap.
 */
TEST_F(walk, ad_bits_survive_swap_out_and_in)
{
	unsigned int i, swapped = 0;

	if (!have_swap())
		SKIP(return, "no swap device (selftests/run_vm_tests.sh sets up zram)");
	ASSERT_EQ(0, madvise(self->mem, REGION, MADV_PAGEOUT));
	for (i = 0; i < NPAGES; i++)
		swapped += !!(pagemap_entry((char *)self->mem + i * PAGE) & (1ULL << 62));
	if (!swapped)
		SKIP(return, "MADV_PAGEOUT swapped nothing out");
	ASSERT_EQ(0, madvise(self->mem, REGION, MADV_WILLNEED));
	write_walks(_metadata, self->fd, self->mem, variant->flags);
	ASSERT_EQ(0, madvise(self->mem, REGION, MADV_PAGEOUT));
	expect_walked(_metadata, self->mem, self->snap);
}

/*
 * Tables in shmem, paged out before and after the walks (without swap,
 * MADV_PAGEOUT of shmem does nothing: the tables must be intact all the
 * same), then the page cache dropped: what read() and the mapping see
 * has the walks' bits.
 */
TEST_F(walk, ad_bits_in_shmem_survive_pageout)
{
	int mfd = memfd_create("walk_tables", MFD_CLOEXEC);
	uint64_t *mem, *back = malloc(REGION);

	ASSERT_NE(NULL, back);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, REGION));
	mem = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	build(mem, F_4K);
	memcpy(self->snap, mem, REGION);
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, REGION, mem));
	ASSERT_EQ(0, madvise(mem, REGION, MADV_PAGEOUT));
	write_walks(_metadata, self->fd, mem, variant->flags);
	ASSERT_EQ(0, madvise(mem, REGION, MADV_PAGEOUT));
	write_str("/proc/sys/vm/drop_caches", "3");
	ASSERT_EQ(REGION, pread(mfd, back, REGION, 0));
	expect_walked(_metadata, back, self->snap);
	expect_walked(_metadata, mem, self->snap);
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
	munmap(mem, REGION);
	close(mfd);
	free(back);
}

/* ---- One context, no variants ---- */

FIXTURE(ctx) {
	int fd;
	uint64_t *mem;
	uint64_t *other;
};

FIXTURE_SETUP(ctx)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	if (!have_walk(self->fd))
		SKIP(return, "no GUESTMAP_CAP_WALK");
	self->mem = (uint64_t *)anon(REGION);
	ASSERT_NE(MAP_FAILED, self->mem);
	self->other = (uint64_t *)anon(REGION);
	ASSERT_NE(MAP_FAILED, self->other);
	build(self->mem, F_4K);
	build(self->other, F_4K);
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, REGION, self->mem));
}

FIXTURE_TEARDOWN(ctx)
{
	close(self->fd);
	munmap(self->mem, REGION);
	munmap(self->other, REGION);
}

#define RACE_SECONDS	3
#define WALKERS		4	/* half plain, half cached */

struct race {
	int fd;
	uint32_t flags;
	atomic_bool *stop;
	uint64_t x, y;		/* the gpas a walk may give */
	int np_level;		/* the level of a not-present fault */
	/* out */
	unsigned long walks, ok, not_present, bad;
	unsigned long retries;
	struct guestmap_walk first_bad;
	int first_errno;
};

static void *walker(void *arg)
{
	struct race *r = arg;
	struct guestmap_walk w;
	int err;

	while (!atomic_load(r->stop)) {
		err = walk_long(r->fd, &w, ROOT4, VA_4K, GUESTMAP_WALK_WRITE, r->flags);
		r->walks++;
		if (!err)
			r->retries += w.retries;
		if (!err && w.fault == GUESTMAP_WALK_OK && w.level == 1 &&
		    w.page_size == PAGE && (w.gpa == r->x || w.gpa == r->y)) {
			r->ok++;
		} else if (!err && w.fault == GUESTMAP_WALK_PF && w.error == PF_W &&
			   (int)w.level == r->np_level) {
			r->not_present++;
		} else if (!r->bad++) {
			r->first_bad = w;
			r->first_errno = err;
		}
	}
	return NULL;
}

static void report(struct __test_metadata *_metadata, struct race *r, int n)
{
	unsigned long walks = 0, retries = 0, np = 0, ok = 0;
	int i;

	for (i = 0; i < n; i++) {
		walks += r[i].walks;
		retries += r[i].retries;
		np += r[i].not_present;
		ok += r[i].ok;
		EXPECT_EQ(0, r[i].bad) {
			TH_LOG("walker %d (%s): errno %d, fault %u error %#llx level %u gpa %#llx",
			       i, r[i].flags ? "cached" : "plain", r[i].first_errno,
			       r[i].first_bad.fault, r[i].first_bad.error,
			       r[i].first_bad.level, r[i].first_bad.gpa);
		}
		EXPECT_LT(0, r[i].ok) TH_LOG("walker %d never translated", i);
	}
	ksft_print_msg("%lu walks: %lu ok, %lu not present, %lu retries\n",
		       walks, ok, np, retries);
	/* Both outcomes were seen: the walks did race the writer. */
	EXPECT_LT(0, np);
}

/*
 * A writer exchanges the leaf PTE between X and Y (other frames, A/D
 * clear) and now and then 0, while walkers write through it with A/D
 * updates on.  Each walk translates to X's or Y's frame, or takes a
 * not-present #PF at the PT; and every value the writer takes out is
 * the one it put in, but for A and D: a walk's cmpxchg never overwrote
 * the writer's change with the entry it had read before.
 */
TEST_F_TIMEOUT(ctx, race_leaf_writer, 60)
{
	uint64_t *pte = self->mem + word_of(false, 1, VA_4K);
	uint64_t x = F_OTHER(1) | P | RW | US, y = F_OTHER(2) | P | RW | US | IGN;
	unsigned long swaps = 0, lost = 0, set_ad = 0;
	uint64_t last = x, next, old, first_lost = 0, first_last = 0;
	pthread_t th[WALKERS];
	struct race r[WALKERS];
	atomic_bool stop = false;
	time_t end;
	int i;

	*pte = x;
	for (i = 0; i < WALKERS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].fd = self->fd;
		r[i].flags = i % 2 ? GUESTMAP_WALK_CACHED : 0;
		r[i].stop = &stop;
		r[i].x = F_OTHER(1) | 0x123;
		r[i].y = F_OTHER(2) | 0x123;
		r[i].np_level = 1;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, walker, &r[i]));
	}
	end = time(NULL) + RACE_SECONDS;
	while (time(NULL) < end) {
		next = swaps % 16 == 15 ? 0 : last == x ? y : x;
		old = __atomic_exchange_n(pte, next, __ATOMIC_SEQ_CST);
		if (last ? (old & ~(ACC | DIRTY)) != last : old != 0) {
			if (!lost++) {
				first_lost = old;
				first_last = last;
			}
		}
		set_ad += old != last;
		last = next;
		swaps++;
		/* Off the CPU mostly with X or Y in place, sometimes with 0. */
		if (swaps % 64 == 8 || swaps % 256 == 64)
			sched_yield();
	}
	atomic_store(&stop, true);
	for (i = 0; i < WALKERS; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, lost) {
		TH_LOG("took out %#llx after putting in %#llx: a change was lost",
		       (unsigned long long)first_lost, (unsigned long long)first_last);
	}
	/* Walks did set A/D bits on the writer's values: the two raced. */
	EXPECT_LT(0, set_ad);
	ksft_print_msg("%lu exchanges, %lu found A/D set by a walk\n", swaps, set_ad);
	report(_metadata, r, WALKERS);
}

/*
 * A thread deletes the slot that holds the tables and makes it again,
 * on the same memory or on a copy, while walkers run: each walk
 * translates, or finds the root in no slot (a not-present #PF at the
 * top level, one memslot layout per walk); nothing else.  The slot table
 * is held for the whole walk and the memory stays mapped, so no errno
 * is right.
 */
TEST_F_TIMEOUT(ctx, race_slot_changes, 60)
{
	pthread_t th[WALKERS];
	struct race r[WALKERS];
	atomic_bool stop = false;
	unsigned long rounds = 0;
	time_t end;
	int i;

	for (i = 0; i < WALKERS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].fd = self->fd;
		r[i].flags = i % 2 ? GUESTMAP_WALK_CACHED : 0;
		r[i].stop = &stop;
		r[i].x = r[i].y = F_4K | 0x123;
		r[i].np_level = 4;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, walker, &r[i]));
	}
	end = time(NULL) + RACE_SECONDS;
	while (time(NULL) < end) {
		ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
		usleep(1000);
		ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, REGION,
				      rounds % 2 ? self->other : self->mem));
		usleep(200);
		rounds++;
	}
	atomic_store(&stop, true);
	for (i = 0; i < WALKERS; i++)
		pthread_join(th[i], NULL);
	ksft_print_msg("%lu slot deletions and re-creations\n", rounds);
	report(_metadata, r, WALKERS);
}

/* ---- Bad input ---- */

/*
 * Every EINVAL rule of struct guestmap_walk's kernel-doc, each on an
 * otherwise valid request (which must succeed first).
 */
TEST_F(ctx, bad_input_is_einval)
{
	struct guestmap_walk w;
	int i;

#define BAD_LONG(what, stmt) do {					\
	req(&w, GUESTMAP_WALK_LONG, ROOT4, VA_4K, 0, 0);		\
	stmt;								\
	EXPECT_EQ(EINVAL, do_walk(self->fd, &w)) TH_LOG("%s", what);	\
} while (0)
#define BAD_EPT(what, stmt) do {					\
	req(&w, GUESTMAP_WALK_EPT, EPTP, VA_4K, 0, 0);			\
	stmt;								\
	EXPECT_EQ(EINVAL, do_walk(self->fd, &w)) TH_LOG("%s", what);	\
} while (0)

	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, GUESTMAP_WALK_NO_AD));
	EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);
	ASSERT_EQ(0, walk_ept(self->fd, &w, EPTP, VA_4K, 0, GUESTMAP_WALK_NO_AD));
	EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);
	/* Other CR0, CR4 and EFER bits are allowed, maxphyaddr 32 and 52. */
	req(&w, GUESTMAP_WALK_LONG, ROOT4, VA_4K, 0, GUESTMAP_WALK_NO_AD);
	w.cr0 |= (1ULL << 5) | (1ULL << 1);
	w.cr4 |= (1ULL << 7) | (1ULL << 9);
	w.efer |= 1ULL;
	w.maxphyaddr = 32;
	EXPECT_EQ(0, do_walk(self->fd, &w));
	EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);
	req(&w, GUESTMAP_WALK_EPT, EPTP, VA_4K, 0, GUESTMAP_WALK_NO_AD);
	w.maxphyaddr = 52;
	EXPECT_EQ(0, do_walk(self->fd, &w));
	EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);

	BAD_LONG("pad", w.pad = 1);
	BAD_EPT("pad", w.pad = 0x80000000);
	BAD_LONG("maxphyaddr 31", w.maxphyaddr = 31);
	BAD_LONG("maxphyaddr 53", w.maxphyaddr = 53);
	BAD_LONG("maxphyaddr 0", w.maxphyaddr = 0);
	BAD_EPT("maxphyaddr 64", w.maxphyaddr = 64);
	BAD_LONG("format 3", w.format = 3);
	BAD_LONG("format ~0", w.format = ~0U);
	for (i = 0; i < 32; i++) {
		uint32_t bit = 1U << i;

		if (!(bit & (GUESTMAP_WALK_WRITE | GUESTMAP_WALK_USER | GUESTMAP_WALK_FETCH))) {
			BAD_LONG("access bit", w.access = bit);
			BAD_EPT("access bit", w.access = bit);
		}
		if (i > 6) {
			BAD_LONG("flag", w.flags = bit);
			BAD_EPT("flag", w.flags = bit);
		}
	}
	BAD_LONG("write and fetch", w.access = GUESTMAP_WALK_WRITE | GUESTMAP_WALK_FETCH);
	BAD_EPT("write and fetch", w.access = GUESTMAP_WALK_WRITE | GUESTMAP_WALK_FETCH);
	/* AC and IMPLICIT: LONG only. */
	BAD_EPT("AC for EPT", w.flags = GUESTMAP_WALK_AC);
	BAD_EPT("IMPLICIT for EPT", w.flags = GUESTMAP_WALK_IMPLICIT);
	/* Long mode: CR0.PG, CR4.PAE and EFER.LMA. */
	BAD_LONG("CR0.PG clear", w.cr0 &= ~CR0_PG);
	BAD_LONG("CR4.PAE clear", w.cr4 &= ~CR4_PAE);
	BAD_LONG("EFER.LMA clear", w.efer &= ~EFER_LMA);
	BAD_LONG("all clear", w.cr0 = w.cr4 = w.efer = 0);
	BAD_LONG("CR4.PKE", w.cr4 |= CR4_PKE);
	BAD_LONG("CR4.PKS", w.cr4 |= CR4_PKS);
	BAD_LONG("CR4.LAM_SUP", w.cr4 |= CR4_LAM_SUP);
	/* NPT: L1's long mode, an L2 gpa below 2^maxphyaddr, no SMAP flags. */
	BAD_LONG("NPT: AC", (w.format = GUESTMAP_WALK_NPT, w.flags = GUESTMAP_WALK_AC));
	BAD_LONG("NPT: IMPLICIT",
		 (w.format = GUESTMAP_WALK_NPT, w.flags = GUESTMAP_WALK_IMPLICIT));
	BAD_LONG("NPT: addr bit 46", (w.format = GUESTMAP_WALK_NPT, w.addr |= 1ULL << MAXPHY));
	BAD_LONG("NPT: EFER.LMA clear", (w.format = GUESTMAP_WALK_NPT, w.efer &= ~EFER_LMA));
	BAD_LONG("NPT: nCR3 bit 46", (w.format = GUESTMAP_WALK_NPT, w.root |= 1ULL << MAXPHY));
	req(&w, GUESTMAP_WALK_NPT, ROOT4, VA_4K, 0, GUESTMAP_WALK_NO_AD);
	EXPECT_EQ(0, do_walk(self->fd, &w));
	EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);
	/*
	 * ... also with L1's CR4.PKE, PKS or LAM_SUP, which cannot change an
	 * NPT walk: kvm_init_shadow_npt_mmu() drops PKE, PKS guards
	 * supervisor pages only (SDM 4.6.2) and the walk is a user walk, LAM
	 * is about linear addresses.
	 */
	for (i = 0; i < 3; i++) {
		static const uint64_t l1_cr4[] = { CR4_PKE, CR4_PKS, CR4_LAM_SUP };

		req(&w, GUESTMAP_WALK_NPT, ROOT4, VA_4K, 0, GUESTMAP_WALK_NO_AD);
		w.cr4 |= l1_cr4[i];
		EXPECT_EQ(0, do_walk(self->fd, &w));
		EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);
	}
	/* CR3 with a bit at or above MAXPHYADDR. */
	BAD_LONG("CR3 bit 46", w.root |= 1ULL << MAXPHY);
	BAD_LONG("CR3 bit 51", w.root |= 1ULL << 51);
	BAD_LONG("CR3 bit 63", w.root |= 1ULL << 63);
	BAD_LONG("CR3 bit 32, maxphyaddr 32", (w.root |= 1ULL << 32, w.maxphyaddr = 32));
	/* EPT takes no CR0, CR4, EFER or user access. */
	BAD_EPT("EPT with CR0", w.cr0 = CR0_PE | CR0_WP | CR0_PG);
	BAD_EPT("EPT with CR4", w.cr4 = CR4_PAE);
	BAD_EPT("EPT with EFER", w.efer = EFER_LME | EFER_LMA);
	BAD_EPT("EPT user access", w.access = GUESTMAP_WALK_USER);
	/* EPT pointer (Vol. 3C 25.6.11): UC or WB, 4 levels, bits 11:7. */
	for (i = 0; i < 8; i++)
		if (i != 0 && i != 6)
			BAD_EPT("EPTP memory type", w.root = (w.root & ~7ULL) | i);
	for (i = 0; i < 8; i++)
		if (i != 3)
			BAD_EPT("EPTP walk length", w.root = (w.root & ~0x38ULL) | i << 3);
	for (i = 7; i < 12; i++)
		BAD_EPT("EPTP bits 11:7", w.root |= 1ULL << i);
	BAD_EPT("EPTP bit 46", w.root |= 1ULL << MAXPHY);
	BAD_EPT("EPTP bit 63", w.root |= 1ULL << 63);
	/* An L2 gpa above MAXPHYADDR. */
	BAD_EPT("EPT addr bit 46", w.addr |= 1ULL << MAXPHY);
	BAD_EPT("EPT addr bit 63", w.addr |= 1ULL << 63);
	BAD_EPT("EPT addr bit 32, maxphyaddr 32", w.maxphyaddr = 32);
	/* UC is a valid EPT pointer. */
	req(&w, GUESTMAP_WALK_EPT, EPTP & ~7ULL, VA_4K, 0, GUESTMAP_WALK_NO_AD);
	EXPECT_EQ(0, do_walk(self->fd, &w));
	EXPECT_EQ(GUESTMAP_WALK_OK, w.fault);
	/* Nothing of it touched the tables. */
	EXPECT_EQ(0, self->mem[word_of(false, 1, VA_4K)] & (ACC | DIRTY));
#undef BAD_LONG
#undef BAD_EPT
}

/* The argument must be readable and writable memory: EFAULT. */
TEST_F(ctx, bad_pointer_is_efault)
{
	struct guestmap_walk *ro, *edge;
	uint64_t *before;
	char *pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, pages);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, GUESTMAP_WALK, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, GUESTMAP_WALK, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, GUESTMAP_WALK, (void *)0xffff800000000000ULL));
	EXPECT_EQ(EFAULT, errno);
	/* Straddling into an unmapped page. */
	edge = (struct guestmap_walk *)(pages + PAGE - 16);
	req(edge, GUESTMAP_WALK_LONG, ROOT4, VA_4K, 0, GUESTMAP_WALK_NO_AD);
	ASSERT_EQ(0, munmap(pages + PAGE, PAGE));
	EXPECT_EQ(-1, ioctl(self->fd, GUESTMAP_WALK, edge));
	EXPECT_EQ(EFAULT, errno);
	/* Read-only: the answer cannot be written back. */
	ro = (struct guestmap_walk *)pages;
	req(ro, GUESTMAP_WALK_LONG, ROOT4, VA_4K, 0, GUESTMAP_WALK_NO_AD);
	ASSERT_EQ(0, mprotect(pages, PAGE, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, GUESTMAP_WALK, ro));
	EXPECT_EQ(EFAULT, errno);
	/*
	 * ... and a walk that would set A/D bits fails before it sets any:
	 * an ioctl that fails must not have changed the guest's tables.
	 */
	ASSERT_EQ(0, mprotect(pages, PAGE, PROT_READ | PROT_WRITE));
	req(ro, GUESTMAP_WALK_LONG, ROOT4, VA_4K, GUESTMAP_WALK_WRITE, 0);
	ASSERT_EQ(0, mprotect(pages, PAGE, PROT_READ));
	before = malloc(REGION);
	ASSERT_NE(NULL, before);
	memcpy(before, self->mem, REGION);
	EXPECT_EQ(-1, ioctl(self->fd, GUESTMAP_WALK, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, memcmp(before, self->mem, REGION));
	free(before);
	munmap(pages, PAGE);
}

/*
 * A root in no slot is a not-present fault at the top level (KVM's
 * walker finds no memslot for the table: not present), never an errno.
 */
TEST_F(ctx, root_in_no_slot_is_not_present)
{
	struct guestmap_walk w;

	ASSERT_EQ(0, walk_long(self->fd, &w, 0x40000000, VA_4K, 0, 0));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, 0, ~0ULL, 4);
	/* No entry was read. */
	EXPECT_EQ(0, w.ptes[3]);
	EXPECT_EQ(0, w.ptes[4]);
	ASSERT_EQ(0, walk_long(self->fd, &w, 0x40000000, VA_4K,
			       GUESTMAP_WALK_WRITE | GUESTMAP_WALK_USER,
			       GUESTMAP_WALK_CACHED));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, PF_W | PF_U, ~0ULL, 4);
	req(&w, GUESTMAP_WALK_LONG, 0x40000000, LA57_BIT | VA_4K, 0, 0);
	w.cr4 |= CR4_LA57;
	ASSERT_EQ(0, do_walk(self->fd, &w));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, 0, ~0ULL, 5);
	ASSERT_EQ(0, walk_ept(self->fd, &w, 0x40000000 | EPTP_WB | EPTP_4LEVEL,
			      VA_4K, GUESTMAP_WALK_WRITE, 0));
	expect_fault(_metadata, &w, GUESTMAP_WALK_EPT_VIOLATION, Q_WRITE | Q_NO_ENTRY,
		     Q_MASK, 4);
	/* A table below the root in no slot: not present at its level. */
	self->mem[word_of(false, 2, VA_4K)] = 0x40000000 | P | RW | US;
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, 0));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, 0, ~0ULL, 1);
	EXPECT_EQ(0, self->mem[word_of(false, 3, VA_4K)] & ACC);
	/* With no slot at all. */
	ASSERT_EQ(0, set_slot(self->fd, 0, TBL_GPA, 0, NULL));
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, GUESTMAP_WALK_CACHED));
	expect_fault(_metadata, &w, GUESTMAP_WALK_PF, 0, ~0ULL, 4);
}

/* From another address space, as for every ioctl: EIO (guestmap.h). */
TEST_F(ctx, other_mm_is_eio)
{
	struct guestmap_walk w;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int err = walk_long(self->fd, &w, ROOT4, VA_4K, 0, 0);
		int err2 = walk_ept(self->fd, &w, EPTP, VA_4K, 0, GUESTMAP_WALK_CACHED);

		_exit(err == EIO && err2 == EIO ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("the child's walk did not fail with EIO");
	}
	/* The child's attempt changed nothing; the owner walks as before. */
	EXPECT_EQ(0, self->mem[word_of(false, 1, VA_4K)] & ACC);
	ASSERT_EQ(0, walk_long(self->fd, &w, ROOT4, VA_4K, 0, 0));
	expect_ok(_metadata, &w, self->mem, false, 4, 1, F_4K | 0x123);
}

TEST_HARNESS_MAIN
