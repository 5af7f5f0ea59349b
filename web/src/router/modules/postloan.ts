import type { RouteRecordRaw } from 'vue-router'

// Routes of the post-loan feature; spread into the app's routes before the catch-all.
export const postloanRoutes: RouteRecordRaw[] = []
