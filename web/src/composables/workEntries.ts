/**
 * Everyday work screens on the home page (工作台), shown only to users holding the permission.
 * Each feature adds its own entry here; admin pages go to adminEntries.ts instead.
 */
export interface WorkEntry {
  key: string
  to: string
  icon: string
  label: string // i18n key
  perm: string
}

export const WORK_ENTRIES: WorkEntry[] = [
  { key: 'collections', to: '/collections', icon: 'phone-circle-o', label: 'collections.entry', perm: 'collections.work' },
  { key: 'reports', to: '/reports', icon: 'chart-trending-o', label: 'reports.entry', perm: 'reports.view' },
  { key: 'vouchers', to: '/accounting/journal', icon: 'balance-list-o', label: 'accounting.journal.entry', perm: 'accounting.export' },
  { key: 'bank-import', to: '/accounting/statements', icon: 'exchange', label: 'accounting.statements.entry', perm: 'accounting.import_statements' },
  { key: 'repayments', to: '/lending/repayments', icon: 'gold-coin-o', label: 'repayments.entry', perm: 'lending.post_repayment' },
]
