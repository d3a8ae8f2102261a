#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check the rust-project.json scripts/rust-analyzer.sh wrote.

    check-rust-project.py RUST_PROJECT_JSON REPO

What rust-analyzer needs to analyse the module against the kernel's
crates, as rust-analyzer's project-json format defines it: a "crates"
list whose "deps" index earlier crates; the kernel's crates (core, alloc,
macros as a proc macro with its built .so, ffi, bindings, uapi, kernel);
and the module's crate, rooted at src/guestmap.rs, depending on kernel
and core, with the kernel's configuration as cfgs and src/, rust/kernel/
and rust/uapi/ (which it mounts by #[path]) as sources.

Prints TAP; the exit status is nonzero if a check fails.
"""

import json
import os
import sys

KERNEL_CRATES = ('core', 'alloc', 'compiler_builtins', 'macros', 'build_error',
                 'ffi', 'bindings', 'uapi', 'kernel')

results = []


def tap(ok, desc, detail=''):
    results.append((bool(ok), desc, detail))
    return ok


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, repo = sys.argv[1], os.path.realpath(sys.argv[2])
    try:
        with open(path, encoding='utf-8') as f:
            project = json.load(f)
        tap(True, 'rust-project.json is valid JSON')
    except (OSError, ValueError) as e:
        tap(False, 'rust-project.json is valid JSON', str(e))
        return

    crates = project.get('crates') if isinstance(project, dict) else None
    if not tap(isinstance(crates, list) and crates, 'it has a list of crates'):
        return
    tap(os.path.isdir(project.get('sysroot', '')), 'its sysroot exists',
        project.get('sysroot', '(none)'))

    # Every dependency names an earlier crate by index and by its name.
    bad = []
    for i, c in enumerate(crates):
        for d in c.get('deps', []):
            j = d.get('crate')
            if not isinstance(j, int) or not 0 <= j < i or \
               crates[j].get('display_name') != d.get('name'):
                bad.append('%s -> %r' % (c.get('display_name'), d))
    tap(not bad, 'every dependency is an earlier crate', ', '.join(bad))

    missing = [c.get('display_name') for c in crates
               if not os.path.isfile(c.get('root_module', ''))]
    tap(not missing, 'every crate root exists', ', '.join(map(str, missing)))

    by_name = {c.get('display_name'): c for c in crates}
    for name in KERNEL_CRATES:
        tap(name in by_name, 'kernel crate %s is listed' % name)
    macros = by_name.get('macros', {})
    tap(macros.get('is_proc_macro') and
        os.path.isfile(macros.get('proc_macro_dylib_path', '')),
        'macros is a proc macro with its built library',
        macros.get('proc_macro_dylib_path', '(none)'))

    root = os.path.join(repo, 'src', 'guestmap.rs')
    module = [c for c in crates
              if os.path.realpath(c.get('root_module', '')) == root]
    if not tap(len(module) == 1, 'one crate is rooted at src/guestmap.rs',
               '%d found' % len(module)):
        return
    module = module[0]
    tap(module.get('is_workspace_member'), 'the module is a workspace member')
    deps = {d.get('name') for d in module.get('deps', [])}
    tap({'core', 'kernel'} <= deps, 'the module depends on core and kernel',
        'deps: %s' % sorted(deps))
    kernel_cfg = set(by_name.get('kernel', {}).get('cfg', []))
    cfg = set(module.get('cfg', []))
    tap(kernel_cfg and kernel_cfg <= cfg and 'CONFIG_RUST' in cfg,
        "the module has the kernel's configuration cfgs (CONFIG_RUST ...)")
    dirs = {os.path.realpath(d) for d in
            module.get('source', {}).get('include_dirs', [])}
    want = {os.path.join(repo, d) for d in ('src', 'rust/kernel', 'rust/uapi')}
    tap(want <= dirs, 'its sources include src/, rust/kernel/ and rust/uapi/',
        'include_dirs: %s' % sorted(dirs))


if __name__ == '__main__':
    main()
    print('TAP version 13')
    for n, (ok, desc, detail) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, desc))
        if detail and not ok:
            print('# ' + detail)
    print('1..%d' % len(results))
    sys.exit(0 if results and all(ok for ok, _, _ in results) else 1)
