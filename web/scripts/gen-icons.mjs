// Generates the PWA icons in public/icons/ with Node built-ins only (zlib for PNG deflate).
// The mark is a white "LD" on LoanDesk blue. Run: npm run icons
import { deflateSync } from 'node:zlib'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons')
const BLUE = [0x19, 0x89, 0xfa]
const WHITE = [0xff, 0xff, 0xff]

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(buf) {
  let c = 0xffffffff
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}
function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 6 // RGBA
  const raw = Buffer.alloc((size * 4 + 1) * size)
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0 // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

// Shapes in the unit square.
function inRoundedSquare(x, y, r) {
  const cx = Math.min(Math.max(x, r), 1 - r)
  const cy = Math.min(Math.max(y, r), 1 - r)
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
}
function inGlyph(x, y) {
  const inRect = (x0, x1, y0, y1) => x >= x0 && x <= x1 && y >= y0 && y <= y1
  // L
  if (inRect(0.18, 0.27, 0.28, 0.72) || inRect(0.18, 0.45, 0.63, 0.72)) return true
  // D: stem + half-ellipse bowl with a half-ellipse hole
  if (inRect(0.53, 0.62, 0.28, 0.72)) return true
  if (x > 0.62) {
    const outer = ((x - 0.62) / 0.2) ** 2 + ((y - 0.5) / 0.22) ** 2 <= 1
    const inner = ((x - 0.62) / 0.11) ** 2 + ((y - 0.5) / 0.13) ** 2 <= 1
    return outer && !inner
  }
  return false
}

function render(size, { maskable }) {
  const px = Buffer.alloc(size * size * 4)
  const SS = 4 // supersampling per axis
  const glyphScale = maskable ? 0.8 : 1
  for (let py = 0; py < size; py++) {
    for (let pxx = 0; pxx < size; pxx++) {
      let bg = 0
      let fg = 0
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const x = (pxx + (sx + 0.5) / SS) / size
          const y = (py + (sy + 0.5) / SS) / size
          const inBg = maskable ? true : inRoundedSquare(x, y, 0.22)
          if (!inBg) continue
          bg++
          const gx = (x - 0.5) / glyphScale + 0.5
          const gy = (y - 0.5) / glyphScale + 0.5
          if (inGlyph(gx, gy)) fg++
        }
      }
      const n = SS * SS
      const i = (py * size + pxx) * 4
      const f = bg ? fg / bg : 0
      for (let c = 0; c < 3; c++) px[i + c] = Math.round(BLUE[c] * (1 - f) + WHITE[c] * f)
      px[i + 3] = Math.round((bg / n) * 255)
    }
  }
  return encodePng(size, px)
}

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="22" fill="#1989fa"/>
<path fill="#fff" d="M18 28h9v35h18v9H18z"/>
<path fill="#fff" fill-rule="evenodd" d="M53 28h9a20 22 0 0 1 0 44h-9zM62 37v26a11 13 0 0 0 0-26z"/>
</svg>
`

mkdirSync(OUT, { recursive: true })
const outputs = [
  ['icon-192.png', 192, false],
  ['icon-512.png', 512, false],
  ['icon-maskable-512.png', 512, true],
  ['apple-touch-icon.png', 180, true],
  ['favicon-32.png', 32, false],
]
for (const [name, size, maskable] of outputs) {
  writeFileSync(join(OUT, name), render(size, { maskable }))
  console.log(`wrote public/icons/${name}`)
}
writeFileSync(join(OUT, 'icon.svg'), SVG)
console.log('wrote public/icons/icon.svg')
