import { afterAll } from 'vitest'

// jsdom lacks scrolling; vue-router's scrollBehavior and Vant call it.
window.scrollTo = (() => {}) as typeof window.scrollTo
Element.prototype.scrollTo = function scrollTo() {} as typeof Element.prototype.scrollTo
// Pages scroll a field or an error into view (e.g. after a failed save).
Element.prototype.scrollIntoView = function scrollIntoView() {} as typeof Element.prototype.scrollIntoView

// Vant measures fixed bars' placeholders in a 100 ms timeout after mounting; let those timers
// fire while jsdom still exists, or they throw "window is not defined" after the file ends.
// Several short waits in a row: a view mounted late (a navigation settling after the last
// test, slower on a loaded CI machine) schedules its timer during the wait, and the next wait
// still outlasts it.
afterAll(async () => {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setTimeout(resolve, 250))
})
