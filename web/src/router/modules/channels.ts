import type { RouteRecordRaw } from 'vue-router'
import { MANAGE_CHANNELS_PERM } from '@/api/channels'

// Routes of the channels feature; spread into the app's routes before the catch-all.
export const channelsRoutes: RouteRecordRaw[] = [
  {
    path: '/manage/channels',
    name: 'channels',
    component: () => import('@/views/channels/ChannelsView.vue'),
    meta: { title: 'channels.title', perm: MANAGE_CHANNELS_PERM },
  },
]
