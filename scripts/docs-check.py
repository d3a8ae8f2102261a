#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check that every kernel-doc directive of Documentation/ rendered.

    docs-check.py KERNEL_DOC REPO HTMLDIR

Sphinx does not fail on a kernel-doc directive that renders nothing: an
identifier kernel-doc does not find is a warning on kernel-doc's stderr,
and the directive quietly becomes an empty section.  So for each
directive, this asks the kernel's own scripts/kernel-doc (KERNEL_DOC) what
it should produce and looks for that in the HTML Sphinx wrote:

  - each struct, union, enum or function has its anchor (id="c.NAME"),
    and every member or parameter kernel-doc lists is a <dt> of it;
  - each DOC: section's text is on the page.

Prints TAP; the exit status is nonzero if anything is missing.
"""

import html
import os
import re
import subprocess
import sys

DIRECTIVE = re.compile(r'^\.\. kernel-doc::\s*(\S+)\s*$')
OPTION = re.compile(r'^\s+:([a-z-]+):\s*(.*)$')
# kernel-doc -rst: ".. c:struct:: name", ".. c:function:: type name (args)".
OBJECT = re.compile(r'^\.\. c:(struct|union|enum|function|macro|type)::\s*(.*)$')
# A member or parameter: "``name``" indented by two, under **Members** or
# **Parameters**.
ITEM = re.compile(r'^  ``(.+)``$')
TAG = re.compile(r'<[^>]+>')
# kernel-doc labels a DOC: section ".. _title:" when it writes a whole file.
DOC_LABEL = re.compile(r'^\.\. _(.+):$')

results = []


def tap(ok, desc, detail=()):
    results.append((ok, desc, list(detail)))


# Sphinx's smart quotes (smartquotes_action = 'q' in conf.py).
QUOTES = str.maketrans({'\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"'})


def text(fragment):
    """The text of an HTML fragment, whitespace collapsed, quotes plain."""
    return ' '.join(html.unescape(TAG.sub('', fragment)).translate(QUOTES).split())


def directives(rst):
    """(line, file, {option: value}) for each kernel-doc directive."""
    lines = open(rst, encoding='utf-8').read().split('\n')
    for i, line in enumerate(lines):
        m = DIRECTIVE.match(line)
        if not m:
            continue
        opts = {}
        for opt in lines[i + 1:]:
            o = OPTION.match(opt)
            if not o:
                break
            opts[o.group(1)] = o.group(2)
        yield i + 1, m.group(1), opts


def kernel_doc(kdoc, path, cache={}):
    """kernel-doc's reStructuredText for all of PATH, once per file:
    ({object: [members]}, {DOC title: [lines]}, stderr)."""
    if path not in cache:
        p = subprocess.run([kdoc, '-rst', path], capture_output=True,
                           text=True, check=False)
        objs, docs = {}, {}
        if p.returncode == 0:
            objs, docs = parse(p.stdout)
        cache[path] = objs, docs, p.stderr.splitlines()
    return cache[path]


def parse(rst_out):
    """Objects with their members, and DOC: sections with their lines."""
    objs, docs = {}, {}
    name, in_items, doc = None, False, None
    for line in rst_out.split('\n'):
        m = OBJECT.match(line)
        label = DOC_LABEL.match(line)
        if m:
            kind, decl = m.groups()
            if kind in ('function', 'macro'):
                decl = decl.split('(')[0]
            name = decl.split()[-1].lstrip('*')
            objs[name] = []
            in_items, doc = False, None
        elif label:
            doc = label.group(1)
            docs[doc] = []
            name = None
        elif doc is not None:
            if line != '**%s**' % doc:
                docs[doc].append(line)
        elif line.strip() in ('**Members**', '**Parameters**'):
            in_items = True
        elif line.startswith('  **'):
            in_items = False
        elif in_items and name:
            m = ITEM.match(line)
            if m:
                objs[name].append(' '.join(m.group(1).split()))
    return objs, docs


def section(page, name):
    """The HTML of NAME's description: from its anchor to the next object."""
    start = page.find('id="c.%s"' % name)
    if start < 0:
        return None
    end = page.find('<dl class="c ', start)
    return page[start:end if end >= 0 else len(page)]


def check_identifiers(where, kdoc, path, page, idents):
    objs, _, err = kernel_doc(kdoc, path)
    for ident in idents:
        desc = '%s: %s renders' % (where, ident)
        if ident not in objs:
            tap(False, desc, ['kernel-doc found no %s in %s' % (ident, path)] + err)
            continue
        sec = section(page, ident)
        if sec is None:
            tap(False, desc, ['no id="c.%s" in the HTML' % ident])
            continue
        dts = {text(d) for d in re.findall(r'<dt[^>]*>(.*?)</dt>', sec, re.S)}
        missing = [m for m in objs[ident] if m not in dts]
        tap(not missing, '%s (%d members)' % (desc, len(objs[ident])),
            ['member not rendered: %s' % m for m in missing])


def check_doc(where, kdoc, path, page_text, title):
    desc = '%s: DOC: %s renders' % (where, title)
    _, docs, err = kernel_doc(kdoc, path)
    if title not in docs:
        tap(False, desc, ['kernel-doc found no DOC: %s in %s' % (title, path)] + err)
        return
    # The lines of plain prose kernel-doc wrote: no markup Sphinx rewrites.
    prose = [' '.join(line.split()) for line in docs[title]
             if len(line.split()) >= 4 and not re.search(r'[`*:|\\]', line)]
    if not prose:
        tap(False, desc, ['no plain line in the section to look for'])
    else:
        missing = [p for p in prose if p not in page_text]
        tap(not missing, desc, ['not in the HTML: %s' % p for p in missing])


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    kdoc, repo, out = sys.argv[1:]
    docdir = os.path.join(repo, 'Documentation')
    total = 0
    for name in sorted(os.listdir(docdir)):
        if not name.endswith('.rst'):
            continue
        rst = os.path.join(docdir, name)
        page_path = os.path.join(out, name[:-len('.rst')] + '.html')
        page = None
        for line, header, opts in directives(rst):
            total += 1
            where = 'Documentation/%s:%d' % (name, line)
            if page is None:
                if not os.path.exists(page_path):
                    tap(False, '%s: %s written' % (where, page_path))
                    break
                page = open(page_path, encoding='utf-8').read()
                page_text = text(page)
            path = os.path.join(repo, header)
            if 'identifiers' in opts and opts['identifiers'].split():
                check_identifiers(where, kdoc, path, page, opts['identifiers'].split())
            elif 'doc' in opts:
                check_doc(where, kdoc, path, page_text, opts['doc'])
            else:
                # :export:, :internal: or the whole file: at least one
                # object must come out, and each must be on the page.
                names = list(kernel_doc(kdoc, path)[0])
                tap(bool(names), '%s: %s has kernel-doc' % (where, header))
                if names:
                    check_identifiers(where, kdoc, path, page, names)
    if total == 0:
        tap(False, 'Documentation/ has kernel-doc directives')

    print('TAP version 13')
    for n, (ok, desc, detail) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, desc))
        for d in detail:
            print('# ' + d)
    print('1..%d' % len(results))
    sys.exit(0 if all(ok for ok, _, _ in results) else 1)


if __name__ == '__main__':
    main()
