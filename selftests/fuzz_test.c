// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the ioctl fuzzer lands in the next commit. */
#include "kselftest_harness.h"

TEST(placeholder) {}

TEST_HARNESS_MAIN
