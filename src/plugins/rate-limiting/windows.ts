/**
 * Kong's six periods. `code` is what the stores and the Lua script use; `size` is the window
 * length for sliding windows and token buckets (Kong's EXPIRATION table: a month is 30 days, a
 * year 365). Fixed windows follow the UTC calendar instead, as Kong's do: a minute starts at :00,
 * a month on the 1st.
 */
export const PERIODS = [
  { name: 'second', code: 1, size: 1_000, title: 'Second' },
  { name: 'minute', code: 2, size: 60_000, title: 'Minute' },
  { name: 'hour', code: 3, size: 3_600_000, title: 'Hour' },
  { name: 'day', code: 4, size: 86_400_000, title: 'Day' },
  { name: 'month', code: 5, size: 2_592_000_000, title: 'Month' },
  { name: 'year', code: 6, size: 31_536_000_000, title: 'Year' },
] as const

export type PeriodName = (typeof PERIODS)[number]['name']

// Month and year bounds change rarely: compute them with Date.UTC once per month, not per request
let monthStart = 0
let monthEnd = 0
let yearStart = 0
let yearEnd = 0

function refreshCalendar(now: number): void {
  const d = new Date(now)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth()
  monthStart = Date.UTC(y, m, 1)
  monthEnd = Date.UTC(y, m + 1, 1)
  yearStart = Date.UTC(y, 0, 1)
  yearEnd = Date.UTC(y + 1, 0, 1)
}

/**
 * Start of the fixed (calendar) window of `code` that contains `now` (ms, UTC). Its end is
 * {@link fixedEnd}; both allocate nothing.
 *
 * @example
 *   fixedStart(2, Date.UTC(2024, 0, 1, 10, 30, 15)) // → Date.UTC(2024, 0, 1, 10, 30)
 */
export function fixedStart(code: number, now: number): number {
  if (code <= 4) {
    const size = PERIODS[code - 1]!.size
    return now - (now % size)
  }
  if (now >= monthEnd || now < monthStart) refreshCalendar(now)
  return code === 5 ? monthStart : yearStart
}

/** End (exclusive) of the fixed window of `code` that contains `now`. */
export function fixedEnd(code: number, now: number): number {
  if (code <= 4) {
    const size = PERIODS[code - 1]!.size
    return now - (now % size) + size
  }
  if (now >= monthEnd || now < monthStart) refreshCalendar(now)
  return code === 5 ? monthEnd : yearEnd
}
