#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make rust-analyzer: write rust-project.json in the repository root, for
# rust-analyzer, with the kernel's own generator for external modules
# (make -C <tree> M=<this tree> rust-analyzer, through scripts/kmake.sh so
# the tree and the toolchain are the module build's), then check it with
# scripts/check-rust-project.py.
#
# 6.12's scripts/generate_rust_analyzer.py takes a .rs file for a crate
# root only if a Makefile or Kbuild in the same directory names its .o.
# guestmap's one Kbuild is in the root and names src/guestmap.o, so the
# generator lists the kernel's crates but not the module: the module's
# crate is added here, as the generator adds a driver's (deps core and
# kernel, the kernel's cfgs), plus what the generator cannot know:
#   - the source roots: src/guestmap.rs mounts rust/kernel/ and rust/uapi/
#     by #[path], outside src/, which rust-analyzer only loads if they are
#     in the crate's include_dirs;
#   - the --cfg flags Kbuild gives the module (gm_test_ops, gm_no_trace),
#     as its last build used them (src/.guestmap.o.cmd), so the IDE sees
#     the code that was compiled.
# If a later generator lists the module itself, only those are patched in.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$GM_ROOT/rust-project.json
rm -f "$out"
"$GM_ROOT/scripts/kmake.sh" rust-analyzer >&2
[ -s "$out" ] || gm_die "rust-analyzer: the kernel's generator wrote no $out"

/usr/bin/python3 - "$out" "$GM_ROOT" <<'EOF'
import json
import os
import re
import sys

path, root = sys.argv[1:]
project = json.load(open(path))
crates = project['crates']
index = {c['display_name']: i for i, c in enumerate(crates)}
crate_root = os.path.join(root, 'src', 'guestmap.rs')

# The --cfg and --edition flags of the module's last rustc command line.
cfgs, edition = [], '2021'
cmd = os.path.join(root, 'src', '.guestmap.o.cmd')
if os.path.exists(cmd):
    line = open(cmd).readline()
    cfgs = re.findall(r"--cfg[= ]'?([A-Za-z_][A-Za-z0-9_]*)'?(?=\s)", line)
    m = re.search(r'--edition[= ](\d+)', line)
    edition = m.group(1) if m else edition
else:
    print('rust-analyzer: no src/.guestmap.o.cmd (module not built): '
          'the module\'s own cfgs are left out', file=sys.stderr)

module = next((c for c in crates if c['root_module'] == crate_root), None)
if module is None:
    module = {
        'display_name': 'guestmap',
        'root_module': crate_root,
        'is_workspace_member': True,
        'is_proc_macro': False,
        'deps': [{'crate': index[d], 'name': d} for d in ('core', 'kernel')],
        'cfg': list(crates[index['kernel']]['cfg']),
        'edition': edition,
        'env': {'RUST_MODFILE': 'This is only for rust-analyzer'},
    }
    crates.append(module)
module['cfg'] += [c for c in cfgs if c not in module['cfg']]
module['source'] = {
    'include_dirs': [os.path.join(root, d) for d in ('src', 'rust/kernel', 'rust/uapi')],
    'exclude_dirs': [],
}
with open(path, 'w') as f:
    json.dump(project, f, sort_keys=True, indent=4)
    f.write('\n')
EOF

/usr/bin/python3 "$GM_ROOT/scripts/check-rust-project.py" "$out" "$GM_ROOT"
