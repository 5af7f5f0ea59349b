import type { RouteRecordRaw } from 'vue-router'

// Routes of the risk feature; spread into the app's routes before the catch-all.
export const riskRoutes: RouteRecordRaw[] = []
