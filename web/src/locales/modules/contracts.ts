// UI texts of the contracts feature: zh-CN is the schema, en-US must mirror it exactly.
export const contractsZh = {}

export const contractsEn: typeof contractsZh = {}
