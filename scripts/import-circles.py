#!/usr/bin/env python3
"""Import circles between the files (modules) of each crate.

    python3 scripts/import-circles.py crates/*/src

For each source directory: the modules (one per file; `mod.rs`/`lib.rs`/`main.rs` name their
directory), an edge from a module to every module it names through `crate::…` or `super::…` (in
`use` lines and paths in code; comments ignored; a module naming its own submodules is not an
edge), and the strongly connected components of that graph with more than one module. Exits 1
when any crate has one.
"""
import glob
import os
import re
import sys

found_any = False
for root in sys.argv[1:]:
    files=glob.glob(root+'/**/*.rs',recursive=True)
    def modname(f):
        rel=os.path.relpath(f,root)[:-3]
        parts=rel.split('/')
        if parts[-1] in('mod','lib','main'): parts=parts[:-1]
        return '::'.join(parts) or 'crate'
    mods={modname(f):f for f in files}
    g={m:set() for m in mods}
    for m,f in mods.items():
        src=open(f).read()
        src=re.sub(r'//[^\n]*','',src)
        refs=set()
        for path in re.findall(r'crate::((?:[a-z_][a-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*)',src):
            parts=path.split('::')
            for k in range(len(parts),0,-1):
                cand='::'.join(parts[:k])
                if cand in mods: refs.add(cand); break
        for path in re.findall(r'super::((?:[a-z_][a-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*)',src):
            base=m.split('::')[:-1] if not f.endswith('mod.rs') else m.split('::')[:-1]
            parts=base+path.split('::')
            for k in range(len(parts),0,-1):
                cand='::'.join(parts[:k])
                if cand in mods: refs.add(cand); break
        # {a, b} groups: crate::{x, y}
        for grp in re.findall(r'crate::\{([^}]*)\}',src):
            for p in grp.split(','):
                p=p.strip().split('::')[0]
                if p in mods: refs.add(p)
        refs.discard(m); refs.discard('crate')
        # a module using its own descendants is not a circle
        g[m]={r for r in refs if not r.startswith(m+'::')}
    # tarjan
    idx={};low={};st=[];on=set();out=[];c=[0]
    def sc(v):
        idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
        for w in g[v]:
            if w not in idx: sc(w);low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],idx[w])
        if low[v]==idx[v]:
            comp=[]
            while True:
                w=st.pop();on.discard(w);comp.append(w)
                if w==v:break
            if len(comp)>1: out.append(comp)
    for v in g:
        if v not in idx: sc(v)
    print(root, 'modules:', len(mods), 'circles:', out or 'none')
    found_any = found_any or bool(out)

sys.exit(1 if found_any else 0)
