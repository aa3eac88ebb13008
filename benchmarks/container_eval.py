"""Each labelled real page cut to its own learnt container (crawler.extract.article_container): the cut's text against the full extraction's and the labels. Not merged: see the commit message."""
import sys, time, collections

from benchmarks.corpora import load
import crawler.extract as X
from crawler.extracted import page_text
pages = load()
st = collections.Counter(); tf = tc = 0.0
ex = []
for p in pages:
    html = page_text(p.html, None)
    c = time.process_time(); e = X.extract_article(html, p.url); tf += time.process_time() - c
    st["pages"] += 1
    if e is None or not e.container:
        continue
    st["container"] += 1
    c = time.process_time(); e2 = X.extract_article(html, p.url, e.container); tc += time.process_time() - c
    if not e2.cut:
        st["fell back"] += 1; continue
    st["cut"] += 1
    if e2.text == e.text: st["same"] += 1; continue
    st["differ"] += 1
    a, b = e.text.splitlines(), e2.text.splitlines()
    lost = [l for l in a if l not in b]; gained = [l for l in b if l not in a]
    st["lost chars"] += sum(map(len, lost)); st["gained chars"] += sum(map(len, gained))
    ins = [s for s in p.inside if s in e.text]; outs = [s for s in p.outside if s not in e.text]
    il = sum(1 for s in ins if s not in e2.text); ol = sum(1 for s in outs if s in e2.text)
    ins2 = [s for s in p.inside if s not in e.text]; ig = sum(1 for s in ins2 if s in e2.text)
    outs2 = [s for s in p.outside if s in e.text]; og = sum(1 for s in outs2 if s not in e2.text)
    st["inside lost"] += il; st["outside leaked"] += ol; st["inside gained"] += ig; st["outside removed"] += og
    ex.append((il, ol, ig, og, p.corpus, p.name, [l[:90] for l in lost[:2]], [l[:90] for l in gained[:2]]))
print(dict(st))
print(f"full {tf / st['pages'] * 1000:.1f} ms, cut {tc / max(1, st['container']) * 1000:.1f} ms (pages with a container)")
for e in sorted(ex, key=lambda e: (-e[0], -e[1]))[:15]: print(e)
