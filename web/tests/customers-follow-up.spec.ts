import { describe, expect, it } from 'vitest'
import { coordinate, emptyFollowUp, followUpPayload, shanghaiIso, shanghaiLocal } from '@/components/customers/followUp'
import { jpegName, targetSize } from '@/components/customers/imageCompress'
import { maskPii } from '@/components/customers/pii'

describe('follow-up payload', () => {
  it('sends only what was filled in', () => {
    const form = { ...emptyFollowUp('visit'), content: '  上门核实经营情况  ' }
    expect(followUpPayload(form)).toEqual({ kind: 'visit', content: '上门核实经营情况', photo_ids: [] })
  })

  it('adds photos (deduplicated), location as decimal strings and the next time with +08:00', () => {
    const form = {
      ...emptyFollowUp('call'),
      content: '客户有贷款意向',
      photoIds: [11, 12, 11],
      location: { latitude: 39.90419989999, longitude: 116.4073963, accuracy: 20 },
      locationAddress: ' 客户单位 ',
      nextAt: '2026-12-01 10:00',
    }
    expect(followUpPayload(form)).toEqual({
      kind: 'call',
      content: '客户有贷款意向',
      photo_ids: [11, 12],
      latitude: '39.9042',
      longitude: '116.407396',
      location_address: '客户单位',
      next_follow_up_at: '2026-12-01T10:00:00+08:00',
    })
  })

  it('formats coordinates without float noise', () => {
    expect(coordinate(39.9)).toBe('39.9')
    expect(coordinate(-33.8688197)).toBe('-33.86882')
    expect(coordinate(0)).toBe('0')
    expect(coordinate(120)).toBe('120')
  })

  it('converts Shanghai wall time, and rejects anything else', () => {
    expect(shanghaiIso('2026-01-02 08:15')).toBe('2026-01-02T08:15:00+08:00')
    expect(shanghaiIso('')).toBeNull()
    expect(shanghaiIso('tomorrow')).toBeNull()
    // 2026-11-28 23:30 UTC is already the 29th in Shanghai.
    expect(shanghaiLocal(new Date('2026-11-28T23:30:00Z'))).toBe('2026-11-29 07:30')
  })
})

describe('photo compression sizing', () => {
  it('keeps the long side at 1600 px and never upscales', () => {
    expect(targetSize(4000, 3000)).toEqual({ width: 1600, height: 1200 })
    expect(targetSize(3000, 4000)).toEqual({ width: 1200, height: 1600 })
    expect(targetSize(800, 600)).toEqual({ width: 800, height: 600 })
  })
  it('renames to .jpg', () => {
    expect(jpegName('IMG_0001.HEIC')).toBe('IMG_0001.jpg')
    expect(jpegName('身份证.png')).toBe('身份证.jpg')
    expect(jpegName('noext')).toBe('noext.jpg')
  })
})

describe('masks', () => {
  it('matches the server', () => {
    expect(maskPii('id_number', '110105199001011234')).toBe('110***********1234')
    expect(maskPii('phone', '13800138000')).toBe('138****8000')
    expect(maskPii('phone', '138****8000')).toBe('138****8000')
    expect(maskPii('bank_card', '6222020200112233445')).toBe('**** **** **** 3445')
  })
})
