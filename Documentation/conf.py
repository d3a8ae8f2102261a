# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration for guestmap's Documentation/, built by
# scripts/htmldocs.sh ("make htmldocs").
#
# The ".. kernel-doc::" directives are the kernel's own: its Sphinx
# extension (Documentation/sphinx/kerneldoc.py) and its scripts/kernel-doc,
# taken from the kernel tree the module is built against, so the UAPI
# structures render exactly as they would in the kernel's documentation.
# scripts/htmldocs.sh names that tree in GM_KERNEL_TREE.

import os
import sys

import sphinx

_tree = os.environ.get('GM_KERNEL_TREE')
if not _tree:
    raise RuntimeError('GM_KERNEL_TREE is not set: build with scripts/htmldocs.sh')
_tree = os.path.abspath(_tree)

# kerneldoc.py imports kernellog.py from its own directory.
sys.path.insert(0, os.path.join(_tree, 'Documentation', 'sphinx'))

project = 'guestmap'
copyright = 'The guestmap authors'
author = 'The guestmap authors'

extensions = ['kerneldoc']

# Sphinx older than 3.1 has no C domain that can take kernel-doc's
# output; the kernel then loads its own (cdomain.py).  Debian 12 has 5.3.
_major, _minor = sphinx.version_info[:2]
if (_major, _minor) < (3, 1):
    extensions.append('cdomain')

# What kernel-doc may emit in prototypes that Sphinx's C parser does not
# know: the same list as the kernel's Documentation/conf.py, kept to the
# attributes our headers can contain.
c_id_attributes = [
    '__user',
    '__force',
    '__packed',
    '__aligned',
    '__counted_by',
]

# nitpicky mode (-n) resolves every "&struct x" kernel-doc turns into a
# cross-reference.  These are KVM's, documented in the kernel's own
# Documentation/virt/kvm/api.rst, not here.
nitpick_ignore = [
    ('c:type', 'kvm_cpuid_entry2'),
]

kerneldoc_bin = os.path.join(_tree, 'scripts', 'kernel-doc')
# Directives name headers relative to the repository root.
kerneldoc_srctree = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
# kernel-doc's own warnings go to stderr, where htmldocs.sh counts them.
kerneldoc_verbosity = 1

source_suffix = '.rst'
master_doc = 'index'
exclude_patterns = ['_build']
# The documents are kernel-style: literal blocks are not Python.
highlight_language = 'none'
primary_domain = 'c'

# As the kernel's Documentation/conf.py: quotes only, so "--" and "..."
# in prose and code stay as written.
smartquotes_action = 'q'

html_theme = 'alabaster'
html_static_path = []
html_show_sourcelink = False
