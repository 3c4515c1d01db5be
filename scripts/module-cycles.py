#!/usr/bin/env python3
"""Fails when the modules of a Rust crate import each other in a circle.

For each crate source folder given (e.g. core/src), every .rs file is a module; its
`crate::a::b` and `super::a` paths (outside comments and `#[cfg(test)] mod tests`) are edges to
the longest module they name. A module's own ancestors are not edges (a child may use its
parent). The edges go through `tsort`, which names any loop. Exit 1 on a loop.

    python3 scripts/module-cycles.py core/src web/src ...
"""
import os
import re
import subprocess
import sys


def modules(root):
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith('.rs'):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, root)[:-3]
                found['' if rel in ('lib', 'main') else rel.replace(os.sep, '::')] = path
    return found


def edges(mods):
    def resolve(ref):
        parts = ref.split('::')
        for k in range(len(parts), 0, -1):
            if '::'.join(parts[:k]) in mods:
                return '::'.join(parts[:k])
        return None

    out = set()
    for mod, path in mods.items():
        with open(path, encoding='utf-8') as f:
            src = re.sub(r'//[^\n]*', '', f.read())
        src = re.split(r'#\[cfg\(test\)\]\s*mod tests', src)[0]
        parent = mod.rsplit('::', 1)[0] if '::' in mod else ''
        refs = re.findall(r'\bcrate::((?:\w+::)*\w+)', src)
        refs += [f'{parent}::{r}' if parent else r
                 for r in re.findall(r'\bsuper::((?:\w+::)*\w+)', src)]
        for ref in refs:
            target = resolve(ref)
            if target not in (None, mod) and not mod.startswith(target + '::') and target != '':
                out.add((mod or 'lib', target))
    return out


def main(roots):
    bad = 0
    for root in roots:
        mods = modules(root)
        graph = edges(mods)
        text = '\n'.join(f'{a} {b}' for a, b in sorted(graph)) + '\n'
        run = subprocess.run(['tsort'], input=text, capture_output=True, text=True)
        if run.returncode != 0:
            bad += 1
            loop = [l.split('tsort: ', 1)[-1] for l in run.stderr.splitlines() if 'loop' not in l]
            print(f'{root}: modules import each other in a circle: {" -> ".join(loop)}')
        else:
            print(f'{root}: {len(mods)} modules, {len(graph)} imports, no cycle')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
