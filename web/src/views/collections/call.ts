import { ref } from 'vue'
import { collectionsApi, telHref } from '@/api/collections'

/**
 * The one-tap call: the plain number comes from the server's audited reveal (never from the
 * list, which only carries the masked phone), then the phone app opens through `tel:`.
 */
export function useCall() {
  const busy = ref<number | null>(null)
  const revealed = ref<Record<number, string>>({})

  async function call(caseId: number): Promise<string> {
    let phone = revealed.value[caseId]
    if (!phone) {
      busy.value = caseId
      try {
        phone = (await collectionsApi.revealPhone(caseId)).value
        revealed.value = { ...revealed.value, [caseId]: phone }
      } catch {
        return '' // toast shown by the client
      } finally {
        busy.value = null
      }
    }
    const href = telHref(phone)
    if (href) openTel(href)
    return href
  }

  return { busy, revealed, call }
}

/** Open the dialer the way a tapped link would: a transient <a href="tel:…"> is clicked, so
 *  the browser treats it like any tel: link (and the app page itself is not navigated). */
export function openTel(href: string): void {
  const a = document.createElement('a')
  a.href = href
  a.rel = 'noopener'
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
}
