// The software renderer's floor: how long a frame takes when it does nothing but clear the canvas and
// blend N full-window rectangles, with no map at all. A map draws several such layers a frame (background,
// land, water, buildings, a translucent grid fill…), so this bounds what any map page can reach here.
//
//   node bench/fillrate.mjs [--frames 150] [--quads 0,1,2,4,8] [--viewports 1280x800,640x400]
//
// Each configuration runs in a fresh page: a WebGL 2 canvas filling the window (no antialiasing, depth
// and stencil like MapLibre's), redrawn every animation frame; the frame time is the `requestAnimationFrame`
// delta. Prints one line a configuration: median and p95 in ms.

import { parseArgs } from 'node:util';
import { launchBrowser } from '../tests/harness.mjs';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '150' },
    quads: { type: 'string', default: '0,1,2,4,8' },
    viewports: { type: 'string', default: '1280x800,640x400' },
  },
});
const frames = Number(values.frames);
const quadCounts = values.quads.split(',').map(Number);
const viewports = values.viewports.split(',').map((v) => v.split('x').map(Number));

/** Runs in the page: draws `quads` blended full-window triangles a frame for `frames` frames. */
async function measure({ quads, frames: count }) {
  const canvas = document.getElementById('c');
  canvas.width = innerWidth;
  canvas.height = innerHeight;
  const gl = canvas.getContext('webgl2', { antialias: false, depth: true, stencil: true });
  const shader = (type, source) => {
    const s = gl.createShader(type);
    gl.shaderSource(s, source);
    gl.compileShader(s);
    return s;
  };
  const program = gl.createProgram();
  gl.attachShader(program, shader(gl.VERTEX_SHADER, '#version 300 es\nin vec2 p; void main() { gl_Position = vec4(p, 0, 1); }'));
  gl.attachShader(program, shader(gl.FRAGMENT_SHADER, '#version 300 es\nprecision mediump float; uniform vec4 u; out vec4 o; void main() { o = u; }'));
  gl.linkProgram(program);
  gl.useProgram(program);
  gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
  const at = gl.getAttribLocation(program, 'p');
  gl.enableVertexAttribArray(at);
  gl.vertexAttribPointer(at, 2, gl.FLOAT, false, 0, 0);
  const colour = gl.getUniformLocation(program, 'u');
  gl.enable(gl.BLEND);
  gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
  const deltas = [];
  let last = performance.now();
  await new Promise((done) => {
    const frame = (now) => {
      gl.clearColor((deltas.length % 100) / 100, 0.5, 0.5, 1);
      gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT | gl.STENCIL_BUFFER_BIT);
      for (let k = 0; k < quads; k += 1) {
        gl.uniform4f(colour, 0.05 * k, 0.2, 0.3, 0.5);
        gl.drawArrays(gl.TRIANGLES, 0, 3);
      }
      deltas.push(now - last);
      last = now;
      if (deltas.length < count) requestAnimationFrame(frame);
      else done();
    };
    requestAnimationFrame(frame);
  });
  return deltas.slice(5);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const browser = await launchBrowser();
try {
  for (const [width, height] of viewports) {
    for (const quads of quadCounts) {
      const context = await browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      await page.setContent('<canvas id="c" style="position:absolute;inset:0;width:100%;height:100%"></canvas>');
      const deltas = (await page.evaluate(measure, { quads, frames })).sort((a, b) => a - b);
      console.log(`${width}×${height}  ${String(quads).padStart(2)} full-window layers  median ${percentile(deltas, 50).toFixed(1)} ms  p95 ${percentile(deltas, 95).toFixed(1)} ms`);
      await context.close();
    }
  }
} finally {
  await browser.close();
}
