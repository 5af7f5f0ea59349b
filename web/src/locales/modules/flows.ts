// UI texts of the flows feature: zh-CN is the schema, en-US must mirror it exactly.
export const flowsZh = {}

export const flowsEn: typeof flowsZh = {}
