import { http, type RequestOptions } from './client'

/** Permission to edit the holiday calendar (superusers pass). */
export const MANAGE_CALENDAR_PERM = 'lending.manage_calendar'

/** One day that breaks the weekday rule: a public holiday or a make-up workday (调休上班). */
export interface CalendarDay {
  /** YYYY-MM-DD */
  date: string
  name: string
}

export type CalendarSource = 'chinese_calendar' | 'admin'

export interface CalendarYear {
  year: number
  source: CalendarSource
  holidays: CalendarDay[]
  workdays: CalendarDay[]
}

export interface CalendarYearBody {
  holidays: CalendarDay[]
  workdays: CalendarDay[]
}

export type CalendarDayKind = 'holidays' | 'workdays'

type Options = Omit<RequestOptions, 'body'>

/** Years with a known holiday schedule; years without one fall back to weekends only. */
export const calendarApi = {
  years: (options?: Options) => http.get<CalendarYear[]>('/lending/calendar/years', undefined, options),
  /** Replace one year's holidays and make-up workdays (the year becomes source "admin"). */
  saveYear: (year: number, body: CalendarYearBody, options?: Options) =>
    http.put<CalendarYear>(`/lending/calendar/years/${year}`, body, options),
  deleteYear: (year: number, options?: Options) => http.delete(`/lending/calendar/years/${year}`, options),
}

// ---- day-list helpers (pure; dates are plain "YYYY-MM-DD" strings, no time zones) ----------

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

function utcDate(iso: string): Date | null {
  const m = ISO_DATE.exec(iso)
  if (!m) return null
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return Number.isNaN(d.getTime()) ? null : d
}

function isoOf(d: Date): string {
  return d.toISOString().slice(0, 10)
}

/** Every day from `from` to `to` inclusive (either order), as YYYY-MM-DD. */
export function expandRange(from: string, to: string): string[] {
  let a = utcDate(from)
  let b = utcDate(to)
  if (!a || !b) return []
  if (a > b) [a, b] = [b, a]
  const out: string[] = []
  for (let d = a; d <= b; d = new Date(d.getTime() + 86_400_000)) out.push(isoOf(d))
  return out
}

/** Add (or rename) days in a list; the result is sorted by date with no duplicates. */
export function mergeDays(list: readonly CalendarDay[], dates: readonly string[], name: string): CalendarDay[] {
  const map = new Map(list.map((d) => [d.date, d.name]))
  for (const date of dates) map.set(date, name)
  return [...map.entries()].map(([date, n]) => ({ date, name: n })).sort((x, y) => x.date.localeCompare(y.date))
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(iso: string): number {
  return utcDate(iso)?.getUTCDay() ?? -1
}

export function isWeekend(iso: string): boolean {
  const w = weekdayOf(iso)
  return w === 0 || w === 6
}

/** Short weekday name in the UI language ("周五", "Fri"). */
export function weekdayLabel(iso: string, locale: string): string {
  const d = utcDate(iso)
  return d ? new Intl.DateTimeFormat(locale, { weekday: 'short', timeZone: 'UTC' }).format(d) : ''
}

/** Short month name in the UI language ("2月", "Feb"). */
export function monthLabel(month: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { month: 'short', timeZone: 'UTC' }).format(new Date(Date.UTC(2000, month - 1, 1)))
}

/** Days grouped by month (1-12), months ascending, days sorted. */
export function groupByMonth(list: readonly CalendarDay[]): { month: number; days: CalendarDay[] }[] {
  const groups = new Map<number, CalendarDay[]>()
  for (const day of [...list].sort((x, y) => x.date.localeCompare(y.date))) {
    const month = Number(day.date.slice(5, 7))
    const days = groups.get(month) ?? []
    days.push(day)
    groups.set(month, days)
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([month, days]) => ({ month, days }))
}
