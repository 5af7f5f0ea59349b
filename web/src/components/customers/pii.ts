/** Client-side masks, the same as the server's (core/crypto.py): 110***********1234, 138****0001. */
export function maskPii(field: 'id_number' | 'phone' | 'bank_card', value: string): string {
  if (!value || value.includes('*')) return value
  if (field === 'bank_card') return value.length > 4 ? `**** **** **** ${value.slice(-4)}` : '****'
  const v = field === 'phone' && value.length >= 11 ? value.slice(-11) : value
  if (v.length <= 7) return '*'.repeat(v.length)
  return v.slice(0, 3) + '*'.repeat(v.length - 7) + v.slice(-4)
}
