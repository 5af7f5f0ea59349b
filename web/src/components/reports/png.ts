/**
 * Dashboard → PNG: the grid is composed onto one canvas as laid out on screen. ECharts canvases
 * are copied as they are; HTML cards (KPIs, tables, rankings) are redrawn as their text lines.
 */
export function composeDashboard(grid: HTMLElement, title: string, scale = 2): HTMLCanvasElement {
  const box = grid.getBoundingClientRect()
  const head = 36
  const canvas = document.createElement('canvas')
  canvas.width = Math.ceil(box.width * scale)
  canvas.height = Math.ceil((grid.scrollHeight + head) * scale)
  const ctx = canvas.getContext('2d')
  if (!ctx) return canvas
  ctx.scale(scale, scale)
  ctx.fillStyle = '#f7f8fa'
  ctx.fillRect(0, 0, box.width, grid.scrollHeight + head)
  ctx.fillStyle = '#323233'
  ctx.font = '600 16px sans-serif'
  ctx.textBaseline = 'top'
  ctx.fillText(title, 12, 10)
  for (const card of Array.from(grid.querySelectorAll<HTMLElement>('[data-widget]'))) {
    const r = card.getBoundingClientRect()
    const x = r.left - box.left
    const y = r.top - box.top + head
    ctx.fillStyle = '#fff'
    ctx.fillRect(x, y, r.width, r.height)
    const canvases = Array.from(card.querySelectorAll('canvas'))
    const text = card.innerText.split('\n').map((s) => s.trim()).filter(Boolean)
    ctx.fillStyle = '#323233'
    if (canvases.length) {
      ctx.font = '600 13px sans-serif'
      ctx.fillText(text[0] ?? '', x + 12, y + 10, r.width - 24)
      for (const c of canvases) {
        const cr = c.getBoundingClientRect()
        ctx.drawImage(c, cr.left - box.left, cr.top - box.top + head, cr.width, cr.height)
      }
      continue
    }
    let line = y + 10
    text.forEach((s, i) => {
      if (line > y + r.height - 14) return
      ctx.font = i === 0 ? '600 13px sans-serif' : '12px sans-serif'
      ctx.fillText(s, x + 12, line, r.width - 24)
      line += i === 0 ? 20 : 17
    })
  }
  return canvas
}

export function canvasBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('empty canvas'))), 'image/png'),
  )
}

/**
 * The chart images of a dashboard grid for the PDF export, by widget id: every card drawn on a
 * canvas (ECharts) gives its canvas as a PNG data URL; HTML cards (KPIs, tables) give none —
 * the server prints their numbers itself.
 */
export function chartImages(grid: HTMLElement, budget = 2_000_000): Record<string, string> {
  const canvases: [string, HTMLCanvasElement][] = []
  for (const card of Array.from(grid.querySelectorAll<HTMLElement>('[data-widget]'))) {
    const canvas = card.querySelector('canvas')
    const id = card.dataset.widget
    if (canvas && id && canvas.width > 0 && canvas.height > 0) canvases.push([id, canvas])
  }
  const png = Object.fromEntries(canvases.map(([id, c]) => [id, c.toDataURL('image/png')]))
  if (Object.values(png).reduce((n, url) => n + url.length, 0) <= budget) return png
  // Over the request budget (many charts, a dense screen): JPEG on white, at most 1200 px wide.
  const out: Record<string, string> = {}
  for (const [id, c] of canvases) {
    const scale = Math.min(1, 1200 / c.width)
    const flat = document.createElement('canvas')
    flat.width = Math.round(c.width * scale)
    flat.height = Math.round(c.height * scale)
    const ctx = flat.getContext('2d')
    if (!ctx) continue
    ctx.fillStyle = '#fff'
    ctx.fillRect(0, 0, flat.width, flat.height)
    ctx.drawImage(c, 0, 0, flat.width, flat.height)
    out[id] = flat.toDataURL('image/jpeg', 0.85)
  }
  return out
}
