/**
 * Vant components the accounting screens use beyond the app-wide set in plugins/vant.ts,
 * registered locally so other pages do not pay for them.
 */
import 'vant/es/collapse/style/index'
import 'vant/es/collapse-item/style/index'
import 'vant/es/step/style/index'
import 'vant/es/steps/style/index'
import 'vant/es/tab/style/index'
import 'vant/es/tabs/style/index'
import 'vant/es/uploader/style/index'

export {
  Collapse as VanCollapse,
  CollapseItem as VanCollapseItem,
  Step as VanStep,
  Steps as VanSteps,
  Tab as VanTab,
  Tabs as VanTabs,
  Uploader as VanUploader,
} from 'vant'
export type { UploaderFileListItem } from 'vant'
