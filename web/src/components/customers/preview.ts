import { showFailToast, showLoadingToast, closeToast } from 'vant'
import { t } from '@/i18n'
import { blobUrl } from './blobs'
import { showImagePreview } from './vant'

/** Open the full-screen previewer on blob: URLs fetched through the authorised endpoint. */
export async function previewImages(urls: string[], start = 0): Promise<void> {
  showLoadingToast({ message: t('common.loading'), forbidClick: true, duration: 0 })
  try {
    const images = await Promise.all(urls.map((u) => blobUrl(u)))
    closeToast()
    showImagePreview({ images, startPosition: start, closeable: true })
  } catch {
    closeToast()
    showFailToast(t('customers.documents.loadFailed'))
  }
}
