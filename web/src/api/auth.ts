import { http } from './client'
import type { ApiTokenInfo, CreatedApiToken, LoginRequest, Me, OtpSetup } from './types'

export const authApi = {
  csrf: () => http.get<{ csrf_token: string }>('/auth/csrf'),
  /** Quiet: wrong credentials / OTP steps are handled by the login page itself. */
  login: (body: LoginRequest) => http.post<Me>('/auth/login', body, { quiet: true }),
  logout: () => http.post<void>('/auth/logout', undefined, { quiet: [401] }),
  /** Quiet on 401: "not signed in" is an answer here, not an error. */
  me: () => http.get<Me>('/auth/me', undefined, { quiet: [401] }),
  updateMe: (body: { language: string }) => http.patch<Me>('/auth/me', body),
  changePassword: (body: { current_password: string; new_password: string }) =>
    http.post<void>('/auth/password', body),
  otpSetup: () => http.post<OtpSetup>('/auth/otp/setup'),
  otpConfirm: (code: string) => http.post<Me>('/auth/otp/confirm', { code }),
  otpDisable: (password: string) => http.post<Me>('/auth/otp/disable', { password }),
  tokens: () => http.get<ApiTokenInfo[]>('/auth/tokens'),
  createToken: (name: string) => http.post<CreatedApiToken>('/auth/tokens', { name }),
  revokeToken: (id: number) => http.delete(`/auth/tokens/${id}`),
}
