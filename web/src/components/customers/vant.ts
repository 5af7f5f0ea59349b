/**
 * Vant components the customer screens use beyond the app-wide set in plugins/vant.ts,
 * registered locally (import { VanTabs } from './vant') so other pages do not pay for them.
 */
import 'vant/es/area/style/index'
import 'vant/es/badge/style/index'
import 'vant/es/date-picker/style/index'
import 'vant/es/image/style/index'
import 'vant/es/image-preview/style/index'
import 'vant/es/picker/style/index'
import 'vant/es/picker-group/style/index'
import 'vant/es/popover/style/index'
import 'vant/es/skeleton/style/index'
import 'vant/es/step/style/index'
import 'vant/es/steps/style/index'
import 'vant/es/sticky/style/index'
import 'vant/es/tab/style/index'
import 'vant/es/tabs/style/index'
import 'vant/es/time-picker/style/index'
import 'vant/es/uploader/style/index'

export {
  Area as VanArea,
  Badge as VanBadge,
  DatePicker as VanDatePicker,
  Picker as VanPicker,
  PickerGroup as VanPickerGroup,
  Popover as VanPopover,
  Skeleton as VanSkeleton,
  Step as VanStep,
  Steps as VanSteps,
  Sticky as VanSticky,
  Tab as VanTab,
  Tabs as VanTabs,
  TimePicker as VanTimePicker,
  Uploader as VanUploader,
  showImagePreview,
} from 'vant'
export type { UploaderFileListItem, UploaderInstance, PickerOption } from 'vant'
