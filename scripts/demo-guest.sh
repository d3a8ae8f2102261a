#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the test VM for "make run", after vm-run loaded guestmap.ko.
set -eu
events=/sys/kernel/tracing/events/guestmap

echo "== guestmap.ko loaded"
dmesg | grep -E 'guestmap: ' | sed 's/^/   /'
grep '^guestmap ' /proc/modules | sed 's/^/   \/proc\/modules: /'
echo "   tracepoints: $(ls $events | grep -v -e enable -e filter | tr '\n' ' ')"

echo "== a user of /dev/guestmap (selftests/guestmap_demo.c)"
echo >/sys/kernel/tracing/trace
echo 1 >$events/enable
selftests/guestmap_demo | sed 's/^/   /'
echo 0 >$events/enable

echo "== what ftrace recorded"
grep -E 'guestmap_' /sys/kernel/tracing/trace | sed -E 's/^ +/   /'

echo "== rmmod guestmap"
rmmod guestmap
[ ! -e /dev/guestmap ] && echo "   /dev/guestmap is gone"
