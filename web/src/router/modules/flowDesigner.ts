import type { RouteRecordRaw } from 'vue-router'

// Routes of the flow designer; spread into the app's routes before the catch-all.
export const flowDesignerRoutes: RouteRecordRaw[] = []
