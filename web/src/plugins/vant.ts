/**
 * Vant, registered component by component so only what the app uses is bundled.
 * Each component's style entry pulls in Vant's base CSS and its dependencies' CSS.
 * The icon font arrives embedded (woff2 data: URL) through vant/es/icon/style; the
 * external woff fallback is stripped at build time (see vite.config.ts).
 */
import type { App } from 'vue'
import {
  ActionSheet,
  Button,
  Calendar,
  Cell,
  CellGroup,
  Checkbox,
  CheckboxGroup,
  Dialog,
  Divider,
  DropdownItem,
  DropdownMenu,
  Empty,
  Field,
  Form,
  Grid,
  GridItem,
  Icon,
  List,
  Loading,
  NavBar,
  NoticeBar,
  Popup,
  PullRefresh,
  Radio,
  RadioGroup,
  Search,
  Switch,
  Tabbar,
  TabbarItem,
  Tag,
} from 'vant'

import 'vant/es/action-sheet/style/index'
import 'vant/es/button/style/index'
import 'vant/es/calendar/style/index'
import 'vant/es/cell/style/index'
import 'vant/es/cell-group/style/index'
import 'vant/es/checkbox/style/index'
import 'vant/es/checkbox-group/style/index'
import 'vant/es/dialog/style/index'
import 'vant/es/divider/style/index'
import 'vant/es/dropdown-item/style/index'
import 'vant/es/dropdown-menu/style/index'
import 'vant/es/empty/style/index'
import 'vant/es/field/style/index'
import 'vant/es/form/style/index'
import 'vant/es/grid/style/index'
import 'vant/es/grid-item/style/index'
import 'vant/es/icon/style/index'
import 'vant/es/list/style/index'
import 'vant/es/loading/style/index'
import 'vant/es/nav-bar/style/index'
import 'vant/es/notice-bar/style/index'
import 'vant/es/popup/style/index'
import 'vant/es/pull-refresh/style/index'
import 'vant/es/radio/style/index'
import 'vant/es/radio-group/style/index'
import 'vant/es/search/style/index'
import 'vant/es/switch/style/index'
import 'vant/es/tabbar/style/index'
import 'vant/es/tabbar-item/style/index'
import 'vant/es/tag/style/index'
import 'vant/es/toast/style/index'

const components = [
  ActionSheet,
  Button,
  Calendar,
  Cell,
  CellGroup,
  Checkbox,
  CheckboxGroup,
  Dialog,
  Divider,
  DropdownItem,
  DropdownMenu,
  Empty,
  Field,
  Form,
  Grid,
  GridItem,
  Icon,
  List,
  Loading,
  NavBar,
  NoticeBar,
  Popup,
  PullRefresh,
  Radio,
  RadioGroup,
  Search,
  Switch,
  Tabbar,
  TabbarItem,
  Tag,
]

export const vantPlugin = {
  install(app: App): void {
    for (const c of components) app.use(c)
  },
}

declare module 'vue' {
  export interface GlobalComponents {
    VanActionSheet: typeof ActionSheet
    VanButton: typeof Button
    VanCalendar: typeof Calendar
    VanCell: typeof Cell
    VanCellGroup: typeof CellGroup
    VanCheckbox: typeof Checkbox
    VanCheckboxGroup: typeof CheckboxGroup
    VanDialog: typeof Dialog
    VanDivider: typeof Divider
    VanDropdownItem: typeof DropdownItem
    VanDropdownMenu: typeof DropdownMenu
    VanEmpty: typeof Empty
    VanField: typeof Field
    VanForm: typeof Form
    VanGrid: typeof Grid
    VanGridItem: typeof GridItem
    VanIcon: typeof Icon
    VanList: typeof List
    VanLoading: typeof Loading
    VanNavBar: typeof NavBar
    VanNoticeBar: typeof NoticeBar
    VanPopup: typeof Popup
    VanPullRefresh: typeof PullRefresh
    VanRadio: typeof Radio
    VanRadioGroup: typeof RadioGroup
    VanSearch: typeof Search
    VanSwitch: typeof Switch
    VanTabbar: typeof Tabbar
    VanTabbarItem: typeof TabbarItem
    VanTag: typeof Tag
  }
}
