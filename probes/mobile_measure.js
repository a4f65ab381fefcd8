// What a citizen's phone shows of one page, measured in one round trip: the layout width
// against the screen (document clientWidth, not innerWidth), the viewport meta, the share of
// visible text under the size limit, and the page's links. Loaded by probes/mobile.py.
(smallPx) => {
  const root = document.documentElement;
  const clientWidth = root.clientWidth, scrollWidth = root.scrollWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim()
       ? '.' + el.className.trim().split(/\s+/)[0] : '');
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  let widest = null;
  if (scrollWidth > clientWidth + 1 && document.body) {
    for (const el of document.body.querySelectorAll('*')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.right <= clientWidth + 1) continue;
      const parent = el.parentElement;
      const parentOut = parent.getBoundingClientRect().right > clientWidth + 1;
      if (parent !== document.body && parentOut) continue;
      if (getComputedStyle(el).position === 'fixed' || clipped(el)) continue;
      widest = {element: describe(el), width: Math.round(box.width)};
      break;
    }
  }
  let total = 0, small = 0, smallest = null;
  const samples = [];
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE']);
  const walker = document.createTreeWalker(document.body || root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.replace(/\s+/g, '');
    const el = node.parentElement;
    if (!text || !el || skip.has(el.tagName) || el.closest('svg')) continue;
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    if (el.getClientRects().length === 0) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    total += text.length;
    if (size < smallPx) {
      small += text.length;
      smallest = smallest === null ? size : Math.min(smallest, size);
      if (samples.length < 3) {
        samples.push(node.nodeValue.replace(/\s+/g, ' ').trim().slice(0, 16));
      }
    }
  }
  const links = [];
  for (const a of document.querySelectorAll('a[href]')) {
    const image = a.querySelector('img[alt]');
    const text = (a.innerText || a.getAttribute('aria-label') || a.title
      || (image ? image.alt : '') || '').replace(/\s+/g, ' ').trim();
    links.push({href: a.href, text});
  }
  const meta = document.querySelector('meta[name="viewport" i]');
  return {url: location.href, title: document.title.trim(), clientWidth, scrollWidth, widest,
          viewport: meta ? (meta.getAttribute('content') || '') : null,
          text: {total, small, smallest, samples}, links};
}
