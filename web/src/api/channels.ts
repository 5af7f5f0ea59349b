import { http, type RequestOptions } from './client'

/** Permission for the 通知渠道 page (channels, templates, settings, delivery log). */
export const MANAGE_CHANNELS_PERM = 'notify.manage_channels'

export type ChannelKind = 'inapp' | 'sms' | 'email' | 'dingtalk' | 'wecom' | 'webhook'
export type Category = 'transactional' | 'marketing' | 'collection'
export type DeliveryStatus = 'pending' | 'deferred' | 'sent' | 'suppressed' | 'dead'
export const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'deferred', 'sent', 'suppressed', 'dead']
export const CATEGORIES: Category[] = ['transactional', 'marketing', 'collection']
/** Kinds an admin may add (SMS and e-mail exist once and are edited in place). */
export const ADDABLE_KINDS: ChannelKind[] = ['dingtalk', 'wecom', 'webhook']

export type SettingValue = string | number | boolean | null

export interface Channel {
  id: number
  kind: ChannelKind
  code: string
  name: string
  provider: string
  settings: Record<string, SettingValue>
  /** Whether each secret is set — never the value. */
  secrets: Record<string, boolean>
  enabled: boolean
  updated_at: string
}

export interface ProviderFields {
  provider: string
  settings: string[]
  secrets: string[]
}

export interface ChannelList {
  items: Channel[]
  providers: Record<string, ProviderFields[]>
}

export interface ChannelInput {
  kind?: ChannelKind
  code?: string
  name?: string
  provider?: string
  settings?: Record<string, SettingValue>
  /** Write-only; an empty value keeps the stored secret. */
  secrets?: Record<string, string>
  enabled?: boolean
}

export interface Template {
  id: number
  code: string
  channel: ChannelKind
  category: Category
  name: string
  subject: string
  body: string
  variables: string[]
  provider_template_id: string
  sign_name: string
  enabled: boolean
  updated_at: string
}

export type TemplateInput = Partial<Omit<Template, 'id' | 'updated_at'>>

export interface NotifySettings {
  quiet_enabled: boolean
  quiet_start: string
  quiet_end: string
  quiet_timezone: string
  quiet_categories: Category[]
  caps: Record<string, number>
  max_attempts: number
  webhook_secret_set: boolean
}

export type SettingsInput = Partial<Omit<NotifySettings, 'webhook_secret_set'>> & { webhook_secret?: string }

export interface Delivery {
  id: number
  dedupe_key: string
  channel: ChannelKind
  provider: string
  category: Category
  template_code: string
  customer_id: number | null
  address_masked: string
  subject: string
  body: string
  source: string
  status: DeliveryStatus
  reason: string
  attempts: number
  next_attempt_at: string | null
  last_error: string
  provider_ref: string
  created_at: string
  sent_at: string | null
}

export interface DeliveryPage {
  items: Delivery[]
  count: number
  page: number
  page_size: number
}

export type DeliveryCounts = Record<DeliveryStatus, number>

type Options = Omit<RequestOptions, 'body'>

export const channelsApi = {
  list: (options?: Options) => http.get<ChannelList>('/notify/channels', undefined, options),
  create: (body: ChannelInput, options?: Options) => http.post<Channel>('/notify/channels', body, options),
  update: (id: number, body: ChannelInput, options?: Options) =>
    http.put<Channel>(`/notify/channels/${id}`, body, options),
  remove: (id: number, options?: Options) => http.delete<void>(`/notify/channels/${id}`, options),
  test: (id: number, body: { to: string; text: string }, options?: Options) =>
    http.post<Delivery>(`/notify/channels/${id}/test`, body, options),
  templates: (options?: Options) => http.get<Template[]>('/notify/templates', undefined, options),
  createTemplate: (body: TemplateInput, options?: Options) => http.post<Template>('/notify/templates', body, options),
  updateTemplate: (id: number, body: TemplateInput, options?: Options) =>
    http.put<Template>(`/notify/templates/${id}`, body, options),
  settings: (options?: Options) => http.get<NotifySettings>('/notify/settings', undefined, options),
  saveSettings: (body: SettingsInput, options?: Options) => http.put<NotifySettings>('/notify/settings', body, options),
  deliveries: (query: { status?: DeliveryStatus | ''; page?: number; page_size?: number }, options?: Options) =>
    http.get<DeliveryPage>(
      '/notify/deliveries',
      { status: query.status || undefined, page: query.page, page_size: query.page_size },
      options,
    ),
  counts: (options?: Options) => http.get<DeliveryCounts>('/notify/deliveries/counts', undefined, options),
  retry: (id: number, options?: Options) => http.post<Delivery>(`/notify/deliveries/${id}/retry`, {}, options),
}

/** `{name}` placeholders used in a template text, in order; `{{`/`}}` are literal braces. */
export function placeholders(text: string): string[] {
  const out: string[] = []
  for (const m of text.replace(/\{\{|\}\}/g, '').matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const name = m[1] ?? ''
    if (name && !out.includes(name)) out.push(name)
  }
  return out
}

/** Placeholders not declared in `variables` (the server refuses these on save). */
export function undeclared(texts: string[], variables: string[]): string[] {
  const used = texts.flatMap(placeholders)
  return [...new Set(used.filter((v) => !variables.includes(v)))]
}
