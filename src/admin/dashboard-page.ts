/**
 * The dashboard's HTML: one self-contained document (inline CSS, inline script, SVG
 * sparklines drawn by the script), so it works offline and loads nothing from anywhere. Its
 * Content-Security-Policy allows exactly this script and this style by their SHA-256 hashes,
 * requests to its own origin (state.json), and nothing else: no external source, no framing,
 * no form, no base change.
 */
import { createHash } from 'node:crypto';
import { DASHBOARD_SCRIPT } from './dashboard-script.ts';

const STYLE = `
body { font: 13px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
header { display: flex; gap: 1em; align-items: baseline; padding: .6em 1em; background: #1d2330; color: #fff; }
header h1 { font-size: 16px; margin: 0; } #status { opacity: .75; } header a { color: #cde; }
body.offline header { background: #8a1f1f; }
main { display: flex; flex-wrap: wrap; gap: 1em; padding: 1em; }
.card { background: #fff; border-radius: 6px; padding: .6em 1em; box-shadow: 0 1px 2px #0002; flex: 1 1 30em; max-width: 56em; }
.card.wide { flex-basis: 100%; max-width: none; }
h2 { font-size: 15px; margin: .2em 0 .4em; } h3 { font-size: 13px; margin: .8em 0 .3em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: 0; } dt { color: #667; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .15em .5em .15em 0; border-bottom: 1px solid #eee; }
.badge { font-size: 11px; padding: .1em .5em; border-radius: 3px; background: #dde; }
.breaker-closed { background: #d7f0dc; } .breaker-open { background: #f6c9c9; } .breaker-half-open { background: #fbe7b5; }
.ok { color: #17692b; } .warn { color: #8a5a00; } .bad { color: #a11; }
.spark { width: 240px; height: 60px; float: right; } .spark polyline { fill: none; stroke-width: 1.2; }
.spark .calls { stroke: #2b63c6; } .spark .fails { stroke: #c62b2b; }
.event-eject, .event-config-rejected, .event-control-error { color: #a11; }
ul { margin: .2em 0; padding-left: 1.2em; }
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(DASHBOARD_SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>meshlet admin</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>meshlet · <span id="mesh">…</span></h1><span id="status">loading…</span>
<span><a id="state-link" href="state.json">state.json</a> · <a id="config-link" href="config.json">config.json</a></span></header>
<main id="services"></main>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
