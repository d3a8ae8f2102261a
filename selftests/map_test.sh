#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# map_test with gm_kvm_probe.ko loaded: some of its tests ask that second
# module, which calls guestmap's exports, and KVM's own kvm_vcpu_map().
# The probe pins guestmap, so it is loaded here, after the tests that
# unload guestmap have run.  Without it those tests skip.
dir=$(dirname "$0")
probe=$dir/gm_kvm_probe.ko
[ -f "$probe" ] || probe=$dir/kmod/gm_kvm_probe.ko
[ -f "$probe" ] || probe=$dir/../gm_kvm_probe.ko
if ! grep -q '^gm_kvm_probe ' /proc/modules; then
	modprobe kvm && insmod "$probe" ||
		echo "# gm_kvm_probe.ko not loaded: its tests skip"
fi
exec "$dir/map_test" "$@"
