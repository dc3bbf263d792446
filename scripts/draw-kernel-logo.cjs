// Draws the kernel logo Jupyter shows next to "TypeScript (mechlab)": writes
// kernel/kernelspec/logo-svg.svg and the PNGs Jupyter asks for (logo-32x32.png, logo-64x64.png)
// from one list of shapes, so the vector and raster versions cannot drift apart. The files are
// committed; run `node scripts/draw-kernel-logo.cjs` after changing the shapes below.
//
// The picture: a lens over a three-node circuit on TypeScript blue.
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const OUT = path.resolve(__dirname, "..", "kernel", "kernelspec");
const SIZE = 64; // the drawing's own coordinate system (viewBox 0 0 64 64)
const BLUE = "#3178c6";
const WHITE = "#ffffff";
const YELLOW = "#ffd43b";

/** Painted in order, each over the previous ones. */
const SHAPES = [
  { kind: "roundRect", x: 0, y: 0, w: 64, h: 64, r: 12, fill: BLUE },
  // the circuit inside the lens
  { kind: "segment", x1: 20, y1: 32, x2: 27, y2: 20, width: 2.5, stroke: YELLOW },
  { kind: "segment", x1: 27, y1: 20, x2: 34, y2: 32, width: 2.5, stroke: YELLOW },
  { kind: "segment", x1: 20, y1: 32, x2: 34, y2: 32, width: 2.5, stroke: YELLOW },
  { kind: "disc", cx: 20, cy: 32, r: 4, fill: YELLOW },
  { kind: "disc", cx: 27, cy: 20, r: 4, fill: YELLOW },
  { kind: "disc", cx: 34, cy: 32, r: 4, fill: YELLOW },
  // the lens and its handle
  { kind: "ring", cx: 27, cy: 27, r: 16, width: 5, stroke: WHITE },
  { kind: "segment", x1: 39, y1: 39, x2: 53, y2: 53, width: 8, stroke: WHITE },
];

// ---------------------------------------------------------------------------------------- SVG

function svg() {
  const body = SHAPES.map((s) => {
    switch (s.kind) {
      case "roundRect":
        return `<rect x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" rx="${s.r}" fill="${s.fill}"/>`;
      case "disc":
        return `<circle cx="${s.cx}" cy="${s.cy}" r="${s.r}" fill="${s.fill}"/>`;
      case "ring":
        return `<circle cx="${s.cx}" cy="${s.cy}" r="${s.r}" fill="none" stroke="${s.stroke}" stroke-width="${s.width}"/>`;
      case "segment":
        return `<line x1="${s.x1}" y1="${s.y1}" x2="${s.x2}" y2="${s.y2}" stroke="${s.stroke}" stroke-width="${s.width}" stroke-linecap="round"/>`;
      default:
        throw new Error(`unknown shape ${s.kind}`);
    }
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">`,
    "  <title>mechlab</title>",
    ...body.map((line) => `  ${line}`),
    "</svg>",
    "",
  ].join("\n");
}

// ----------------------------------------------------------------------------------- raster

/** Whether the point (x, y) of the drawing lies inside shape s. */
function inside(s, x, y) {
  switch (s.kind) {
    case "roundRect": {
      const qx = Math.max(Math.abs(x - (s.x + s.w / 2)) - (s.w / 2 - s.r), 0);
      const qy = Math.max(Math.abs(y - (s.y + s.h / 2)) - (s.h / 2 - s.r), 0);
      return Math.hypot(qx, qy) <= s.r;
    }
    case "disc":
      return Math.hypot(x - s.cx, y - s.cy) <= s.r;
    case "ring":
      return Math.abs(Math.hypot(x - s.cx, y - s.cy) - s.r) <= s.width / 2;
    case "segment": {
      const dx = s.x2 - s.x1;
      const dy = s.y2 - s.y1;
      const t = Math.max(0, Math.min(1, ((x - s.x1) * dx + (y - s.y1) * dy) / (dx * dx + dy * dy)));
      return Math.hypot(x - (s.x1 + t * dx), y - (s.y1 + t * dy)) <= s.width / 2;
    }
    default:
      throw new Error(`unknown shape ${s.kind}`);
  }
}

function rgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/** RGBA pixels of a px × px rendering, 8×8 samples per pixel. */
function raster(px) {
  const samples = 8;
  const scale = SIZE / px;
  const pixels = Buffer.alloc(px * px * 4);
  for (let row = 0; row < px; row++) {
    for (let col = 0; col < px; col++) {
      let r = 0, g = 0, b = 0, a = 0; // sums of premultiplied colour over the samples
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (col + (sx + 0.5) / samples) * scale;
          const y = (row + (sy + 0.5) / samples) * scale;
          let top = null;
          for (const s of SHAPES) if (inside(s, x, y)) top = s;
          if (!top) continue;
          const [cr, cg, cb] = rgb(top.fill ?? top.stroke);
          r += cr; g += cg; b += cb; a += 1;
        }
      }
      const o = (row * px + col) * 4;
      if (a > 0) {
        pixels[o] = Math.round(r / a);
        pixels[o + 1] = Math.round(g / a);
        pixels[o + 2] = Math.round(b / a);
      }
      pixels[o + 3] = Math.round((255 * a) / (samples * samples));
    }
  }
  return pixels;
}

// -------------------------------------------------------------------------------------- PNG

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function png(px) {
  const pixels = raster(px);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(px, 0); // width
  header.writeUInt32BE(px, 4); // height
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  // compression, filter and interlace methods stay 0
  const rows = Buffer.alloc(px * (px * 4 + 1)); // each row: filter byte 0, then its pixels
  for (let row = 0; row < px; row++) pixels.copy(rows, row * (px * 4 + 1) + 1, row * px * 4, (row + 1) * px * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

fs.mkdirSync(OUT, { recursive: true });
fs.writeFileSync(path.join(OUT, "logo-svg.svg"), svg());
for (const px of [32, 64]) fs.writeFileSync(path.join(OUT, `logo-${px}x${px}.png`), png(px));
console.log(`wrote logo-svg.svg, logo-32x32.png, logo-64x64.png in ${path.relative(process.cwd(), OUT) || "."}`);
