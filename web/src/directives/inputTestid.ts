import type { Directive } from 'vue'

function apply(el: HTMLElement, id: string | undefined): void {
  if (!id) return
  const target = el.matches('input, textarea') ? el : el.querySelector<HTMLElement>('input, textarea')
  ;(target ?? el).setAttribute('data-testid', id)
}

/**
 * `v-input-testid="'login-username'"` on a <van-field> puts data-testid on the real <input>,
 * so end-to-end tests can fill() it directly (Vant renders the field as a cell wrapper).
 */
export const vInputTestid: Directive<HTMLElement, string> = {
  mounted: (el, binding) => apply(el, binding.value),
  updated: (el, binding) => apply(el, binding.value),
}
