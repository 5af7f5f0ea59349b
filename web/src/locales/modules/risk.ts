// UI texts of the risk feature: zh-CN is the schema, en-US must mirror it exactly.
export const riskZh = {}

export const riskEn: typeof riskZh = {}
