import { afterAll } from 'vitest'

// jsdom lacks scrolling; vue-router's scrollBehavior and Vant call it.
window.scrollTo = (() => {}) as typeof window.scrollTo
Element.prototype.scrollTo = function scrollTo() {} as typeof Element.prototype.scrollTo
// Pages scroll a field or an error into view (e.g. after a failed save).
Element.prototype.scrollIntoView = function scrollIntoView() {} as typeof Element.prototype.scrollIntoView

// Vant measures fixed bars' placeholders in a 100 ms timeout after mounting; let those timers
// fire while jsdom still exists, or they throw "window is not defined" after the file ends.
// The timers still to fire are tracked, and a file ends once no timer has been due within the
// next second for a quiet spell of 150 ms: a view mounted late (a navigation settling after
// the last test, slower on a loaded CI machine) schedules its timer within that spell and is
// waited for too. A second at most, as the fixed four waits of 250 ms this replaces; those
// cost every file a second where most need ~150 ms. The real clock is kept: a test that left
// fake timers on has frozen Date.
const realNow = Date.now.bind(Date)
const pendingTimers = new Map<unknown, number>() // timer → when it is due (ms since epoch)
const realSetTimeout = globalThis.setTimeout
const realClearTimeout = globalThis.clearTimeout
const trackedSetTimeout = (handler: TimerHandler, delay = 0, ...args: unknown[]) => {
  if (typeof handler !== 'function') return realSetTimeout(handler as never, delay, ...args)
  const timer = realSetTimeout(() => {
    pendingTimers.delete(timer)
    handler(...args)
  }, delay)
  pendingTimers.set(timer, realNow() + Number(delay || 0))
  return timer
}
globalThis.setTimeout = Object.assign(trackedSetTimeout, realSetTimeout) as typeof setTimeout
globalThis.clearTimeout = ((timer?: Parameters<typeof clearTimeout>[0]) => {
  pendingTimers.delete(timer)
  realClearTimeout(timer)
}) as typeof clearTimeout

const HORIZON_MS = 1000
const QUIET_MS = 150
const POLL_MS = 25
afterAll(async () => {
  const start = realNow()
  let quietSince = start
  for (let polls = 0; polls < HORIZON_MS / POLL_MS; polls++) {
    const now = realNow()
    // A timer more than a second overdue was cleared some way the map cannot see.
    const soon = [...pendingTimers.values()].some((due) => due <= now + HORIZON_MS && due > now - HORIZON_MS)
    if (soon) quietSince = now
    else if (now - quietSince >= QUIET_MS) return
    await new Promise((resolve) => realSetTimeout(resolve, POLL_MS))
  }
})
