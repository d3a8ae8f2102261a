# SPDX-License-Identifier: GPL-2.0
#
# guestmap.  On a fresh machine two commands do everything (README.md):
#
#   make run     install what is missing, build the kernel and the module,
#                boot the test VM, load guestmap.ko and show it working
#   make check   every test, as TAP, ending in "N passed, N failed"
#   make check-debug  the same on the KASAN/UBSAN kernel (clang-built), with
#                the fuzzer and the race stress run longer
#
# Also:
#   make [modules]      build guestmap.ko, as any out-of-tree module: against
#                       KDIR=<tree> if given, else the cached test kernel
#                       ("make kernel" builds it; plain make never installs
#                       or builds anything else).  Kbuild refuses a tree
#                       that is not 6.12, not Rust-enabled or not built, and
#                       a rustc other than the one that built it.
#                       "make -C <tree> M=$PWD" is the same build.
#   make modules_install  install it (INSTALL_MOD_PATH= as for the kernel)
#   make clean
#   make kernel         build or reuse the cached test kernel
#   make deps           install the build and test dependencies
#   make selftests      build the kselftests (and the kernel's KVM selftests
#                       library the tests against KVM link)
#   make anchor-hmm     the kernel's own hmm-tests on test_hmm.ko, in the VM
#   make anchor-kvm     the kernel's own nested-SVM KVM selftests, in the VM
#   make bench          benchmarks against the anchors, as ratios, in the VM
#   make htmldocs       Documentation/ as HTML (Sphinx, the kernel's kernel-doc
#                       extension) in $GUESTMAP_CACHE/htmldocs[-debug]; fails on
#                       a warning
#   make rustdoc        the crate's rustdoc in $GUESTMAP_CACHE/rustdoc[-debug];
#                       fails on a broken intra-doc link or any rustdoc warning
#   make rust-analyzer  rust-project.json for rust-analyzer (kernel's generator)
#   make profile        trace a representative workload in the VM with
#                       trace-cmd: trace.dat, latency histograms, the
#                       function graph, plots and a report under
#                       $GUESTMAP_CACHE/profile/latest (SHORT=1: a few
#                       minutes, as make check runs it)
#
# DKMS: dkms.conf; README.md and Documentation/using.rst say how.

ifdef KDIR
export KDIR
endif

S := $(CURDIR)/scripts

# Plain "make" sets nothing up: with no tree to build against it says, in
# one line, what builds one.  (Evaluated only for these targets.)
gm_no_tree = $(if $(KDIR),$(if $(wildcard $(KDIR)/Makefile),,$(error KDIR=$(KDIR) is \
	not a kernel tree (no Makefile there))),$(if $(shell $(S)/kmake.sh --cached-tree),,\
	$(error no kernel to build against: run 'make kernel' to build the test kernel, or \
	give KDIR=<a built, Rust-enabled 6.12 tree>)))

all modules:
	@$(gm_no_tree)$(S)/kmake.sh modules

modules_install:
	@$(gm_no_tree)$(S)/kmake.sh modules_install

deps:
	@$(S)/deps.sh

kernel: deps
	@$(S)/kernel.sh

selftests: kernel
	@kst=$$($(S)/kvm-selftests.sh) && \
		$(MAKE) -C selftests KDIR="$$($(S)/kernel.sh)" KVM_SELFTESTS="$$kst"

run:
	@$(S)/run.sh

check:
	@$(S)/check.sh

check-debug:
	@GM_FLAVOUR=debug $(S)/check.sh

anchor-hmm: kernel
	@$(S)/anchor-hmm.sh

anchor-kvm: kernel
	@$(S)/anchor-kvm.sh

bench: kernel
	@$(S)/bench.sh

profile: kernel
	@$(if $(SHORT),GM_PROFILE_SHORT=$(if $(filter 0,$(SHORT)),0,1)) $(S)/profile.sh

htmldocs:
	@$(S)/htmldocs.sh

rustdoc:
	@$(S)/rustdoc.sh

rust-analyzer:
	@$(S)/rust-analyzer.sh

# Cleaning must not build a kernel just to ask Kbuild what to delete.
clean:
	@kdir=$$(. $(S)/lib.sh && gm_kdir); \
	if [ -f "$$kdir/Makefile" ]; then $(MAKE) -C "$$kdir" M=$(CURDIR) clean; \
	else rm -f guestmap.ko *.o src/*.o c/*.o rust/helpers/*.o .*.cmd */.*.cmd */*/.*.cmd \
		*.mod *.mod.c modules.order Module.symvers; fi
	@rm -f rust/uapi/uapi_generated.rs rust/kernel/helpers_generated.rs src/sys/c_generated.rs
	@$(MAKE) -s -C selftests clean KDIR=none
	@rm -rf rust/host/target

.PHONY: all modules modules_install deps kernel selftests run check check-debug anchor-hmm \
	anchor-kvm bench profile htmldocs rustdoc rust-analyzer clean
