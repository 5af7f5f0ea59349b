// UI texts of the flow designer: zh-CN is the schema, en-US must mirror it exactly.
export const flowDesignerZh = {}

export const flowDesignerEn: typeof flowDesignerZh = {}
