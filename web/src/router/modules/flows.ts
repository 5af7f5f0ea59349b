import type { RouteRecordRaw } from 'vue-router'

// Routes of the flows feature; spread into the app's routes before the catch-all.
export const flowsRoutes: RouteRecordRaw[] = []
