/**
 * The web page's HTML: one frame per page, filled by the script (/assets/app.js, from src/ui/client/app.ts) with
 * what the page's /api/ address answers. No inline script; nothing from another host.
 */
export type PageName = 'service' | 'probes' | 'probe' | 'coverage';

const TITLES: Record<PageName, string> = {
  service: 'Service',
  probes: 'Probes',
  probe: 'Probe',
  coverage: 'Coverage',
};

/** A water drop over soil: the page's own icon. */
export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect y="22" width="32" height="10" fill="#8a5a2b"/><path d="M16 2C16 2 7 13 7 19a9 9 0 0 0 18 0C25 13 16 2 16 2z" fill="#2b7bb9"/></svg>`;

export function page(name: PageName): string {
  const nav = (['service', 'probes', 'coverage'] as const)
    .map(
      (n) => `<a href="${n === 'service' ? '/' : `/${n}`}"${n === name ? ' aria-current="page"' : ''}>${TITLES[n]}</a>`,
    )
    .join(' ');
  const charts =
    name === 'probe'
      ? '<link rel="stylesheet" href="/assets/uPlot.min.css"><script src="/assets/uPlot.min.js"></script>'
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${TITLES[name]} · sensoterra-sync</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
${charts}
<script type="module" src="/assets/app.js"></script>
</head>
<body data-page="${name}">
<header><strong>sensoterra-sync</strong> <nav>${nav}</nav></header>
<main id="main"><p class="note" id="loading">Loading…</p></main>
</body>
</html>
`;
}

/** The page's styles: the system's own fonts (nothing fetched). */
export const STYLES = `
:root { color-scheme: light; --ink: #1d2a33; --muted: #5b6b75; --line: #d6dde2; --bad: #b3261e; --ok: #2e7d32; --warn: #b26a00; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f7f9fa; }
header { display: flex; gap: 1.5rem; align-items: baseline; padding: .75rem 1.25rem; background: #fff; border-bottom: 1px solid var(--line); }
nav a { margin-right: 1rem; color: var(--muted); text-decoration: none; }
nav a[aria-current] { color: var(--ink); font-weight: 600; }
main { padding: 1rem 1.25rem 3rem; max-width: 1400px; }
h1 { font-size: 1.3rem; margin: .25rem 0 .75rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.note { color: var(--muted); }
.error { color: var(--bad); font-weight: 600; }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .6rem .9rem; min-width: 10rem; }
.card b { display: block; font-size: 1.3rem; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #eef2f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.stale td { color: var(--bad); }
.filters { display: flex; gap: 1rem; margin: .5rem 0 1rem; align-items: center; flex-wrap: wrap; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; margin-bottom: 1rem; }
.legend-bands span { display: inline-block; margin-right: 1rem; }
.swatch { display: inline-block; width: .9rem; height: .9rem; vertical-align: middle; margin-right: .3rem; border: 1px solid var(--line); }
td.cov { width: 1.6rem; height: 1.2rem; padding: 0; }
#coverage th { white-space: nowrap; font-weight: 500; font-size: .8rem; }
`;
