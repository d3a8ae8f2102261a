# SPDX-License-Identifier: GPL-2.0
#
# 32-bit builds of some kselftests, included at the end of the Makefile:
# the same sources built with -m32 (gcc-multilib) into $(OUTPUT)/m32/,
# to run as i386 processes on the x86-64 test kernel (CONFIG_IA32_EMULATION)
# and so reach guestmap through compat_ioctl, which is compat_ptr_ioctl():
# it converts the pointer argument and runs the 64-bit handler on structs
# that must have one layout for both (scripts/abi32.sh proves they do).
#
#   make m32       build $(M32_PROGS) into $(OUTPUT)/m32/
#
# guestmap_test: the device and the ABI, all of it.  mirror_test,
# map_test (CLASSIFY and ACCESS: guest reads, writes, cmpxchg, pfn
# caches) and context_test: all but what does not fit a 32-bit address
# space (a 64 GiB slot), which skips there with its reason
# (Documentation/testing.rst).
#
# The flags are the 64-bit build's, as lib.mk's LINK.c has them, with
# -m32.  Nothing else is needed: gcc-multilib's headers and the exported
# kernel headers ($(KHDR_INCLUDES), whose asm/ is x86's and serves
# __i386__ too).
# kselftest_harness.h is read as a system header: its EXPECT/ASSERT
# macros cast both operands to uintmax_t to print them, which for a
# pointer operand (ASSERT_NE(MAP_FAILED, p)) is a cast from a 32-bit
# pointer to a 64-bit integer, -Wpointer-to-int-cast; as a system header
# its own code is not warned about, while the tests' code still is.  (A
# directory named both by -I and -isystem is searched as a system one.)

M32_PROGS := guestmap_test mirror_test map_test context_test
M32_BINS := $(addprefix $(OUTPUT)/m32/,$(M32_PROGS))
M32_FLAGS = $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) -m32 -isystem $(selfdir)

$(OUTPUT)/m32:
	$(Q)mkdir -p $@

$(M32_BINS): $(OUTPUT)/m32/%: %.c $(LOCAL_HDRS) | $(OUTPUT)/m32
	$(call msg,CC,m32,$@)
	$(Q)$(CC) $(M32_FLAGS) -o $@ $< $(LDLIBS)

m32: $(M32_BINS)

m32-clean:
	rm -rf $(OUTPUT)/m32

clean: m32-clean

.PHONY: m32 m32-clean
