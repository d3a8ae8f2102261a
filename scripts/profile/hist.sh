# SPDX-License-Identifier: GPL-2.0
#
# The latency histograms of "make profile", sourced by
# scripts/profile/guest.sh in the test VM: synthetic events gm_*_lat, one
# per pair of guestmap's start and end tracepoints, fired by hist triggers
# keyed on common_pid, with a log2 histogram of each.  Each pair is fired by one
# task, strictly nested, never nested in itself (an invalidation can come
# inside an ioctl, a map inside an ioctl), so the task is the key.

T=${T:-/sys/kernel/tracing}

# The synthetic events: the end event's fields with the latency.  A
# parameter's type must be spelt as the tracepoint's field is.
synth=(
	"gm_ioctl_lat unsigned int cmd; long ret; u64 lat_ns"
	"gm_invalidate_lat unsigned int ev; unsigned int action; u64 zapped; u64 wrprotected; u64 lat_ns"
	"gm_fault_lat u64 npages; u64 entries_4k; u64 entries_2m; u64 entries_1g; unsigned int retries; int ret; u64 lat_ns"
	"gm_map_lat unsigned int path; unsigned int kind; int ret; u64 lat_ns"
)

# Every trigger written, as FILE<TAB>COMMAND, for hist_teardown: the
# trigger files read back in a form ("sort=lat_ns.log2") they refuse.
triggers=()

# trigger FILE COMMAND: add a trigger, and remember it.
trigger() {
	echo "$2" >>"$1" || return 1
	triggers+=("$1	$2")
}

# pair START END VAR SYNTH PARAMS: END fires SYNTH with PARAMS and the
# nanoseconds since START of the same task.  A variable is consumed when
# read, so an END without a START (tracing began in between) fires nothing.
pair() {
	local start=$1 end=$2 var=$3 event=$4 params=$5
	trigger "$T/events/guestmap/$start/trigger" \
		"hist:keys=common_pid:ts_$var=common_timestamp" &&
		trigger "$T/events/guestmap/$end/trigger" \
			"hist:keys=common_pid:lat_$var=common_timestamp-\$ts_$var:onmatch(guestmap.$start).trace($event,$params,\$lat_$var)"
}

# hist SYNTH KEYS [SUMKEYS]: a log2 latency histogram per KEYS, and the
# count and total latency per SUMKEYS (KEYS by default).
hist() {
	local f=$T/events/synthetic/$1/trigger keys=$2 sum=${3:-$2}
	trigger "$f" \
		"hist:keys=$keys${keys:+,}lat_ns.log2:sort=$(plain "$keys${keys:+,}lat_ns"):size=4096" &&
		trigger "$f" "hist:keys=$sum:vals=hitcount,lat_ns:sort=$(plain "$sum")"
}

# The sort keys of KEYS: the first two (the kernel's maximum), without
# their .hex or .log2.
plain() { echo "$1" | sed 's/\.[a-z0-9]*//g' | cut -d, -f1-2; }

hist_setup() {
	local s
	for s in "${synth[@]}"; do
		echo "$s" >>"$T/synthetic_events" || return 1
	done
	pair guestmap_ioctl_enter guestmap_ioctl_exit ioctl gm_ioctl_lat "cmd,ret" &&
		pair guestmap_invalidate_start guestmap_invalidate inv gm_invalidate_lat \
			"event,action,zapped,wrprotected" &&
		pair guestmap_fault_start guestmap_fault fault gm_fault_lat \
			"npages,entries_4k,entries_2m,entries_1g,retries,ret" &&
		pair guestmap_map_start guestmap_map map gm_map_lat "path,kind,ret" &&
		hist gm_ioctl_lat cmd.hex &&
		hist gm_invalidate_lat ev,action &&
		hist gm_fault_lat "" npages.log2 &&
		hist gm_map_lat path,kind
}

# hist_save DIR: every hist file with a trigger, as DIR/SYSTEM.EVENT.hist.
hist_save() {
	local d out=$1
	for d in "$T"/events/guestmap/guestmap_* "$T"/events/synthetic/*/; do
		d=${d%/}
		if [ -f "$d/hist" ] && grep -q '^hist' "$d/trigger" 2>/dev/null; then
			cat "$d/hist" >"$out/$(basename "$(dirname "$d")").$(basename "$d").hist"
		fi
	done
}

# Newest first: a trigger with an action refers to the variables of the
# one before it, and a synthetic event goes once no trigger uses it.
hist_teardown() {
	local i s
	for ((i = ${#triggers[@]} - 1; i >= 0; i--)); do
		echo "!${triggers[i]#*	}" >>"${triggers[i]%%	*}"
	done
	triggers=()
	for s in "${synth[@]}"; do
		echo "!${s%% *}" >>"$T/synthetic_events"
	done
}
