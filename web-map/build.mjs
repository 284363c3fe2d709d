// Assembles the web map into one folder that gridwatch serves (and embeds at compile time):
//   index.html, worker.html, planner.html, sw.js   the pages and the worker view's service worker
//   js/, css/                                      the app's own modules, as written (no bundler)
//   vendor/                                        maplibre-gl (ES module, its worker, its CSS), h3-js
//   fonts/                                         the TTF files the server renders glyphs from
//   sounds/alarm.wav                               the alarm sound, generated (tools/alarm-sound.mjs)
//   LICENSES.txt                                   the third-party notices
// Usage: node build.mjs [--out DIR]   (default: dist/)
import { cpSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alarmWav } from './tools/alarm-sound.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outFlag = process.argv.indexOf('--out');
const out = resolve(outFlag > 0 ? process.argv[outFlag + 1] : join(here, 'dist'));
const modules = join(here, 'node_modules');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(here, 'src'), out, { recursive: true });

const vendor = [
  ['maplibre-gl/dist/maplibre-gl.mjs', 'vendor/maplibre-gl.mjs'],
  ['maplibre-gl/dist/maplibre-gl-worker.mjs', 'vendor/maplibre-gl-worker.mjs'],
  ['maplibre-gl/dist/maplibre-gl.css', 'vendor/maplibre-gl.css'],
  ['h3-js/dist/browser/h3-js.es.js', 'vendor/h3-js.es.js'],
  ['@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf', 'fonts/NotoSans-Regular.ttf'],
  ['@expo-google-fonts/noto-sans/700Bold/NotoSans_700Bold.ttf', 'fonts/NotoSans-Bold.ttf'],
];
for (const [from, to] of vendor) {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  copyFileSync(join(modules, from), join(out, to));
}

mkdirSync(join(out, 'sounds'), { recursive: true });
writeFileSync(join(out, 'sounds', 'alarm.wav'), alarmWav());

const notices = [
  ['MapLibre GL JS', 'maplibre-gl/LICENSE.txt'],
  ['h3-js', 'h3-js/LICENSE'],
  ['Noto Sans (SIL Open Font License 1.1)', '@expo-google-fonts/noto-sans/LICENSE_FONT'],
];
const text = notices
  .map(([name, file]) => `==== ${name} ====\n\n${readFileSync(join(modules, file), 'utf8')}`)
  .join('\n\n');
writeFileSync(join(out, 'LICENSES.txt'), `${text}\n`);
console.log(`web map assembled in ${out}`);
