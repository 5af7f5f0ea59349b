import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory } from 'vue-router'
import App from '@/App.vue'
import { i18n } from '@/i18n'
import { vantPlugin } from '@/plugins/vant'
import { createAppRouter } from '@/router'

/** Mount the whole app (real routes + guard) at `path`, the way main.ts does. */
export async function mountApp(path: string) {
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createAppRouter(createMemoryHistory())
  await router.push(path)
  await router.isReady()
  const wrapper = mount(App, { global: { plugins: [pinia, i18n, vantPlugin, router] }, attachTo: document.body })
  await settle()
  return { wrapper, router, pinia }
}

/** Let fetch mocks, lazy route components and Vant's async form validation finish. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
  }
}

/** Poll until `check` holds (lazy route chunks load asynchronously). */
export async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('waitFor: condition not met in time')
    await settle(1)
  }
}
