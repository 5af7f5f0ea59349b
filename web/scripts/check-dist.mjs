// Fails when the built app could load anything from another host (LoanDesk runs in isolated
// networks; CSP allows only 'self'). Runs after `npm run build` (postbuild).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = fileURLToPath(new URL('../dist', import.meta.url))
const TEXT = /\.(html|js|mjs|css|json|webmanifest|svg|txt)$/
// Strings that look like URLs but are never fetched: XML namespaces and Vue's prod error hint.
const ALLOWED = [
  /^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink|1998\/Math\/MathML|XML\/1998\/namespace|2000\/xmlns\/?)$/,
  /^https:\/\/vuejs\.org\/error-reference\//,
]

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* walk(p)
    else yield p
  }
}

const problems = []
let iconFontEmbedded = false
for (const file of walk(dist)) {
  if (!TEXT.test(file)) continue
  const text = readFileSync(file, 'utf8')
  const rel = relative(dist, file)
  for (const m of text.matchAll(/https?:\/\/[^\s"'`)<>\\]+/g)) {
    if (!ALLOWED.some((re) => re.test(m[0]))) problems.push(`${rel}: ${m[0]}`)
  }
  for (const m of text.matchAll(/url\(\s*['"]?\/\/[^)]*\)/g)) problems.push(`${rel}: ${m[0]}`)
  for (const m of text.matchAll(/@import\s+(url\()?['"]?(https?:)?\/\//g)) problems.push(`${rel}: ${m[0]}`)
  if (file.endsWith('.css') && /font-family:\s*vant-icon[^}]*src:\s*url\(data:font\/woff2/.test(text)) {
    iconFontEmbedded = true
  }
}
if (!iconFontEmbedded) problems.push('Vant icon font (vant-icon woff2 data: URL) not found in the built CSS')

if (problems.length) {
  console.error(`check-dist: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('check-dist: no external URLs; Vant icon font embedded')
