import { afterAll } from 'vitest'

// jsdom lacks scrolling; vue-router's scrollBehavior and Vant call it.
window.scrollTo = (() => {}) as typeof window.scrollTo
Element.prototype.scrollTo = function scrollTo() {} as typeof Element.prototype.scrollTo
// Pages scroll a field or an error into view (e.g. after a failed save).
Element.prototype.scrollIntoView = function scrollIntoView() {} as typeof Element.prototype.scrollIntoView

// Vant measures fixed bars' placeholders in a 100 ms timeout after mounting; let those timers
// fire while jsdom still exists, or they throw "window is not defined" after the file ends.
// The timers still to fire are tracked, and the file ends once none is due within the next
// second (a view mounted late, e.g. a navigation settling after the last test, schedules its
// timer during the wait and is waited for too). A second at most, as the fixed four waits of
// 250 ms this replaces: those cost every file a second, most files need ~100 ms.
const pendingTimers = new Map<unknown, number>() // timer → when it is due (ms since epoch)
const realSetTimeout = globalThis.setTimeout
const realClearTimeout = globalThis.clearTimeout
const trackedSetTimeout = (handler: TimerHandler, delay = 0, ...args: unknown[]) => {
  const timer = realSetTimeout(() => {
    pendingTimers.delete(timer)
    if (typeof handler === 'function') handler(...args)
  }, delay)
  pendingTimers.set(timer, Date.now() + Number(delay || 0))
  return timer
}
globalThis.setTimeout = Object.assign(trackedSetTimeout, realSetTimeout) as typeof setTimeout
globalThis.clearTimeout = ((timer?: Parameters<typeof clearTimeout>[0]) => {
  pendingTimers.delete(timer)
  realClearTimeout(timer)
}) as typeof clearTimeout

const HORIZON_MS = 1000
afterAll(async () => {
  const end = Date.now() + HORIZON_MS
  for (;;) {
    const now = Date.now()
    const soon = [...pendingTimers.values()].filter((due) => due <= now + HORIZON_MS)
    if (!soon.length || now >= end) return
    const wait = Math.min(Math.max(...soon) - now, end - now) + 10
    await new Promise((resolve) => realSetTimeout(resolve, Math.max(wait, 10)))
  }
})
