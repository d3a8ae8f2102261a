// SPDX-License-Identifier: GPL-2.0
/*
 * The host CPU's features that limit a nested guest's CPU model, as KVM
 * limits it: boot_cpu_has() is a macro over the kernel's capability
 * words, which Rust cannot reach in 6.12.
 */
#include <linux/array_size.h>
#include <asm/cpufeature.h>
#include "guestmap.h"

u32 gm_host_cpu_features(void)
{
	static const struct {
		u16 feature;
		u32 bit;
	} map[] = {
		{ X86_FEATURE_XSAVE, GM_FEAT_XSAVE },
		{ X86_FEATURE_VMX, GM_FEAT_VMX },
		{ X86_FEATURE_PCID, GM_FEAT_PCID },
		{ X86_FEATURE_FSGSBASE, GM_FEAT_FSGSBASE },
		{ X86_FEATURE_SMEP, GM_FEAT_SMEP },
		{ X86_FEATURE_SMAP, GM_FEAT_SMAP },
		{ X86_FEATURE_UMIP, GM_FEAT_UMIP },
		{ X86_FEATURE_PKU, GM_FEAT_PKU },
		{ X86_FEATURE_LA57, GM_FEAT_LA57 },
		{ X86_FEATURE_LAM, GM_FEAT_LAM },
		{ X86_FEATURE_SVM, GM_FEAT_SVM },
		{ X86_FEATURE_NX, GM_FEAT_NX },
		{ X86_FEATURE_FXSR_OPT, GM_FEAT_FXSR_OPT },
		{ X86_FEATURE_LM, GM_FEAT_LM },
		{ X86_FEATURE_NPT, GM_FEAT_NPT },
		{ X86_FEATURE_AUTOIBRS, GM_FEAT_AUTOIBRS },
	};
	u32 features = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (boot_cpu_has(map[i].feature))
			features |= map[i].bit;
	return features;
}
