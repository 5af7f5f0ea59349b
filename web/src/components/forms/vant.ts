/**
 * Vant components only the form engine uses (registered locally by its components, so pages
 * that never show a form do not carry them).
 */
import 'vant/es/area/style/index'
import 'vant/es/uploader/style/index'
import 'vant/es/rate/style/index'
import 'vant/es/slider/style/index'
import 'vant/es/date-picker/style/index'
import 'vant/es/time-picker/style/index'
import 'vant/es/picker/style/index'
import 'vant/es/picker-group/style/index'
import 'vant/es/tabs/style/index'
import 'vant/es/tab/style/index'
import 'vant/es/image-preview/style/index'
import 'vant/es/stepper/style/index'

export {
  Area as VanArea,
  Uploader as VanUploader,
  Rate as VanRate,
  Slider as VanSlider,
  DatePicker as VanDatePicker,
  TimePicker as VanTimePicker,
  Picker as VanPicker,
  PickerGroup as VanPickerGroup,
  Tabs as VanTabs,
  Tab as VanTab,
  Stepper as VanStepper,
  showImagePreview,
} from 'vant'
