import { ref } from 'vue'

/** The 360 view's tab to open next time it mounts (e.g. 跟进 after writing a follow-up). */
export const focusTab = ref<string | null>(null)
