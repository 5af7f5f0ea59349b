// jsdom lacks scrolling; vue-router's scrollBehavior and Vant call it.
window.scrollTo = (() => {}) as typeof window.scrollTo
Element.prototype.scrollTo = function scrollTo() {} as typeof Element.prototype.scrollTo
