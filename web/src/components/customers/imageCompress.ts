/**
 * Client-side photo compression before upload: at most MAX_SIDE px on the long side and about
 * MAX_BYTES, JPEG. Phone photos (4000×3000, 3-8 MB) shrink to ~300-800 KB, which matters on a
 * mobile connection in a village. EXIF orientation is applied by the browser's decoder
 * (createImageBitmap with imageOrientation "from-image"), so portrait shots stay upright.
 *
 * Files that are not decodable images (PDF, HEIC on most browsers) pass through unchanged: the
 * server checks every file's type by its content anyway.
 */
export const MAX_SIDE = 1600
export const MAX_BYTES = 1024 * 1024

const COMPRESSIBLE = /^image\/(jpeg|png|webp|bmp)$/i

export interface Target {
  width: number
  height: number
}

/** The size to draw at: long side ≤ maxSide, aspect kept, never upscaled. */
export function targetSize(width: number, height: number, maxSide = MAX_SIDE): Target {
  const long = Math.max(width, height)
  if (long <= maxSide) return { width, height }
  const scale = maxSide / long
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

export function jpegName(name: string): string {
  const base = name.replace(/\.[^./\\]+$/, '') || 'photo'
  return `${base}.jpg`
}

interface Decoded {
  source: CanvasImageSource
  width: number
  height: number
  close: () => void
}

async function decode(file: Blob): Promise<Decoded | null> {
  if (typeof createImageBitmap === 'function') {
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
      return { source: bitmap, width: bitmap.width, height: bitmap.height, close: () => bitmap.close() }
    } catch {
      /* fall back to <img> */
    }
  }
  if (typeof Image === 'undefined' || typeof URL.createObjectURL !== 'function') return null
  const url = URL.createObjectURL(file)
  try {
    const img = new Image()
    img.decoding = 'async'
    img.src = url
    await img.decode()
    return { source: img, width: img.naturalWidth, height: img.naturalHeight, close: () => undefined }
  } catch {
    return null
  } finally {
    URL.revokeObjectURL(url)
  }
}

function encode(canvas: HTMLCanvasElement, quality: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality))
}

/** The file to upload: a compressed JPEG when that helps, else the original. */
export async function compressImage(file: File, maxSide = MAX_SIDE, maxBytes = MAX_BYTES): Promise<File> {
  if (!COMPRESSIBLE.test(file.type)) return file
  const decoded = await decode(file)
  if (!decoded) return file
  try {
    const fits = Math.max(decoded.width, decoded.height) <= maxSide
    if (fits && file.size <= maxBytes) return file
    let { width, height } = targetSize(decoded.width, decoded.height, maxSide)
    let best: Blob | null = null
    for (let attempt = 0; attempt < 6; attempt++) {
      const canvas = document.createElement('canvas')
      canvas.width = width
      canvas.height = height
      const ctx = canvas.getContext('2d')
      if (!ctx) return file
      ctx.fillStyle = '#fff' // transparent PNG areas become white, not black, in a JPEG
      ctx.fillRect(0, 0, width, height)
      ctx.drawImage(decoded.source, 0, 0, width, height)
      for (const quality of [0.85, 0.75, 0.65]) {
        const blob = await encode(canvas, quality)
        if (!blob) break
        if (!best || blob.size < best.size) best = blob
        if (blob.size <= maxBytes) break
      }
      canvas.width = 0
      canvas.height = 0
      if (best && best.size <= maxBytes) break
      width = Math.max(1, Math.round(width * 0.8))
      height = Math.max(1, Math.round(height * 0.8))
    }
    // A smaller original that already fits stays as it is; an oversized one is always resized.
    if (!best || (fits && best.size >= file.size)) return file
    return new File([best], jpegName(file.name), { type: 'image/jpeg', lastModified: Date.now() })
  } finally {
    decoded.close()
  }
}
