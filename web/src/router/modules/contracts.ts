import type { RouteRecordRaw } from 'vue-router'

// Routes of the contracts feature; spread into the app's routes before the catch-all.
export const contractsRoutes: RouteRecordRaw[] = []
