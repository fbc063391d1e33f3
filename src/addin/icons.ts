// Draws the add-in's small PNG icons in memory (a checklist glyph), so the service can serve real images of every size the manifests name; it does no I/O and knows nothing of HTTP.
import { deflateSync } from 'node:zlib';
import { ICON_SIZES, type IconSize } from './constants.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes RGBA pixels (row-major, 4 bytes each) as a PNG. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== width * height * 4) throw new RangeError('Pixel buffer does not match the image size.');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

type Rgba = [number, number, number, number];
const BRAND: Rgba = [0x2b, 0x57, 0x9a, 0xff];
const WHITE: Rgba = [0xff, 0xff, 0xff, 0xff];
const CLEAR: Rgba = [0, 0, 0, 0];

/** A rounded square with three checklist rows; `outline` draws it white on transparent (unified manifest). */
function drawGlyph(size: number, outline: boolean): Uint8Array {
  const px = new Uint8Array(size * size * 4);
  const radius = Math.max(2, Math.round(size * 0.18));
  const stroke = Math.max(1, Math.round(size / 16));
  const inCorner = (x: number, y: number): boolean => {
    const cx = x < radius ? radius : x >= size - radius ? size - radius - 1 : x;
    const cy = y < radius ? radius : y >= size - radius ? size - radius - 1 : y;
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
  };
  const rows = [0.3, 0.5, 0.7].map((f) => Math.round(size * f));
  const bar = Math.max(1, Math.round(size / 12));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = inCorner(x, y);
      const border = inside && (!inCorner(x - stroke, y) || !inCorner(x + stroke, y) || !inCorner(x, y - stroke) || !inCorner(x, y + stroke));
      const onRow = rows.some((r) => y >= r - bar / 2 && y < r + bar / 2);
      const box = x >= size * 0.2 && x < size * 0.32;
      const line = x >= size * 0.4 && x < size * 0.8;
      const mark = inside && onRow && (box || line);
      let c: Rgba;
      if (outline) c = border || mark ? WHITE : CLEAR;
      else c = !inside ? CLEAR : mark ? WHITE : BRAND;
      px.set(c, (y * size + x) * 4);
    }
  }
  return px;
}

const cache = new Map<string, Buffer>();

/** The colour icon of one of the served sizes. */
export function renderIconPng(size: IconSize): Buffer {
  const key = `c${size}`;
  let png = cache.get(key);
  if (!png) {
    png = encodePng(size, size, drawGlyph(size, false));
    cache.set(key, png);
  }
  return png;
}

/** The 32 px transparent outline icon the unified manifest asks for. */
export function renderOutlineIconPng(): Buffer {
  let png = cache.get('outline');
  if (!png) {
    png = encodePng(32, 32, drawGlyph(32, true));
    cache.set('outline', png);
  }
  return png;
}

export function isIconSize(n: number): n is IconSize {
  return (ICON_SIZES as readonly number[]).includes(n);
}
