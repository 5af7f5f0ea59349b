/**
 * Vant components only the 审批 screens use beyond the app-wide set in plugins/vant.ts,
 * registered locally so other pages do not pay for them.
 */
import 'vant/es/badge/style/index'
import 'vant/es/tabs/style/index'
import 'vant/es/tab/style/index'
import 'vant/es/uploader/style/index'
import 'vant/es/image-preview/style/index'

export {
  Badge as VanBadge,
  Tabs as VanTabs,
  Tab as VanTab,
  Uploader as VanUploader,
  showImagePreview,
} from 'vant'
export type { UploaderFileListItem } from 'vant'
