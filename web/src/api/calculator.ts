import { http, type RequestOptions } from './client'
import type { CalculatorTerms, CompareResponse, PayoffQuote, PayoffQuoteRequest, ScheduleQuote, ScheduleRequest } from './types'

type Options = Omit<RequestOptions, 'body'>

/** The server's loan math (Decimal, exact to the fen); the browser never computes amounts. */
export const calculatorApi = {
  schedule: (body: ScheduleRequest, options?: Options) => http.post<ScheduleQuote>('/calculator/schedule', body, options),
  compare: (body: CalculatorTerms, options?: Options) => http.post<CompareResponse>('/calculator/compare', body, options),
  payoffQuote: (body: PayoffQuoteRequest, options?: Options) =>
    http.post<PayoffQuote>('/calculator/payoff-quote', body, options),
}
